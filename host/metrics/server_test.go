package metrics_test

import (
	"context"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/host/metrics"
)

func TestStartReportsPortInUse(t *testing.T) {
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = occupied.Close() })
	addr := occupied.Addr().String()

	server := metrics.NewServer(addr, metrics.New(), nil, nil)
	err = server.Start()

	require.Error(t, err)
	assert.Contains(t, err.Error(), addr, "the error names the address")
	assert.ErrorIs(t, err, syscall.EADDRINUSE)
	assert.NoError(t, server.Shutdown(context.Background()), "a server that never started shuts down cleanly")
}

func TestStartRejectsInvalidAddress(t *testing.T) {
	server := metrics.NewServer("127.0.0.1:99999", nil, nil, nil)

	err := server.Start()

	require.Error(t, err)
	assert.Contains(t, err.Error(), "127.0.0.1:99999")
}

func TestAddrShowsChosenPort(t *testing.T) {
	server := metrics.NewServer("127.0.0.1:0", nil, nil, nil)
	assert.Equal(t, "127.0.0.1:0", server.Addr(), "before Start, Addr is the configured address")

	require.NoError(t, server.Start())
	t.Cleanup(func() { shutdown(t, server) })

	host, port, err := net.SplitHostPort(server.Addr())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.NotEqual(t, "0", port)
}

func TestStartTwiceFails(t *testing.T) {
	b := setup(t)

	err := b.server.Start()

	assert.ErrorContains(t, err, "already started")
}

func TestShutdownClosesPort(t *testing.T) {
	server := metrics.NewServer("127.0.0.1:0", metrics.New(), nil, nil)
	require.NoError(t, server.Start())
	base := "http://" + server.Addr()
	require.Equal(t, http.StatusOK, request(t, http.MethodGet, base+"/healthz").code)

	shutdown(t, server)

	_, err := client.Get(base + "/healthz")
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}
