package sqs_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/internal/mototest"
)

const (
	// benchmarkConsumers is how many goroutines receive and ack in both
	// loops.
	benchmarkConsumers = 4
	// benchmarkDepth is how many messages the feeder keeps in the queue.
	// moto scans a queue on every call, so a deeper queue would measure
	// moto rather than the client.
	benchmarkDepth = 200
)

// BenchmarkReceiveAck consumes b.N messages from moto with
// benchmarkConsumers goroutines, each repeating a receive of up to 10
// messages and an ack of each. Sub-benchmark "driver" uses this driver and
// acks every message from its own goroutine, as the host's workers do, so
// the driver batches the deletes. Sub-benchmark "sdk" uses the AWS SDK
// alone and deletes each receive's messages in one DeleteMessageBatch call.
//
// A feeder keeps about benchmarkDepth messages queued. The benchmark
// reports msgs/s, the SQS API calls per consumed message (calls/msg, without
// the feeder's) and the CPU time of the test process per message
// (cpu-ms/msg, with the feeder's). Run it with a fixed count, such as
// -benchtime=1000x, because moto handles only a few hundred messages per
// second.
func BenchmarkReceiveAck(b *testing.B) {
	b.Setenv("AWS_CA_BUNDLE", "") // The SDK rejects a custom HTTPClient with a CA bundle.

	b.Run("driver", func(b *testing.B) { runReceiveAck(b, newDriverConsumer) })
	b.Run("sdk", func(b *testing.B) { runReceiveAck(b, newSDKConsumer) })
}

// consumer receives once and acks what it received, returning the count.
type consumer func(ctx context.Context) (int, error)

// newConsumer returns a consumer of the queue at url whose HTTP requests go
// through client.
type newConsumer func(b *testing.B, name, url string, client *http.Client) consumer

// callCounter is an HTTP transport that counts the requests it sends,
// retries included.
type callCounter struct {
	next  http.RoundTripper
	calls atomic.Int64
}

func (c *callCounter) RoundTrip(request *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return c.next.RoundTrip(request)
}

func runReceiveAck(b *testing.B, newConsumer newConsumer) {
	name := mototest.QueueName("benchmark")
	url := moto.CreateQueue(b, name, nil)

	counter := &callCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	client := &http.Client{Transport: counter}
	b.Cleanup(client.CloseIdleConnections)
	consume := newConsumer(b, name, url, client)

	feeder := newFeeder(url)
	feeder.fill(b, benchmarkDepth)

	ctx, stopFeeding := context.WithCancel(b.Context())
	var feeding sync.WaitGroup
	feeding.Go(func() { feeder.run(ctx) })

	counter.calls.Store(0)
	cpuBefore := processCPUTime()
	b.ResetTimer()

	var consumers sync.WaitGroup
	errs := make(chan error, benchmarkConsumers)
	for range benchmarkConsumers {
		consumers.Go(func() {
			for feeder.consumed.Load() < int64(b.N) {
				count, err := consume(b.Context())
				if err != nil {
					errs <- err
					return
				}
				feeder.consumed.Add(int64(count))
			}
		})
	}
	consumers.Wait()

	b.StopTimer()
	cpu := processCPUTime() - cpuBefore
	stopFeeding()
	feeding.Wait()
	close(errs)

	for err := range errs {
		b.Fatalf("consume from queue %q: %v", name, err)
	}
	if feeder.err != nil {
		b.Fatalf("feed queue %q: %v", name, feeder.err)
	}

	consumed := float64(feeder.consumed.Load())
	b.ReportMetric(consumed/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(counter.calls.Load())/consumed, "calls/msg")
	b.ReportMetric(float64(cpu.Microseconds())/1000/consumed, "cpu-ms/msg")
}

// newDriverConsumer consumes through this driver.
func newDriverConsumer(b *testing.B, name, _ string, client *http.Client) consumer {
	driver := newDriver(b, func(cfg *sqs.Config) { cfg.HTTPClient = client })
	queue, err := driver.Open(b.Context(), name, drivers.OpenOptions{})
	require.NoError(b, err, "open queue %q", name)

	return func(ctx context.Context) (int, error) {
		msgs, err := queue.Receive(ctx, drivers.ReceiveRequest{Max: 10, VisibilityTimeout: time.Minute, WaitTime: time.Second})
		if err != nil {
			return 0, err
		}

		acks := make(chan error, len(msgs))
		for _, msg := range msgs {
			go func() { acks <- queue.Ack(ctx, msg.ReceiptHandle) }()
		}
		for range msgs {
			if err := <-acks; err != nil {
				return 0, err
			}
		}
		return len(msgs), nil
	}
}

// newSDKConsumer consumes with the SDK alone, requesting the same
// attributes as the driver.
func newSDKConsumer(_ *testing.B, _, url string, client *http.Client) consumer {
	sdk := awssqs.New(awssqs.Options{
		Region:       mototest.Region,
		BaseEndpoint: aws.String(moto.Endpoint()),
		Credentials:  moto.Client().Options().Credentials,
		HTTPClient:   client,
	})

	return func(ctx context.Context) (int, error) {
		output, err := sdk.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl:            aws.String(url),
			MaxNumberOfMessages: 10,
			VisibilityTimeout:   60,
			WaitTimeSeconds:     1,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameApproximateReceiveCount,
				types.MessageSystemAttributeNameSentTimestamp,
				types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp,
				types.MessageSystemAttributeNameMessageGroupId,
			},
			MessageAttributeNames: []string{"All"},
		})
		if err != nil || len(output.Messages) == 0 {
			return 0, err
		}

		entries := make([]types.DeleteMessageBatchRequestEntry, len(output.Messages))
		for i, msg := range output.Messages {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle}
		}
		result, err := sdk.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil {
			return 0, err
		}
		if len(result.Failed) > 0 {
			return 0, fmt.Errorf("delete batch: %d of %d entries failed, first: %s", len(result.Failed), len(entries), aws.ToString(result.Failed[0].Message))
		}
		return len(output.Messages), nil
	}
}

// feeder keeps about benchmarkDepth messages in a queue, counting what it
// sent and what the consumers report as consumed.
type feeder struct {
	url      string
	client   *awssqs.Client
	sent     atomic.Int64
	consumed atomic.Int64
	// err is the first send failure; it is read after run returned.
	err error
}

func newFeeder(url string) *feeder {
	return &feeder{url: url, client: moto.Client()}
}

// fill sends count messages before the measurement starts.
func (f *feeder) fill(b *testing.B, count int) {
	for f.sent.Load() < int64(count) {
		require.NoError(b, f.sendBatch(b.Context()), "fill queue %s", f.url)
	}
}

// run tops the queue up whenever it holds fewer than benchmarkDepth
// messages, until ctx ends.
func (f *feeder) run(ctx context.Context) {
	ticker := time.NewTicker(time.Millisecond)
	defer ticker.Stop()

	for {
		if f.sent.Load()-f.consumed.Load() < benchmarkDepth {
			if err := f.sendBatch(ctx); err != nil {
				if ctx.Err() == nil {
					f.err = err
				}
				return
			}
			continue
		}

		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// sendBatch sends 10 messages in one call.
func (f *feeder) sendBatch(ctx context.Context) error {
	entries := make([]types.SendMessageBatchRequestEntry, 10)
	for i := range entries {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(`{"to":"a@example.com"}`)}
	}

	output, err := f.client.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(f.url), Entries: entries})
	if err != nil {
		return err
	}
	f.sent.Add(int64(len(output.Successful)))
	return nil
}
