package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// statusTimeout bounds one StatusSource call made for /readyz. It stays
// under the 5 second timeout of "vega-host status" so that the command
// gets a response rather than its own timeout.
const statusTimeout = 3 * time.Second

// stateRunning is the State of a listener whose plugin runs. It matches
// supervisor.StateRunning, which this package cannot import because the
// supervisor records metrics.
const stateRunning = "running"

// Values of Readiness.Status.
const (
	readinessReady    = "ready"
	readinessNotReady = "not_ready"
)

// ListenerStatus is the state of one listener as /readyz reports it.
type ListenerStatus struct {
	Name  string `json:"name"`
	Queue string `json:"queue"`
	// State is the state of the listener's plugin: starting, running,
	// failed or stopped.
	State string `json:"state"`
	// PluginPID is the process id of the running plugin, or 0 when none
	// runs.
	PluginPID int `json:"plugin_pid"`
	// Restarts counts the plugin starts after the first.
	Restarts int `json:"restarts"`
	// Error is the last error of the listener or its plugin, empty when
	// there is none.
	Error string `json:"error,omitempty"`
	// QueueReachable reports whether the host reached the listener's
	// queue when it built this status.
	QueueReachable bool `json:"queue_reachable"`
}

// ready reports whether the listener can take messages.
func (s ListenerStatus) ready() bool {
	return s.State == stateRunning && s.QueueReachable
}

// StatusSource reports the state of every listener.
type StatusSource interface {
	// Status returns one entry per listener. The server calls it once
	// per /readyz request, possibly from several requests at once, with
	// a ctx that ends after a few seconds; Status should return by then.
	Status(ctx context.Context) []ListenerStatus
}

// StatusSourceFunc adapts a function to StatusSource.
type StatusSourceFunc func(ctx context.Context) []ListenerStatus

// Status calls f.
func (f StatusSourceFunc) Status(ctx context.Context) []ListenerStatus {
	return f(ctx)
}

// Readiness is the JSON body of /readyz.
type Readiness struct {
	// Status is "ready" when every listener is running and reaches its
	// queue, else "not_ready". A host with no listeners is not ready,
	// because that is also how a host looks before it starts them.
	Status    string           `json:"status"`
	Listeners []ListenerStatus `json:"listeners"`
}

// Ready reports whether Status is "ready".
func (r Readiness) Ready() bool {
	return r.Status == readinessReady
}

// newReadiness judges the readiness of listeners.
func newReadiness(listeners []ListenerStatus) Readiness {
	readiness := Readiness{Status: readinessReady, Listeners: listeners}
	if readiness.Listeners == nil {
		readiness.Listeners = []ListenerStatus{}
	}

	if len(listeners) == 0 {
		readiness.Status = readinessNotReady
	}
	for _, listener := range listeners {
		if !listener.ready() {
			readiness.Status = readinessNotReady
		}
	}
	return readiness
}

// serveHealthz responds with 200 for as long as the process serves
// requests.
func (s *Server) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	s.writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// serveReadyz responds with 200 when every listener is ready and 503
// otherwise, with the status of each listener in both cases.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	var listeners []ListenerStatus
	if s.source != nil {
		ctx, cancel := context.WithTimeout(r.Context(), statusTimeout)
		defer cancel()
		listeners = s.source.Status(ctx)
	}

	readiness := newReadiness(listeners)
	code := http.StatusOK
	if !readiness.Ready() {
		code = http.StatusServiceUnavailable
	}
	s.writeJSON(w, code, readiness)
}

func (s *Server) writeJSON(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)

	if err := json.NewEncoder(w).Encode(body); err != nil {
		s.logger.Debug("write health response failed", "error", err)
	}
}
