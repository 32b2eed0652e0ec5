package host

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/vega-host/vega-host/drivers/sqs"
	"github.com/vega-host/vega-host/host/config"
)

// sqsSchema lists the attributes of a driver "sqs" block.
var sqsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "region"},
		{Name: "endpoint_url"},
		{Name: "profile"},
		{Name: "access_key_id"},
		{Name: "secret_access_key"},
		{Name: "session_token"},
		{Name: "wait_time_seconds"},
		{Name: "disable_checksum_validation"},
	},
}

// secretAttributes are the sqs attributes whose values diagnostics never
// show, because they are credentials.
var secretAttributes = map[string]bool{
	"access_key_id":     true,
	"secret_access_key": true,
	"session_token":     true,
}

// DecodeSQSConfig decodes the body of a driver "sqs" block into the
// driver's Config, without its Logger. Unknown attributes, values of the
// wrong type or range, and settings the driver rejects are returned as
// diagnostics with file, line and column. Expressions are evaluated in the
// block's EvalContext, so env("NAME") works and adds its value to the
// Config's Secrets.
func DecodeSQSConfig(cfg config.Driver) (sqs.Config, hcl.Diagnostics) {
	var sqsCfg sqs.Config
	if cfg.Body == nil {
		return sqsCfg, nil
	}

	content, diags := cfg.Body.Content(sqsSchema)
	decoder := sqsDecoder{ctx: cfg.EvalContext, diags: diags}
	attrs := content.Attributes

	sqsCfg.Region = decoder.stringValue(attrs["region"])
	sqsCfg.EndpointURL = decoder.stringValue(attrs["endpoint_url"])
	sqsCfg.Profile = decoder.stringValue(attrs["profile"])
	sqsCfg.AccessKeyID = decoder.stringValue(attrs["access_key_id"])
	sqsCfg.SecretAccessKey = decoder.stringValue(attrs["secret_access_key"])
	sqsCfg.SessionToken = decoder.stringValue(attrs["session_token"])
	sqsCfg.WaitTimeSeconds = decoder.waitTimeSeconds(attrs["wait_time_seconds"])
	sqsCfg.DisableChecksumValidation = decoder.boolValue(attrs["disable_checksum_validation"])

	if !decoder.diags.HasErrors() {
		if err := sqsCfg.Validate(); err != nil {
			decoder.diags = append(decoder.diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid sqs driver settings",
				Detail:   fmt.Sprintf("The driver \"sqs\" block is invalid: %v.", err),
				Subject:  cfg.Range.Ptr(),
			})
		}
	}

	return sqsCfg, decoder.diags
}

// sqsDecoder evaluates the attributes of a driver "sqs" block and collects
// every problem.
type sqsDecoder struct {
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

// eval evaluates attr, which is nil when absent, and reports whether its
// value can be used.
func (d *sqsDecoder) eval(attr *hcl.Attribute) (cty.Value, bool) {
	if attr == nil {
		return cty.NilVal, false
	}

	value, diags := attr.Expr.Value(d.ctx)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() || value.IsNull() {
		return cty.NilVal, false
	}
	if !value.IsWhollyKnown() {
		d.invalid(attr, "The value of %s must be known when the file is loaded.", attr.Name)
		return cty.NilVal, false
	}
	return value, true
}

func (d *sqsDecoder) stringValue(attr *hcl.Attribute) string {
	value, ok := d.eval(attr)
	if !ok {
		return ""
	}

	str, err := convert.Convert(value, cty.String)
	if err != nil {
		d.invalid(attr, "%s must be a string, got %s.", attr.Name, d.describe(attr, value))
		return ""
	}
	return str.AsString()
}

func (d *sqsDecoder) boolValue(attr *hcl.Attribute) bool {
	value, ok := d.eval(attr)
	if !ok {
		return false
	}

	b, err := convert.Convert(value, cty.Bool)
	if err != nil {
		d.invalid(attr, "%s must be true or false, got %s.", attr.Name, d.describe(attr, value))
		return false
	}
	return b.True()
}

// waitTimeSeconds returns wait_time_seconds, a whole number from 1 to
// sqs.MaxWaitTimeSeconds, or 0 for the driver's default when it is absent
// or invalid.
func (d *sqsDecoder) waitTimeSeconds(attr *hcl.Attribute) int {
	value, ok := d.eval(attr)
	if !ok {
		return 0
	}

	number, err := convert.Convert(value, cty.Number)
	if err == nil {
		f := number.AsBigFloat()
		if f.IsInt() && f.Cmp(big.NewFloat(1)) >= 0 && f.Cmp(big.NewFloat(sqs.MaxWaitTimeSeconds)) <= 0 {
			n, _ := f.Int64()
			return int(n)
		}
	}

	d.invalid(attr, "wait_time_seconds must be a whole number of seconds from 1 to %d, the SQS maximum for a long poll, got %s.",
		sqs.MaxWaitTimeSeconds, d.describe(attr, value))
	return 0
}

// invalid records an "Invalid NAME" error on the value of attr.
func (d *sqsDecoder) invalid(attr *hcl.Attribute, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + attr.Name,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  attr.Expr.Range().Ptr(),
		Context:  attr.Range.Ptr(),
	})
}

// describe renders value for a diagnostic, hiding credentials.
func (d *sqsDecoder) describe(attr *hcl.Attribute, value cty.Value) string {
	switch {
	case secretAttributes[attr.Name]:
		return "a value of type " + value.Type().FriendlyName() + " (not shown)"
	case value.Type() == cty.String:
		return fmt.Sprintf("%q", value.AsString())
	case value.Type() == cty.Number:
		return value.AsBigFloat().Text('g', -1)
	case value.Type() == cty.Bool:
		return fmt.Sprint(value.True())
	}
	return "a value of type " + value.Type().FriendlyName()
}

// diagnosticsError is an error made of configuration diagnostics. Its text
// is one "file:line:column: error: summary" entry per diagnostic, with the
// source line and the detail.
type diagnosticsError struct {
	diags hcl.Diagnostics
}

func (e diagnosticsError) Error() string {
	return config.FormatDiagnostics(e.diags, nil)
}

// Unwrap returns the diagnostics, so that callers can inspect them with
// errors.As.
func (e diagnosticsError) Unwrap() error {
	return e.diags
}
