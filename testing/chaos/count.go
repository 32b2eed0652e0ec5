//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vega-host/vega-host/drivers"
)

// crashReasonPrefix starts the reason of a message dead-lettered because
// it was in flight during crash_limit plugin crashes.
const crashReasonPrefix = "plugin crashed while handling"

// record is one line of the plugin's record file.
type record struct {
	event        string
	seq          int
	receiveCount int
	pid          int
}

// summary is the outcome of one run.
type summary struct {
	dir      string
	driver   string
	messages int

	// handled counts the seqs with at least one done record.
	handled int
	// deadLettered counts the distinct seqs in the dead-letter queue, and
	// crashDeadLettered those dead-lettered for the crash limit.
	deadLettered      int
	crashDeadLettered int
	// handledAndDeadLettered counts seqs with both outcomes, which takes a
	// success whose ack a kill prevented and a dead-letter later.
	handledAndDeadLettered int
	// duplicates counts the done records beyond the first of each seq.
	duplicates int
	// sameReceiveCount counts the done records beyond the first of each
	// seq and receive count. A redelivery by the host raises the receive
	// count, so these are deliveries that the queue service itself made
	// twice, as moto_server sometimes does under concurrent receivers.
	sameReceiveCount int
	// lost lists the seqs with neither outcome that are not in the queue
	// either.
	lost []int
	// missingReason lists the seqs dead-lettered without a reason.
	missingReason []int
	// left counts the seqs still in the queue or not sent yet at the end,
	// which happens only when the run timed out.
	left int

	pluginKills int
	hostKills   int
	// inFlightAtKills sums the hidden messages just before each kill, the
	// most messages the kills can have made the host deliver again.
	inFlightAtKills int
	orphans         []int

	hostExitCode int
	timedOut     bool
	elapsed      time.Duration
	seed         uint64
}

// count reads the plugin's records and the dead-letter queue after the
// host stopped and builds the summary.
func (r *chaosRun) count(ctx context.Context) (*summary, error) {
	s := &summary{dir: r.dir, driver: r.opts.driver, messages: r.opts.messages, orphans: r.orphans, seed: r.opts.seed}
	for _, k := range r.kills {
		if k.target == "host" {
			s.hostKills++
		} else {
			s.pluginKills++
		}
		s.inFlightAtKills += k.inFlight
	}

	records, err := readRecords(r.record)
	if err != nil {
		return nil, err
	}
	done := make(map[int]int)
	type delivery struct{ seq, receiveCount int }
	doneDeliveries := make(map[delivery]int)
	for _, rec := range records {
		if rec.event == "done" {
			done[rec.seq]++
			doneDeliveries[delivery{rec.seq, rec.receiveCount}]++
		}
	}
	for _, count := range done {
		s.duplicates += count - 1
	}
	for _, count := range doneDeliveries {
		s.sameReceiveCount += count - 1
	}
	s.handled = len(done)

	deadLetters, err := r.readQueue(ctx, r.dlq)
	if err != nil {
		return nil, err
	}
	for seq, reason := range deadLetters {
		switch {
		case reason == "":
			s.missingReason = append(s.missingReason, seq)
		case strings.HasPrefix(reason, crashReasonPrefix):
			s.crashDeadLettered++
		}
		if done[seq] > 0 {
			s.handledAndDeadLettered++
		}
	}
	slices.Sort(s.missingReason)
	s.deadLettered = len(deadLetters)

	left, err := r.readLeftovers(ctx)
	if err != nil {
		return nil, err
	}
	sent := int(r.sent.Load())
	s.left = len(left) + r.opts.messages - sent

	for seq := 1; seq <= sent; seq++ {
		_, handled := done[seq]
		_, deadLettered := deadLetters[seq]
		_, inQueue := left[seq]
		if !handled && !deadLettered && !inQueue {
			s.lost = append(s.lost, seq)
		}
	}
	return s, nil
}

// readRecords parses the plugin's record file.
func readRecords(path string) ([]record, error) {
	file, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open record file: %w", err)
	}
	defer file.Close()

	var records []record
	scanner := bufio.NewScanner(file)
	for line := 1; scanner.Scan(); line++ {
		fields := strings.Fields(scanner.Text())
		if len(fields) != 4 {
			return nil, fmt.Errorf("record file %s line %d: expected 4 fields, got %q", path, line, scanner.Text())
		}
		var numbers [3]int
		for i, field := range fields[1:] {
			if numbers[i], err = strconv.Atoi(field); err != nil {
				return nil, fmt.Errorf("record file %s line %d: %w", path, line, err)
			}
		}
		records = append(records, record{event: fields[0], seq: numbers[0], receiveCount: numbers[1], pid: numbers[2]})
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read record file: %w", err)
	}
	return records, nil
}

