package metrics_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
)

// queueMessages names the samples of one queue's depth.
func queueMessages(listener, queue, state string) labels {
	return labels{"listener": listener, "queue": queue, "state": state}
}

func TestWatchQueueDepthMemoryDriver(t *testing.T) {
	ctx := context.Background()
	driver := memory.New()
	t.Cleanup(func() { _ = driver.Close() })
	for range 3 {
		_, err := driver.Send(ctx, "jobs", drivers.OutgoingMessage{Body: []byte(`{}`)})
		require.NoError(t, err)
	}
	_, err := driver.Send(ctx, "jobs", drivers.OutgoingMessage{Body: []byte(`{}`), Delay: time.Hour})
	require.NoError(t, err)
	queue, err := driver.Open(ctx, "jobs", drivers.OpenOptions{})
	require.NoError(t, err)
	received, err := queue.Receive(ctx, drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Hour})
	require.NoError(t, err)
	require.Len(t, received, 1)

	b := setup(t)
	b.metrics.WatchQueueDepth("emails", "jobs", func(ctx context.Context) (int, int, error) {
		return driver.Depth(ctx, "jobs")
	})

	families := b.scrape(t)

	assert.Equal(t, 2.0, value(t, families, "vega_queue_messages", queueMessages("emails", "jobs", "visible")))
	assert.Equal(t, 2.0, value(t, families, "vega_queue_messages", queueMessages("emails", "jobs", "in_flight")), "one received and one delayed")
	assert.Equal(t, 0.0, value(t, families, "vega_queue_depth_errors_total", labels{"listener": "emails", "queue": "jobs"}))
}

func TestWatchQueueDepthSkipsFailedRead(t *testing.T) {
	driver := memory.New()
	require.NoError(t, driver.Close())

	b := setup(t)
	b.metrics.WatchQueueDepth("emails", "jobs", func(ctx context.Context) (int, int, error) {
		return driver.Depth(ctx, "jobs")
	})

	first := b.scrape(t)
	second := b.scrape(t)

	assert.NotContains(t, first, "vega_queue_messages", "a closed driver gives no depth sample")
	assert.Equal(t, 1.0, value(t, first, "vega_queue_depth_errors_total", labels{"listener": "emails", "queue": "jobs"}))
	assert.Equal(t, 2.0, value(t, second, "vega_queue_depth_errors_total", labels{"listener": "emails", "queue": "jobs"}))
}

func TestWatchQueueDepthTimesOut(t *testing.T) {
	b := setup(t)
	b.metrics.SetDepthTimeout(50 * time.Millisecond)
	b.metrics.WatchQueueDepth("emails", "jobs", func(ctx context.Context) (int, int, error) {
		<-ctx.Done()
		return 0, 0, ctx.Err()
	})
	b.metrics.WatchQueueDepth("sms", "texts", func(context.Context) (int, int, error) {
		return 7, 1, nil
	})

	started := time.Now()
	families := b.scrape(t)

	assert.Less(t, time.Since(started), 2*time.Second, "the scrape waits for the timeout only")
	assert.Nil(t, find(families, "vega_queue_messages", queueMessages("emails", "jobs", "visible")), "the slow queue has no sample")
	assert.Equal(t, 1.0, value(t, families, "vega_queue_depth_errors_total", labels{"listener": "emails", "queue": "jobs"}))
	assert.Equal(t, 7.0, value(t, families, "vega_queue_messages", queueMessages("sms", "texts", "visible")), "a fast queue still reports")
}

func TestWatchQueueDepthSkipsBusyRead(t *testing.T) {
	b := setup(t)
	b.metrics.SetDepthTimeout(50 * time.Millisecond)
	release := make(chan struct{})
	var calls atomic.Int32
	b.metrics.WatchQueueDepth("emails", "jobs", func(context.Context) (int, int, error) {
		// The first call ignores its context, as a hung backend would.
		if calls.Add(1) == 1 {
			<-release
		}
		return 4, 0, nil
	})
	errorLabels := labels{"listener": "emails", "queue": "jobs"}

	first := b.scrape(t)
	second := b.scrape(t)

	assert.Equal(t, 1.0, value(t, first, "vega_queue_depth_errors_total", errorLabels), "the first read timed out")
	assert.Equal(t, 2.0, value(t, second, "vega_queue_depth_errors_total", errorLabels), "the second scrape skipped the busy read")
	assert.Equal(t, int32(1), calls.Load(), "no second call while the first runs")

	close(release)
	require.Eventually(t, func() bool {
		return find(b.scrape(t), "vega_queue_messages", queueMessages("emails", "jobs", "visible")) != nil
	}, requestTimeout, 10*time.Millisecond, "the read works again once the hung call returned")
}

func TestWatchQueueDepthReplaceAndRemove(t *testing.T) {
	b := setup(t)
	depthOf := func(visible int) func(context.Context) (int, int, error) {
		return func(context.Context) (int, int, error) { return visible, 0, nil }
	}

	b.metrics.WatchQueueDepth("emails", "jobs", depthOf(1))
	b.metrics.WatchQueueDepth("emails", "jobs", depthOf(5))
	replaced := b.scrape(t)
	b.metrics.WatchQueueDepth("emails", "jobs", nil)
	removed := b.scrape(t)

	assert.Equal(t, 5.0, value(t, replaced, "vega_queue_messages", queueMessages("emails", "jobs", "visible")))
	assert.Len(t, replaced["vega_queue_messages"].GetMetric(), 2, "one visible and one in_flight sample")
	assert.NotContains(t, removed, "vega_queue_messages")
	assert.NotContains(t, removed, "vega_queue_depth_errors_total")
}
