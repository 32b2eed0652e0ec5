package config

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// listenerNamePattern matches valid listener names: a letter or digit
// followed by letters, digits, '_', '.' and '-'.
var listenerNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// listenerSchema lists the attributes of a listener block.
var listenerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "plugin"},
		{Name: "queue"},
		{Name: "workers"},
		{Name: "auto_ack"},
		{Name: "visibility_timeout"},
		{Name: "max_messages"},
		{Name: "retry_on_error"},
		{Name: "max_retries"},
		{Name: "retry_delay"},
		{Name: "max_retry_delay"},
		{Name: "dead_letter_queue"},
		{Name: "handler_timeout"},
		{Name: "crash_limit"},
		{Name: "restart_limit"},
		{Name: "memory_limit"},
		{Name: "cpu_limit"},
		{Name: "driver"},
		{Name: "sha256"},
		{Name: "env"},
		{Name: "config"},
	},
}

// decodeListeners appends one Listener per block to d.cfg.Listeners and
// checks that names are valid and unique.
func (d *decoder) decodeListeners(blocks []*hcl.Block) {
	seen := make(map[string]*hcl.Block)
	for _, block := range blocks {
		name := block.Labels[0]
		labelRange := block.LabelRanges[0]

		if first, ok := seen[name]; ok {
			d.addError(labelRange, block.DefRange, "Duplicate listener name",
				fmt.Sprintf("A listener named %q is defined already, at line %d. Give each listener a unique name.", name, first.DefRange.Start.Line))
		} else {
			seen[name] = block
		}

		if !listenerNamePattern.MatchString(name) {
			d.addError(labelRange, block.DefRange, "Invalid listener name",
				fmt.Sprintf("The listener name %s must start with a letter or digit and contain only letters, digits, '_', '.' and '-'.", d.quote(name)))
		}

		d.cfg.Listeners = append(d.cfg.Listeners, d.decodeListener(block))
	}
}

// decodeListener decodes one listener block and applies the defaults.
func (d *decoder) decodeListener(block *hcl.Block) Listener {
	content, diags := block.Body.Content(listenerSchema)
	d.diags = append(d.diags, diags...)
	attrs := content.Attributes

	listener := Listener{
		Name:  block.Labels[0],
		Range: block.DefRange,
	}

	listener.Plugin = d.pluginPath(block, attrs["plugin"])
	listener.SHA256 = d.sha256(attrs["sha256"])
	listener.Queue = d.requiredString(block, attrs, "queue", "the name of the queue it receives from")
	listener.Driver = d.listenerDriver(block, attrs["driver"])

	listener.Workers = d.optionalInt(attrs, "workers", DefaultWorkers, 1, MaxWorkers)
	listener.AutoAck = d.optionalBool(attrs, "auto_ack", DefaultAutoAck)
	listener.VisibilityTimeout = d.optionalDuration(attrs, "visibility_timeout", DefaultVisibilityTimeout,
		durationLimits{min: MinVisibilityTimeout, max: MaxVisibilityTimeout, wholeSeconds: true})
	listener.MaxMessages = d.optionalInt(attrs, "max_messages", DefaultMaxMessages, 1, MaxMaxMessages)
	d.checkSQSMaxMessages(attrs["max_messages"], listener)
	listener.HandlerTimeout = d.optionalDuration(attrs, "handler_timeout", 0, durationLimits{})
	listener.CrashLimit = d.optionalInt(attrs, "crash_limit", DefaultCrashLimit, 1, MaxCrashLimit)
	listener.RestartLimit = d.optionalInt(attrs, "restart_limit", DefaultRestartLimit, 1, MaxRestartLimit)
	listener.MemoryLimit = d.memoryLimit(attrs["memory_limit"])
	listener.CPULimit = d.optionalDuration(attrs, "cpu_limit", 0, durationLimits{wholeSeconds: true})

	listener.RetryOnError = d.optionalBool(attrs, "retry_on_error", DefaultRetryOnError)
	listener.MaxRetries = d.optionalInt(attrs, "max_retries", DefaultMaxRetries, 0, MaxMaxRetries)
	d.decodeRetryDelays(attrs, &listener)
	listener.DeadLetterQueue = d.deadLetterQueue(attrs["dead_letter_queue"], listener.Queue)

	listener.Env = d.envList(attrs["env"])
	listener.Config = d.pluginConfig(attrs["config"])
	return listener
}

// MaxSQSMaxMessages is the largest max_messages of a listener on the sqs
// driver: one SQS ReceiveMessage call returns at most 10 messages.
const MaxSQSMaxMessages = 10

