package host

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/vega-host/vega-host/host/config"
	"github.com/vega-host/vega-host/host/supervisor"
)

// swapStartTimeout bounds the start of a replacement plugin during a
// reload; until it passes its handshake the old plugin keeps working.
const swapStartTimeout = 30 * time.Second

// reloadRequest carries a new configuration to Run.
type reloadRequest struct {
	cfg  *config.Config
	done chan error
}

// Reload applies cfg to the running host and returns when it is applied.
// Unchanged listeners keep running untouched. A changed listener (other
// settings, or a new plugin binary on disk) gets a new plugin, which must
// pass its handshake and startup hook before it takes new messages. The
// old one then finishes its messages in flight and stops. Removed
// listeners drain and stop; added ones start. Changes to the host and
// driver blocks need a restart and are logged as such.
func (h *Host) Reload(cfg *config.Config) error {
	request := reloadRequest{cfg: cfg, done: make(chan error, 1)}
	select {
	case h.reloads <- request:
		return <-request.done
	case <-time.After(swapStartTimeout):
		return ErrNotRunning
	}
}

// applyReload runs inside Run's loop, so listeners change one reload at a
// time.
func (h *Host) applyReload(ctx context.Context, cfg *config.Config) error {
	h.warnUnappliedChanges(cfg)

	h.mu.Lock()
	current := make(map[string]*listener, len(h.listeners))
	for _, l := range h.listeners {
		current[l.cfg.Name] = l
	}
	h.startFailures = nil
	h.mu.Unlock()

	var next, retired []*listener
	added, swapped, unchanged := 0, 0, 0
	for _, listenerCfg := range cfg.Listeners {
		old, exists := current[listenerCfg.Name]
		delete(current, listenerCfg.Name)

		switch {
		case exists && !h.changed(old, listenerCfg):
			next = append(next, old)
			unchanged++

		case exists:
			replacement, err := h.startReplacement(ctx, listenerCfg)
			if err != nil {
				h.logger.Error("swap failed, the listener keeps its previous plugin", "listener", listenerCfg.Name, "error", err)
				next = append(next, old)
				continue
			}
			next = append(next, replacement)
			retired = append(retired, old)
			swapped++
			h.logger.Info("listener swapped to a new plugin", "listener", listenerCfg.Name, "pid", replacement.supervisor.Pid())

		default:
			if l := h.addListener(ctx, listenerCfg); l != nil {
				next = append(next, l)
				added++
			}
		}
	}
	for _, removed := range current {
		retired = append(retired, removed)
		h.logger.Info("listener removed, draining", "listener", removed.cfg.Name)
	}

	h.mu.Lock()
	h.listeners = next
	h.cfg.Listeners = cfg.Listeners
	h.mu.Unlock()

	for _, l := range retired {
		h.retire(l)
	}
	h.logger.Info("config reloaded", "kept", unchanged, "swapped", swapped, "added", added, "removed", len(retired)-swapped)
	return nil
}

// startReplacement starts a listener for cfg and waits until its plugin
// passed the handshake and startup hook.
func (h *Host) startReplacement(ctx context.Context, cfg config.Listener) (*listener, error) {
	replacement, err := h.newListener(ctx, cfg)
	if err != nil {
		return nil, err
	}
	replacement.start(h.failed)

	waitCtx, cancel := context.WithTimeout(ctx, swapStartTimeout)
	defer cancel()
	if err := replacement.waitRunning(waitCtx); err != nil {
		stopCtx, stopCancel := context.WithTimeout(context.Background(), pluginStopTimeout)
		defer stopCancel()
		replacement.stop(stopCtx)
		return nil, fmt.Errorf("start the new plugin %s: %w", cfg.Plugin, err)
	}
	return replacement, nil
}

// retire stops a replaced or removed listener in the background: it takes
// no new messages and its handlers get the shutdown timeout to finish.
func (h *Host) retire(l *listener) {
	h.retiring.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Host.ShutdownTimeout)
		defer cancel()
		l.stop(ctx)
		l.logger.Info("previous plugin stopped after finishing its messages")
	})
}

// changed reports whether a listener must be swapped for cfg: its
// settings differ or its plugin binary changed on disk.
func (h *Host) changed(l *listener, cfg config.Listener) bool {
	previous := l.cfg
	previous.Range, cfg.Range = hcl.Range{}, hcl.Range{}
	if !reflect.DeepEqual(previous, cfg) {
		return true
	}
	return binaryHash(cfg.Plugin) != l.binaryHash
}

// warnUnappliedChanges logs changes that a reload cannot apply.
func (h *Host) warnUnappliedChanges(cfg *config.Config) {
	previous := h.cfg.Host
	next := cfg.Host
	previous.Range, next.Range = hcl.Range{}, hcl.Range{}
	if previous != next {
		h.logger.Warn("changes to the host block take effect after a restart")
	}

	if len(cfg.Drivers) != len(h.cfg.Drivers) {
		h.logger.Warn("changes to driver blocks take effect after a restart")
		return
	}
	for i := range cfg.Drivers {
		if cfg.Drivers[i].Kind != h.cfg.Drivers[i].Kind || cfg.Drivers[i].Path != h.cfg.Drivers[i].Path {
			h.logger.Warn("changes to driver blocks take effect after a restart")
			return
		}
	}
}

// binaryHash returns the hex SHA-256 of the plugin binary at path, or ""
// when it cannot be read.
func binaryHash(path string) string {
	hash, err := supervisor.FileSHA256(path)
	if err != nil {
		return ""
	}
	return hash
}
