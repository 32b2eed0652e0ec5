package pluginapi

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// listenerServer serves the Listener service inside the plugin process and
// calls the author's Listener.
type listenerServer struct {
	proto.UnimplementedListenerServer

	listener Listener
	broker   *plugin.GRPCBroker
	logger   hclog.Logger

	mu      sync.Mutex
	host    proto.HostClient
	conn    *grpc.ClientConn
	autoAck bool
	name    string
	workers int
}

// Startup connects back to the host service and runs the Starter hook.
func (s *listenerServer) Startup(ctx context.Context, req *proto.StartupRequest) (*proto.StartupResponse, error) {
	conn, err := s.broker.DialWithOptions(req.HostServiceId, GRPCDialOptions()...)
	if err != nil {
		return nil, fmt.Errorf("connect to the host service (broker id %d): %w", req.HostServiceId, err)
	}

	s.mu.Lock()
	s.conn = conn
	s.host = proto.NewHostClient(conn)
	s.autoAck = req.AutoAck
	s.name = req.Listener
	s.workers = int(req.Workers)
	s.mu.Unlock()

	_, batch := s.listener.(BatchListener)
	response := &proto.StartupResponse{Batch: batch}

	starter, ok := s.listener.(Starter)
	if !ok {
		return response, nil
	}

	info := StartupInfo{
		Listener: req.Listener,
		Queue:    req.Queue,
		AutoAck:  req.AutoAck,
		Workers:  int(req.Workers),
		Config:   req.ConfigJson,
		Sender:   &hostSender{host: s.host},
	}
	if len(info.Config) == 0 {
		info.Config = []byte("{}")
	}
	if err := callHook(func() error { return starter.Startup(ctx, info) }); err != nil {
		return nil, fmt.Errorf("startup hook of listener %q: %w", req.Listener, err)
	}
	return response, nil
}

// Handle runs the author's Handle and turns its result, or its panic, into
// a response the host can act on.
func (s *listenerServer) Handle(ctx context.Context, req *proto.HandleRequest) (*proto.HandleResponse, error) {
	msg := messageFromProto(req.Message)

	s.mu.Lock()
	host, autoAck := s.host, s.autoAck
	s.mu.Unlock()
	if !autoAck && host != nil {
		msg.SetAcknowledger(&hostAcknowledger{host: host, deliveryID: req.DeliveryId})
	}

	if req.TimeoutMs > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMs)*time.Millisecond)
		defer cancel()
	}

	err, panicked := s.callHandle(ctx, msg)
	if err == nil {
		return &proto.HandleResponse{}, nil
	}

	return &proto.HandleResponse{
		Error:       err.Error(),
		Permanent:   IsPermanent(err),
		Panicked:    panicked,
		InvalidBody: errors.Is(err, ErrInvalidBody),
		TimedOut:    errors.Is(ctx.Err(), context.DeadlineExceeded),
	}, nil
}

// HandleBatch runs the author's HandleBatch and turns its verdicts, or its
// panic, into a response.
func (s *listenerServer) HandleBatch(ctx context.Context, req *proto.HandleBatchRequest) (*proto.HandleBatchResponse, error) {
	batcher, ok := s.listener.(BatchListener)
	if !ok {
		return &proto.HandleBatchResponse{Error: "the listener does not implement pluginapi.BatchListener"}, nil
	}

	msgs := make([]*Message, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = messageFromProto(m)
	}
	if req.TimeoutMs > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMs)*time.Millisecond)
		defer cancel()
	}

	var verdicts []Verdict
	err := callHook(func() error {
		verdicts = batcher.HandleBatch(ctx, msgs)
		return nil
	})
	switch {
	case err != nil:
		s.logger.Error("batch handler panicked", "messages", len(msgs), "error", firstLine(err.Error()))
		return &proto.HandleBatchResponse{Error: "panic in HandleBatch: " + err.Error(), Panicked: true}, nil
	case len(verdicts) != len(msgs):
		return &proto.HandleBatchResponse{
			Error: fmt.Sprintf("HandleBatch returned %d verdicts for %d messages; return one verdict per message", len(verdicts), len(msgs)),
		}, nil
	}

	response := &proto.HandleBatchResponse{
		Verdicts: make([]*proto.Verdict, len(verdicts)),
		TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded),
	}
	for i, verdict := range verdicts {
		response.Verdicts[i] = verdictToProto(verdict)
	}
	return response, nil
}

