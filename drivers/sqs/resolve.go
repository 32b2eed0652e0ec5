package sqs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// queueInfo is the data the driver reads about a queue once: its URL and the
// attributes that decide how messages are sent and dead-lettered.
type queueInfo struct {
	// name is the queue's name or URL, as the caller gave it.
	name string
	url  string

	// maxMessageSize is the queue's MaximumMessageSize in bytes.
	maxMessageSize int
	fifo           bool
	// contentBasedDeduplication is set on FIFO queues that derive the
	// deduplication id from the body.
	contentBasedDeduplication bool
	// redrivePolicy is the queue's RedrivePolicy, a JSON document, or
	// empty when SQS moves no message to a dead-letter queue by itself.
	redrivePolicy string
}

// queueCache maps a queue's name or URL to its info, so that each queue is
// resolved once per driver.
//
// NOTE: attributes changed after the first resolve, such as a new
// MaximumMessageSize or RedrivePolicy, take effect only in a new driver.
type queueCache struct {
	mu      sync.Mutex
	entries map[string]*queueInfo
}

// queueAttributes are the attributes that resolve reads.
var queueAttributes = []types.QueueAttributeName{
	types.QueueAttributeNameMaximumMessageSize,
	types.QueueAttributeNameFifoQueue,
	types.QueueAttributeNameRedrivePolicy,
	types.QueueAttributeNameContentBasedDeduplication,
}

// resolve returns the info of the queue with the given name or URL, asking
// SQS when the driver has not resolved it yet. Failures are not cached.
func (d *Driver) resolve(ctx context.Context, name string) (*queueInfo, error) {
	d.queues.mu.Lock()
	info, ok := d.queues.entries[name]
	d.queues.mu.Unlock()
	if ok {
		return info, nil
	}

	info, err := d.fetchQueueInfo(ctx, name)
	if err != nil {
		return nil, err
	}

	d.queues.mu.Lock()
	defer d.queues.mu.Unlock()

	// Another call may have resolved the same queue meanwhile; keep one.
	if existing, ok := d.queues.entries[name]; ok {
		return existing, nil
	}
	d.queues.entries[name] = info

	return info, nil
}

// fetchQueueInfo looks up the queue's URL, unless name is one, and reads
// its attributes.
func (d *Driver) fetchQueueInfo(ctx context.Context, name string) (*queueInfo, error) {
	// Without this check, missing credentials fail as "get identity" deep
	// in the SDK's error chain.
	if d.credentials != nil {
		if _, err := d.credentials.Retrieve(ctx); err != nil {
			return nil, fmt.Errorf("%w: retrieve AWS credentials: %w", ErrAccessDenied, err)
		}
	}

	url := name
	if !isQueueURL(name) {
		output, err := d.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("get URL: %w", classify(err))
		}
		url = aws.ToString(output.QueueUrl)
	}

	output, err := d.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: queueAttributes,
	})
	if err != nil {
		return nil, fmt.Errorf("get attributes of %s: %w", url, classify(err))
	}

	return parseQueueInfo(name, url, output.Attributes)
}

// parseQueueInfo builds a queueInfo from the attributes that SQS returned.
func parseQueueInfo(name, url string, attributes map[string]string) (*queueInfo, error) {
	info := &queueInfo{
		name:                      name,
		url:                       url,
		fifo:                      attributes[string(types.QueueAttributeNameFifoQueue)] == "true",
		contentBasedDeduplication: attributes[string(types.QueueAttributeNameContentBasedDeduplication)] == "true",
		redrivePolicy:             attributes[string(types.QueueAttributeNameRedrivePolicy)],
	}

	sizeText := attributes[string(types.QueueAttributeNameMaximumMessageSize)]
	size, err := strconv.Atoi(sizeText)
	if err != nil || size <= 0 {
		return nil, fmt.Errorf("queue %s returned MaximumMessageSize %q, expected a positive number of bytes", url, sizeText)
	}
	info.maxMessageSize = size

	return info, nil
}

// isQueueURL reports whether name is a queue URL rather than a queue name,
// which may contain only letters, digits, '-' and '_' (and end in ".fifo").
func isQueueURL(name string) bool {
	return strings.HasPrefix(name, "https://") || strings.HasPrefix(name, "http://")
}
