package pluginapi

import (
	"context"
	"sync"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// Deliver serves the host's stream of Handle requests. Each request runs
// in its own goroutine, exactly as a Handle call would, and its response
// is sent when it completes. A cancel request, or the end of the stream,
// cancels the handlers' contexts.
func (s *listenerServer) Deliver(stream proto.Listener_DeliverServer) error {
	ctx := stream.Context()

	var (
		mu      sync.Mutex
		cancels = make(map[uint64]context.CancelFunc)
		sendMu  sync.Mutex
		running sync.WaitGroup
	)

	// Long-lived goroutines, one per worker the host may keep busy, run
	// the handlers: they keep their grown stacks between messages.
	type task struct {
		ctx     context.Context
		cancel  context.CancelFunc
		request *proto.HandleRequest
	}
	tasks := make(chan task, s.poolSize())
	defer func() {
		close(tasks)
		running.Wait()
	}()
	for range s.poolSize() {
		running.Go(func() {
			for t := range tasks {
				id := t.request.DeliveryId
				response, _ := s.Handle(t.ctx, t.request)
				mu.Lock()
				delete(cancels, id)
				mu.Unlock()
				t.cancel()

				sendMu.Lock()
				err := stream.Send(&proto.DeliverResponse{DeliveryId: id, Response: response})
				sendMu.Unlock()
				if err != nil {
					s.logger.Warn("send handle response failed", "delivery_id", id, "error", err)
				}
			}
		})
	}

	for {
		request, err := stream.Recv()
		if err != nil {
			// The host closed the stream or the connection broke: stop the
			// handlers still running.
			mu.Lock()
			for _, cancel := range cancels {
				cancel()
			}
			mu.Unlock()
			return nil
		}

		if id := request.CancelDeliveryId; id != 0 {
			mu.Lock()
			if cancel, ok := cancels[id]; ok {
				cancel()
			}
			mu.Unlock()
			continue
		}
		if request.Handle == nil {
			continue
		}

		handleCtx, cancel := context.WithCancel(ctx)
		mu.Lock()
		cancels[request.Handle.DeliveryId] = cancel
		mu.Unlock()
		tasks <- task{ctx: handleCtx, cancel: cancel, request: request.Handle}
	}
}

// poolSize returns how many handlers Deliver runs at once: the listener's
// workers, as the host never has more messages in flight. A handler the
// host abandoned after its timeout keeps its goroutine until it returns,
// and the host kills a plugin whose handler ignores cancellation.
func (s *listenerServer) poolSize() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(s.workers, 1)
}
