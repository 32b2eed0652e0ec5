//go:build linux

// Command chaos checks that Vega Host loses no message under failure. It
// runs the real vega-host binary with a test plugin on the embedded SQLite
// queue, or with -driver sqs on a local moto_server, and kills the plugin process with SIGKILL every half second. It
// also kills the host itself with SIGKILL a few times and restarts it.
// Finally it lets the queue drain, stops the host with SIGTERM and prints
// one summary line:
//
//	chaos: messages=10000 handled=9900 dead_lettered=100 duplicates=12 lost=0 ...
//
// and exits with status 1 when a message was lost, a dead-lettered message
// has no reason, or another check failed (each is printed to stderr).
//
// Usage:
//
//	go run ./testing/chaos -messages 10000
//
// Without -host-binary and -plugin-binary it builds both with go build,
// so it must run inside the module. It reads /proc, so it runs on Linux
// only. With -driver sqs it needs moto_server on PATH, or the endpoint of a
// running one in VEGA_MOTO_ENDPOINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// options holds the settings of one chaos run.
type options struct {
	// driver is the queue backend: driverSQLite or driverSQS.
	driver string
	// messages is how many messages are enqueued, each with its own seq.
	messages int
	// workers is the listener's workers setting.
	workers int
	// pluginKillInterval is the time between two SIGKILLs of the plugin.
	// Zero turns plugin kills off.
	pluginKillInterval time.Duration
	// hostKills is how many times the host is killed and restarted.
	hostKills int
	// timeout bounds the run from the first host start to the drain.
	timeout time.Duration
	// seed fixes the moments of the host kills.
	seed uint64
	// dir is the working folder, or empty for a new temporary one.
	dir string
	// keep keeps the working folder after a run that passed.
	keep bool
	// hostBinary and pluginBinary are the binaries to run. The suite
	// builds the empty ones with go build.
	hostBinary   string
	pluginBinary string
	// progress receives one line per step, or nil to discard them.
	progress io.Writer
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	summary, err := run(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
		os.Exit(1)
	}

	fmt.Println(summary.String())
	if problems := summary.problems(); len(problems) > 0 {
		for _, problem := range problems {
			fmt.Fprintf(os.Stderr, "chaos: FAILED: %s\n", problem)
		}
		fmt.Fprintf(os.Stderr, "chaos: the working folder %s is kept for inspection\n", summary.dir)
		os.Exit(1)
	}
}

// parseFlags reads the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	flags := flag.NewFlagSet("chaos", flag.ContinueOnError)
	flags.SetOutput(stderr)

	var opts options
	var verbose bool
	flags.StringVar(&opts.driver, "driver", driverSQLite, "queue backend: sqlite (the embedded queue) or sqs (a local moto_server, fed at most "+
		strconv.Itoa(maxQueuedSQS)+" messages at a time)")
	flags.IntVar(&opts.messages, "messages", 10000, "number of messages to enqueue")
	flags.IntVar(&opts.workers, "workers", 8, "workers setting of the listener")
	flags.DurationVar(&opts.pluginKillInterval, "plugin-kill-interval", 500*time.Millisecond, "time between two SIGKILLs of the plugin process; 0 kills it never")
	flags.IntVar(&opts.hostKills, "host-kills", 3, "how many times the host is killed with SIGKILL and restarted")
	flags.DurationVar(&opts.timeout, "timeout", 30*time.Minute, "limit for the run from the first host start until the queue is drained")
	flags.Uint64Var(&opts.seed, "seed", 0, "seed for the moments of the host kills; 0 picks a random one")
	flags.StringVar(&opts.dir, "dir", "", "working `folder` for the database, records and host logs; a new temporary folder when empty")
	flags.BoolVar(&opts.keep, "keep", false, "keep the working folder after a run that passed")
	flags.StringVar(&opts.hostBinary, "host-binary", "", "`path` of a vega-host binary; built from ./cmd/vega-host when empty")
	flags.StringVar(&opts.pluginBinary, "plugin-binary", "", "`path` of the chaos plugin binary; built from ./testing/chaos/chaosplugin when empty")
	flags.BoolVar(&verbose, "v", false, "print each step to stderr")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./testing/chaos [flags]")
		fmt.Fprintln(stderr, "\nRuns vega-host under plugin and host kills and checks that no message is lost.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return options{}, err
	}

	if opts.seed == 0 {
		opts.seed = rand.Uint64()
	}
	if verbose {
		opts.progress = stderr
	}
	if err := opts.validate(); err != nil {
		fmt.Fprintf(stderr, "chaos: %v\n", err)
		return options{}, err
	}
	return opts, nil
}

// validate rejects settings the run cannot work with.
func (o options) validate() error {
	switch {
	case o.driver != driverSQLite && o.driver != driverSQS:
		return fmt.Errorf("-driver %q is invalid, must be %s or %s", o.driver, driverSQLite, driverSQS)
	case o.messages < 1:
		return fmt.Errorf("-messages %d is invalid, must be at least 1", o.messages)
	case o.workers < 1 || o.workers > 1000:
		return fmt.Errorf("-workers %d is invalid, must be between 1 and 1000", o.workers)
	case o.pluginKillInterval != 0 && o.pluginKillInterval < 10*time.Millisecond:
		return fmt.Errorf("-plugin-kill-interval %s is invalid, must be 0 (no plugin kills) or at least 10ms", o.pluginKillInterval)
	case o.hostKills < 0:
		return fmt.Errorf("-host-kills %d is invalid, must be zero or more", o.hostKills)
	case o.timeout <= 0:
		return fmt.Errorf("-timeout %s is invalid, must be positive", o.timeout)
	}
	return nil
}
