package sqs_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/internal/mototest"
	"github.com/vega-host/vega-host/testing/drivertest"
)

// moto is the moto_server that every test of the package shares. Each test
// uses queues of its own, because moto slows down as queues grow.
var moto *mototest.Server

func TestMain(m *testing.M) {
	code := mototest.Main(m, &moto)

	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goroutines leaked: %v\n", err)
			code = 1
		}
	}

	os.Exit(code)
}

func TestConformance(t *testing.T) {
	drivertest.RunWithOptions(t, func(t *testing.T) drivers.Driver { return newDriver(t) }, drivertest.Options{
		// SQS counts visibility timeouts and delays in whole seconds.
		Tick:                     time.Second,
		CreateQueue:              createQueue,
		StaleReceiptsAccepted:    true,
		DuplicateDeliveries:      true,
		NoDefaultDeadLetterQueue: true,
		FIFO:                     true,
	})
}

// createQueue creates the queue that spec describes on moto.
func createQueue(t *testing.T, spec drivertest.QueueSpec) {
	attributes := map[string]string{}
	if spec.FIFO {
		attributes["FifoQueue"] = "true"
	}
	moto.CreateQueue(t, spec.Name, attributes)
}

// newDriver returns a driver for moto, changed by options, that is closed
// when the test ends unless the test closed it.
func newDriver(tb testing.TB, options ...func(*sqs.Config)) *sqs.Driver {
	tb.Helper()

	cfg := sqs.Config{
		Region:          mototest.Region,
		EndpointURL:     moto.Endpoint(),
		AccessKeyID:     mototest.AccessKeyID,
		SecretAccessKey: mototest.SecretAccessKey,
	}
	for _, option := range options {
		option(&cfg)
	}

	driver, err := sqs.New(tb.Context(), cfg)
	require.NoError(tb, err, "create sqs driver for %s", moto.Endpoint())

	tb.Cleanup(func() {
		if err := driver.Close(); err != nil && !errors.Is(err, drivers.ErrClosed) {
			tb.Errorf("close sqs driver: %v", err)
		}
	})

	return driver
}
