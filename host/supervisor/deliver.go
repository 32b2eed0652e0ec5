package supervisor

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// deliverStream sends Handle requests to the plugin over one long-lived
// gRPC stream and matches the responses, which arrive in completion order,
// to their callers by delivery id.
type deliverStream struct {
	stream proto.Listener_DeliverClient
	cancel context.CancelFunc

	sendMu sync.Mutex

	mu      sync.Mutex
	pending map[uint64]chan *proto.HandleResponse
	// broken is set once receiving failed; every later call fails with it.
	broken error
}

// openDeliverStream opens the stream. It fails on plugins whose SDK has no
// Deliver method, in which case the caller falls back to one Handle call
// per message.
func openDeliverStream(client proto.ListenerClient) (*deliverStream, error) {
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := client.Deliver(ctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("open deliver stream: %w", err)
	}

	d := &deliverStream{stream: stream, cancel: cancel, pending: make(map[uint64]chan *proto.HandleResponse)}
	go d.receive()
	return d, nil
}

// receive hands each response to its caller until the stream ends, then
// fails every call still waiting.
func (d *deliverStream) receive() {
	for {
		response, err := d.stream.Recv()
		if err != nil {
			d.fail(err)
			return
		}

		d.mu.Lock()
		waiting, ok := d.pending[response.DeliveryId]
		delete(d.pending, response.DeliveryId)
		d.mu.Unlock()
		if ok {
			waiting <- response.Response
		}
	}
}

// fail marks the stream broken and wakes every waiting caller.
func (d *deliverStream) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	d.broken = err
	for id, waiting := range d.pending {
		close(waiting)
		delete(d.pending, id)
	}
}

// handle sends one request and waits for its response. Errors are gRPC
// status errors, as a unary call returns them: Unavailable when the
// plugin is gone, and DeadlineExceeded or Canceled when ctx ends first, in
// which case the plugin is asked to cancel the handler.
func (d *deliverStream) handle(ctx context.Context, request *proto.HandleRequest) (*proto.HandleResponse, error) {
	id := request.DeliveryId
	waiting := make(chan *proto.HandleResponse, 1)

	d.mu.Lock()
	if d.broken != nil {
		err := d.broken
		d.mu.Unlock()
		return nil, status.Errorf(codes.Unavailable, "plugin connection lost: %v", err)
	}
	d.pending[id] = waiting
	d.mu.Unlock()

	if err := d.send(&proto.DeliverRequest{Handle: request}); err != nil {
		d.forget(id)
		return nil, status.Errorf(codes.Unavailable, "send to plugin: %v", err)
	}

	select {
	case response, ok := <-waiting:
		if !ok {
			return nil, status.Error(codes.Unavailable, "plugin connection lost while handling")
		}
		return response, nil
	case <-ctx.Done():
		d.forget(id)
		// Best effort: a plugin that is gone needs no cancel.
		_ = d.send(&proto.DeliverRequest{CancelDeliveryId: id})
		return nil, status.FromContextError(ctx.Err()).Err()
	}
}

func (d *deliverStream) send(request *proto.DeliverRequest) error {
	d.sendMu.Lock()
	defer d.sendMu.Unlock()
	return d.stream.Send(request)
}

func (d *deliverStream) forget(id uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.pending, id)
}

// close ends the stream, which cancels the handlers still running in the
// plugin.
func (d *deliverStream) close() {
	d.cancel()
}
