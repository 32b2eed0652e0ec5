package sqs

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// depthAttributes are the queue attributes that Depth reads.
var depthAttributes = []types.QueueAttributeName{
	types.QueueAttributeNameApproximateNumberOfMessages,
	types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
}

// Depth returns SQS's approximate counts for the queue with the given name
// or URL: visible is ApproximateNumberOfMessages, and inFlight is the sum of
// ApproximateNumberOfMessagesNotVisible and ApproximateNumberOfMessagesDelayed.
// SQS computes them from a sample and may lag by a minute, so they are
// estimates. A missing queue returns an error wrapping
// drivers.ErrQueueNotFound.
func (d *Driver) Depth(ctx context.Context, queue string) (visible, inFlight int, err error) {
	if err := d.enter(); err != nil {
		return 0, 0, fmt.Errorf("get depth of queue %q: %w", queue, err)
	}
	defer d.leave()

	info, err := d.resolve(ctx, queue)
	if err != nil {
		return 0, 0, fmt.Errorf("get depth of queue %q: %w", queue, err)
	}

	output, err := d.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(info.url),
		AttributeNames: depthAttributes,
	})
	if err != nil {
		return 0, 0, fmt.Errorf("get depth of queue %q: %w", queue, classify(err))
	}

	counts := make([]int, len(depthAttributes))
	for i, name := range depthAttributes {
		text := output.Attributes[string(name)]
		counts[i], err = strconv.Atoi(text)
		if err != nil {
			return 0, 0, fmt.Errorf("get depth of queue %q: SQS returned %s %q, expected a count", queue, name, text)
		}
	}

	return counts[0], counts[1] + counts[2], nil
}
