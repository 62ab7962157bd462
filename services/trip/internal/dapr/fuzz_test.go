package dapr

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/contracttest"
)

// FuzzDecodeDriverAssigned: whatever the broker delivers, the decoder
// either returns an event whose data the contract schema accepts, read
// again here as JSON Schema reads it, and that says what that data says, or
// an invalid-event error (DROP); it never panics. It refuses only data the
// contract refuses too, or data outside what the service can represent.
func FuzzDecodeDriverAssigned(f *testing.F) {
	f.Add(contracttest.Example(f, "driver-assigned"))
	for _, body := range []string{
		envelope(assignedData),
		envelope(strconv.Quote(assignedData)),
		envelope(`"` + `{\"tripId\":\"` + exampleTripID + `\"}` + `"`),
		`{"specversion":"1.0","id":"x","data":{"etaSeconds":1e400}}`,
		`{"specversion":"1.0","id":"x","data":null}`,
		`{"specversion":"1.0","id":"x","Data":` + assignedData + `}`,
		envelope(assignedData) + `{}`,
		envelope(strings.Replace(assignedData, `"tripId"`, `"TripId"`, 1)),
		envelope(strings.Replace(assignedData, `}`, `,"TRIPID":"not a uuid"}`, 1)),
		envelope(strings.Replace(assignedData, `"plate"`, `"Plate"`, 1)),
		envelope(strings.Replace(assignedData, `240`, `240.0`, 1)),
		envelope(strings.Replace(assignedData, `240`, `2.4e2`, 1)),
		envelope(strings.Replace(assignedData, `240`, `1e400`, 1)),
		envelope(strings.Replace(assignedData, `240`, `1e-999999999999`, 1)),
		envelope(strings.Replace(assignedData, `240`, `0e10000000000000000000`, 1)),
		envelope(strings.Replace(assignedData, `240`, `9223372036854775808`, 1)),
		envelope(strings.Replace(assignedData, `240`, `92233720368547758070e-1`, 1)),
		envelope(strings.Replace(assignedData, `T09:30:01Z`, `t09:30:01z`, 1)),
		envelope(strings.Replace(assignedData, `T09:30:01Z`, `T0:00:00Z`, 1)),
		envelope(strings.Replace(assignedData, `T09:30:01Z`, `T+9:30:01Z`, 1)),
		envelope(strings.Replace(assignedData, `2026-11-27T09:30:01Z`, `2016-12-31T22:59:60.5-01:00`, 1)),
		envelope(strings.Replace(assignedData, `"r"`, `"`+strings.Repeat("ř", 129)+`"`, 1)),
	} {
		f.Add([]byte(body))
	}
	schema := contracttest.Schema(f, TopicDriverAssigned)
	f.Fuzz(func(t *testing.T, body []byte) {
		ce, err := decodeCloudEvent(body)
		if err != nil {
			requireInvalid(t, err)
			return
		}
		e, err := decodeDriverAssigned(ce.Data)
		if err != nil {
			requireInvalid(t, err)
			requireContractRefuses(t, schema, body, "assignedAt")
			return
		}
		data := acceptedData(t, body)
		requireTripID(t, e.TripID)
		if e.TripID != data["tripId"] {
			t.Errorf("read tripId %q, the data says %v", e.TripID, data["tripId"])
		}
		driver, _ := data["driver"].(map[string]any)
		car, _ := driver["car"].(map[string]any)
		got := []string{e.Driver.ID, e.Driver.Name, e.Driver.Car.Make, e.Driver.Car.Model, e.Driver.Car.Color, e.Driver.Car.Plate}
		want := []any{driver["id"], driver["name"], car["make"], car["model"], car["color"], car["plate"]}
		for i := range got {
			if got[i] == "" || got[i] != want[i] {
				t.Errorf("read driver %+v, the data says %v", e.Driver, driver)
				break
			}
		}
		// A number math/big cannot read gets no verdict from contractVerdict either.
		if eta, ok := new(big.Rat).SetString(string(jsonNumber(data["etaSeconds"]))); e.ETASeconds < 0 || ok && eta.Cmp(big.NewRat(int64(e.ETASeconds), 1)) != 0 {
			t.Errorf("read etaSeconds %d, the data says %v", e.ETASeconds, data["etaSeconds"])
		}
		requireTime(t, e.AssignedAt, data["assignedAt"])
		requireContractAccepts(t, schema, data)
	})
}

