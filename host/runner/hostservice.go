package runner

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host/metrics"
	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// The methods below serve the plugin's calls back to the host: settling a
// message by hand (auto_ack = false) and sending follow-up messages.

// Ack deletes the message of a running delivery.
func (r *Runner) Ack(ctx context.Context, req *proto.SettleRequest) (*proto.Empty, error) {
	d, err := r.lookup(req.DeliveryId)
	if err != nil {
		return nil, err
	}
	if !d.claim() {
		return nil, status.Errorf(codes.FailedPrecondition, "message %s is settled already", d.msg.ID)
	}

	if err := r.ackClaimed(ctx, d); err != nil {
		r.logLimited(hclog.Error, "ack from handler failed", "message_id", d.msg.ID, "error", err)
		return nil, status.Errorf(codes.Unavailable, "ack message %s: %v", d.msg.ID, err)
	}
	r.logger.Debug("message acked by handler", "message_id", d.msg.ID)
	return &proto.Empty{}, nil
}

// Reject releases the message of a running delivery for redelivery, or
// dead-letters it.
func (r *Runner) Reject(ctx context.Context, req *proto.RejectRequest) (*proto.Empty, error) {
	d, err := r.lookup(req.DeliveryId)
	if err != nil {
		return nil, err
	}

	if req.Requeue {
		if !r.release(d, "rejected by the handler") {
			return nil, status.Errorf(codes.FailedPrecondition, "message %s is settled already", d.msg.ID)
		}
		r.logger.Debug("message requeued by handler", "message_id", d.msg.ID)
		return &proto.Empty{}, nil
	}

	if !d.claim() {
		return nil, status.Errorf(codes.FailedPrecondition, "message %s is settled already", d.msg.ID)
	}
	reason := req.Reason
	if reason == "" {
		reason = "rejected by the handler"
	}
	if err := r.queue.DeadLetter(ctx, d.msg, reason); err != nil {
		r.logger.Error("dead-letter from handler failed, the message stays in its queue", "message_id", d.msg.ID, "error", err)
		return nil, status.Errorf(codes.Unavailable, "dead-letter message %s: %v", d.msg.ID, err)
	}
	r.crashes.forget(d.msg.ID)
	d.setOutcome(metrics.OutcomeDeadLettered)
	r.metrics.Outcome(r.listener.Name, metrics.OutcomeDeadLettered)
	r.logLimited(hclog.Error, "message dead-lettered by handler", "message_id", d.msg.ID, "dead_letter_queue", r.deadLetterQueueName(), "reason", reason)
	return &proto.Empty{}, nil
}

// ExtendVisibility hides the message of a running delivery for longer.
func (r *Runner) ExtendVisibility(ctx context.Context, req *proto.ExtendVisibilityRequest) (*proto.Empty, error) {
	d, err := r.lookup(req.DeliveryId)
	if err != nil {
		return nil, err
	}
	if req.TimeoutMs <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "visibility timeout must be positive, got %d ms", req.TimeoutMs)
	}

	timeout := time.Duration(req.TimeoutMs) * time.Millisecond
	if err := r.queue.ChangeVisibility(ctx, d.msg.ReceiptHandle, timeout); err != nil {
		return nil, status.Errorf(codes.Unavailable, "extend visibility of message %s: %v", d.msg.ID, err)
	}
	return &proto.Empty{}, nil
}

// Send enqueues a follow-up message on the listener's driver.
func (r *Runner) Send(ctx context.Context, req *proto.SendRequest) (*proto.SendResponse, error) {
	if req.Queue == "" {
		return nil, status.Error(codes.InvalidArgument, "send: the queue name is empty")
	}

	attributes := make(map[string]drivers.Attribute, len(req.UserAttributes))
	for name, attribute := range pluginapi.AttributesFromProto(req.UserAttributes) {
		attributes[name] = drivers.Attribute(attribute)
	}
	id, err := r.driver.Send(ctx, req.Queue, drivers.OutgoingMessage{
		Body:           req.Body,
		UserAttributes: attributes,
		Delay:          time.Duration(req.DelayMs) * time.Millisecond,
	})
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "send to queue %q: %v", req.Queue, err)
	}
	return &proto.SendResponse{MessageId: id}, nil
}
