package sqs_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/internal/mototest"
)

// fakeQueueURL is the URL that the fake server returns for every queue.
const fakeQueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/emails"

// fakeSQS is an HTTP server on 127.0.0.1 that speaks the AWS JSON 1.0
// protocol of SQS, as service/sqs v1.53.0 sends it: POST / with the
// operation in the X-Amz-Target header. A handler per operation returns the
// response, and every request is recorded.
type fakeSQS struct {
	server *httptest.Server

	mu       sync.Mutex
	handlers map[string]fakeHandler
	requests map[string][]map[string]any
}

// fakeHandler returns the response to one request, given its JSON body.
type fakeHandler func(request map[string]any) fakeResponse

// fakeResponse is an HTTP response of the fake server.
type fakeResponse struct {
	status int
	body   any
	// queryError is the X-Amzn-Query-Error header that SQS adds to errors
	// for clients of its older query protocol, such as
	// "AWS.SimpleQueueService.NonExistentQueue;Sender".
	queryError string
}

// ok returns a 200 response with body as JSON.
func ok(body any) fakeResponse {
	return fakeResponse{status: http.StatusOK, body: body}
}

// apiError returns an error response as SQS sends it: the error type with
// its namespace in __type and the text in message.
func apiError(status int, errorType, queryError, message string) fakeResponse {
	return fakeResponse{
		status:     status,
		body:       map[string]any{"__type": "com.amazonaws.sqs#" + errorType, "message": message},
		queryError: queryError,
	}
}

// newFakeSQS starts a fake server whose queue "emails" is a standard queue
// with a MaximumMessageSize of 262144 bytes and no redrive policy.
func newFakeSQS(t *testing.T) *fakeSQS {
	t.Helper()

	f := &fakeSQS{
		handlers: make(map[string]fakeHandler),
		requests: make(map[string][]map[string]any),
	}
	f.handle("GetQueueUrl", func(map[string]any) fakeResponse {
		return ok(map[string]any{"QueueUrl": fakeQueueURL})
	})
	f.handle("GetQueueAttributes", func(map[string]any) fakeResponse {
		return ok(map[string]any{"Attributes": map[string]string{"MaximumMessageSize": "262144", "FifoQueue": "false"}})
	})

	f.server = httptest.NewServer(http.HandlerFunc(f.serveHTTP))
	t.Cleanup(f.server.Close)

	return f
}

// handle sets the handler of an operation, such as "ReceiveMessage".
func (f *fakeSQS) handle(operation string, handler fakeHandler) {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.handlers[operation] = handler
}

// requestsOf returns the bodies of the requests for operation so far.
func (f *fakeSQS) requestsOf(operation string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()

	return append([]map[string]any(nil), f.requests[operation]...)
}

func (f *fakeSQS) serveHTTP(w http.ResponseWriter, r *http.Request) {
	operation := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")

	var request map[string]any
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &request)

	f.mu.Lock()
	f.requests[operation] = append(f.requests[operation], request)
	handler, found := f.handlers[operation]
	f.mu.Unlock()

	response := apiError(http.StatusBadRequest, "InvalidAction", "", "the fake server has no handler for "+operation)
	if found {
		response = handler(request)
	}

	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if response.queryError != "" {
		w.Header().Set("X-Amzn-Query-Error", response.queryError)
	}
	w.WriteHeader(response.status)
	_ = json.NewEncoder(w).Encode(response.body)
}

// driver returns a driver for the fake server, closed when the test ends.
func (f *fakeSQS) driver(t *testing.T) *sqs.Driver {
	t.Helper()

	driver, err := sqs.New(t.Context(), sqs.Config{
		Region:          mototest.Region,
		EndpointURL:     f.server.URL,
		AccessKeyID:     mototest.AccessKeyID,
		SecretAccessKey: mototest.SecretAccessKey,
	})
	require.NoError(t, err, "create sqs driver for the fake server")

	t.Cleanup(func() {
		if err := driver.Close(); err != nil && !errors.Is(err, drivers.ErrClosed) {
			t.Errorf("close sqs driver: %v", err)
		}
	})

	return driver
}

// open returns the queue "emails" of the fake server.
func (f *fakeSQS) open(t *testing.T) drivers.Queue {
	t.Helper()

	queue, err := f.driver(t).Open(t.Context(), "emails", drivers.OpenOptions{})
	require.NoError(t, err, "open queue %q on the fake server", "emails")

	return queue
}

// entriesOf returns the Entries of a recorded batch request.
func entriesOf(request map[string]any) []map[string]any {
	raw, _ := request["Entries"].([]any)

	entries := make([]map[string]any, 0, len(raw))
	for _, entry := range raw {
		if m, ok := entry.(map[string]any); ok {
			entries = append(entries, m)
		}
	}
	return entries
}

// md5Hex returns the MD5 digest of s in hex, as SQS returns it.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
