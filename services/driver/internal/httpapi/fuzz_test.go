package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// contractsDir is the repository's contracts/ folder.
const contractsDir = "../../../../contracts"

// FuzzDecodeTripCreated feeds the trip-created decoder, the one the
// handler and the dead-letter reason use, with arbitrary bodies. An event
// it refuses must be refused as invalid (so the handler drops it); an event
// it accepts must be a CloudEvent whose data the contract schema accepts,
// read again here independently of the decoder, and the trip must be
// exactly what that data says.
func FuzzDecodeTripCreated(f *testing.F) {
	example, err := os.ReadFile(filepath.Join(contractsDir, "examples", "trip-created.json"))
	if err != nil {
		f.Fatal(err)
	}
	const data = `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-11-27T09:30:00Z"}`
	envelope := func(data string) string {
		return `{"specversion":"1.0","id":"evt-1","source":"trip","type":"com.dapr.event.sent","topic":"trip-created","data":` + data + `}`
	}
	f.Add(example)
	for _, body := range []string{
		envelope(data),
		envelope(strconv.Quote(data)),
		envelope(strings.Replace(data, `{`, `{"promo":"SPRING",`, 1)),
		envelope(strings.Replace(data, `"lat":50.08`, `"lat":-90`, 1)),
		envelope(strings.Replace(data, `"lat":50.08`, `"lat":91`, 1)),
		envelope(strings.Replace(data, `"lon":14.26`, `"lon":1.8e2`, 1)),
		envelope(strings.Replace(data, `"rider-42"`, `"`+strings.Repeat("ř", 128)+`"`, 1)),
		envelope(strings.Replace(data, `"rider-42"`, `""`, 1)),
		envelope(strings.Replace(data, `2026-11-27T09:30:00Z`, `2026-11-27T10:30:00.25+01:00`, 1)),
		envelope(strings.Replace(data, `0b7e4d52`, `0B7E4D52`, 1)),
		envelope(strings.Replace(data, `"tripId"`, `"TripId"`, 1)),
		envelope(strings.Replace(data, `}`, `,"TRIPID":"not a uuid"}`, 1)),
		envelope(strings.Replace(data, `2026-11-27T09:30:00Z`, `2026-11-27t09:30:00.123456789123z`, 1)),
		envelope(strings.Replace(data, `2026-11-27T09:30:00Z`, `2026-11-27T9:30:00Z`, 1)),
		envelope(strings.Replace(data, `"lat":50.08`, `"lat":90.00000000000000001`, 1)),
		envelope(strings.Replace(data, `"lon":14.26`, `"lon":-180.0000000000000000001`, 1)),
		envelope(strings.Replace(data, `"lat":50.08`, `"lat":89.99999999999999999999`, 1)),
		envelope(strings.Replace(data, `"lat":50.08`, `"lat":1e-2000000`, 1)),
		envelope(strings.Replace(data, `2026-11-27T09:30:00Z`, `0001-01-01T00:00:00Z`, 1)),
		envelope(`null`),
		envelope(`"not json"`),
		envelope(`[` + data + `]`),
		envelope(data) + `{}`,
		`{"specversion":"0.3","id":"evt-1","source":"trip","type":"t","data":` + data + `}`,
		`not json`,
		``,
	} {
		f.Add([]byte(body))
	}
	schema := tripCreatedSchema(f)

	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decodeTripCreated(body)
		if err != nil {
			if !errors.Is(err, errInvalidEvent) {
				t.Fatalf("refused with %q, which does not wrap errInvalidEvent", err)
			}
			if ev.trip != (app.TripCreated{}) {
				t.Errorf("refused, yet returned the trip %+v", ev.trip)
			}
			return
		}
		checkSchemaRules(t, ev.trip)
		checkAgainstContract(t, schema, body, ev)
	})
}

// checkSchemaRules fails unless trip keeps every rule that
// contracts/schemas/trip-created.schema.json states of its values; that
// requestedAt was set is checked against the data itself, as
// 0001-01-01T00:00:00Z is a date-time, and Go's zero time.
func checkSchemaRules(t *testing.T, trip app.TripCreated) {
	t.Helper()
	if !isLowercaseUUID(trip.TripID) {
		t.Errorf("accepted tripId %q, not a lowercase UUID", trip.TripID)
	}
	if n := utf8.RuneCountInString(trip.RiderID); n < 1 || n > 128 || !utf8.ValidString(trip.RiderID) {
		t.Errorf("accepted riderId %q of %d characters, want 1 to 128", trip.RiderID, n)
	}
	for name, p := range map[string]driver.Position{"pickup": trip.Pickup, "dropoff": trip.Dropoff} {
		if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
			t.Errorf("accepted %s %v, outside [-90, 90] x [-180, 180]", name, p)
		}
	}
}

