package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// cloudEvent is the envelope Dapr delivers events in (CloudEvents 1.0 in
// JSON), reduced to what the service reads. Other attributes are ignored.
// Topic, an attribute Dapr adds, names the topic the event was published
// on: it tells which topic a dead letter comes from.
type cloudEvent struct {
	SpecVersion string          `json:"specversion"`
	ID          string          `json:"id"`
	Source      string          `json:"source"`
	Type        string          `json:"type"`
	Topic       string          `json:"topic"`
	TraceParent string          `json:"traceparent"`
	Data        json.RawMessage `json:"data"`
}

// decodeCloudEvent decodes the body of a delivery. Its errors wrap
// errInvalidEvent.
func decodeCloudEvent(body []byte) (cloudEvent, error) {
	if len(body) > maxEventBytes {
		return cloudEvent{}, fmt.Errorf("%w: larger than %d bytes", errInvalidEvent, maxEventBytes)
	}
	var ce cloudEvent
	if err := json.Unmarshal(body, &ce); err != nil {
		return cloudEvent{}, fmt.Errorf("%w: not a JSON CloudEvent: %w", errInvalidEvent, err)
	}
	if ce.SpecVersion != "1.0" || ce.ID == "" || ce.Source == "" || ce.Type == "" {
		return cloudEvent{}, fmt.Errorf("%w: not a CloudEvent 1.0: specversion %q, id, source and type are required",
			errInvalidEvent, ce.SpecVersion)
	}
	return ce, nil
}

// object returns the event's data, which must be a JSON object: the object
// itself, or a JSON string holding it (as events that come through Dapr's
// transactional outbox carry it). Its errors wrap errInvalidEvent.
func (ce cloudEvent) object() (object, error) {
	raw := bytes.TrimSpace(ce.Data)
	if len(raw) == 0 {
		return object{}, fmt.Errorf("%w: no data", errInvalidEvent)
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return object{}, fmt.Errorf("%w: data: %w", errInvalidEvent, err)
		}
		raw = []byte(s)
	}
	o, err := parseObject(raw)
	if err != nil {
		return object{}, fmt.Errorf("%w: data: %w", errInvalidEvent, err)
	}
	return o, nil
}
