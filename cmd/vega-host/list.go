package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/vega-host/vega-host/host/config"
)

func listCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("list", "list [-config FILE]\n\nLists each listener with its queue, workers, plugin binary and whether the binary exists.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` to read")
	if err := parseFlags(flags, args); err != nil {
		return err
	}

	// list shows missing binaries in its table instead of failing on them.
	cfg, err := loadConfigWith(*configPath, config.Options{SkipPluginCheck: true}, stderr)
	if err != nil {
		return err
	}

	table := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "LISTENER\tQUEUE\tWORKERS\tDRIVER\tPLUGIN\tBINARY")
	for _, l := range cfg.Listeners {
		fmt.Fprintf(table, "%s\t%s\t%d\t%s\t%s\t%s\n", l.Name, l.Queue, l.Workers, l.Driver, l.Plugin, binaryState(l.Plugin))
	}
	return table.Flush()
}

// binaryState describes whether the plugin binary at path can be run.
func binaryState(path string) string {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return "missing"
	case info.IsDir():
		return "is a directory"
	case info.Mode()&0o111 == 0:
		return "not executable"
	}
	return "ok"
}
