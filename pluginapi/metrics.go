package pluginapi

import (
	"bytes"
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/vega-host/vega-host/pluginapi/proto"
)

var registry = prometheus.NewRegistry()

// Registry returns the registry for the plugin's own Prometheus metrics.
// The host serves what it holds on its /metrics endpoint, next to its own
// metrics, with a "listener" label naming the listener:
//
//	var sent = prometheus.NewCounter(prometheus.CounterOpts{
//		Name: "emails_sent_total",
//		Help: "Emails accepted by the SMTP server.",
//	})
//
//	func init() { pluginapi.Registry().MustRegister(sent) }
//
// Names should not start with "vega_", which the host uses, and must not
// carry a "listener" label of their own.
func Registry() *prometheus.Registry {
	return registry
}

// Metrics gathers the plugin's registry for the host.
func (s *listenerServer) Metrics(context.Context, *proto.Empty) (*proto.MetricsResponse, error) {
	families, err := registry.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather the plugin's metrics: %w", err)
	}

	var out bytes.Buffer
	for _, family := range families {
		if _, err := protodelim.MarshalTo(&out, family); err != nil {
			return nil, fmt.Errorf("encode metric family %q: %w", family.GetName(), err)
		}
	}
	return &proto.MetricsResponse{Families: out.Bytes()}, nil
}
