package config

import (
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// evalState is the outcome of evaluating an attribute.
type evalState int

const (
	// absent means the attribute is not in the block or is set to null.
	absent evalState = iota
	// failed means evaluating or converting the value failed, and the
	// problem is recorded already.
	failed
	// valid means the value can be used.
	valid
)

// durationLimits bounds a duration attribute. A zero max means no upper
// bound other than what time.Duration can hold.
type durationLimits struct {
	min, max     time.Duration
	wholeSeconds bool
}

// eval evaluates attr, which may be nil when the attribute is absent.
func (d *decoder) eval(attr *hcl.Attribute) (cty.Value, evalState) {
	if attr == nil {
		return cty.NilVal, absent
	}

	val, diags := attr.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)

	switch {
	case diags.HasErrors():
		return cty.NilVal, failed
	case val.IsNull():
		return val, absent
	case !val.IsWhollyKnown():
		d.invalidValue(attr, "The value of %s must be known when the file is loaded.", attr.Name)
		return cty.NilVal, failed
	}
	return val, valid
}

// stringValue evaluates attr as a string. Numbers and bools convert to
// their text, as usual in HCL.
func (d *decoder) stringValue(attr *hcl.Attribute) (string, evalState) {
	val, state := d.eval(attr)
	if state != valid {
		return "", state
	}

	str, err := convert.Convert(val, cty.String)
	if err != nil {
		d.invalidValue(attr, "%s must be a string, got %s.", attr.Name, d.describe(val))
		return "", failed
	}
	return str.AsString(), valid
}

// optionalString returns the named string attribute, or def when it is
// absent or invalid.
func (d *decoder) optionalString(attrs hcl.Attributes, name, def string) string {
	str, state := d.stringValue(attrs[name])
	if state != valid {
		return def
	}
	return str
}

// optionalBool returns the named bool attribute, or def when it is absent
// or invalid.
func (d *decoder) optionalBool(attrs hcl.Attributes, name string, def bool) bool {
	attr := attrs[name]
	val, state := d.eval(attr)
	if state != valid {
		return def
	}

	b, err := convert.Convert(val, cty.Bool)
	if err != nil {
		d.invalidValue(attr, "%s must be true or false, got %s.", name, d.describe(val))
		return def
	}
	return b.True()
}

// optionalInt returns the named attribute as a whole number between min
// and max, or def when it is absent or invalid.
func (d *decoder) optionalInt(attrs hcl.Attributes, name string, def, min, max int) int {
	attr := attrs[name]
	val, state := d.eval(attr)
	if state != valid {
		return def
	}

	num, err := convert.Convert(val, cty.Number)
	if err != nil || !isWholeNumberBetween(num.AsBigFloat(), min, max) {
		d.invalidValue(attr, "%s must be a whole number between %d and %d, got %s.", name, min, max, d.describe(val))
		return def
	}

	n, _ := num.AsBigFloat().Int64()
	return int(n)
}

// isWholeNumberBetween reports whether f is a whole number in [min, max].
func isWholeNumberBetween(f *big.Float, min, max int) bool {
	if f.IsInf() || !f.IsInt() {
		return false
	}
	return f.Cmp(big.NewFloat(float64(min))) >= 0 && f.Cmp(big.NewFloat(float64(max))) <= 0
}

// optionalDuration returns the named attribute as a duration within
// limits, or def when it is absent or invalid. A number is a count of
// seconds, and a string is parsed by time.ParseDuration.
func (d *decoder) optionalDuration(attrs hcl.Attributes, name string, def time.Duration, limits durationLimits) time.Duration {
	attr := attrs[name]
	val, state := d.eval(attr)
	if state != valid {
		return def
	}

	duration, ok := d.toDuration(attr, val)
	if !ok {
		return def
	}

	inRange := duration >= limits.min && (limits.max == 0 || duration <= limits.max)
	whole := !limits.wholeSeconds || duration%time.Second == 0
	if !inRange || !whole {
		d.invalidValue(attr, "%s must be %s, got %s.", name, limits.describe(), d.describe(val))
		return def
	}
	return duration
}

// toDuration converts a number of seconds or a Go duration string.
func (d *decoder) toDuration(attr *hcl.Attribute, val cty.Value) (time.Duration, bool) {
	switch val.Type() {
	case cty.Number:
		nanos := new(big.Float).Mul(val.AsBigFloat(), big.NewFloat(float64(time.Second)))
		if nanos.IsInf() || nanos.Cmp(big.NewFloat(math.MaxInt64)) >= 0 || nanos.Cmp(big.NewFloat(math.MinInt64)) <= 0 {
			d.invalidValue(attr, "%s is too large: got %s seconds, but the maximum is %d seconds.", attr.Name, d.describe(val), int64(math.MaxInt64/time.Second))
			return 0, false
		}
		n, _ := nanos.Int64()
		return time.Duration(n), true

	case cty.String:
		duration, err := time.ParseDuration(val.AsString())
		if err != nil {
			d.invalidValue(attr, `%s must be a number of seconds such as 30 or a Go duration string such as "30s" or "1m30s", got %s.`, attr.Name, d.describe(val))
			return 0, false
		}
		return duration, true

	default:
		d.invalidValue(attr, `%s must be a number of seconds such as 30 or a Go duration string such as "30s", got %s.`, attr.Name, d.describe(val))
		return 0, false
	}
}

// describe renders the limits for a diagnostic, in seconds.
func (l durationLimits) describe() string {
	unit := "seconds"
	if l.wholeSeconds {
		unit = "whole seconds"
	}

	if l.max == 0 {
		if l.min == 0 {
			return "zero or more " + unit
		}
		return "at least " + formatSeconds(l.min) + " " + unit
	}
	return "between " + formatSeconds(l.min) + " and " + formatSeconds(l.max) + " " + unit
}

// formatSeconds renders d as a decimal number of seconds.
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
