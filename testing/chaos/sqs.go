//go:build linux

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/internal/mototest"
)

// Queue backends of the -driver flag.
const (
	driverSQLite = "sqlite"
	driverSQS    = "sqs"
)

// maxQueuedSQS is how many messages an sqs run keeps in the queue at most.
// moto scans a whole queue on each call, so it slows down as the queue
// grows, and the run feeds the messages gradually.
const maxQueuedSQS = 200

// sqsWaitTimeSeconds is the long-poll wait of the host's receives. It is
// short, so that a stopping host ends its receives quickly.
const sqsWaitTimeSeconds = 1

// setupSQS starts moto_server, or connects to the one in
// mototest.EndpointEnv, creates the queue and its dead-letter queue under
// unique names, and opens the suite's own sqs driver.
func (r *chaosRun) setupSQS(ctx context.Context) error {
	// The SDK must never ask an instance metadata service for credentials
	// or a region, in the suite and in the hosts it starts.
	if err := os.Setenv("AWS_EC2_METADATA_DISABLED", "true"); err != nil {
		return fmt.Errorf("set AWS_EC2_METADATA_DISABLED: %w", err)
	}
	r.hostEnv = []string{"AWS_EC2_METADATA_DISABLED=true"}

	moto, err := mototest.StartProcess()
	if err != nil {
		return err
	}
	r.moto = moto
	r.progressf("moto_server serves %s", moto.Endpoint())

	r.queue = mototest.QueueName(queueName)
	r.deadLetterQueue = mototest.QueueName(deadLetterQueueName)
	client := moto.Client()
	for _, name := range []string{r.queue, r.deadLetterQueue} {
		if _, err := client.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name)}); err != nil {
			return fmt.Errorf("create queue %q on %s: %w", name, moto.Endpoint(), err)
		}
	}

	driver, err := sqs.New(ctx, sqs.Config{
		Region:          mototest.Region,
		EndpointURL:     moto.Endpoint(),
		AccessKeyID:     mototest.AccessKeyID,
		SecretAccessKey: mototest.SecretAccessKey,
		WaitTimeSeconds: sqsWaitTimeSeconds,
	})
	if err != nil {
		return err
	}
	r.driver = driver
	return nil
}

// sqsDriverBlock returns the driver "sqs" block of the host's config.
// moto accepts any signed request, so the static test credentials sit in
// the file.
func (r *chaosRun) sqsDriverBlock() string {
	return fmt.Sprintf(`driver "sqs" {
  region            = %q
  endpoint_url      = %q
  access_key_id     = %q
  secret_access_key = %q
  wait_time_seconds = %d
}`, mototest.Region, r.moto.Endpoint(), mototest.AccessKeyID, mototest.SecretAccessKey, sqsWaitTimeSeconds)
}
