package host_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/go-hclog"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/internal/buildtest"
	"github.com/vega-host/vega-host/internal/mototest"
)

// sqsBenchConcurrency is the goroutines of the plain loop. Each holds up
// to 10 messages, so the host gets 10 times as many workers: both keep up
// to 40 messages in flight.
const sqsBenchConcurrency = 4

// countingTransport counts the HTTP requests, which are SQS API calls.
type countingTransport struct {
	calls atomic.Int64
	next  http.RoundTripper
}

func (c *countingTransport) RoundTrip(request *http.Request) (*http.Response, error) {
	c.calls.Add(1)
	return c.next.RoundTrip(request)
}

// feed keeps about depth messages queued until total were sent, because
// moto slows down as a queue grows; it returns when all were sent.
func feed(b *testing.B, client *awssqs.Client, queueURL string, total, depth int, drained func() int) {
	b.Helper()
	sent := 0
	for sent < total {
		if sent-drained() >= depth {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		var entries []types.SendMessageBatchRequestEntry
		for range min(10, total-sent) {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id:          aws.String(fmt.Sprint(sent)),
				MessageBody: aws.String(`{"n": 1}`),
			})
			sent++
		}
		_, err := client.SendMessageBatch(context.Background(), &awssqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		require.NoError(b, err)
	}
}

// BenchmarkSQSHostVsPlainLoop compares the whole host (SQS driver, runner
// and a no-op plugin, 40 workers, max_messages 10) with a plain
// aws-sdk-go-v2 loop of ReceiveMessage(10) and DeleteMessageBatch on 4
// goroutines, on the local SQS server, in the same run. The SQS API calls
// per message are counted on the wire for both; the host's count excludes
// the sends that feed the queue.
func BenchmarkSQSHostVsPlainLoop(b *testing.B) {
	b.Setenv("AWS_CA_BUNDLE", "") // The SDK rejects a custom HTTPClient with a CA bundle.
	moto := mototest.StartPrivate(b)
	feeder := moto.Client()

	b.Run("host", func(b *testing.B) {
		queue := mototest.QueueName("bench-host")
		queueURL := moto.CreateQueue(b, queue, nil)
		counter := &countingTransport{next: http.DefaultTransport}
		driver, err := sqs.New(context.Background(), sqs.Config{
			Region: mototest.Region, EndpointURL: moto.Endpoint(),
			AccessKeyID: mototest.AccessKeyID, SecretAccessKey: mototest.SecretAccessKey,
			WaitTimeSeconds: 1, HTTPClient: &http.Client{Transport: counter},
		})
		require.NoError(b, err)
		defer driver.Close()

		cfg := &config.Config{
			File: "bench.hcl", Host: config.Host{ShutdownTimeout: 10 * time.Second},
			Drivers: []config.Driver{{Kind: "sqs"}},
			Listeners: []config.Listener{{
				Name: "noop", Plugin: buildtest.Binary(b, "./host/testdata/plugins/noop"), Driver: "sqs", Queue: queue,
				Workers: 10 * sqsBenchConcurrency, AutoAck: true, MaxMessages: 10, MaxRetries: 3,
				VisibilityTimeout: 30 * time.Second, RetryDelay: time.Second, MaxRetryDelay: time.Second, Config: []byte("{}"),
			}},
		}
		h := host.New(cfg, hclog.NewNullLogger(), host.WithDriver("sqs", driver))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx, nil) }()
		defer func() {
			cancel()
			<-done
		}()
		waitFor(b, func() bool {
			statuses := h.Status(context.Background())
			return len(statuses) == 1 && statuses[0].State == "running"
		})

		calls, started := counter.calls.Load(), time.Now()
		b.ResetTimer()
		handled := handledCounter(b, h, "noop")
		feed(b, feeder, queueURL, b.N, 200, handled)
		waitFor(b, func() bool { return handled() >= b.N })
		b.StopTimer()

		b.ReportMetric(float64(b.N)/time.Since(started).Seconds(), "msgs/s")
		b.ReportMetric(float64(counter.calls.Load()-calls)/float64(b.N), "calls/msg")
	})

	b.Run("plain-loop", func(b *testing.B) {
		queue := mototest.QueueName("bench-plain")
		queueURL := moto.CreateQueue(b, queue, nil)
		counter := &countingTransport{next: http.DefaultTransport}
		client := awssqs.NewFromConfig(aws.Config{
			Region: mototest.Region, BaseEndpoint: aws.String(moto.Endpoint()),
			Credentials: feeder.Options().Credentials, HTTPClient: &http.Client{Transport: counter},
		})

		var deleted atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		calls, started := counter.calls.Load(), time.Now()
		b.ResetTimer()
		for range sqsBenchConcurrency {
			wg.Go(func() {
				for ctx.Err() == nil {
					output, err := client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
						QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30,
					})
					if err != nil || len(output.Messages) == 0 {
						continue
					}
					var entries []types.DeleteMessageBatchRequestEntry
					for i, msg := range output.Messages {
						entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: msg.ReceiptHandle})
					}
					if _, err := client.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries}); err == nil {
						deleted.Add(int64(len(entries)))
					}
				}
			})
		}
		feed(b, feeder, queueURL, b.N, 200, func() int { return int(deleted.Load()) })
		waitFor(b, func() bool { return int(deleted.Load()) >= b.N })
		b.StopTimer()
		elapsed, apiCalls := time.Since(started), counter.calls.Load()-calls
		cancel()
		wg.Wait()

		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(apiCalls)/float64(b.N), "calls/msg")
	})
}

// handledCounter returns a function that reads how many messages the
// host acked for listener, from its own Prometheus counter.
func handledCounter(b *testing.B, h *host.Host, listener string) func() int {
	b.Helper()
	return func() int {
		families, err := h.Metrics().Registry().Gather()
		require.NoError(b, err)
		for _, family := range families {
			if family.GetName() != "vega_messages_total" {
				continue
			}
			for _, metric := range family.Metric {
				labels := map[string]string{}
				for _, label := range metric.Label {
					labels[label.GetName()] = label.GetValue()
				}
				if labels["listener"] == listener && labels["outcome"] == "acked" {
					return int(metric.GetCounter().GetValue())
				}
			}
		}
		return 0
	}
}
