package sqs

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/go-hclog"
)

// Defaults and limits of Config.
const (
	// DefaultWaitTimeSeconds is the longest long poll when
	// Config.WaitTimeSeconds is zero. It is also the most that SQS allows.
	DefaultWaitTimeSeconds = 20
	// MaxWaitTimeSeconds is the most that SQS allows for one long poll.
	MaxWaitTimeSeconds = 20
)

// Retry settings of the SDK's standard retryer. A call that fails with a
// throttling error, an HTTP 5xx status or a network error is tried up to
// retryMaxAttempts times in all, with exponential backoff and jitter capped
// at retryMaxBackoff. The retryer's token bucket stops retries after many
// failures in a row, so an outage does not multiply the load on SQS.
const (
	retryMaxAttempts = 5
	retryMaxBackoff  = 5 * time.Second
)

// maxIdleConnections bounds the idle connections kept to the SQS endpoint.
// Each concurrent long poll holds a connection, and the SDK's default of 10
// idle connections per host would close and reopen the others all the time.
const maxIdleConnections = 64

// extraThrottleCodes are SQS throttling error codes that the SDK's retryer
// does not list.
var extraThrottleCodes = map[string]struct{}{
	"KMS.ThrottlingException": {},
}

// Config configures a Driver. The zero value uses the SDK's default chain
// for the region and credentials and long polls of up to 20 seconds.
type Config struct {
	// Region is the AWS region of the queues, such as "eu-west-1". Empty
	// means the SDK's default chain: AWS_REGION, then the profile's region.
	Region string

	// EndpointURL replaces the region's SQS endpoint, for a local server
	// such as moto_server ("http://127.0.0.1:5000"). Empty means the AWS
	// endpoint of Region.
	EndpointURL string

	// Profile is the shared config profile (~/.aws/config) to take the
	// credentials and region from. Empty means AWS_PROFILE, or "default".
	Profile string

	// AccessKeyID and SecretAccessKey are static credentials, and
	// SessionToken goes with temporary ones. When AccessKeyID is empty the
	// SDK's default chain finds the credentials: environment, profile,
	// web identity, container or instance role.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// WaitTimeSeconds caps each long poll, from 1 to 20 seconds. Zero means
	// DefaultWaitTimeSeconds. A Receive waits for the shorter of this and
	// its own WaitTime.
	WaitTimeSeconds int

	// DisableChecksumValidation turns off the SDK's check of the MD5
	// digests that SQS returns for message bodies. It is for local servers
	// that compute no digests, so it requires EndpointURL.
	DisableChecksumValidation bool

	// Logger receives the driver's warnings, such as a queue without any
	// dead-letter queue. Nil discards them.
	Logger hclog.Logger

	// HTTPClient sends the requests. Nil means a client of the driver's
	// own, whose idle connections Close closes. The SDK (config v1.33.21)
	// refuses a client of this type while AWS_CA_BUNDLE is set, because it
	// cannot add the bundle's certificates to it.
	HTTPClient *http.Client
}

// Validate checks the fields that New cannot leave to the SDK, as New
// does, so that configuration loaders can report problems early.
func (c Config) Validate() error {
	if c.WaitTimeSeconds < 0 || c.WaitTimeSeconds > MaxWaitTimeSeconds {
		return fmt.Errorf("wait time of %d seconds is invalid: must be from 1 to %d, or 0 for the default of %d",
			c.WaitTimeSeconds, MaxWaitTimeSeconds, DefaultWaitTimeSeconds)
	}

	if c.EndpointURL != "" {
		endpoint, err := url.Parse(c.EndpointURL)
		if err != nil || (endpoint.Scheme != "http" && endpoint.Scheme != "https") || endpoint.Host == "" {
			return fmt.Errorf("endpoint URL %q is invalid: must be an absolute http or https URL such as \"http://127.0.0.1:5000\"", c.EndpointURL)
		}
	}

	if c.DisableChecksumValidation && c.EndpointURL == "" {
		return fmt.Errorf("checksum validation may be disabled only for a local server: set the endpoint URL too, or keep validation on for AWS")
	}

	hasKey, hasSecret := c.AccessKeyID != "", c.SecretAccessKey != ""
	switch {
	case hasKey != hasSecret:
		return fmt.Errorf("static credentials are incomplete: set both the access key id and the secret access key, or neither to use the SDK's default chain")
	case c.SessionToken != "" && !hasKey:
		return fmt.Errorf("a session token needs the access key id and secret access key it belongs to")
	case hasKey && c.Profile != "":
		return fmt.Errorf("both static credentials and profile %q are set: use one of them", c.Profile)
	}

	return nil
}

// waitTime returns the longest long poll.
func (c Config) waitTime() time.Duration {
	if c.WaitTimeSeconds == 0 {
		return DefaultWaitTimeSeconds * time.Second
	}
	return time.Duration(c.WaitTimeSeconds) * time.Second
}

// loadAWSConfig resolves the region, credentials, retryer and HTTP client.
// It reads the shared config files and the environment, but sends no
// request: credentials are fetched on the first call.
func (c Config) loadAWSConfig(ctx context.Context, httpClient aws.HTTPClient) (aws.Config, error) {
	options := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(httpClient),
		awsconfig.WithRetryer(newRetryer),
	}
	if c.Region != "" {
		options = append(options, awsconfig.WithRegion(c.Region))
	}
	if c.Profile != "" {
		options = append(options, awsconfig.WithSharedConfigProfile(c.Profile))
	}
	if c.AccessKeyID != "" {
		provider := credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		options = append(options, awsconfig.WithCredentialsProvider(provider))
	}

	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, options...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}

	if awsCfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region is set: set the region in the driver config, AWS_REGION, or the profile's region")
	}

	return awsCfg, nil
}

// newRetryer returns the SDK's standard retryer with the driver's limits.
func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = retryMaxAttempts
		o.MaxBackoff = retryMaxBackoff
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: extraThrottleCodes})
	})
}

// newHTTPClient returns the SDK's HTTP client with more idle connections.
// It stays a BuildableClient until the configuration is loaded, so that the
// SDK can add settings such as AWS_CA_BUNDLE's certificates to it.
func newHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(transport *http.Transport) {
		transport.MaxIdleConns = maxIdleConnections
		transport.MaxIdleConnsPerHost = maxIdleConnections
	})
}

// idleConnectionCloser is implemented by *http.Client.
type idleConnectionCloser interface {
	CloseIdleConnections()
}

// freezeHTTPClient turns the driver's own BuildableClient, as the loaded
// configuration holds it, into a plain client, and returns the function
// that closes its idle connections. A caller's client is left alone.
func freezeHTTPClient(awsCfg *aws.Config) (closeIdle func()) {
	buildable, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return func() {}
	}

	frozen := buildable.Freeze()
	awsCfg.HTTPClient = frozen

	if closer, ok := frozen.(idleConnectionCloser); ok {
		return closer.CloseIdleConnections
	}
	return func() {}
}
