// Command oldproto is a test plugin that serves the listener at protocol
// version 99, as a plugin built against a future SDK would.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/vega-host/vega-host/pluginapi"
)

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  99,
			MagicCookieKey:   pluginapi.Handshake.MagicCookieKey,
			MagicCookieValue: pluginapi.Handshake.MagicCookieValue,
		},
		VersionedPlugins: map[int]plugin.PluginSet{
			99: {pluginapi.PluginName: &pluginapi.GRPCPlugin{}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
	})
}
