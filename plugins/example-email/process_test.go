package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vega-host/vega-host/internal/mailpittest"
	"github.com/vega-host/vega-host/pluginapi"
	"github.com/vega-host/vega-host/pluginapi/proto"
)

// startPluginProcess builds this listener, starts the binary as a plugin
// process the way the host does, and returns its gRPC client.
func startPluginProcess(t *testing.T) *pluginapi.ListenerClient {
	t.Helper()

	binary := filepath.Join(t.TempDir(), "example-email")
	build := exec.Command("go", "build", "-o", binary, ".")
	output, err := build.CombinedOutput()
	require.NoError(t, err, "go build the listener:\n%s", output)

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginapi.Handshake,
		VersionedPlugins: pluginapi.PluginSets(nil, nil),
		Cmd:              exec.Command(binary),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		GRPCDialOptions:  pluginapi.GRPCDialOptions(),
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Warn}),
	})
	t.Cleanup(client.Kill)

	rpcClient, err := client.Client()
	require.NoError(t, err, "connect to the plugin process")
	raw, err := rpcClient.Dispense(pluginapi.PluginName)
	require.NoError(t, err, "dispense %q", pluginapi.PluginName)
	listener, ok := raw.(*pluginapi.ListenerClient)
	require.True(t, ok, "dispensed %T, expected *pluginapi.ListenerClient", raw)
	return listener
}

func TestPluginProcessHandlesMessages(t *testing.T) {
	t.Parallel()
	server := mailpittest.Start(t)
	listener := startPluginProcess(t)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	config, err := json.Marshal(map[string]any{"smtp_addr": server.SMTPAddr(), "from": "noreply@example.com"})
	require.NoError(t, err, "encode config")
	hostID := listener.ServeHost(proto.UnimplementedHostServer{})
	_, err = listener.Startup(ctx, &proto.StartupRequest{
		Listener:      "send-email",
		Queue:         "emails",
		ConfigJson:    config,
		AutoAck:       true,
		HostServiceId: hostID,
		Workers:       1,
	})
	require.NoError(t, err, "Startup over gRPC")

	tests := []struct {
		name      string
		body      string
		errorText string
		permanent bool
	}{
		{name: "valid email", body: `{"to": "a@example.com", "subject": "From the plugin process", "text": "Hello"}`},
		{name: "missing subject", body: `{"to": "a@example.com", "text": "Hello"}`, errorText: `"subject" is missing`, permanent: true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			response, err := listener.Handle(ctx, &proto.HandleRequest{
				Message:    &proto.Message{Id: "m-1", Queue: "emails", Body: []byte(test.body), ReceiveCount: 1},
				DeliveryId: 1,
			})

			require.NoError(t, err, "Handle over gRPC")
			if test.errorText == "" {
				assert.Empty(t, response.Error, "handler error")
				return
			}
			assert.Contains(t, response.Error, test.errorText, "handler error")
			assert.Equal(t, test.permanent, response.Permanent, "response marks the error permanent")
		})
	}

	messages := server.WaitForCount(t, 1, mailWaitTimeout)
	require.Len(t, messages, 1, "mails sent by the plugin process")
	assert.Equal(t, "From the plugin process", messages[0].Subject, "Subject")

	_, err = listener.Shutdown(ctx, &proto.Empty{})
	assert.NoError(t, err, "Shutdown over gRPC")
}