// isLowercaseUUID is the schema's tripId pattern, written out by hand.
func isLowercaseUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// checkAgainstContract reads the accepted body again as JSON Schema does
// (property names exactly as written, numbers exactly as written) and fails
// unless it is a CloudEvent whose data the schema accepts and ev says what
// that data says.
func checkAgainstContract(t *testing.T, schema *jsonschema.Schema, body []byte, ev tripCreatedEvent) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("accepted a body that is not one JSON value: %v", err)
	}
	ce, _ := doc.(map[string]any)
	for _, attr := range []string{"id", "source", "type"} {
		if v, _ := ce[attr].(string); v == "" {
			t.Errorf("accepted a CloudEvent without %s", attr)
		}
	}
	if ce["specversion"] != "1.0" || ce["id"] != ev.envelope.ID {
		t.Errorf("accepted specversion %v, id %v; read id %q", ce["specversion"], ce["id"], ev.envelope.ID)
	}
	data := ce["data"]
	if s, ok := data.(string); ok {
		if data, err = jsonschema.UnmarshalJSON(strings.NewReader(s)); err != nil {
			t.Fatalf("accepted data %q, a string that does not hold JSON: %v", s, err)
		}
	}
	// jsonschema v6.0.3 panics (a nil *big.Rat) on a number math/big cannot
	// read; the comparisons below still check such data.
	if _, unreadable := unreadableNumber(data); !unreadable {
		if err := schema.Validate(data); err != nil {
			t.Fatalf("accepted data that the contract refuses: %v", err)
		}
	}

	obj, _ := data.(map[string]any)
	got := ev.trip
	if got.TripID != obj["tripId"] || got.RiderID != obj["riderId"] || ev.tripID != got.TripID {
		t.Errorf("read trip %q of rider %q, the data says %v of %v", got.TripID, got.RiderID, obj["tripId"], obj["riderId"])
	}
	for name, p := range map[string]driver.Position{"pickup": got.Pickup, "dropoff": got.Dropoff} {
		point, _ := obj[name].(map[string]any)
		if !sameNumber(p.Lat, point["lat"]) || !sameNumber(p.Lon, point["lon"]) {
			t.Errorf("read %s %v, the data says %v", name, p, point)
		}
	}
	// RFC 3339 lets T and Z be written in lower case; time.Parse does not.
	requestedAt, _ := obj["requestedAt"].(string)
	if want, err := time.Parse(time.RFC3339Nano, strings.ToUpper(requestedAt)); err != nil || !got.RequestedAt.Equal(want) {
		t.Errorf("read requestedAt %v, the data says %q", got.RequestedAt, requestedAt)
	}
}

// sameNumber reports whether f is the JSON number n, rounded to the
// nearest float64.
func sameNumber(f float64, n any) bool {
	num, ok := n.(json.Number)
	if !ok {
		return false
	}
	want, err := strconv.ParseFloat(string(num), 64)
	return err == nil && f == want
}

// unreadableNumber returns a number in v that math/big cannot read (its
// exponent is too large), and whether there is one.
func unreadableNumber(v any) (json.Number, bool) {
	switch v := v.(type) {
	case json.Number:
		_, ok := new(big.Rat).SetString(string(v))
		return v, !ok
	case map[string]any:
		for _, e := range v {
			if n, ok := unreadableNumber(e); ok {
				return n, true
			}
		}
	case []any:
		for _, e := range v {
			if n, ok := unreadableNumber(e); ok {
				return n, true
			}
		}
	}
	return "", false
}

// tripCreatedSchema compiles the contract schema of trip-created.
func tripCreatedSchema(f *testing.F) *jsonschema.Schema {
	f.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(contractsDir, "schemas", "*.schema.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no schemas in %s: %v", contractsDir, err)
	}
	var id string
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			f.Fatalf("parse %s: %v", file, err)
		}
		docID, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(docID, doc); err != nil {
			f.Fatalf("add %s: %v", file, err)
		}
		if filepath.Base(file) == "trip-created.schema.json" {
			id = docID
		}
	}
	schema, err := c.Compile(id)
	if err != nil {
		f.Fatalf("compile %s: %v", id, err)
	}
	return schema
}