// verdictToProto converts a verdict to its wire form. An invalid body
// error is always a dead-letter, since retrying cannot fix it.
func verdictToProto(verdict Verdict) *proto.Verdict {
	out := &proto.Verdict{DelayMs: verdict.Delay.Milliseconds()}
	if verdict.Err != nil {
		out.Reason = verdict.Err.Error()
	}

	switch {
	case verdict.Action == ActionAck:
		out.Action = proto.Verdict_ACK
	case verdict.Action == ActionRetry && !IsPermanent(verdict.Err):
		out.Action = proto.Verdict_RETRY
	default:
		out.Action = proto.Verdict_DEAD_LETTER
	}
	return out
}

func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return line
}

// callHandle calls Handle and recovers a panic into an error that carries
// the panic value and the stack.
func (s *listenerServer) callHandle(ctx context.Context, msg *Message) (err error, panicked bool) {
	defer func() {
		if value := recover(); value != nil {
			err = fmt.Errorf("panic in Handle: %v\n%s", value, debug.Stack())
			panicked = true
			s.logger.Error("handler panicked", "message_id", msg.ID, "panic", fmt.Sprint(value))
		}
	}()

	return s.listener.Handle(ctx, msg), false
}

// OnError runs the ErrorHandler hook, if the listener has one.
func (s *listenerServer) OnError(ctx context.Context, req *proto.OnErrorRequest) (*proto.Empty, error) {
	handler, ok := s.listener.(ErrorHandler)
	if !ok {
		return &proto.Empty{}, nil
	}

	msg := messageFromProto(req.Message)
	cause := errors.New(req.Error)
	if err := callHook(func() error { handler.OnError(ctx, msg, cause); return nil }); err != nil {
		s.logger.Error("error hook failed", "message_id", msg.ID, "error", err)
	}
	return &proto.Empty{}, nil
}

// Shutdown runs the Stopper hook, if the listener has one, and closes the
// connection to the host service.
func (s *listenerServer) Shutdown(ctx context.Context, _ *proto.Empty) (*proto.Empty, error) {
	var err error
	if stopper, ok := s.listener.(Stopper); ok {
		err = callHook(func() error { return stopper.Shutdown(ctx) })
	}

	s.mu.Lock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn, s.host = nil, nil
	}
	s.mu.Unlock()

	if err != nil {
		return nil, fmt.Errorf("shutdown hook of listener %q: %w", s.name, err)
	}
	return &proto.Empty{}, nil
}

// callHook runs a hook and turns a panic into an error.
func callHook(hook func() error) (err error) {
	defer func() {
		if value := recover(); value != nil {
			err = fmt.Errorf("panic: %v\n%s", value, debug.Stack())
		}
	}()
	return hook()
}

// hostAcknowledger settles one delivery through the host service.
type hostAcknowledger struct {
	host       proto.HostClient
	deliveryID uint64
}

func (a *hostAcknowledger) Ack(ctx context.Context) error {
	_, err := a.host.Ack(ctx, &proto.SettleRequest{DeliveryId: a.deliveryID})
	return err
}

func (a *hostAcknowledger) Reject(ctx context.Context, requeue bool) error {
	_, err := a.host.Reject(ctx, &proto.RejectRequest{DeliveryId: a.deliveryID, Requeue: requeue, Reason: "rejected by the handler"})
	return err
}

func (a *hostAcknowledger) ExtendVisibility(ctx context.Context, d time.Duration) error {
	_, err := a.host.ExtendVisibility(ctx, &proto.ExtendVisibilityRequest{DeliveryId: a.deliveryID, TimeoutMs: d.Milliseconds()})
	return err
}

// hostSender enqueues follow-up messages through the host service.
type hostSender struct {
	host proto.HostClient
}

func (s *hostSender) Send(ctx context.Context, queue string, msg OutgoingMessage) (string, error) {
	resp, err := s.host.Send(ctx, &proto.SendRequest{
		Queue:          queue,
		Body:           msg.Body,
		UserAttributes: AttributesToProto(msg.UserAttributes),
		DelayMs:        msg.Delay.Milliseconds(),
	})
	if err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queue, err)
	}
	return resp.MessageId, nil
}
