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
	"github.com/vega-host/vega-host/internal/redact"
)

func runCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("run", "run [-config FILE] [-pid-file PATH]\n\nRuns every listener of the config file until SIGTERM or SIGINT. The first\nsignal stops polling and gives running handlers the shutdown timeout; a\nsecond one releases the messages still in flight and exits at once.\n\nSIGHUP, which vega-host reload sends, re-reads the config file: the host\napplies a valid file and keeps running the previous config when the file\nis invalid. The host writes its process id to the pid file while it runs.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` with the listener blocks")
	pidPath := flags.String("pid-file", "", "`path` of the file that holds the host's process id while it runs (default: the config file's path with .pid appended)")
	if err := parseFlags(flags, args); err != nil {
		return err
	}

	cfg, err := loadConfig(*configPath, stderr)
	if err != nil {
		return err
	}

	// Every log line, the host's own and those forwarded from plugins,
	// passes through the redacting writer, so values that env() returned
	// or env lists read never reach the log.
	// NOTE: Config.Secrets holds every such value, including harmless ones
	// such as a queue name or a log level read with env(), and the writer
	// hides those too wherever they appear in a line.
	output := redact.NewWriter(stderr, cfg.Secrets)
	defer output.Flush()
	logger := newLogger(cfg.Host, output, isTerminal(stderr))

	// SIGHUP is caught before the pid file exists, because vega-host
	// reload finds the host through that file, and an uncaught SIGHUP
	// would end the process.
	hangups := make(chan os.Signal, 1)
	signal.Notify(hangups, syscall.SIGHUP)
	defer signal.Stop(hangups)

	pidFile, err := pidFilePath(*configPath, *pidPath)
	if err != nil {
		return err
	}
	if err := writePidFile(pidFile); err != nil {
		return err
	}
	defer removePidFile(pidFile, logger)

	ctx, hardStop := notifySignals(logger)
	h := host.New(cfg, logger)
	go reloadOnHangup(ctx, hangups, h, cfg.File, output, logger)

	if err := h.Run(ctx, hardStop); err != nil {
		return redact.Error(err, output.Secrets())
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

// reloadOnHangup reloads the config file at path on every SIGHUP until ctx
// ends. Reloads run one at a time, so a SIGHUP that arrives during one is
// handled after it.
func reloadOnHangup(ctx context.Context, hangups <-chan os.Signal, h *host.Host, path string, output *redact.Writer, logger hclog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hangups:
			reloadConfig(h, path, output, logger)
		}
	}
}

// reloadConfig re-reads the config file at path and applies it to h. An
// invalid file is logged with its diagnostics and changes nothing.
func reloadConfig(h *host.Host, path string, output *redact.Writer, logger hclog.Logger) {
	logger.Info("SIGHUP received, reloading the config file", "config", path)

	cfg, diags := config.Load(path)
	if diags.HasErrors() {
		logger.Error("reload rejected, still running the previous config", "config", path,
			"errors", countErrors(diags), "diagnostics", config.FormatDiagnostics(diags, nil))
		return
	}

	// The new file may read other variables with env(), so their values
	// must be hidden before anything about the new config is logged.
	output.AddSecrets(cfg.Secrets)
	if len(diags) > 0 {
		logger.Warn("the reloaded config file has warnings", "config", path, "diagnostics", config.FormatDiagnostics(diags, nil))
	}

	if err := h.Reload(cfg); err != nil {
		logger.Error("reload failed, still running the previous config", "config", path, "error", err)
		return
	}
	logger.Debug("reload applied", "config", path, "listeners", len(cfg.Listeners))
}

// newLogger builds the host's logger from the host block. With the auto
// format it writes text when stderr is a terminal and JSON otherwise.
func newLogger(cfg config.Host, output io.Writer, terminal bool) hclog.Logger {
	json := cfg.LogFormat == "json"
	if cfg.LogFormat == "auto" || cfg.LogFormat == "" {
		json = !terminal
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
