package metrics

import "time"

// SetDepthTimeout changes the timeout of the depth calls of one scrape. Call
// it before the first scrape.
func (m *Metrics) SetDepthTimeout(timeout time.Duration) {
	m.queueDepth.timeout = timeout
}
