package config

import (
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// sizePattern matches a size string, which is a decimal number and an
// optional unit, such as "512MiB", "1.5 GiB" or "1048576".
var sizePattern = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$`)

// sizeUnits maps the lower-case units of a size string to their bytes.
// Only binary units are accepted, because "MB" means 10^6 bytes to some
// readers and 2^20 bytes to others.
var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"kib": 1 << 10,
	"mib": 1 << 20,
	"gib": 1 << 30,
	"tib": 1 << 40,
}

// memoryLimit returns memory_limit in bytes, which is 0 when the key is
// absent or 0 and otherwise at least MinMemoryLimit.
func (d *decoder) memoryLimit(attr *hcl.Attribute) int64 {
	val, state := d.eval(attr)
	if state != valid {
		return 0
	}

	bytes, ok := d.toSize(attr, val)
	if !ok {
		return 0
	}

	if bytes != 0 && bytes < MinMemoryLimit {
		d.invalidValue(attr, `%s must be 0 (no limit) or at least "32MiB" (%d bytes), got %s.`, attr.Name, MinMemoryLimit, d.describeSize(val))
		return 0
	}
	return bytes
}

// toSize converts a whole number of bytes or a size string such as
// "512MiB" to bytes. A fractional size string rounds down to whole bytes.
func (d *decoder) toSize(attr *hcl.Attribute, val cty.Value) (int64, bool) {
	formats := `a whole number of bytes or a size string such as "512MiB" or "2GiB" (units B, KiB, MiB, GiB and TiB)`

	var size *big.Float
	switch val.Type() {
	case cty.Number:
		size = val.AsBigFloat()
		if !size.IsInt() || size.Sign() < 0 {
			d.invalidValue(attr, "%s must be %s, got %s.", attr.Name, formats, d.describeSize(val))
			return 0, false
		}

	case cty.String:
		match := sizePattern.FindStringSubmatch(val.AsString())
		if match == nil {
			d.invalidValue(attr, "%s must be %s, got %s.", attr.Name, formats, d.describeSize(val))
			return 0, false
		}
		unit, known := sizeUnits[strings.ToLower(match[2])]
		if !known {
			d.invalidValue(attr, "%s must be %s, got %s. Decimal units such as MB are not accepted, because they are ambiguous.", attr.Name, formats, d.describeSize(val))
			return 0, false
		}
		// The pattern admits only decimal numbers, which Parse accepts.
		number, _, _ := big.ParseFloat(match[1], 10, 128, big.ToZero)
		size = new(big.Float).Mul(number, new(big.Float).SetInt64(unit))

	default:
		d.invalidValue(attr, "%s must be %s, got %s.", attr.Name, formats, d.describeSize(val))
		return 0, false
	}

	if size.Cmp(big.NewFloat(math.MaxInt64)) >= 0 {
		d.invalidValue(attr, "%s is too large: got %s, but the maximum is %d bytes.", attr.Name, d.describeSize(val), int64(math.MaxInt64))
		return 0, false
	}
	bytes, _ := size.Int64()
	return bytes, true
}

// describeSize is describe with numbers of up to 20 digits in plain
// decimal, since byte counts in exponent notation are hard to read.
func (d *decoder) describeSize(val cty.Value) string {
	if val.Type() == cty.Number && val.IsKnown() && !val.IsNull() {
		if text := val.AsBigFloat().Text('f', -1); len(text) <= 20 {
			return text
		}
	}
	return d.describe(val)
}
