package pluginapi

import (
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the version of the host-plugin protocol this SDK
// speaks. The host refuses a plugin built for another version and names
// both versions in its error.
const ProtocolVersion = 1

// PluginName is the name under which a plugin serves its listener.
const PluginName = "listener"

// MaxMessageSize bounds one gRPC message between host and plugin in either
// direction: a message body with its attributes must fit in it.
const MaxMessageSize = 64 << 20

// Handshake is the go-plugin handshake shared by the host and every plugin.
// The cookie only keeps a plugin binary from being run by hand; it is not a
// security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "VEGA_HOST_PLUGIN",
	MagicCookieValue: "c2b0f1d4-listener",
}

// GRPCServerOptions raise gRPC's message size limits on the servers the
// SDK and the host run.
func GRPCServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
	}
}

// GRPCDialOptions are the dial options the host and the SDK use so that
// messages up to MaxMessageSize pass in both directions.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(MaxMessageSize),
			grpc.MaxCallSendMsgSize(MaxMessageSize),
		),
	}
}
