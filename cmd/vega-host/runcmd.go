package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/mattn/go-isatty"

	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
)

func runCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("run", "run [-config FILE]\n\nRuns every listener of the config file until SIGTERM or SIGINT. The first\nsignal stops polling and gives running handlers the shutdown timeout; a\nsecond one releases the messages still in flight and exits at once.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` with the listener blocks")
	if err := parseFlags(flags, args); err != nil {
		return err
	}

	cfg, err := loadConfig(*configPath, stderr)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Host, stderr)

	ctx, hardStop := notifySignals(logger)
	if err := host.New(cfg, logger).Run(ctx, hardStop); err != nil {
		return err
	}
	return nil
}

// notifySignals returns a context that ends on the first SIGTERM or SIGINT
// and a channel closed on the second.
func notifySignals(logger hclog.Logger) (context.Context, <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	hardStop := make(chan struct{})

	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-signals
		logger.Info("signal received, stopping", "signal", sig.String())
		cancel()

		sig = <-signals
		logger.Info("second signal received, exiting now", "signal", sig.String())
		close(hardStop)
	}()
	return ctx, hardStop
}

// newLogger builds the host's logger from the host block: text on a
// terminal and JSON elsewhere when the format is auto.
func newLogger(cfg config.Host, output io.Writer) hclog.Logger {
	json := cfg.LogFormat == "json"
	if cfg.LogFormat == "auto" || cfg.LogFormat == "" {
		json = !isTerminal(output)
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "vega-host",
		Level:      hclog.LevelFromString(cfg.LogLevel),
		Output:     output,
		JSONFormat: json,
	})
}

func isTerminal(w io.Writer) bool {
	file, ok := w.(*os.File)
	return ok && isatty.IsTerminal(file.Fd())
}
