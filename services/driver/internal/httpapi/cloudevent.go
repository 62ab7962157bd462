package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// maxEventBytes is the largest event body accepted.
const maxEventBytes = 64 << 10

// cloudEvent is the part of a CloudEvents 1.0 envelope (JSON format) that
// the service reads; other attributes and extensions are ignored.
type cloudEvent struct {
	SpecVersion string          `json:"specversion"`
	ID          string          `json:"id"`
	Source      string          `json:"source"`
	Type        string          `json:"type"`
	TraceParent string          `json:"traceparent"`
	Data        json.RawMessage `json:"data"`
}

// decodeCloudEvent reads the request body as exactly one CloudEvent of at
// most maxEventBytes with the required attributes and data. When the body
// is JSON but not such an event, the event returned with the error holds
// what was read, for the log.
func decodeCloudEvent(w http.ResponseWriter, r *http.Request) (cloudEvent, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxEventBytes))
	var ce cloudEvent
	if err := dec.Decode(&ce); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return cloudEvent{}, fmt.Errorf("body is larger than %d bytes", maxEventBytes)
		}
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

// uuidPattern is the tripId pattern of contracts/schemas.
var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// tripCreatedData is the data of a trip-created event as received
// (contracts/schemas/trip-created.schema.json); unknown properties are
// ignored.
type tripCreatedData struct {
	TripID      string     `json:"tripId"`
	RiderID     string     `json:"riderId"`
	Pickup      *pointData `json:"pickup"`
	Dropoff     *pointData `json:"dropoff"`
	RequestedAt string     `json:"requestedAt"`
}

type pointData struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

// trip validates d against the schema and returns the trip it describes.
func (d tripCreatedData) trip() (app.TripCreated, error) {
	if !uuidPattern.MatchString(d.TripID) {
		return app.TripCreated{}, fmt.Errorf("tripId %q is not a lowercase UUID", d.TripID)
	}
	if n := utf8.RuneCountInString(d.RiderID); n < 1 || n > 128 {
		return app.TripCreated{}, fmt.Errorf("riderId has %d characters, want 1 to 128", n)
	}
	pickup, err := d.Pickup.position("pickup")
	if err != nil {
		return app.TripCreated{}, err
	}
	dropoff, err := d.Dropoff.position("dropoff")
	if err != nil {
		return app.TripCreated{}, err
	}
	requestedAt, err := time.Parse(time.RFC3339Nano, d.RequestedAt)
	if err != nil {
		return app.TripCreated{}, fmt.Errorf("requestedAt %q is not an RFC 3339 date-time", d.RequestedAt)
	}
	return app.TripCreated{TripID: d.TripID, RiderID: d.RiderID, Pickup: pickup, Dropoff: dropoff, RequestedAt: requestedAt}, nil
}

func (p *pointData) position(name string) (driver.Position, error) {
	if p == nil || p.Lat == nil || p.Lon == nil {
		return driver.Position{}, fmt.Errorf("%s needs lat and lon", name)
	}
	pos := driver.Position{Lat: *p.Lat, Lon: *p.Lon}
	if err := pos.Validate(); err != nil {
		return driver.Position{}, fmt.Errorf("%s: %w", name, err)
	}
	return pos, nil
}
