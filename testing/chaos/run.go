//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vega-host/vega-host/drivers"
	"github.com/vega-host/vega-host/drivers/sqlite"
	"github.com/vega-host/vega-host/internal/mototest"
)

// Names and settings of the listener under test. An sqs run appends a
// random suffix to both queue names.
const (
	queueName           = "chaos"
	deadLetterQueueName = "chaos-dlq"
	visibilityTimeout   = 3 * time.Second
	maxRetries          = 3
	shutdownTimeout     = 30 * time.Second
)

// pluginExitWait bounds the wait for a killed host's plugin to exit. The
// kernel's parent-death signal ends it at once, and the SDK's parent
// watch, the fallback, polls once a second.
const pluginExitWait = 10 * time.Second

// defaultTick is how often the run checks its progress when it does not
// kill the plugin.
const defaultTick = 500 * time.Millisecond

// progressInterval is how often a verbose run reports its progress.
const progressInterval = 30 * time.Second

// kill is one SIGKILL the suite sent.
type kill struct {
	// target is "plugin" or "host".
	target string
	pid    int
	// inFlight is the number of hidden messages in the queue just before
	// the kill, which are received and not yet acked or wait out a retry
	// delay.
	inFlight int
}

// chaosRun holds the state of one run.
type chaosRun struct {
	opts    options
	dir     string
	config  string
	record  string
	pidFile string
	plugin  string

	// queue and deadLetterQueue are the names of the listener's queues.
	queue           string
	deadLetterQueue string
	driver          queueDriver
	dlq             drivers.Queue
	// moto is the moto_server of an sqs run, and nil on sqlite.
	moto *mototest.Server
	// hostEnv is added to the environment of each host.
	hostEnv []string
	host    *hostProcess
	starts  int

	// sent is the highest seq enqueued so far. Seqs are sent in order.
	sent atomic.Int64
	// stopFeed, feedDone and feedErr belong to the feeder of an sqs run.
	stopFeed context.CancelFunc
	feedDone chan struct{}
	feedErr  atomic.Pointer[error]

	kills   []kill
	orphans []int
	rng     *rand.Rand
}

// queueDriver is a driver that also reports the depth of a queue, as the
// sqlite and sqs drivers do.
type queueDriver interface {
	drivers.Driver
	Depth(ctx context.Context, queue string) (visible, hidden int, err error)
}

// run executes the whole suite, from the setup through the chaos phase
// and the drain to the count.
func run(ctx context.Context, opts options) (*summary, error) {
	r, err := setup(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer r.close()

	if err := r.enqueue(ctx); err != nil {
		return nil, err
	}

	started := time.Now()
	if err := r.startHost(); err != nil {
		return nil, err
	}
	if opts.driver == driverSQS {
		r.startFeeder(ctx, maxQueuedSQS)
	}
	timedOut, chaosErr := r.chaos(ctx)
	elapsed := time.Since(started)
	r.stopFeeder()

	exitCode, stopErr := r.host.terminate(shutdownTimeout + 30*time.Second)
	if err := errors.Join(chaosErr, stopErr); err != nil {
		return nil, fmt.Errorf("%w (working folder %s)", err, r.dir)
	}
	r.progressf("host stopped with exit status %d after %s", exitCode, elapsed.Round(time.Millisecond))

	s, err := r.count(ctx)
	if err != nil {
		return nil, err
	}
	s.elapsed = elapsed
	s.timedOut = timedOut
	s.hostExitCode = exitCode

	if !opts.keep && opts.dir == "" && len(s.problems()) == 0 {
		_ = os.RemoveAll(r.dir)
	}
	return s, nil
}

// setup prepares the working folder, the binaries, the queues and the
// config. The caller closes the run when setup succeeds.
func setup(ctx context.Context, opts options) (*chaosRun, error) {
	dir := opts.dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "vega-chaos-"); err != nil {
			return nil, fmt.Errorf("create working folder: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create working folder: %w", err)
	}

	r := &chaosRun{
		opts:            opts,
		queue:           queueName,
		deadLetterQueue: deadLetterQueueName,
		dir:             dir,
		config:          filepath.Join(dir, "listeners.hcl"),
		record:          filepath.Join(dir, "records.txt"),
		pidFile:         filepath.Join(dir, "plugin.pid"),
		rng:             rand.New(rand.NewPCG(opts.seed, opts.seed>>1)),
	}

	if err := r.prepareBinaries(); err != nil {
		return nil, err
	}
	if err := r.openQueues(ctx); err != nil {
		r.close()
		return nil, err
	}
	if err := r.writeConfig(); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// openQueues opens the suite's own driver, after starting moto_server on
// an sqs run, and the dead-letter queue that count reads.
func (r *chaosRun) openQueues(ctx context.Context) error {
	if r.opts.driver == driverSQS {
		if err := r.setupSQS(ctx); err != nil {
			return err
		}
	} else {
		driver, err := sqlite.Open(filepath.Join(r.dir, "queue.db"))
		if err != nil {
			return err
		}
		r.driver = driver
	}

	dlq, err := r.driver.Open(ctx, r.deadLetterQueue, drivers.OpenOptions{})
	if err != nil {
		return fmt.Errorf("open queue %q: %w", r.deadLetterQueue, err)
	}
	r.dlq = dlq
	return nil
}

// close stops the feeder, closes the suite's driver and stops the
// moto_server that the run started.
func (r *chaosRun) close() {
	r.stopFeeder()
	if r.driver != nil {
		_ = r.driver.Close()
	}
	if r.moto != nil {
		if err := r.moto.Stop(); err != nil {
			r.progressf("stop moto_server: %v", err)
		}
	}
}

// prepareBinaries builds whichever of the two binaries has no path.
func (r *chaosRun) prepareBinaries() error {
	if r.opts.hostBinary == "" {
		r.opts.hostBinary = filepath.Join(r.dir, "bin", "vega-host")
		if err := goBuild("./cmd/vega-host", r.opts.hostBinary); err != nil {
			return err
		}
	}
	if r.opts.pluginBinary == "" {
		r.opts.pluginBinary = filepath.Join(r.dir, "bin", "chaosplugin")
		if err := goBuild("./testing/chaos/chaosplugin", r.opts.pluginBinary); err != nil {
			return err
		}
	}

	// The plugin is found by comparing /proc/PID/exe, which the kernel
	// stores resolved.
	plugin, err := filepath.Abs(r.opts.pluginBinary)
	if err != nil {
		return fmt.Errorf("resolve plugin path: %w", err)
	}
	if plugin, err = filepath.EvalSymlinks(plugin); err != nil {
		return fmt.Errorf("resolve plugin path: %w", err)
	}
	r.plugin = plugin
	return nil
}

// goBuild builds the main package pkg of this module into target.
func goBuild(pkg, target string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("find the module root with go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || strings.TrimSpace(string(gomod)) == os.DevNull {
		return errors.New("not inside the vega-host module: run from the repository or pass -host-binary and -plugin-binary")
	}

	cmd := exec.Command("go", "build", "-o", target, pkg)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
	}
	return nil
}

