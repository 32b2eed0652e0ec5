// Command noop is a plugin whose handler does nothing, for measuring the
// host's own cost per message.
package main

import (
	"context"

	"github.com/vega-host/vega-host/pluginapi"
)

func main() {
	pluginapi.Serve(pluginapi.HandlerFunc(func(context.Context, *pluginapi.Message) error {
		return nil
	}))
}
