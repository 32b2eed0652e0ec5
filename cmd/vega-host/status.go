package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vega-host/vega-host/host/metrics"
)

// statusTimeout bounds the request to /readyz. It is longer than the 3
// seconds the host gives itself to build the response.
const statusTimeout = 5 * time.Second

// maxStatusBytes caps the /readyz body that status reads.
const maxStatusBytes = 1 << 20

func statusCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("status", "status [-config FILE] [-json]\n\nAsks the running host at the metrics_addr of the config file whether every\nlistener is running and reaches its queue, and prints one line per listener.\nExits with 0 when the host is ready and 1 when it is not or cannot be reached.", stderr)
	configPath := flags.String("config", defaultConfigFile, "config `file` whose host block sets metrics_addr")
	asJSON := flags.Bool("json", false, "print the host's /readyz JSON body instead of a table")
	timeout := flags.Duration("timeout", statusTimeout, "wait at most this `duration` for the host's response")
	if err := parseFlags(flags, args); err != nil {
		return err
	}

	cfg, err := loadConfig(*configPath, stderr)
	if err != nil {
		return err
	}
	if cfg.Host.MetricsAddr == "" {
		return fmt.Errorf("%s has no metrics_addr, so the host serves no status; set metrics_addr in the host block, e.g. metrics_addr = \"127.0.0.1:9464\", and restart vega-host run", cfg.File)
	}

	addr := dialAddr(cfg.Host.MetricsAddr)
	body, ready, err := fetchReadiness(addr, *timeout)
	if err != nil {
		return err
	}

	var readiness metrics.Readiness
	if err := json.Unmarshal(body, &readiness); err != nil {
		return fmt.Errorf("decode the /readyz response of %s: %w; is %s the metrics_addr of a vega-host?", addr, err, addr)
	}

	if *asJSON {
		if _, err := stdout.Write(body); err != nil {
			return fmt.Errorf("write status: %w", err)
		}
	} else if err := printStatus(stdout, readiness, ready); err != nil {
		return err
	}

	if !ready {
		return &exitError{code: 1}
	}
	return nil
}

// dialAddr returns the address to connect to for metrics_addr. A host
// that listens on every interface (":9464", "0.0.0.0:9464", "[::]:9464")
// is reached on loopback.
func dialAddr(metricsAddr string) string {
	host, port, err := net.SplitHostPort(metricsAddr)
	if err != nil {
		// The config loader has checked the address already.
		return metricsAddr
	}

	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// fetchReadiness gets /readyz from the host at addr and returns the body
// and whether the host responded with 200 (ready) rather than 503 (not
// ready).
func fetchReadiness(addr string, timeout time.Duration) ([]byte, bool, error) {
	url := "http://" + addr + "/readyz"
	client := &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DisableKeepAlives: true},
	}

	resp, err := client.Get(url)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return nil, false, fmt.Errorf("no host responded on %s within %s; is vega-host run running with this config? (%w)", addr, timeout, connectionCause(err))
	}
	if err != nil {
		return nil, false, fmt.Errorf("no host answers on %s; is vega-host run running with this config? (%w)", addr, connectionCause(err))
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBytes))
	if err != nil {
		return nil, false, fmt.Errorf("read the response of %s: %w", url, err)
	}

	switch resp.StatusCode {
	case http.StatusOK:
		return body, true, nil
	case http.StatusServiceUnavailable:
		return body, false, nil
	}
	return nil, false, fmt.Errorf("GET %s returned %s, expected 200 or 503; is %s the metrics_addr of a vega-host?", url, resp.Status, addr)
}

// connectionCause returns the network error inside err, which reads
// shorter than the *url.Error around it because it omits the URL.
func connectionCause(err error) error {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr
	}
	return err
}

// printStatus writes one table line per listener and then "ready" or
// "not ready".
func printStatus(w io.Writer, readiness metrics.Readiness, ready bool) error {
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "LISTENER\tSTATE\tPID\tRESTARTS\tQUEUE\tERROR")
	for _, l := range readiness.Listeners {
		fmt.Fprintf(table, "%s\t%s\t%s\t%d\t%s\t%s\n", l.Name, l.State, pidText(l.PluginPID), l.Restarts, queueText(l), errorText(l.Error))
	}
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write status: %w", err)
	}

	verdict := "ready"
	if !ready {
		verdict = "not ready"
	}
	if _, err := fmt.Fprintln(w, verdict); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	return nil
}

func pidText(pid int) string {
	if pid == 0 {
		return "-"
	}
	return strconv.Itoa(pid)
}

func queueText(l metrics.ListenerStatus) string {
	if l.QueueReachable {
		return l.Queue
	}
	return l.Queue + " (unreachable)"
}

// errorText keeps the first line of an error, with tabs turned into
// spaces, so that each listener stays on one table line.
func errorText(message string) string {
	if message == "" {
		return "-"
	}
	first, _, _ := strings.Cut(message, "\n")
	return strings.ReplaceAll(first, "\t", " ")
}
