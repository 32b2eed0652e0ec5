package mototest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Client returns an SQS client of the AWS SDK for the server, with static
// credentials, so that it never looks for credentials elsewhere.
func (s *Server) Client() *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		HTTPClient:   s.httpClient,
	})
}

// CreateQueue creates the named queue with the given queue attributes, such
// as "FifoQueue" or "RedrivePolicy", and returns its URL. It fails tb when
// moto rejects the request.
func (s *Server) CreateQueue(tb testing.TB, name string, attributes map[string]string) string {
	tb.Helper()

	output, err := s.Client().CreateQueue(tb.Context(), &sqs.CreateQueueInput{
		QueueName:  aws.String(name),
		Attributes: attributes,
	})
	if err != nil {
		tb.Fatalf("mototest: create queue %q with attributes %v on %s: %v", name, attributes, s.endpoint, err)
	}
	return aws.ToString(output.QueueUrl)
}

// QueueName returns prefix followed by a random suffix, so that tests that
// share a server do not share queues.
func QueueName(prefix string) string {
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])

	return prefix + "-" + hex.EncodeToString(suffix[:])
}
