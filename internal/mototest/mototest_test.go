package mototest_test

import (
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/mototest"
)

func TestStartServesSQS(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	server := mototest.Start(t)

	endpoint, err := url.Parse(server.Endpoint())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", endpoint.Hostname(), "moto should listen on loopback only")

	name := mototest.QueueName("mototest")
	queueURL := server.CreateQueue(t, name, map[string]string{"VisibilityTimeout": "5"})
	assert.Contains(t, queueURL, name)

	output, err := server.Client().GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout},
	})
	require.NoError(t, err)
	assert.Equal(t, "5", output.Attributes["VisibilityTimeout"], "the queue should have the requested attributes")
}

func TestStopEndsServer(t *testing.T) {
	t.Setenv(mototest.EndpointEnv, "")
	server, err := mototest.StartProcess()
	require.NoError(t, err)
	address := server.Endpoint()[len("http://"):]

	require.NoError(t, server.Stop())

	_, err = net.DialTimeout("tcp", address, time.Second)
	assert.Error(t, err, "nothing should accept connections at %s after Stop", address)
	assert.NoError(t, server.Stop(), "a second Stop should do nothing")
}

func TestStartWithoutBinary(t *testing.T) {
	t.Setenv(mototest.EndpointEnv, "")
	t.Setenv("PATH", t.TempDir())

	_, err := mototest.StartProcess()

	require.Error(t, err)
	assert.ErrorContains(t, err, "moto_server not found on PATH", "the error should say what is missing")
	assert.ErrorContains(t, err, "pip install", "the error should say where moto_server comes from")
}

func TestSharedServerFromEnv(t *testing.T) {
	private := mototest.StartPrivate(t)
	t.Setenv(mototest.EndpointEnv, private.Endpoint())

	shared, err := mototest.StartProcess()

	require.NoError(t, err)
	assert.Equal(t, private.Endpoint(), shared.Endpoint(), "the shared server is used instead of a new one")
	require.NoError(t, shared.Stop(), "stopping a shared server does nothing")
	_, err = net.DialTimeout("tcp", private.Endpoint()[len("http://"):], time.Second)
	assert.NoError(t, err, "the shared server keeps running")
}

func TestSharedServerMustRespond(t *testing.T) {
	t.Setenv(mototest.EndpointEnv, "http://127.0.0.1:1")

	_, err := mototest.StartProcess()

	require.Error(t, err)
	assert.ErrorContains(t, err, "does not respond")
	assert.ErrorContains(t, err, "scripts/moto.sh start", "the error says how to start it")
}

func TestQueueNameIsUnique(t *testing.T) {
	first := mototest.QueueName("queue")
	second := mototest.QueueName("queue")

	assert.NotEqual(t, first, second)
	assert.Regexp(t, `^queue-[0-9a-f]{12}$`, first, "queue names may contain only letters, digits, '-' and '_'")
}
