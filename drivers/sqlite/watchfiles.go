package sqlite

// watchFilesLocked starts the file subscription unless it runs, file
// notifications are off, or an earlier attempt failed. The caller holds
// fileMu.
func (w *watcher) watchFilesLocked() {
	if w.files == nil || w.fileSubscription != nil || w.watchFailed {
		return
	}

	err := w.acquireFileEventsLocked()
	if err == nil {
		w.fileSubscription, err = sharedFileEvents.subscribe(w.files.dir, w.files.names, w.fileChanged, w.logger)
	}
	if err != nil {
		w.watchFailed = true
		w.logger.Warn("watch database files failed, checking for changes by other processes only by polling",
			"folder", w.files.dir, "poll_interval", w.interval.String(), "error", err)

		return
	}
}

func (w *watcher) acquireFileEventsLocked() error {
	if w.acquired {
		return nil
	}

	if err := sharedFileEvents.acquire(); err != nil {
		return err
	}

	w.acquired = true

	return nil
}

// unwatchFilesLocked ends the file subscription. The caller holds fileMu.
func (w *watcher) unwatchFilesLocked() {
	if w.fileSubscription != nil {
		w.fileSubscription.cancel()
		w.fileSubscription = nil
	}
}

// watchFiles starts the file subscription, as watchFilesLocked does.
func (w *watcher) watchFiles() {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()

	w.watchFilesLocked()
}

// unwatchFiles ends the file subscription and reports whether there was
// one.
func (w *watcher) unwatchFiles() bool {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()

	watching := w.fileSubscription != nil
	w.unwatchFilesLocked()

	return watching
}

// unwatchFilesIfIdle ends the file subscription when no Receive waits.
func (w *watcher) unwatchFilesIfIdle() {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()

	w.mu.Lock()
	idle := w.waiting == 0
	w.mu.Unlock()

	// A Receive that starts to wait now takes fileMu in subscribe first,
	// and so finds the subscription ended and starts a new one.
	if idle {
		w.unwatchFilesLocked()
	}
}
