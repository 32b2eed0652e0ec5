package config

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// maxQuotedLength is the number of characters of a string value that
// diagnostics quote before cutting it short.
const maxQuotedLength = 80

// decoder collects the decoded values and every problem found while
// decoding one file, so that a file's problems are reported together.
type decoder struct {
	cfg     *Config
	options Options
	ctx     *hcl.EvalContext
	diags   hcl.Diagnostics
}

// newDecoder returns a decoder that fills cfg and whose evaluation context
// provides env().
func newDecoder(cfg *Config, options Options) *decoder {
	d := &decoder{cfg: cfg, options: options}
	d.ctx = &hcl.EvalContext{
		Functions: map[string]function.Function{"env": d.envFunction()},
	}
	return d
}

// addError records an error diagnostic on subject, with context as the
// wider range that the source snippet shows.
func (d *decoder) addError(subject, context hcl.Range, summary, detail string) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  subject.Ptr(),
		Context:  context.Ptr(),
	})
}

// invalidValue records an "Invalid NAME" error on the value of attr.
func (d *decoder) invalidValue(attr *hcl.Attribute, format string, args ...any) {
	d.addError(attr.Expr.Range(), attr.Range, "Invalid "+attr.Name, fmt.Sprintf(format, args...))
}

// describe renders val for a diagnostic: strings quoted and cut short,
// numbers in decimal, and other types by name. A string that env()
// returned is not shown, because it may be a secret.
func (d *decoder) describe(val cty.Value) string {
	switch {
	case val.IsNull():
		return "null"
	case !val.IsWhollyKnown():
		return "an unknown value"
	case val.Type() == cty.String:
		return d.quote(val.AsString())
	case val.Type() == cty.Number:
		return val.AsBigFloat().Text('g', -1)
	case val.Type() == cty.Bool:
		return strconv.FormatBool(val.True())
	default:
		return "a value of type " + val.Type().FriendlyName()
	}
}

// quote returns s in double quotes, cut to maxQuotedLength characters, or a
// placeholder when s is a recorded secret.
func (d *decoder) quote(s string) string {
	if slices.Contains(d.cfg.Secrets, s) {
		return "a value from env() (not shown)"
	}

	runes := []rune(s)
	if len(runes) > maxQuotedLength {
		return strconv.Quote(string(runes[:maxQuotedLength])) + "..."
	}
	return strconv.Quote(s)
}
