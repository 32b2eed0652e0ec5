package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"

	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/pluginapi"
)

// defaultConfigFile is the config read when -config is not given.
const defaultConfigFile = "listeners.hcl"

const pluginProtocol = pluginapi.ProtocolVersion

// loadConfig loads path and prints its diagnostics to stderr. Warnings
// do not stop the load; errors return an exitError whose message counts
// them.
func loadConfig(path string, stderr io.Writer) (*config.Config, error) {
	return loadConfigWith(path, config.Options{}, stderr)
}

// loadConfigWith is loadConfig with load options.
func loadConfigWith(path string, options config.Options, stderr io.Writer) (*config.Config, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, &exitError{code: 1, message: fmt.Sprintf("cannot read config file %s: %v; pass its path with -config", path, errors.Unwrap(err))}
	}

	cfg, diags := config.LoadWithOptions(path, options)
	if cfg != nil {
		// Driver blocks with settings of their own are checked by their
		// driver, so validate reports their problems with the rest.
		for _, driver := range cfg.Drivers {
			if driver.Kind == config.DriverSQS {
				_, sqsDiags := host.DecodeSQSConfig(driver)
				diags = append(diags, sqsDiags...)
			}
		}
	}
	if len(diags) > 0 {
		fmt.Fprint(stderr, config.FormatDiagnostics(diags, nil))
	}
	if diags.HasErrors() {
		return nil, &exitError{code: 1, message: fmt.Sprintf("%s is invalid: %s", path, countErrors(diags))}
	}
	return cfg, nil
}

// countErrors returns "1 error" or "N errors" for the errors in diags.
func countErrors(diags hcl.Diagnostics) string {
	count := len(diags.Errs())
	if count == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", count)
}