// checkSQSMaxMessages rejects a max_messages above MaxSQSMaxMessages on a
// listener whose driver is sqs.
func (d *decoder) checkSQSMaxMessages(attr *hcl.Attribute, listener Listener) {
	if attr == nil || listener.Driver != DriverSQS || listener.MaxMessages <= MaxSQSMaxMessages {
		return
	}

	d.invalidValue(attr, "max_messages must be at most %d for a listener on the sqs driver, because one SQS receive returns at most %d messages, got %d.",
		MaxSQSMaxMessages, MaxSQSMaxMessages, listener.MaxMessages)
}

// requiredString returns the named string attribute, recording an error
// when it is absent or empty. purpose completes the sentence "must set
// NAME, ...".
func (d *decoder) requiredString(block *hcl.Block, attrs hcl.Attributes, name, purpose string) string {
	attr := attrs[name]
	value, state := d.stringValue(attr)

	switch {
	case state == absent:
		d.addError(block.DefRange, block.DefRange, "Missing "+name,
			fmt.Sprintf("The listener %q must set %s, %s.", block.Labels[0], name, purpose))
	case state == valid && value == "":
		d.invalidValue(attr, "%s must not be empty. Set it to %s.", name, purpose)
	}
	return value
}

// decodeRetryDelays sets RetryDelay and MaxRetryDelay and checks that the
// cap is not below the base.
func (d *decoder) decodeRetryDelays(attrs hcl.Attributes, listener *Listener) {
	errorsBefore := len(d.diags.Errs())
	// A zero delay would retry at once, in a tight loop, so backoff needs a
	// positive base.
	listener.RetryDelay = d.optionalDuration(attrs, "retry_delay", DefaultRetryDelay, durationLimits{min: MinRetryDelay})
	listener.MaxRetryDelay = d.optionalDuration(attrs, "max_retry_delay", DefaultMaxRetryDelay, durationLimits{min: MinRetryDelay})
	if len(d.diags.Errs()) > errorsBefore || listener.MaxRetryDelay >= listener.RetryDelay {
		return
	}

	detail := fmt.Sprintf("max_retry_delay (%s) must be at least retry_delay (%s). Raise max_retry_delay or lower retry_delay.",
		listener.MaxRetryDelay, listener.RetryDelay)
	if attr, ok := attrs["max_retry_delay"]; ok {
		d.invalidValue(attr, "%s", detail)
		return
	}
	d.invalidValue(attrs["retry_delay"], "%s", detail)
}

// deadLetterQueue returns dead_letter_queue, which may be absent but must
// differ from the listener's queue.
func (d *decoder) deadLetterQueue(attr *hcl.Attribute, queue string) string {
	dlq, state := d.stringValue(attr)
	if state != valid {
		return ""
	}

	if dlq != "" && dlq == queue {
		d.invalidValue(attr, "dead_letter_queue must differ from queue %q, because failed messages would return to the queue they failed on.", queue)
		return ""
	}
	return dlq
}

// listenerDriver returns the kind of the driver the listener uses: the
// driver attribute, or the default when it is absent.
func (d *decoder) listenerDriver(block *hcl.Block, attr *hcl.Attribute) string {
	kind, state := d.stringValue(attr)
	if state == failed || len(d.cfg.Drivers) == 0 {
		// The invalid value, or the driver blocks that are all invalid, are
		// reported already.
		return kind
	}

	if state == absent {
		kind = d.listenerDriverDefault()
		if kind == "" {
			d.addError(block.DefRange, block.DefRange, "Missing driver",
				fmt.Sprintf("The file defines several driver blocks (%s) and none is sqlite, so the listener %q must set driver to one of them.", d.driverKindList(), block.Labels[0]))
		}
		return kind
	}

	if !d.hasDriver(kind) {
		d.invalidValue(attr, `driver must be the kind of a driver block in this file (%s), got %s. Add a driver %s block or use a defined kind.`,
			d.driverKindList(), d.quote(kind), d.quote(kind))
	}
	return kind
}

// sha256 returns the sha256 attribute in lower case after checking that it
// is 64 hexadecimal digits.
func (d *decoder) sha256(attr *hcl.Attribute) string {
	sum, state := d.stringValue(attr)
	if state != valid {
		return ""
	}

	if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 {
		d.invalidValue(attr, "sha256 must be 64 hexadecimal digits, as printed by sha256sum, got %s.", d.quote(sum))
		return ""
	}
	return strings.ToLower(sum)
}
