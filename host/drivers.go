package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/host/config"
)

// OpenDriver connects to the backend a driver block describes. Drivers
// that log, such as sqs, log nothing when opened this way.
func OpenDriver(cfg config.Driver) (drivers.Driver, error) {
	return openDriver(cfg, hclog.NewNullLogger())
}

// openDriver is OpenDriver with the logger that drivers log to.
func openDriver(cfg config.Driver, logger hclog.Logger) (drivers.Driver, error) {
	switch cfg.Kind {
	case "memory":
		return memory.New(), nil
	case "sqlite":
		driver, err := sqlite.Open(cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
		}
		return driver, nil
	case config.DriverSQS:
		return openSQSDriver(cfg, logger.With("driver", cfg.Kind))
	}
	return nil, fmt.Errorf("driver %q is not supported by this host; use sqlite, memory or sqs", cfg.Kind)
}

// openSQSDriver decodes a driver "sqs" block and creates the driver, which
// sends no request until a queue is opened.
func openSQSDriver(cfg config.Driver, logger hclog.Logger) (drivers.Driver, error) {
	sqsCfg, diags := DecodeSQSConfig(cfg)
	if diags.HasErrors() {
		return nil, fmt.Errorf("invalid driver %q block:\n%w", cfg.Kind, diagnosticsError{diags: diags})
	}
	sqsCfg.Logger = logger

	driver, err := sqs.New(context.Background(), sqsCfg)
	if err != nil {
		return nil, fmt.Errorf("open sqs driver: %w", err)
	}
	return driver, nil
}

// openDrivers opens every driver block of the configuration.
func (h *Host) openDrivers() error {
	for _, cfg := range h.cfg.Drivers {
		if h.injected[cfg.Kind] {
			continue
		}
		driver, err := openDriver(cfg, h.logger)
		if err != nil {
			h.closeDrivers()
			return err
		}
		h.drivers[cfg.Kind] = driver
	}
	return nil
}

func (h *Host) closeDrivers() {
	var errs []error
	for kind, driver := range h.drivers {
		if h.injected[kind] {
			continue
		}
		if err := driver.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close driver %q: %w", kind, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		h.logger.Error("closing drivers failed", "error", err)
	}
}
