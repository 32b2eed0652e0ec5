package memory

import (
	"context"
	"fmt"
)

// Depth returns how many messages of the named queue are visible now and
// how many are hidden because they are in flight or delayed. A queue that
// was never used has a depth of zero.
func (d *Driver) Depth(_ context.Context, queueName string) (visible, inFlight int, err error) {
	state, err := d.existingQueue(queueName)
	if err != nil {
		return 0, 0, fmt.Errorf("count messages in queue %q: %w", queueName, err)
	}

	if state == nil {
		return 0, 0, nil
	}

	visible, inFlight = state.depth()

	return visible, inFlight, nil
}
