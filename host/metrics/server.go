package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the HTTP server. Writes get more than statusTimeout so that
// a slow /readyz still sends its response.
const (
	readHeaderTimeout = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = time.Minute
)

// Server serves the host's metrics and health endpoints over HTTP:
//
//   - /metrics: the Prometheus text format of the Metrics registry.
//   - /healthz: 200 with {"status":"ok"} while the host process runs.
//   - /readyz: 200 when every listener is running and reaches its queue,
//     else 503, with a Readiness JSON body in both cases.
//
// Each endpoint serves GET and HEAD and rejects other methods with 405.
type Server struct {
	addr   string
	source StatusSource
	logger hclog.Logger
	server *http.Server

	mu       sync.Mutex
	listener net.Listener
	// served is closed when the serve goroutine has returned.
	served chan struct{}
}

// NewServer returns a server for addr, a host:port pair where port 0
// picks a free port. m may be nil, in which case /metrics responds with 404,
// and source may be nil, in which case /readyz reports not ready. A nil
// logger discards the server's logs.
func NewServer(addr string, m *Metrics, source StatusSource, logger hclog.Logger) *Server {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}

	s := &Server{
		addr:   addr,
		source: source,
		logger: logger,
	}

	mux := http.NewServeMux()
	if registry := m.Registry(); registry != nil {
		handler := promhttp.HandlerFor(m.Gatherer(), promhttp.HandlerOpts{
			ErrorLog:      promLogger{logger: logger},
			ErrorHandling: promhttp.ContinueOnError,
			Registry:      registry,
		})
		mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(registry, handler))
	}
	mux.HandleFunc("GET /healthz", s.serveHealthz)
	mux.HandleFunc("GET /readyz", s.serveReadyz)

	s.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          logger.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Warn}),
	}
	return s
}

// Start listens on the server's address and serves requests in the
// background until Shutdown. It returns the listen error at once, for
// example when the port is in use, naming the address. A server starts
// at most once.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.served != nil {
		return fmt.Errorf("start metrics server on %s: already started", s.addr)
	}

	listener, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s for metrics and health checks: %w", s.addr, err)
	}
	s.listener = listener
	s.served = make(chan struct{})

	go s.serve(listener, s.served)
	s.logger.Info("metrics server listening", "addr", listener.Addr().String())
	return nil
}

func (s *Server) serve(listener net.Listener, served chan<- struct{}) {
	defer close(served)

	err := s.server.Serve(listener)
	if !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error("metrics server stopped", "addr", listener.Addr().String(), "error", err)
	}
}

// Addr returns the address the server listens on after Start, which
// shows the chosen port when the address had port 0, and the configured
// address before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.listener != nil {
		return s.listener.Addr().String()
	}
	return s.addr
}

// Shutdown stops accepting connections and waits for the requests in
// progress to finish until ctx ends, then closes the connections still
// open. It returns nil when the server never started.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()

	if served == nil {
		return nil
	}

	err := s.server.Shutdown(ctx)
	if err != nil {
		// Requests still running when ctx ended lose their connection.
		_ = s.server.Close()
	}
	<-served

	if err != nil {
		return fmt.Errorf("shut down metrics server on %s: %w", s.Addr(), err)
	}
	s.logger.Debug("metrics server stopped", "addr", s.Addr())
	return nil
}

// promLogger passes the errors of the /metrics handler to hclog.
type promLogger struct {
	logger hclog.Logger
}

// Println implements promhttp.Logger.
func (l promLogger) Println(v ...any) {
	l.logger.Error("collect metrics failed", "error", fmt.Sprint(v...))
}
