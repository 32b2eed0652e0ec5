package host

import (
	"errors"
	"fmt"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/memory"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/host/config"
)

// OpenDriver connects to the backend a driver block describes.
func OpenDriver(cfg config.Driver) (drivers.Driver, error) {
	switch cfg.Kind {
	case "memory":
		return memory.New(), nil
	case "sqlite":
		driver, err := sqlite.Open(cfg.Path)
		if err != nil {
			return nil, fmt.Errorf("open sqlite database %s: %w", cfg.Path, err)
		}
		return driver, nil
	}
	return nil, fmt.Errorf("driver %q is not supported by this host; use sqlite or memory", cfg.Kind)
}

// openDrivers opens every driver block of the configuration.
func (h *Host) openDrivers() error {
	for _, cfg := range h.cfg.Drivers {
		if h.injected[cfg.Kind] {
			continue
		}
		driver, err := OpenDriver(cfg)
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
