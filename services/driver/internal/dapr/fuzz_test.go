package dapr

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/contracttest"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// referenceEnvelope states as a JSON Schema what the handlers take for a
// CloudEvent: specversion "1.0", an id, data that is not null, and the
// string attributes they read either strings or null.
const referenceEnvelope = `{
	"type": "object",
	"required": ["specversion", "id", "data"],
	"properties": {
		"specversion": {"const": "1.0"},
		"id": {"type": "string", "minLength": 1},
		"data": {"not": {"type": "null"}},
		"source": {"type": ["string", "null"]},
		"type": {"type": ["string", "null"]},
		"datacontenttype": {"type": ["string", "null"]},
		"subject": {"type": ["string", "null"]},
		"topic": {"type": ["string", "null"]},
		"pubsubname": {"type": ["string", "null"]},
		"traceid": {"type": ["string", "null"]},
		"traceparent": {"type": ["string", "null"]}
	}
}`

// FuzzDecodeTripCreated feeds the trip-created decoding (the envelope,
// then the data), the one its handler and the dead-letter reason use, with
// arbitrary bodies, and holds it to a reference read independently: the
// CloudEvent rules of referenceEnvelope, and the contract schema compiled
// from contracts/schemas on disk (not the embedded copy). It checks both
// directions: a body the reference accepts is accepted, and read as its
// data says; a body it refuses is refused with an error wrapping
// errInvalidEvent and no trip.
func FuzzDecodeTripCreated(f *testing.F) {
	example := contracttest.Example(f, app.TopicTripCreated)
	envelope := func(data string) string {
		return `{"specversion":"1.0","id":"evt-1","source":"trip","type":"com.dapr.event.sent","topic":"trip-created","data":` + data + `}`
	}
	f.Add(example)
	for _, body := range []string{
		envelope(exampleData),
		envelope(strconv.Quote(exampleData)),
		envelope(strings.Replace(exampleData, `{`, `{"promo":"SPRING",`, 1)),
		envelope(strings.Replace(exampleData, `"lat":50.08`, `"lat":-90`, 1)),
		envelope(strings.Replace(exampleData, `"lat":50.08`, `"lat":91`, 1)),
		envelope(strings.Replace(exampleData, `"lon":14.26`, `"lon":1.8e2`, 1)),
		envelope(strings.Replace(exampleData, `"rider-42"`, `"`+strings.Repeat("ř", 128)+`"`, 1)),
		envelope(strings.Replace(exampleData, `"rider-42"`, `""`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2026-11-27T10:30:00.25+01:00`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60Z`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2016-12-31T22:59:60-01:00`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2026-11-27T09:59:60Z`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2026-11-27T+9:30:00-+1:00`, 1)),
		envelope(strings.Replace(exampleData, `0b7e4d52`, `0B7E4D52`, 1)),
		envelope(strings.Replace(exampleData, `"tripId"`, `"TripId"`, 1)),
		envelope(strings.Replace(exampleData, `}`, `,"TRIPID":"not a uuid"}`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2026-11-27t09:30:00.123456789123z`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2026-11-27T9:30:00Z`, 1)),
		envelope(strings.Replace(exampleData, `"lat":50.08`, `"lat":90.00000000000000001`, 1)),
		envelope(strings.Replace(exampleData, `"lon":14.26`, `"lon":-180.0000000000000000001`, 1)),
		envelope(strings.Replace(exampleData, `"lat":50.08`, `"lat":89.99999999999999999999`, 1)),
		envelope(strings.Replace(exampleData, `"lat":50.08`, `"lat":1e-2000000`, 1)),
		envelope(strings.Replace(exampleData, `{`, `{"promo":1e-2000000,`, 1)),
		envelope(strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `0001-01-01T00:00:00Z`, 1)),
		envelope(`null`),
		envelope(`"not json"`),
		envelope(`[` + exampleData + `]`),
		envelope(exampleData) + `{}`,
		strings.Replace(envelope(exampleData), `"data"`, `"DATA"`, 1),
		strings.Replace(envelope(exampleData), `"id":"evt-1"`, `"id":"","ID":"evt-1"`, 1),
		strings.Replace(envelope(exampleData), `"source":"trip"`, `"source":7`, 1),
		`{"specversion":"0.3","id":"evt-1","source":"trip","type":"t","data":` + exampleData + `}`,
		`not json`,
		``,
	} {
		f.Add([]byte(body))
	}
	ref := newReference(f)

	f.Fuzz(func(t *testing.T, body []byte) {
		trip, err := decodeTripCreatedEvent(body)
		data, refErr := ref.check(body)
		if err != nil {
			if !errors.Is(err, errInvalidEvent) {
				t.Fatalf("refused with %q, which does not wrap errInvalidEvent", err)
			}
			if trip != (app.TripCreated{}) {
				t.Errorf("refused, yet returned the trip %+v", trip)
			}
			if refErr == nil {
				t.Fatalf("refused a body that the reference accepts: %v", err)
			}
			return
		}
		if refErr != nil {
			t.Fatalf("accepted a body that the reference refuses: %v", refErr)
		}
		checkTrip(t, data, trip)
	})
}

// decodeTripCreatedEvent decodes a trip-created CloudEvent as its handler
// does.
func decodeTripCreatedEvent(body []byte) (app.TripCreated, error) {
	e, err := readEnvelope(body)
	if err != nil {
		return app.TripCreated{}, err
	}
	return decodeTripCreated(e.RawData)
}

// reference decides independently of the decoder whether a trip-created
// CloudEvent is valid.
type reference struct {
	envelope, tripCreated *jsonschema.Schema
}

// newReference compiles referenceEnvelope and the contract schema of
// trip-created from contracts/schemas on disk.
func newReference(f *testing.F) reference {
	f.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(referenceEnvelope))
	if err != nil {
		f.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("reference-envelope.json", doc); err != nil {
		f.Fatal(err)
	}
	return reference{envelope: c.MustCompile("reference-envelope.json"), tripCreated: contracttest.Schema(f, app.TopicTripCreated)}
}

// check returns the data of body, a trip-created CloudEvent, or why the
// reference refuses it. The data may be a JSON string holding the object.
// A number that math/big cannot read is refused wherever it is in the
// data: jsonschema v6.0.3 panics on one (a nil *big.Rat) where it
// compares it.
func (r reference) check(body []byte) (map[string]any, error) {
	if len(body) > 64<<10 {
		return nil, errors.New("larger than 64 KiB")
	}
	ce, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if err := r.envelope.Validate(ce); err != nil {
		return nil, err
	}
	data := ce.(map[string]any)["data"]
	if s, ok := data.(string); ok {
		if data, err = jsonschema.UnmarshalJSON(strings.NewReader(s)); err != nil {
			return nil, err
		}
	}
	if hasUnreadableNumber(data) {
		return nil, errors.New("a number math/big cannot read")
	}
	if err := r.tripCreated.Validate(data); err != nil {
		return nil, err
	}
	return data.(map[string]any), nil
}

// hasUnreadableNumber reports whether v holds a number that math/big
// cannot read.
func hasUnreadableNumber(v any) bool {
	switch v := v.(type) {
	case json.Number:
		_, ok := new(big.Rat).SetString(string(v))
		return !ok
	case map[string]any:
		for _, e := range v {
			if hasUnreadableNumber(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasUnreadableNumber(e) {
				return true
			}
		}
	}
	return false
}

// checkTrip fails unless trip is what data, valid, says, read by exact
// names: numbers rounded to the nearest float64, the date-time in UTC.
func checkTrip(t *testing.T, data map[string]any, trip app.TripCreated) {
	t.Helper()
	if trip.TripID != data["tripId"] || trip.RiderID != data["riderId"] {
		t.Errorf("read trip %q of rider %q, the data says %v of %v", trip.TripID, trip.RiderID, data["tripId"], data["riderId"])
	}
	for name, p := range map[string]driver.Position{"pickup": trip.Pickup, "dropoff": trip.Dropoff} {
		point, _ := data[name].(map[string]any)
		if !sameNumber(p.Lat, point["lat"]) || !sameNumber(p.Lon, point["lon"]) {
			t.Errorf("read %s %v, the data says %v", name, p, point)
		}
		if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
			t.Errorf("read %s %v, outside [-90, 90] x [-180, 180]", name, p)
		}
	}
	s, _ := data["requestedAt"].(string)
	want, err := referenceTime(s)
	if err != nil {
		t.Fatalf("accepted requestedAt %q, which the reference cannot read: %v", s, err)
	}
	if !trip.RequestedAt.Equal(want) || trip.RequestedAt.Location() != time.UTC {
		t.Errorf("read requestedAt %v, the data says %q, %v", trip.RequestedAt, s, want)
	}
}

// sameNumber reports whether f is the JSON number n rounded to the nearest
// float64.
func sameNumber(f float64, n any) bool {
	num, ok := n.(json.Number)
	if !ok {
		return false
	}
	want, err := strconv.ParseFloat(string(num), 64)
	return err == nil && f == want
}

// referenceTime reads a date-time the schema accepted with time.Parse,
// once it is written the way time.Parse takes it: T and Z in upper case,
// two-character fields that strconv.Atoi read with a sign ("+9", "-0")
// with a 0 instead, and a leap second as :59 and one second more.
func referenceTime(s string) (time.Time, error) {
	b := []byte(strings.ToUpper(s))
	fields := []int{11, 14, 17} // hour, minute, second
	if b[len(b)-1] != 'Z' {
		fields = append(fields, len(b)-5, len(b)-2) // offset hour, minute
	}
	for _, i := range fields {
		if b[i] == '+' || b[i] == '-' {
			b[i] = '0'
		}
	}
	leap := string(b[17:19]) == "60"
	if leap {
		copy(b[17:19], "59")
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if leap {
		t = t.Add(time.Second)
	}
	return t, err
}
