// Package testkit holds what the tests of several packages share: here, a
// buffer that captures the service's JSON log lines.
package testkit

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Buffer collects the lines of a JSON logger. The service's goroutines and
// the test may use it at once.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns all that was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the log lines written so far whose message is msg, each
// without its message.
func (b *Buffer) Lines(tb testing.TB, msg string) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for _, line := range b.All(tb) {
		if line["message"] == msg {
			delete(line, "message")
			lines = append(lines, line)
		}
	}
	return lines
}

// Messages returns the message of every log line written so far.
func (b *Buffer) Messages(tb testing.TB) []string {
	tb.Helper()
	var msgs []string
	for _, line := range b.All(tb) {
		msg, _ := line["message"].(string)
		msgs = append(msgs, msg)
	}
	return msgs
}

// All returns every log line written so far; the test fails at a line
// that is not JSON.
func (b *Buffer) All(tb testing.TB) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for raw := range strings.Lines(b.String()) {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", raw, err)
		}
		lines = append(lines, line)
	}
	return lines
}
