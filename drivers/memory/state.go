package memory

import (
	"container/heap"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// queueState holds the messages of one queue.
type queueState struct {
	name string

	mu       sync.Mutex
	messages messageHeap
	byID     map[string]*message
	sequence uint64

	// changed is closed when a message may have become visible earlier
	// than waiting Receives expect. It is nil while no Receive waits.
	changed chan struct{}
}

func newQueueState(name string) *queueState {
	return &queueState{name: name, byID: make(map[string]*message)}
}

// add stores a new message and wakes waiting Receives.
func (s *queueState) add(m *message) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.addLocked(m)
}

func (s *queueState) addLocked(m *message) {
	s.sequence++
	m.sequence = s.sequence
	heap.Push(&s.messages, m)
	s.byID[m.id] = m

	s.notifyLocked()
}

// claim hides up to maxMessages visible messages for visibilityTimeout and returns
// copies of them. When none is visible it returns instead the channel that
// is closed at the next change and the time the earliest hidden message
// becomes visible (zero when the queue is empty).
func (s *queueState) claim(maxMessages int, visibilityTimeout time.Duration, receipts *atomic.Uint64) ([]*drivers.Message, <-chan struct{}, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()

	now := time.Now()

	// Pop every claimed message before pushing any back, because a zero
	// visibility timeout keeps a claimed message at the top of the heap.
	var claimed []*message
	for len(claimed) < maxMessages && len(s.messages) > 0 && !s.messages[0].visibleAt.After(now) {
		claimed = append(claimed, heap.Pop(&s.messages).(*message))
	}

	if len(claimed) == 0 {
		return nil, s.changedLocked(), s.nextVisibleLocked()
	}

	received := make([]*drivers.Message, 0, len(claimed))
	for _, m := range claimed {
		m.receiveCount++
		if m.receiveCount == 1 {
			m.firstReceivedAt = now
		}
		m.receipt = formatReceipt(m.id, receipts.Add(1))
		m.visibleAt = now.Add(visibilityTimeout)
		heap.Push(&s.messages, m)

		received = append(received, m.toDriverMessage(s.name))
	}

	return received, nil, time.Time{}
}

// ack deletes the message that receipt identifies.
func (s *queueState) ack(receipt string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	m, err := s.findLocked(receipt)
	if err != nil {
		return err
	}

	s.removeLocked(m)

	return nil
}

// changeVisibility hides the message that receipt identifies for timeout
// from now and wakes waiting Receives, which may now need to wake earlier.
func (s *queueState) changeVisibility(receipt string, timeout time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	m, err := s.findLocked(receipt)
	if err != nil {
		return err
	}

	m.visibleAt = time.Now().Add(timeout)
	heap.Fix(&s.messages, m.index)
	s.notifyLocked()

	return nil
}

// moveMessage moves the message that receipt identifies from source to
// target, changing it with update on the way. Because it holds the locks of
// both queues, no other call finds the message in both queues or in
// neither. It takes the locks in the order of the queue names, so two moves
// in opposite directions cannot deadlock. Source and target must differ.
func moveMessage(source, target *queueState, receipt string, update func(*message)) error {
	first, second := source, target
	if target.name < source.name {
		first, second = target, source
	}

	first.mu.Lock()
	defer first.mu.Unlock()

	second.mu.Lock()
	defer second.mu.Unlock()

	m, err := source.findLocked(receipt)
	if err != nil {
		return err
	}

	source.removeLocked(m)
	update(m)
	target.addLocked(m)

	return nil
}

// depth returns how many messages are visible and how many are hidden.
func (s *queueState) depth() (visible, inFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()

	visible = s.messages.countVisible(time.Now())

	return visible, len(s.messages) - visible
}

// findLocked returns the message whose latest receive produced receipt.
func (s *queueState) findLocked(receipt string) (*message, error) {
	id, err := receiptMessageID(receipt)
	if err != nil {
		return nil, err
	}

	m, ok := s.byID[id]
	if !ok || m.receipt != receipt {
		return nil, fmt.Errorf("receipt handle %q: %w", receipt, drivers.ErrInvalidReceipt)
	}

	return m, nil
}

func (s *queueState) removeLocked(m *message) {
	heap.Remove(&s.messages, m.index)
	delete(s.byID, m.id)
}

// changedLocked returns the channel that notifyLocked closes next.
func (s *queueState) changedLocked() <-chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{})
	}

	return s.changed
}

// notifyLocked wakes every waiting Receive.
func (s *queueState) notifyLocked() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// nextVisibleLocked returns when the earliest message becomes visible, or
// the zero time when the queue is empty.
func (s *queueState) nextVisibleLocked() time.Time {
	if len(s.messages) == 0 {
		return time.Time{}
	}

	return s.messages[0].visibleAt
}
