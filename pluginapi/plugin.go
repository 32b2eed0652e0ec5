package pluginapi

import (
	"context"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

// GRPCPlugin connects a Listener to go-plugin. The plugin side sets
// Listener; the host side uses the zero value and gets a *ListenerClient
// from go-plugin's Dispense.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin

	Listener Listener
	Logger   hclog.Logger
}

// GRPCServer registers the Listener service in the plugin process.
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, server *grpc.Server) error {
	logger := p.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	proto.RegisterListenerServer(server, &listenerServer{listener: p.Listener, broker: broker, logger: logger})
	return nil
}

// GRPCClient returns the host's handle on the plugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &ListenerClient{ListenerClient: proto.NewListenerClient(conn), broker: broker}, nil
}

// ListenerClient is the host's handle on one plugin process.
type ListenerClient struct {
	proto.ListenerClient

	broker *plugin.GRPCBroker
}

// ServeHost serves the Host service to the plugin over the go-plugin
// broker and returns the broker id to pass in StartupRequest. The server
// runs until the plugin connection closes.
func (c *ListenerClient) ServeHost(host proto.HostServer) uint32 {
	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, func(options []grpc.ServerOption) *grpc.Server {
		server := grpc.NewServer(append(options, GRPCServerOptions()...)...)
		proto.RegisterHostServer(server, host)
		return server
	})
	return id
}

// PluginSets returns the plugin sets for go-plugin's VersionedPlugins, with
// listener served at ProtocolVersion. The host passes a nil listener.
func PluginSets(listener Listener, logger hclog.Logger) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{Listener: listener, Logger: logger}},
	}
}
