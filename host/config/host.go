package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Values accepted by log_level and log_format.
var (
	logLevels  = []string{"trace", "debug", "info", "warn", "error"}
	logFormats = []string{"auto", "text", "json"}
)

// hostSchema lists the attributes of the host block.
var hostSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "log_level"},
		{Name: "log_format"},
		{Name: "shutdown_timeout"},
		{Name: "metrics_addr"},
	},
}

// decodeHostBlocks fills d.cfg.Host from the only host block, or with the
// defaults when there is none.
func (d *decoder) decodeHostBlocks(blocks []*hcl.Block) {
	d.cfg.Host = Host{
		LogLevel:        DefaultLogLevel,
		LogFormat:       DefaultLogFormat,
		ShutdownTimeout: DefaultShutdownTimeout,
	}
	if len(blocks) == 0 {
		return
	}

	for _, extra := range blocks[1:] {
		d.addError(extra.DefRange, extra.DefRange, "Duplicate host block",
			fmt.Sprintf("The file defines a host block already, at line %d. Merge the settings into that block.", blocks[0].DefRange.Start.Line))
	}

	block := blocks[0]
	content, diags := block.Body.Content(hostSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes

	host := &d.cfg.Host
	host.Range = block.DefRange
	host.LogLevel = d.oneOf(attrs, "log_level", DefaultLogLevel, logLevels)
	host.LogFormat = d.oneOf(attrs, "log_format", DefaultLogFormat, logFormats)
	host.ShutdownTimeout = d.optionalDuration(attrs, "shutdown_timeout", DefaultShutdownTimeout, durationLimits{})
	host.MetricsAddr = d.metricsAddr(attrs)
}

// oneOf returns the named string attribute when it is one of allowed, or
// def when it is absent or invalid.
func (d *decoder) oneOf(attrs hcl.Attributes, name, def string, allowed []string) string {
	attr := attrs[name]
	value, state := d.stringValue(attr)
	if state != valid {
		return def
	}

	if !slices.Contains(allowed, value) {
		d.invalidValue(attr, "%s must be one of %s, got %s.", name, strings.Join(allowed, ", "), d.quote(value))
		return def
	}
	return value
}

// metricsAddr returns metrics_addr after checking that it is empty or a
// host:port pair with a numeric port.
func (d *decoder) metricsAddr(attrs hcl.Attributes) string {
	attr := attrs["metrics_addr"]
	addr, state := d.stringValue(attr)
	if state != valid || addr == "" {
		return ""
	}

	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		d.invalidValue(attr, `metrics_addr must be a host:port address such as "127.0.0.1:9464", or "" to disable metrics, got %s.`, d.quote(addr))
		return ""
	}
	return addr
}
