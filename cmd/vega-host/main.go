// Command vega-host runs queue listeners as plugin processes.
//
// Usage:
//
//	vega-host run -config listeners.hcl
//	vega-host list -config listeners.hcl
//	vega-host validate -config listeners.hcl
//	vega-host send -config listeners.hcl -queue emails '{"to": "a@example.com"}'
//	vega-host version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitUsage is the status for a command line that cannot be run.
const exitUsage = 2

// command is one subcommand of the CLI.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run the listeners of a config file", runCommand},
		{"list", "list the listeners of a config file", listCommand},
		{"validate", "check a config file and report every problem", validateCommand},
		{"send", "enqueue messages on a queue", sendCommand},
		{"status", "show the listeners of a running host", statusCommand},
		{"reload", "make a running host re-read its config file", reloadCommand},
		{"generate", "create a new listener package and its config block", generateCommand},
		{"version", "print the version", versionCommand},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args to a subcommand and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-version" || args[0] == "--version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}

	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var exit *exitError
		if errors.As(err, &exit) {
			if exit.message != "" {
				fmt.Fprintf(stderr, "vega-host %s: %s\n", c.name, exit.message)
			}
			return exit.code
		}
		fmt.Fprintf(stderr, "vega-host %s: %v\n", c.name, err)
		return 1
	}

	fmt.Fprintf(stderr, "vega-host: unknown command %q; run 'vega-host help' for the list\n", args[0])
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "vega-host runs queue listeners as plugin processes.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: vega-host COMMAND [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'vega-host COMMAND -h' for the flags of a command.")
}

// exitError ends a command with a given status and an optional one-line
// message, for failures already reported in detail.
type exitError struct {
	code    int
	message string
}

func (e *exitError) Error() string { return e.message }

// newFlagSet returns a flag set that prints its usage with a synopsis.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintf(stderr, "Usage: vega-host %s\n\n", synopsis)
		flags.PrintDefaults()
	}
	return flags
}

// parseFlags parses args and turns a flag error into a usage exit.
func parseFlags(flags *flag.FlagSet, args []string) error {
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage}
	}
	return nil
}

func versionCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("version", "version\n\nPrints the host's version and the plugin protocol version it speaks.", stderr)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vega-host %s (plugin protocol %d)\n", version, pluginProtocol)
	return nil
}
