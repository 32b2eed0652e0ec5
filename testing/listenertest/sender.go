package listenertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/vega-host/vega-host/pluginapi"
)

// SentMessage is a message that the listener sent through
// StartupInfo.Sender.
type SentMessage struct {
	// ID is the id that Send returned.
	ID string
	// Queue is the queue the message was sent to.
	Queue string
	// Body is the message body as sent.
	Body           []byte
	UserAttributes map[string]pluginapi.Attribute
	// Delay is how long the message stays invisible after it is sent.
	Delay time.Duration
}

// Decode unmarshals the JSON body into v.
func (m SentMessage) Decode(v any) error {
	if err := json.Unmarshal(m.Body, v); err != nil {
		return fmt.Errorf("decode message %s sent to queue %q: %w", m.ID, m.Queue, err)
	}
	return nil
}

var _ pluginapi.Sender = (*recordingSender)(nil)

// recordingSender records every message sent and passes it on to forward
// when that is set.
type recordingSender struct {
	forward pluginapi.Sender

	mu   sync.Mutex
	sent []SentMessage
}

// Send checks the message as the host does, records it and returns its id.
func (s *recordingSender) Send(ctx context.Context, queue string, msg pluginapi.OutgoingMessage) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("send to queue %q: %w", queue, err)
	}
	if queue == "" {
		return "", errors.New("send: the queue name is empty")
	}
	if msg.Delay < 0 {
		return "", fmt.Errorf("send to queue %q: delay %s is invalid, must be zero or positive", queue, msg.Delay)
	}

	sent := SentMessage{
		Queue:          queue,
		Body:           bytes.Clone(msg.Body),
		UserAttributes: maps.Clone(msg.UserAttributes),
		Delay:          msg.Delay,
	}

	if s.forward != nil {
		id, err := s.forward.Send(ctx, queue, msg)
		if err != nil {
			return "", err
		}
		sent.ID = id
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if sent.ID == "" {
		sent.ID = "sent-" + strconv.Itoa(len(s.sent)+1)
	}
	s.sent = append(s.sent, sent)
	return sent.ID, nil
}

func (s *recordingSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// since returns the messages sent after the first n.
func (s *recordingSender) since(n int) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent[n:]...)
}

func (s *recordingSender) all() []SentMessage {
	return s.since(0)
}