// FuzzDecodeTripCreated: as FuzzDecodeDriverAssigned, for trip-created,
// which the service reads back from its own subscription.
func FuzzDecodeTripCreated(f *testing.F) {
	f.Add(contracttest.Example(f, "trip-created"))
	for _, body := range []string{
		envelope(createdData),
		envelope(strconv.Quote(createdData)),
		envelope(strings.Replace(createdData, `"lat":50.08`, `"lat":90.00000000000000001`, 1)),
		envelope(strings.Replace(createdData, `"lat":50.08`, `"lat":1e400`, 1)),
		envelope(strings.Replace(createdData, `"lat":50.08`, `"lat":-0e-999999999999`, 1)),
		envelope(strings.Replace(createdData, `"pickup"`, `"Pickup"`, 1)),
		envelope(strings.Replace(createdData, `"lon":14.26`, `"LON":14.26`, 1)),
		envelope(strings.Replace(createdData, `T09:30:00Z`, `t09:30:00z`, 1)),
		envelope(strings.Replace(createdData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60Z`, 1)),
	} {
		f.Add([]byte(body))
	}
	schema := contracttest.Schema(f, TopicTripCreated)
	f.Fuzz(func(t *testing.T, body []byte) {
		ce, err := decodeCloudEvent(body)
		if err != nil {
			requireInvalid(t, err)
			return
		}
		e, err := decodeTripCreated(ce.Data)
		if err != nil {
			requireInvalid(t, err)
			requireContractRefuses(t, schema, body, "requestedAt")
			return
		}
		data := acceptedData(t, body)
		requireTripID(t, e.TripID)
		if e.TripID != data["tripId"] || e.RiderID != data["riderId"] {
			t.Errorf("read trip %s of rider %q, the data says %v", e.TripID, e.RiderID, data)
		}
		for name, p := range map[string]app.Point{"pickup": e.Pickup, "dropoff": e.Dropoff} {
			point, _ := data[name].(map[string]any)
			for coord, got := range map[string]float64{"lat": p.Lat, "lon": p.Lon} {
				want, err := strconv.ParseFloat(string(jsonNumber(point[coord])), 64)
				if err != nil && !errors.Is(err, strconv.ErrRange) || got != want {
					t.Errorf("read %s.%s %v, the data says %v", name, coord, got, point[coord])
				}
			}
		}
		requireTime(t, e.RequestedAt, data["requestedAt"])
		requireContractAccepts(t, schema, data)
	})
}

// FuzzDecodeDriverNotFound: as FuzzDecodeDriverAssigned, for
// driver-not-found.
func FuzzDecodeDriverNotFound(f *testing.F) {
	const data = `{"tripId":"` + exampleTripID + `","riderId":"r","reason":"x","decidedAt":"2026-11-27T09:31:00+01:00"}`
	f.Add(contracttest.Example(f, "driver-not-found"))
	for _, body := range []string{
		envelope(data),
		envelope(strconv.Quote(data)),
		envelope(`{"tripId":"` + exampleTripID + `","riderId":"","reason":"","decidedAt":"2026-13-01T00:00:00Z"}`),
		envelope(strings.Replace(data, `"decidedAt"`, `"DecidedAt"`, 1)),
		envelope(strings.Replace(data, `}`, `,"REASON":""}`, 1)),
		envelope(strings.Replace(data, `T09:31:00+01:00`, `t09:31:00z`, 1)),
		envelope(strings.Replace(data, `T09:31:00+01:00`, `T0:00:00Z`, 1)),
		envelope(strings.Replace(data, `T09:31:00+01:00`, `T09:31:00,5Z`, 1)),
		envelope(strings.Replace(data, `2026-11-27T09:31:00+01:00`, `2016-12-31T23:59:60Z`, 1)),
	} {
		f.Add([]byte(body))
	}
	schema := contracttest.Schema(f, TopicDriverNotFound)
	f.Fuzz(func(t *testing.T, body []byte) {
		ce, err := decodeCloudEvent(body)
		if err != nil {
			requireInvalid(t, err)
			return
		}
		e, err := decodeDriverNotFound(ce.Data)
		if err != nil {
			requireInvalid(t, err)
			requireContractRefuses(t, schema, body, "decidedAt")
			return
		}
		data := acceptedData(t, body)
		requireTripID(t, e.TripID)
		if e.TripID != data["tripId"] {
			t.Errorf("read tripId %q, the data says %v", e.TripID, data["tripId"])
		}
		requireTime(t, e.DecidedAt, data["decidedAt"])
		requireContractAccepts(t, schema, data)
	})
}

func requireInvalid(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, errInvalidEvent) {
		t.Fatalf("refused with %v, which does not wrap errInvalidEvent: the event would be retried forever", err)
	}
}

func requireTripID(t *testing.T, id string) {
	t.Helper()
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		t.Errorf("accepted trip id %q, want a lowercase UUID", id)
	}
}

// contractData reads the data of the CloudEvent body the way JSON Schema
// does, independently of the decoder: property names exactly as written,
// numbers as written. It reports false when the data is a string that does
// not hold JSON.
func contractData(t *testing.T, body []byte) (any, bool) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("accepted a CloudEvent that is not one JSON value: %v", err)
	}
	ce, _ := doc.(map[string]any)
	data := ce["data"]
	if s, ok := data.(string); ok {
		data, err = jsonschema.UnmarshalJSON(strings.NewReader(s))
		return data, err == nil
	}
	return data, true
}

// contractVerdict reports whether the schema judges data, and its verdict: the jsonschema library cannot read a number that math/big cannot
// (an exponent beyond a million or beyond int64, as in
// 0e10000000000000000000, which is the integer 0), and may panic on other
// data. Without a verdict the caller's other checks still stand.
func contractVerdict(schema *jsonschema.Schema, data any) (judged bool, verdict error) {
	if _, ok := unreadableNumber(data); ok {
		return false, nil
	}
	defer func() {
		if recover() != nil {
			judged, verdict = false, nil
		}
	}()
	return true, schema.Validate(data)
}

// acceptedData returns the data of an accepted CloudEvent body, read as
// JSON Schema reads it; it fails unless that is an object.
func acceptedData(t *testing.T, body []byte) map[string]any {
	t.Helper()
	data, ok := contractData(t, body)
	obj, isObject := data.(map[string]any)
	if !ok || !isObject {
		t.Fatalf("accepted data that is not an object: %s", body)
	}
	return obj
}

// requireContractAccepts fails unless the schema accepts data.
func requireContractAccepts(t *testing.T, schema *jsonschema.Schema, data map[string]any) {
	t.Helper()
	if judged, err := contractVerdict(schema, data); judged && err != nil {
		t.Fatalf("accepted data that the contract refuses: %v", err)
	}
}

// signedField is a time field that starts with a sign (T+9:30:00Z):
// jsonschema v6.0.2 reads the fields with strconv.Atoi and takes it, RFC
// 3339 wants two digits.
var signedField = regexp.MustCompile(`[Tt:+-][+-]`)

// requireContractRefuses fails if the schema accepts the data of the
// CloudEvent body that the decoder refused, unless the service rightly
// refuses it: an etaSeconds beyond int, or a date-time in its field
// dateTime that only the library's reading takes.
func requireContractRefuses(t *testing.T, schema *jsonschema.Schema, body []byte, dateTime string) {
	t.Helper()
	data, ok := contractData(t, body)
	if _, unreadable := unreadableNumber(data); !ok || unreadable {
		return // no verdict to compare with
	}
	if obj, ok := data.(map[string]any); ok {
		if s, _ := obj[dateTime].(string); signedField.MatchString(s) {
			return
		}
		if eta, ok := new(big.Rat).SetString(string(jsonNumber(obj["etaSeconds"]))); ok && eta.IsInt() && !eta.Num().IsInt64() {
			return
		}
	}
	if judged, err := contractVerdict(schema, data); judged && err == nil {
		t.Fatalf("refused data that the contract accepts: %s", body)
	}
}

// requireTime fails unless got is the date-time v, in UTC.
func requireTime(t *testing.T, got time.Time, v any) {
	t.Helper()
	s, _ := v.(string)
	want, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil && len(s) > 19 && s[17:19] == "60" {
		// A leap second, which time.Parse refuses: the second after :59.
		want, err = time.Parse(time.RFC3339Nano, strings.ToUpper(s[:17]+"59"+s[19:]))
		want = want.Add(time.Second)
	}
	if err != nil || !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("read %v, the data says %q", got, s)
	}
}

// unreadableNumber returns a number in v that math/big cannot read, and
// whether there is one.
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

func jsonNumber(v any) json.Number {
	n, _ := v.(json.Number)
	return n
}
