package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/host"
	"github.com/vega-host/vega-host/host/config"
)

// maxLineBytes bounds one message read from standard input.
const maxLineBytes = 16 << 20

func sendCommand(args []string, stdout, stderr io.Writer) error {
	return sendFrom(os.Stdin, args, stdout, stderr)
}

func sendFrom(stdin io.Reader, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("send", "send [-config FILE] -queue NAME [-driver KIND] [-delay DURATION] [-group-id ID] [-dedup-id ID] BODY\n\nEnqueues BODY, a JSON object, on the queue and prints its message id. With\nBODY '-', reads one JSON object a line from standard input and prints the\ncount at the end.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` that names the driver")
	queue := flags.String("queue", "", "`name` of the queue to send to (required)")
	driverKind := flags.String("driver", "", "`kind` of the driver block to use; default: the driver of the listener on the queue, else the first driver")
	delay := flags.Duration("delay", 0, "keep the message invisible for this `duration` after sending, e.g. 30s")
	groupID := flags.String("group-id", "", "message group `id`, required by FIFO queues; messages of one group are handled in order")
	dedupID := flags.String("dedup-id", "", "deduplication `id` for a FIFO queue without content-based deduplication; one message only")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if *queue == "" {
		return &exitError{code: exitUsage, message: "-queue is required: name the queue to send to"}
	}
	if flags.NArg() != 1 {
		return &exitError{code: exitUsage, message: fmt.Sprintf("expected one BODY argument (a JSON object, or - for standard input), got %d", flags.NArg())}
	}
	if *dedupID != "" && flags.Arg(0) == "-" {
		return &exitError{code: exitUsage, message: "-dedup-id names one message, so it cannot be used with BODY -; enable content-based deduplication on the queue instead"}
	}
	template := drivers.OutgoingMessage{Delay: *delay, GroupID: *groupID, DeduplicationID: *dedupID}

	// Sending needs no plugin, so missing binaries are no reason to fail.
	cfg, err := loadConfigWith(*configPath, config.Options{SkipPluginCheck: true}, stderr)
	if err != nil {
		return err
	}
	if !queueConsumed(cfg, *queue) {
		fmt.Fprintf(stderr, "vega-host send: warning: no listener in %s consumes queue %q, so the message waits until one does\n", cfg.File, *queue)
	}
	driverCfg, err := pickDriver(cfg, *queue, *driverKind)
	if err != nil {
		return err
	}
	if driverCfg.Kind == "memory" {
		return fmt.Errorf("queue %q uses the memory driver, which lives inside one host process; send cannot reach it from outside", *queue)
	}
	driver, err := host.OpenDriver(driverCfg)
	if err != nil {
		return err
	}
	defer driver.Close()

	ctx := context.Background()
	body := flags.Arg(0)
	if body != "-" {
		if err := checkJSONObject([]byte(body)); err != nil {
			return fmt.Errorf("%w; quote the body for the shell, e.g. '{\"to\": \"a@example.com\"}'", err)
		}
		id, err := sendOne(ctx, driver, *queue, []byte(body), template)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, id)
		return nil
	}

	count, err := sendLines(ctx, driver, *queue, stdin, template)
	fmt.Fprintf(stdout, "sent %d message(s) to queue %q\n", count, *queue)
	return err
}

// sendLines sends each non-empty line of r as one message and returns how
// many it sent. It stops at the first invalid line, naming its number.
func sendLines(ctx context.Context, driver drivers.Driver, queue string, r io.Reader, template drivers.OutgoingMessage) (int, error) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64*1024), maxLineBytes)

	count, line := 0, 0
	for scanner.Scan() {
		line++
		body := bytes.TrimSpace(scanner.Bytes())
		if len(body) == 0 {
			continue
		}
		if _, err := sendOne(ctx, driver, queue, body, template); err != nil {
			return count, fmt.Errorf("line %d: %w", line, err)
		}
		count++
	}
	if err := scanner.Err(); err != nil {
		return count, fmt.Errorf("read standard input after line %d: %w", line, err)
	}
	return count, nil
}

// sendOne checks that body is a JSON object and sends it with the delay
// and FIFO ids of template.
func sendOne(ctx context.Context, driver drivers.Driver, queue string, body []byte, template drivers.OutgoingMessage) (string, error) {
	if err := checkJSONObject(body); err != nil {
		return "", err
	}
	msg := template
	msg.Body = bytes.Clone(body)
	// Drivers name the queue in their errors already.
	id, err := driver.Send(ctx, queue, msg)
	if err != nil {
		return "", err
	}
	return id, nil
}

// checkJSONObject reports why body is not a single JSON object.
func checkJSONObject(body []byte) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("body %s is not a JSON object", preview(body))
	}

	var object map[string]json.RawMessage
	decoder := json.NewDecoder(bytes.NewReader(trimmed))
	if err := decoder.Decode(&object); err != nil {
		return fmt.Errorf("body %s is not a valid JSON object: %w", preview(body), err)
	}
	if decoder.More() {
		return fmt.Errorf("body %s contains more than one JSON value; send one object, or use - to read one object a line", preview(body))
	}
	return nil
}

// queueConsumed reports whether a listener of cfg receives from queue or
// dead-letters to it.
func queueConsumed(cfg *config.Config, queue string) bool {
	for _, l := range cfg.Listeners {
		if l.Queue == queue || l.DeadLetterQueue == queue || l.Queue+drivers.DefaultDeadLetterSuffix == queue {
			return true
		}
	}
	return false
}

func preview(body []byte) string {
	const limit = 40
	if len(body) > limit {
		return fmt.Sprintf("%q...", body[:limit])
	}
	return fmt.Sprintf("%q", body)
}

// pickDriver chooses the driver block for a queue: the one named by kind,
// else the one of a listener on the queue, else the first.
func pickDriver(cfg *config.Config, queue, kind string) (config.Driver, error) {
	if kind == "" {
		for _, l := range cfg.Listeners {
			if l.Queue == queue {
				kind = l.Driver
				break
			}
		}
	}
	if kind == "" {
		return cfg.Drivers[0], nil
	}
	for _, d := range cfg.Drivers {
		if d.Kind == kind {
			return d, nil
		}
	}
	return config.Driver{}, fmt.Errorf("driver %q has no driver block in %s; add one or pick another with -driver", kind, cfg.File)
}
