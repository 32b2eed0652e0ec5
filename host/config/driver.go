package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Driver kinds that a driver block may name.
const (
	DriverSQLite = "sqlite"
	DriverMemory = "memory"
	DriverSQS    = "sqs"
)

// driverKinds lists the known driver kinds in the order diagnostics name
// them.
var driverKinds = []string{DriverMemory, DriverSQLite, DriverSQS}

// Schemas of the driver blocks whose attributes this package checks. The
// sqs driver decodes its own block body, so it has no schema here.
var (
	sqliteSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "path"}},
	}
	memorySchema = &hcl.BodySchema{}
)

// decodeDrivers fills d.cfg.Drivers from the driver blocks, or with one
// sqlite driver at DefaultSQLitePath when there is none.
func (d *decoder) decodeDrivers(blocks []*hcl.Block) {
	if len(blocks) == 0 {
		d.cfg.Drivers = []Driver{{
			Kind:        DefaultDriver,
			Path:        d.resolvePath(DefaultSQLitePath),
			EvalContext: d.ctx,
		}}
		return
	}

	seen := make(map[string]*hcl.Block)
	for _, block := range blocks {
		kind := block.Labels[0]
		labelRange := block.LabelRanges[0]

		if !slices.Contains(driverKinds, kind) {
			d.addError(labelRange, block.DefRange, "Unknown driver kind",
				fmt.Sprintf("The driver kind %s is not known. Use one of %s.", d.quote(kind), strings.Join(driverKinds, ", ")))
			continue
		}

		if first, ok := seen[kind]; ok {
			d.addError(labelRange, block.DefRange, "Duplicate driver block",
				fmt.Sprintf("A driver %q block is defined already, at line %d. Each driver kind may appear once.", kind, first.DefRange.Start.Line))
			continue
		}
		seen[kind] = block

		d.cfg.Drivers = append(d.cfg.Drivers, d.decodeDriver(kind, block))
	}
}

// decodeDriver checks the attributes of a sqlite or memory block and keeps
// the body of any other kind for its driver to decode.
func (d *decoder) decodeDriver(kind string, block *hcl.Block) Driver {
	driver := Driver{
		Kind:        kind,
		Body:        block.Body,
		EvalContext: d.ctx,
		Range:       block.DefRange,
	}

	switch kind {
	case DriverSQLite:
		content, diags := block.Body.Content(sqliteSchema)
		d.diags = append(d.diags, diags...)
		driver.Path = d.sqlitePath(content.Attributes["path"])

	case DriverMemory:
		_, diags := block.Body.Content(memorySchema)
		d.diags = append(d.diags, diags...)
	}
	return driver
}

// sqlitePath returns the absolute database path that attr sets, or the
// default path when attr is absent.
func (d *decoder) sqlitePath(attr *hcl.Attribute) string {
	path, state := d.stringValue(attr)
	if state != valid {
		return d.resolvePath(DefaultSQLitePath)
	}

	if path == "" {
		d.invalidValue(attr, `path must name the sqlite database file, such as %q, got "".`, DefaultSQLitePath)
		return ""
	}
	return d.resolvePath(path)
}

// resolvePath returns path made absolute against the config file's folder.
func (d *decoder) resolvePath(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(d.cfg.Dir, path)
}

// listenerDriverDefault returns the driver kind of a listener that sets no
// driver: the only driver, or sqlite among several. It returns "" when the
// choice is ambiguous.
func (d *decoder) listenerDriverDefault() string {
	if len(d.cfg.Drivers) == 1 {
		return d.cfg.Drivers[0].Kind
	}
	if d.hasDriver(DriverSQLite) {
		return DriverSQLite
	}
	return ""
}

// hasDriver reports whether the file defines a driver of the given kind.
func (d *decoder) hasDriver(kind string) bool {
	return slices.ContainsFunc(d.cfg.Drivers, func(driver Driver) bool { return driver.Kind == kind })
}

// driverKindList returns the defined driver kinds for diagnostics.
func (d *decoder) driverKindList() string {
	kinds := make([]string, 0, len(d.cfg.Drivers))
	for _, driver := range d.cfg.Drivers {
		kinds = append(kinds, driver.Kind)
	}
	return strings.Join(kinds, ", ")
}
