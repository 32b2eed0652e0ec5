package memory

import (
	"container/heap"
	"time"
)

// messageHeap is a min-heap of every message of a queue, ordered by the time
// each becomes visible, so the visible messages are at its top. It
// implements heap.Interface.
type messageHeap []*message

var _ heap.Interface = (*messageHeap)(nil)

func (h messageHeap) Len() int { return len(h) }

func (h messageHeap) Less(i, j int) bool {
	if h[i].visibleAt.Equal(h[j].visibleAt) {
		return h[i].sequence < h[j].sequence
	}

	return h[i].visibleAt.Before(h[j].visibleAt)
}

func (h messageHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *messageHeap) Push(x any) {
	m := x.(*message)
	m.index = len(*h)
	*h = append(*h, m)
}

func (h *messageHeap) Pop() any {
	old := *h
	last := len(old) - 1
	m := old[last]
	old[last] = nil
	m.index = -1
	*h = old[:last]

	return m
}

// countVisible returns how many messages are visible at now. Because every
// child becomes visible no earlier than its parent, it visits only the
// visible messages and the first hidden one of each path.
func (h messageHeap) countVisible(now time.Time) int {
	count := 0
	stack := []int{0}

	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]

		if i >= len(h) || h[i].visibleAt.After(now) {
			continue
		}

		count++
		stack = append(stack, 2*i+1, 2*i+2)
	}

	return count
}
