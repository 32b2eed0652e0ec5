package sqs_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/internal/mototest"
)

func TestOpenMapsAPIErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		response fakeResponse
		wantErr  error
	}{
		{"missing queue", apiError(http.StatusBadRequest, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue;Sender",
			"The specified queue does not exist."), drivers.ErrQueueNotFound},
		{"missing queue without query header", apiError(http.StatusBadRequest, "QueueDoesNotExist", "",
			"The specified queue does not exist."), drivers.ErrQueueNotFound},
		{"invalid access key", apiError(http.StatusForbidden, "InvalidClientTokenId", "InvalidClientTokenId;Sender",
			"The security token included in the request is invalid."), sqs.ErrAccessDenied},
		{"wrong secret", apiError(http.StatusForbidden, "SignatureDoesNotMatch", "SignatureDoesNotMatch;Sender",
			"The request signature we calculated does not match the signature you provided."), sqs.ErrAccessDenied},
		{"missing permission", apiError(http.StatusForbidden, "AccessDeniedException", "AccessDenied;Sender",
			"User is not authorized to perform: sqs:getqueueurl"), sqs.ErrAccessDenied},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			fake := newFakeSQS(t)
			fake.handle("GetQueueUrl", func(map[string]any) fakeResponse { return tt.response })

			_, err := fake.driver(t).Open(t.Context(), "emails", drivers.OpenOptions{})

			assert.ErrorIs(t, err, tt.wantErr)
			assert.ErrorContains(t, err, `"emails"`, "the error should name the queue")
			assert.Len(t, fake.requestsOf("GetQueueUrl"), 1, "a client error should not be retried")
		})
	}
}

func TestOpenByURLSkipsGetQueueURL(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	driver := fake.driver(t)

	queue, err := driver.Open(t.Context(), fakeQueueURL, drivers.OpenOptions{})
	require.NoError(t, err)

	assert.Equal(t, fakeQueueURL, queue.Name(), "the queue keeps the URL it was opened with as its name")
	assert.Empty(t, fake.requestsOf("GetQueueUrl"), "a URL needs no lookup")
	require.Len(t, fake.requestsOf("GetQueueAttributes"), 1)
	assert.Equal(t, fakeQueueURL, fake.requestsOf("GetQueueAttributes")[0]["QueueUrl"])
}

func TestOpenResolvesEachQueueOnce(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	driver := fake.driver(t)

	for range 3 {
		_, err := driver.Open(t.Context(), "emails", drivers.OpenOptions{})
		require.NoError(t, err)
	}
	_, err := driver.Send(t.Context(), "emails", drivers.OutgoingMessage{Body: []byte("x")})
	require.Error(t, err, "the fake has no SendMessage handler")

	assert.Len(t, fake.requestsOf("GetQueueUrl"), 1, "GetQueueUrl calls")
	assert.Len(t, fake.requestsOf("GetQueueAttributes"), 1, "GetQueueAttributes calls")
}

func TestReceiveChecksumMismatch(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("ReceiveMessage", func(map[string]any) fakeResponse {
		return ok(map[string]any{"Messages": []map[string]any{{
			"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": "hello", "MD5OfBody": md5Hex("changed in transit"),
		}}})
	})
	queue := fake.open(t)

	_, err := queue.Receive(t.Context(), drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute})

	assert.ErrorIs(t, err, sqs.ErrChecksumMismatch)
	assert.ErrorContains(t, err, `"emails"`, "the error should name the queue")
	assert.Len(t, fake.requestsOf("ReceiveMessage"), 1, "a checksum mismatch should not be retried")
}

func TestSendChecksumMismatch(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("SendMessage", func(map[string]any) fakeResponse {
		return ok(map[string]any{"MessageId": "m-1", "MD5OfMessageBody": md5Hex("something else")})
	})
	driver := fake.driver(t)

	_, err := driver.Send(t.Context(), "emails", drivers.OutgoingMessage{Body: []byte("hello")})

	assert.ErrorIs(t, err, sqs.ErrChecksumMismatch)
	assert.Len(t, fake.requestsOf("SendMessage"), 1, "a checksum mismatch should not be retried")
}

func TestReceiveRetriesThrottling(t *testing.T) {
	t.Parallel()

	fake := newFakeSQS(t)
	fake.handle("ReceiveMessage", func(map[string]any) fakeResponse {
		if len(fake.requestsOf("ReceiveMessage")) < 3 {
			return apiError(http.StatusBadRequest, "RequestThrottled", "RequestThrottled;Sender", "Rate exceeded")
		}
		return ok(map[string]any{"Messages": []map[string]any{}})
	})
	queue := fake.open(t)

	msgs, err := queue.Receive(t.Context(), drivers.ReceiveRequest{Max: 1, VisibilityTimeout: time.Minute})

	require.NoError(t, err, "a throttled receive should succeed on a later attempt")
	assert.Empty(t, msgs)
	assert.Len(t, fake.requestsOf("ReceiveMessage"), 3, "two throttled attempts and one that succeeded")
}

func TestOpenWithoutCredentials(t *testing.T) {
	// Not parallel: t.Setenv changes the process environment.
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(name, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	fake := newFakeSQS(t)
	driver, err := sqs.New(t.Context(), sqs.Config{Region: mototest.Region, EndpointURL: fake.server.URL})
	require.NoError(t, err, "New sends no request, so it succeeds without credentials")
	t.Cleanup(func() { _ = driver.Close() })

	_, err = driver.Open(t.Context(), "emails", drivers.OpenOptions{})

	assert.ErrorIs(t, err, sqs.ErrAccessDenied)
	assert.Empty(t, fake.requestsOf("GetQueueUrl"), "no request without credentials")
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		cfg     sqs.Config
		wantErr string
	}{
		{"wait time above 20", sqs.Config{Region: "us-east-1", WaitTimeSeconds: 21}, "wait time of 21 seconds is invalid"},
		{"negative wait time", sqs.Config{Region: "us-east-1", WaitTimeSeconds: -1}, "wait time of -1 seconds is invalid"},
		{"relative endpoint", sqs.Config{Region: "us-east-1", EndpointURL: "127.0.0.1:5000"}, `endpoint URL "127.0.0.1:5000" is invalid`},
		{"checksum off for AWS", sqs.Config{Region: "us-east-1", DisableChecksumValidation: true}, "only for a local server"},
		{"key without secret", sqs.Config{Region: "us-east-1", AccessKeyID: "AKIA"}, "static credentials are incomplete"},
		{"token without keys", sqs.Config{Region: "us-east-1", SessionToken: "token"}, "session token needs"},
		{"keys and profile", sqs.Config{Region: "us-east-1", AccessKeyID: "a", SecretAccessKey: "b", Profile: "dev"}, `profile "dev"`},
		{"missing profile", sqs.Config{Region: "us-east-1", Profile: "no-such-profile-for-tests"}, "no-such-profile-for-tests"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			driver, err := sqs.New(t.Context(), tt.cfg)
			if driver != nil {
				_ = driver.Close()
			}

			require.Error(t, err)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
