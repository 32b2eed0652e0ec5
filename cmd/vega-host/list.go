package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/supervisor"
	"github.com/vega-host/vega-host/internal/redact"
)

// shortHashLength is how many hex digits of a plugin's SHA-256 list shows
// without -long.
const shortHashLength = 12

func listCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("list", "list [-config FILE] [-long]\n\nLists each listener with its queue, workers, plugin binary, whether the binary\nexists and matches its pinned sha256, and the start of the binary's SHA-256.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` to read")
	long := flags.Bool("long", false, "show the binary's whole SHA-256 instead of its first 12 hex digits")
	if err := parseFlags(flags, args); err != nil {
		return err
	}

	// list shows missing binaries in its table instead of failing on them.
	cfg, err := loadConfigWith(*configPath, config.Options{SkipPluginCheck: true}, stderr)
	if err != nil {
		return err
	}

	table := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "LISTENER\tQUEUE\tWORKERS\tDRIVER\tPLUGIN\tBINARY\tSHA256")
	for _, l := range cfg.Listeners {
		hash := binaryHash(l.Plugin)
		state := binaryState(l, hash)
		if !*long && len(hash) > shortHashLength {
			hash = hash[:shortHashLength]
		}

		// A value read with env() may be a secret, whichever key it sets.
		fmt.Fprintln(table, redact.String(fmt.Sprintf("%s\t%s\t%d\t%s\t%s\t%s\t%s",
			l.Name, l.Queue, l.Workers, l.Driver, l.Plugin, state, hash), cfg.Secrets))
	}
	return table.Flush()
}

// binaryState describes whether the listener's plugin binary can be run
// and, when the listener pins a sha256, whether hash, the binary's hash,
// matches it.
func binaryState(l config.Listener, hash string) string {
	info, err := os.Stat(l.Plugin)
	switch {
	case err != nil:
		return "missing"
	case info.IsDir():
		return "is a directory"
	case info.Mode()&0o111 == 0:
		return "not executable"
	case l.SHA256 != "" && hash != l.SHA256:
		return "sha256 mismatch"
	}
	return "ok"
}

// binaryHash returns the SHA-256 of the file at path in hex, or "-" when
// the file cannot be read.
func binaryHash(path string) string {
	hash, err := supervisor.FileSHA256(path)
	if err != nil {
		return "-"
	}
	return hash
}