// readLeftovers returns the seqs still in the queue once the host has
// stopped. It first waits for hidden messages to become visible, because a
// retry delay or the visibility timeout of a killed host may still run.
func (r *chaosRun) readLeftovers(ctx context.Context) (map[int]string, error) {
	queue, err := r.driver.Open(ctx, r.queue, drivers.OpenOptions{DeadLetterQueue: r.deadLetterQueue})
	if err != nil {
		return nil, fmt.Errorf("open queue %q: %w", r.queue, err)
	}

	deadline := time.Now().Add(visibilityTimeout + 2*time.Second)
	for {
		_, hidden, err := r.depth(ctx)
		if err != nil {
			return nil, err
		}
		if hidden == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return r.readQueue(ctx, queue)
}

// readQueue receives every visible message of queue and returns the
// dead-letter reason of each seq, empty where there is none. Receiving
// hides the messages for an hour, which does not matter once the host has
// stopped.
func (r *chaosRun) readQueue(ctx context.Context, queue drivers.Queue) (map[int]string, error) {
	reasons := make(map[int]string)
	for {
		messages, err := queue.Receive(ctx, drivers.ReceiveRequest{Max: 100, VisibilityTimeout: time.Hour})
		if err != nil {
			return nil, fmt.Errorf("read queue %q: %w", queue.Name(), err)
		}
		if len(messages) == 0 {
			return reasons, nil
		}

		for _, msg := range messages {
			var body struct {
				Seq int `json:"seq"`
			}
			if err := json.Unmarshal(msg.Body, &body); err != nil {
				return nil, fmt.Errorf("message %s in queue %q has an invalid body %q: %w", msg.ID, queue.Name(), msg.Body, err)
			}
			reasons[body.Seq] = msg.UserAttributes[drivers.DeadLetterReasonAttribute].StringValue
		}
	}
}

// String returns the one-line summary the command prints. An sqs run adds
// its driver and same_receive_count after the duplicates.
func (s *summary) String() string {
	driver, duplicates := "", fmt.Sprintf("duplicates=%d", s.duplicates)
	if s.driver == driverSQS {
		driver = " driver=" + s.driver
		duplicates += fmt.Sprintf(" same_receive_count=%d", s.sameReceiveCount)
	}
	return fmt.Sprintf("chaos:%s messages=%d handled=%d dead_lettered=%d %s lost=%d left=%d plugin_kills=%d host_kills=%d"+
		" in_flight_at_kills=%d crash_dead_lettered=%d handled_and_dead_lettered=%d missing_reason=%d orphans=%d elapsed=%s seed=%d",
		driver, s.messages, s.handled, s.deadLettered, duplicates, len(s.lost), s.left, s.pluginKills, s.hostKills,
		s.inFlightAtKills, s.crashDeadLettered, s.handledAndDeadLettered, len(s.missingReason), len(s.orphans),
		s.elapsed.Round(time.Millisecond), s.seed)
}

// killedDuplicates returns the duplicates that kills can explain. On sqs
// these exclude the deliveries moto_server made twice itself, which no
// kill caused.
func (s *summary) killedDuplicates() int {
	if s.driver == driverSQS {
		return s.duplicates - s.sameReceiveCount
	}
	return s.duplicates
}

// problems lists every check the run failed.
func (s *summary) problems() []string {
	var problems []string
	if s.timedOut {
		problems = append(problems, fmt.Sprintf("the queue was not drained in time, %d messages were left", s.left))
	}
	if len(s.lost) > 0 {
		problems = append(problems, fmt.Sprintf("%d messages were lost: neither handled, dead-lettered nor left in the queue: seqs %s", len(s.lost), firstSeqs(s.lost)))
	}
	if len(s.missingReason) > 0 {
		problems = append(problems, fmt.Sprintf("%d dead-lettered messages have no %s attribute: seqs %s",
			len(s.missingReason), drivers.DeadLetterReasonAttribute, firstSeqs(s.missingReason)))
	}
	if s.killedDuplicates() > s.inFlightAtKills {
		problems = append(problems, fmt.Sprintf("%d duplicate handlings exceed the %d messages in flight at the kills", s.killedDuplicates(), s.inFlightAtKills))
	}
	if len(s.orphans) > 0 {
		problems = append(problems, fmt.Sprintf("plugin processes %v outlived their killed host by %s", s.orphans, pluginExitWait))
	}
	if s.hostExitCode != 0 {
		problems = append(problems, fmt.Sprintf("the host exited with status %d after SIGTERM, expected 0", s.hostExitCode))
	}
	return problems
}

// firstSeqs formats up to ten seqs for a message.
func firstSeqs(seqs []int) string {
	const limit = 10
	text := fmt.Sprint(seqs[:min(len(seqs), limit)])
	if len(seqs) > limit {
		text += fmt.Sprintf(" and %d more", len(seqs)-limit)
	}
	return text
}
