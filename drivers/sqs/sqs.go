package sqs

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
)

var (
	_ drivers.Driver     = (*Driver)(nil)
	_ drivers.Depther    = (*Driver)(nil)
	_ drivers.BatchAcker = (*queue)(nil)
)

// Driver is a connection to Amazon SQS, or to a server that speaks its API.
// Its methods are safe for concurrent use.
type Driver struct {
	cfg         Config
	client      *sqs.Client
	credentials aws.CredentialsProvider
	logger      hclog.Logger
	// closeIdleConnections closes the idle connections of the driver's own
	// HTTP client, and does nothing for Config.HTTPClient.
	closeIdleConnections func()

	queues queueCache

	// mu guards closed, so that no call starts after Close began waiting
	// for the running calls in active.
	mu     sync.RWMutex
	closed bool
	active sync.WaitGroup
	// background counts the batch calls that run after their callers
	// returned, so that Close can wait for them.
	background sync.WaitGroup
	// lifetime ends when Close starts, which aborts waiting Receives.
	lifetime    context.Context
	endLifetime context.CancelFunc
}

// New returns a driver configured by cfg. It reads the SDK's shared config
// files and environment but sends no request, so wrong credentials or a
// missing queue show up in Open.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configure sqs driver: %w", err)
	}

	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}

	d := &Driver{cfg: cfg, logger: logger}

	var httpClient aws.HTTPClient = newHTTPClient()
	if cfg.HTTPClient != nil {
		httpClient = cfg.HTTPClient
	}

	awsCfg, err := cfg.loadAWSConfig(ctx, httpClient)
	if err != nil {
		return nil, fmt.Errorf("configure sqs driver: %w", err)
	}
	d.closeIdleConnections = freezeHTTPClient(&awsCfg)

	d.credentials = awsCfg.Credentials
	d.client = sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		if cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(cfg.EndpointURL)
		}
		o.DisableMessageChecksumValidation = cfg.DisableChecksumValidation
	})

	d.queues.entries = make(map[string]*queueInfo)
	d.lifetime, d.endLifetime = context.WithCancel(context.Background())

	return d, nil
}

// Close ends waiting Receives with an error wrapping drivers.ErrClosed,
// waits for running calls and pending acks to finish and closes idle
// connections. Every later call, Close included, returns drivers.ErrClosed.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return drivers.ErrClosed
	}
	d.closed = true
	d.endLifetime()
	d.mu.Unlock()

	d.active.Wait()
	d.background.Wait()

	d.closeIdleConnections()

	return nil
}

// enter registers a running call, or returns drivers.ErrClosed. Each
// successful enter must be followed by leave.
func (d *Driver) enter() error {
	d.mu.RLock()
	defer d.mu.RUnlock()

	if d.closed {
		return drivers.ErrClosed
	}

	d.active.Add(1)

	return nil
}

func (d *Driver) leave() {
	d.active.Done()
}

// untilClosed returns a context that ends with ctx or when Close starts,
// whichever comes first, and a function that releases it. After Close the
// context's cause is drivers.ErrClosed.
func (d *Driver) untilClosed(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(d.lifetime, func() { cancel(drivers.ErrClosed) })

	return ctx, func() {
		stop()
		cancel(nil)
	}
}
