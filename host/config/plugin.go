package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hashicorp/hcl/v2"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// buildHint is the advice that diagnostics give for a missing plugin binary.
const buildHint = "Build the plugin first, for example with scripts/build-plugins.sh, or fix the plugin path"

// pluginPath returns the absolute path of the plugin binary and checks
// that it is an executable file. Relative paths resolve against the config
// file's folder.
func (d *decoder) pluginPath(block *hcl.Block, attr *hcl.Attribute) string {
	path, state := d.stringValue(attr)

	switch {
	case state == absent:
		d.addError(block.DefRange, block.DefRange, "Missing plugin",
			fmt.Sprintf("The listener %q must set plugin, the path of its plugin binary, relative to %s or absolute.", block.Labels[0], d.cfg.Dir))
		return ""
	case state == failed:
		return ""
	case path == "":
		d.invalidValue(attr, "plugin must be the path of the plugin binary, got \"\".")
		return ""
	}

	abs := d.resolvePath(path)
	if d.options.SkipPluginCheck {
		return abs
	}
	info, err := os.Stat(abs)

	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.addError(attr.Expr.Range(), attr.Range, "Plugin binary not found",
			fmt.Sprintf("The plugin binary %s does not exist. %s (relative paths resolve against %s).", abs, buildHint, d.cfg.Dir))
	case err != nil:
		d.addError(attr.Expr.Range(), attr.Range, "Plugin binary not readable",
			fmt.Sprintf("Checking the plugin binary %s failed: %v.", abs, err))
	case info.IsDir():
		d.addError(attr.Expr.Range(), attr.Range, "Plugin path is a directory",
			fmt.Sprintf("The plugin path %s is a directory, not a binary. %s.", abs, buildHint))
	case info.Mode().Perm()&0o111 == 0:
		// NOTE: this checks the execute bits only, so on Windows, where
		// files have none, every plugin would fail here.
		d.addError(attr.Expr.Range(), attr.Range, "Plugin binary not executable",
			fmt.Sprintf("The plugin binary %s is not executable. Run chmod +x %s, or rebuild it.", abs, abs))
	}
	return abs
}

// pluginConfig returns the config object as JSON, or "{}" when attr is
// absent.
func (d *decoder) pluginConfig(attr *hcl.Attribute) json.RawMessage {
	empty := json.RawMessage("{}")
	val, state := d.eval(attr)
	if state != valid {
		return empty
	}

	ty := val.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		d.invalidValue(attr, "config must be an object such as { smtp_addr = \"127.0.0.1:1025\" }, got %s.", d.describe(val))
		return empty
	}

	data, err := ctyjson.Marshal(val, ty)
	if err != nil {
		d.invalidValue(attr, "Encoding config as JSON failed: %v.", err)
		return empty
	}
	return json.RawMessage(data)
}