// writeConfig writes the listeners.hcl the host runs with.
func (r *chaosRun) writeConfig() error {
	// restart_limit is at its maximum because a kill of a plugin that has
	// not handled a message yet, as when only retries wait in the queue,
	// counts as one more crash in a row.
	driverBlock := `driver "sqlite" {
  path = "queue.db"
}`
	if r.opts.driver == driverSQS {
		driverBlock = r.sqsDriverBlock()
	}

	content := fmt.Sprintf(`host {
  log_level        = "info"
  log_format       = "json"
  shutdown_timeout = %d
}

%s

listener "chaos" {
  plugin             = %q
  queue              = %q
  dead_letter_queue  = %q
  workers            = %d
  visibility_timeout = %d
  retry_on_error     = true
  max_retries        = %d
  retry_delay        = "100ms"
  max_retry_delay    = "1s"
  restart_limit      = 1000

  config = {
    record_file = %q
    pid_file    = %q
  }
}
`, int(shutdownTimeout.Seconds()), driverBlock, r.plugin, r.queue, r.deadLetterQueue, r.opts.workers,
		int(visibilityTimeout.Seconds()), maxRetries, r.record, r.pidFile)

	if err := os.WriteFile(r.config, []byte(content), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// enqueue sends the messages that wait in the queue before the first
// host starts: all of them on sqlite, and the first maxQueuedSQS on sqs,
// whose feeder sends the others while the host runs.
func (r *chaosRun) enqueue(ctx context.Context) error {
	if r.opts.driver == driverSQS {
		r.progressf("enqueueing up to %d of %d messages, then feeding the rest gradually, in %s", maxQueuedSQS, r.opts.messages, r.dir)
		return r.topUp(ctx, maxQueuedSQS)
	}

	r.progressf("enqueueing %d messages in %s", r.opts.messages, r.dir)
	for seq := 1; seq <= r.opts.messages; seq++ {
		if err := r.send(ctx, seq); err != nil {
			return err
		}
	}
	return nil
}

// startHost starts the next host process, logging to host-N.log.
func (r *chaosRun) startHost() error {
	r.starts++
	logPath := filepath.Join(r.dir, fmt.Sprintf("host-%d.log", r.starts))
	host, err := startHost(r.opts.hostBinary, r.config, logPath, r.hostEnv...)
	if err != nil {
		return err
	}
	r.host = host
	r.progressf("host %d started with pid %d", r.starts, host.pid())
	return nil
}

// chaos kills the plugin every interval and the host at the chosen points
// of progress, until the queue is empty and every host kill is done, or
// the timeout passes (reported as true).
func (r *chaosRun) chaos(ctx context.Context) (bool, error) {
	hostKillPoints := r.hostKillPoints()
	deadline := time.Now().Add(r.opts.timeout)
	tick := r.opts.pluginKillInterval
	if tick == 0 {
		tick = defaultTick
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	lastReport := time.Now()

	for {
		select {
		case <-ctx.Done():
			return false, context.Cause(ctx)
		case <-ticker.C:
		}

		if err := r.feederError(); err != nil {
			return false, err
		}
		if r.host.exited() {
			logPath := filepath.Join(r.dir, fmt.Sprintf("host-%d.log", r.starts))
			return false, fmt.Errorf("host %d exited on its own with %v, the last lines of %s:\n%s", r.host.pid(), r.host.err,
				logPath, lastLines(logPath, 10))
		}

		// NOTE: inFlight is read just before a kill, so a message received
		// in between is not counted. The check of duplicates against it
		// may then fail although every duplicate came from a kill.
		remaining, inFlight, err := r.depth(ctx)
		if err != nil {
			return false, err
		}
		if remaining == 0 && len(hostKillPoints) == 0 {
			return false, nil
		}
		if time.Now().After(deadline) {
			r.progressf("timed out after %s with %d messages left", r.opts.timeout, remaining)
			return true, nil
		}

		processed := r.opts.messages - remaining
		if time.Since(lastReport) >= progressInterval {
			r.progressf("%d of %d messages processed, %d kills so far", processed, r.opts.messages, len(r.kills))
			lastReport = time.Now()
		}
		if len(hostKillPoints) > 0 && processed >= hostKillPoints[0] {
			hostKillPoints = hostKillPoints[1:]
			if err := r.killHost(inFlight); err != nil {
				return false, err
			}
			continue
		}
		if r.opts.pluginKillInterval > 0 {
			if err := r.killPlugin(inFlight); err != nil {
				return false, err
			}
		}
	}
}

// hostKillPoints returns, for each host kill, the number of processed
// messages at which the host is killed. The range from 10% to 90% of the
// messages is cut into hostKills equal slices, with one point at a random
// place in each. So every kill lands while messages remain, and no stretch
// between two host restarts is longer than two slices.
func (r *chaosRun) hostKillPoints() []int {
	points := make([]int, r.opts.hostKills)
	low := r.opts.messages / 10
	slice := max(r.opts.messages*8/10/max(r.opts.hostKills, 1), 1)
	for i := range points {
		points[i] = low + i*slice + r.rng.IntN(slice)
	}
	return points
}

// depth returns the messages not processed yet, those in the queue and
// those not sent yet, and how many of them are hidden because they are in
// flight or wait out a retry delay. The feeder may send between the two
// reads, which can only make remaining too large.
func (r *chaosRun) depth(ctx context.Context) (remaining, hidden int, err error) {
	unsent := r.opts.messages - int(r.sent.Load())
	visible, hidden, err := r.driver.Depth(ctx, r.queue)
	if err != nil {
		return 0, 0, fmt.Errorf("read queue depth: %w", err)
	}
	return unsent + visible + hidden, hidden, nil
}

// killPlugin kills the host's plugin process, if one runs and has
// finished its startup.
func (r *chaosRun) killPlugin(inFlight int) error {
	pid, err := r.startedPlugin()
	if err != nil || pid == 0 {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		// It may have exited between the look-up and the kill.
		return nil
	}
	r.kills = append(r.kills, kill{target: "plugin", pid: pid, inFlight: inFlight})
	return nil
}

// startedPlugin returns the pid of the host's plugin once it has run its
// startup hook, or 0. Kills before the handshake are covered by
// TestPluginKilledBeforeHandshakeIsRestarted, so the chaos run spends its
// kills on plugins that can handle messages.
func (r *chaosRun) startedPlugin() (int, error) {
	pid, err := findPlugin(r.host.pid(), r.plugin)
	if err != nil || pid == 0 {
		return 0, err
	}

	data, err := os.ReadFile(r.pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read plugin pid file: %w", err)
	}
	if strings.TrimSpace(string(data)) != strconv.Itoa(pid) {
		return 0, nil
	}
	return pid, nil
}

// killHost kills the host, checks that its plugin goes with it, and
// starts a new host.
func (r *chaosRun) killHost(inFlight int) error {
	plugin, err := findPlugin(r.host.pid(), r.plugin)
	if err != nil {
		return err
	}
	if err := r.host.kill(); err != nil {
		return err
	}
	r.kills = append(r.kills, kill{target: "host", pid: r.host.pid(), inFlight: inFlight})
	r.progressf("host %d killed with %d messages hidden", r.host.pid(), inFlight)

	if plugin != 0 && !waitGone(plugin, pluginExitWait) {
		r.orphans = append(r.orphans, plugin)
		r.progressf("plugin %d still runs %s after its host was killed", plugin, pluginExitWait)
	}
	return r.startHost()
}

// lastLines returns up to n last lines of the file at path, or why it
// could not be read.
func lastLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

func (r *chaosRun) progressf(format string, args ...any) {
	if r.opts.progress != nil {
		fmt.Fprintf(r.opts.progress, "chaos: "+format+"\n", args...)
	}
}
