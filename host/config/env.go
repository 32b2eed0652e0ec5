package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/vega-host/vega-host/pluginapi"
)

// envNamePattern matches the portable environment variable names of POSIX:
// letters, digits and underscores, not starting with a digit.
var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reservedEnvPrefix starts the variables that go-plugin (v1.8.0) sets for
// the plugin process itself, such as PLUGIN_PROTOCOL_VERSIONS and
// PLUGIN_MIN_PORT. The handshake's magic cookie variable is reserved too.
const reservedEnvPrefix = "PLUGIN_"

// envFunction returns env(name) and env(name, default). The call returns
// the variable's value, or the default when the variable is not set, and
// fails when it is not set and there is no default.
func (d *decoder) envFunction() function.Function {
	return function.New(&function.Spec{
		Description: "Returns the value of a host environment variable.",
		Params: []function.Parameter{
			{Name: "name", Type: cty.String},
		},
		VarParam: &function.Parameter{Name: "default", Type: cty.String},
		Type: func(args []cty.Value) (cty.Type, error) {
			if len(args) > 2 {
				return cty.NilType, fmt.Errorf("env takes a variable name and an optional default, got %d arguments", len(args))
			}
			return cty.String, nil
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if !isEnvName(name) {
				return cty.NilVal, function.NewArgErrorf(0, "%q is not a valid environment variable name, which contains only letters, digits and underscores and does not start with a digit", name)
			}

			value, ok := os.LookupEnv(name)
			if !ok && len(args) < 2 {
				return cty.NilVal, fmt.Errorf(`environment variable %q is not set, so export it before starting vega-host or give a default as in env(%q, "value")`, name, name)
			}
			if !ok {
				value = args[1].AsString()
			}

			d.recordSecret(value)
			return cty.StringVal(value), nil
		},
	})
}

// isEnvName reports whether name can be an environment variable name.
func isEnvName(name string) bool {
	return envNamePattern.MatchString(name)
}

// recordSecret adds value to the Config's Secrets unless it is empty or
// recorded already.
func (d *decoder) recordSecret(value string) {
	if value == "" || slices.Contains(d.cfg.Secrets, value) {
		return
	}
	d.cfg.Secrets = append(d.cfg.Secrets, value)
}

// envList returns the variables that attr names, with their values read
// from the host environment. It returns an empty map when attr is absent.
func (d *decoder) envList(attr *hcl.Attribute) map[string]string {
	env := make(map[string]string)
	val, state := d.eval(attr)
	if state != valid {
		return env
	}

	ty := val.Type()
	if !ty.IsListType() && !ty.IsTupleType() && !ty.IsSetType() {
		d.invalidValue(attr, `env must be a list of environment variable names, such as ["SMTP_PASSWORD"], got %s.`, d.describe(val))
		return env
	}

	// Point each problem at its own element when the list is written out
	// in the file, which is the usual case. A set's elements are in another
	// order than the expressions, so a set gets the whole range.
	elementExprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() || !ty.IsTupleType() || len(elementExprs) != val.LengthInt() {
		elementExprs = nil
	}

	for i, element := range val.AsValueSlice() {
		subject := attr.Expr.Range()
		if elementExprs != nil {
			subject = elementExprs[i].Range()
		}

		name, ok := d.envListName(element, subject, attr.Range)
		if !ok {
			continue
		}
		if _, dup := env[name]; dup {
			d.addError(subject, attr.Range, "Duplicate env name", fmt.Sprintf("The variable %q is listed twice in env. Remove one of them.", name))
			continue
		}

		value, ok := os.LookupEnv(name)
		if !ok {
			d.addError(subject, attr.Range, "Missing environment variable",
				fmt.Sprintf("The environment variable %q listed in env is not set. Export it before starting vega-host, or remove it from env.", name))
			continue
		}
		env[name] = value
		d.recordSecret(value)
	}
	return env
}

// envListName checks one element of an env list and returns it as a
// variable name.
func (d *decoder) envListName(element cty.Value, subject, context hcl.Range) (string, bool) {
	if element.IsNull() || element.Type() != cty.String {
		d.addError(subject, context, "Invalid env", fmt.Sprintf("Each element of env must be a variable name as a string, got %s.", d.describe(element)))
		return "", false
	}

	name := element.AsString()
	if !isEnvName(name) {
		d.addError(subject, context, "Invalid env",
			fmt.Sprintf("The env list contains %s, which is not a valid environment variable name. Use letters, digits and underscores, not starting with a digit.", d.quote(name)))
		return "", false
	}
	if strings.HasPrefix(name, reservedEnvPrefix) {
		d.addError(subject, context, "Invalid env",
			fmt.Sprintf("The variable %q cannot be passed to plugins, because go-plugin reserves names starting with %s for its handshake.", name, reservedEnvPrefix))
		return "", false
	}
	if name == pluginapi.Handshake.MagicCookieKey {
		d.addError(subject, context, "Invalid env",
			fmt.Sprintf("The variable %q cannot be passed to plugins, because the host sets it for the plugin handshake.", name))
		return "", false
	}
	return name, true
}
