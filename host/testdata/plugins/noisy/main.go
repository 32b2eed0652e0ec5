// Command noisy is a test plugin that prints to stdout before the
// handshake, which breaks go-plugin's protocol.
package main

import (
	"context"
	"fmt"

	"github.com/vega-host/vega-host/pluginapi"
)

func main() {
	fmt.Println("starting noisy listener v1")
	pluginapi.Serve(pluginapi.HandlerFunc(func(context.Context, *pluginapi.Message) error { return nil }))
}
