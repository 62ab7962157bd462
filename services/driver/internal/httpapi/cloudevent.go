package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxEventBytes is the largest event body accepted.
const maxEventBytes = 64 << 10

// errInvalidEvent marks an event that can never be handled: not a
// CloudEvent, or data that violates the schema of its topic.
var errInvalidEvent = errors.New("invalid event")

// cloudEvent is the part of a CloudEvents 1.0 envelope (JSON format) that
// the service reads; other attributes and extensions are ignored.
type cloudEvent struct {
	SpecVersion string
	ID          string
	Source      string
	Type        string
	TraceParent string
	Data        json.RawMessage
}

// UnmarshalJSON decodes the attributes by their exact names.
func (ce *cloudEvent) UnmarshalJSON(b []byte) error {
	return decodeObject(b,
		property{"specversion", &ce.SpecVersion},
		property{"id", &ce.ID},
		property{"source", &ce.Source},
		property{"type", &ce.Type},
		property{"traceparent", &ce.TraceParent},
		property{"data", &ce.Data},
	)
}

// decodeCloudEvent decodes body as exactly one CloudEvent of at most
// maxEventBytes with the required attributes and data. When body is JSON
// but not such an event, the event returned with the error holds what was
// read, for the log.
func decodeCloudEvent(body []byte) (cloudEvent, error) {
	if len(body) > maxEventBytes {
		return cloudEvent{}, fmt.Errorf("body is larger than %d bytes", maxEventBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var ce cloudEvent
	if err := dec.Decode(&ce); err != nil {
		return cloudEvent{}, fmt.Errorf("body is not a JSON CloudEvent: %w", err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return ce, errors.New("body holds more than one JSON value")
	}
	switch {
	case ce.SpecVersion != "1.0":
		return ce, fmt.Errorf("not a CloudEvent: specversion is %q, want \"1.0\"", ce.SpecVersion)
	case ce.ID == "" || ce.Source == "" || ce.Type == "":
		return ce, errors.New("not a CloudEvent: id, source and type are required")
	case len(ce.Data) == 0 || string(ce.Data) == "null":
		return ce, errors.New("event has no data")
	}
	return ce, nil
}

// decodeData decodes the event's data into v. The data is a JSON object, or,
// for events that came through Dapr's outbox, a JSON string holding one.
func (ce cloudEvent) decodeData(v any) error {
	raw := bytes.TrimSpace(ce.Data)
	if bytes.HasPrefix(raw, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("data is not JSON: %w", err)
		}
		raw = []byte(s)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("data does not fit the schema: %w", err)
	}
	return nil
}

// traceParent returns the event's W3C traceparent, from the envelope or
// else from the request daprd made.
func (ce cloudEvent) traceParent(r *http.Request) string {
	if ce.TraceParent != "" {
		return ce.TraceParent
	}
	return r.Header.Get("traceparent")
}

// traceID returns the trace id part of a traceparent, or "" when there is
// none (daprd sends an all-zero id when tracing is off).
func traceID(traceParent string) string {
	parts := strings.Split(traceParent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 || strings.Trim(parts[1], "0") == "" {
		return ""
	}
	return parts[1]
}
