package dapr

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/contracttest"
)

// FuzzDecodeDriverAssigned: see fuzzDecoder; the event says what the data
// says, its ETA saturated at what a trip keeps.
func FuzzDecodeDriverAssigned(f *testing.F) {
	seeds := []string{
		cloudEvent(assignedData),
		cloudEvent(strconv.Quote(assignedData)),
		cloudEvent(`"` + `{\"tripId\":\"` + exampleTripID + `\"}` + `"`),
		`{"specversion":"1.0","id":"x","data":{"etaSeconds":1e400}}`,
		`{"specversion":"1.0","id":"x","data":null}`,
		`{"specversion":"1.0","id":"x","Data":` + assignedData + `}`,
		cloudEvent(assignedData) + `{}`,
		cloudEvent(strings.Replace(assignedData, `"tripId"`, `"TripId"`, 1)),
		cloudEvent(strings.Replace(assignedData, `}`, `,"TRIPID":"not a uuid"}`, 1)),
		cloudEvent(strings.Replace(assignedData, `"plate"`, `"Plate"`, 1)),
		cloudEvent(strings.Replace(assignedData, `240`, `240.0`, 1)),
		cloudEvent(strings.Replace(assignedData, `240`, `2.4e2`, 1)),
		cloudEvent(strings.Replace(assignedData, `240`, `1e400`, 1)),
		cloudEvent(strings.Replace(assignedData, `240`, `1e-999999999999`, 1)),
		cloudEvent(strings.Replace(assignedData, `240`, `0e10000000000000000000`, 1)),
		cloudEvent(strings.Replace(assignedData, `240`, `9223372036854775808`, 1)),
		cloudEvent(strings.Replace(assignedData, `240`, `92233720368547758070e-1`, 1)),
		cloudEvent(strings.Replace(assignedData, `T09:30:01Z`, `t09:30:01z`, 1)),
		cloudEvent(strings.Replace(assignedData, `T09:30:01Z`, `T0:00:00Z`, 1)),
		cloudEvent(strings.Replace(assignedData, `T09:30:01Z`, `T+9:30:01Z`, 1)),
		cloudEvent(strings.Replace(assignedData, `2026-11-27T09:30:01Z`, `2016-12-31T22:59:60.5-01:00`, 1)),
		cloudEvent(strings.Replace(assignedData, `"r"`, `"`+strings.Repeat("ř", 129)+`"`, 1)),
	}
	fuzzDecoder(f, TopicDriverAssigned, seeds, decodeDriverAssigned, func(t *testing.T, e app.DriverAssigned, data map[string]any) {
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
		// Beyond what a trip keeps (int32 seconds), the decoder saturates.
		eta, _ := new(big.Rat).SetString(string(jsonNumber(data["etaSeconds"])))
		if eta.Cmp(big.NewRat(math.MaxInt32, 1)) > 0 {
			eta.SetInt64(math.MaxInt32)
		}
		if e.ETASeconds < 0 || eta.Cmp(big.NewRat(int64(e.ETASeconds), 1)) != 0 {
			t.Errorf("read etaSeconds %d, the data says %v", e.ETASeconds, data["etaSeconds"])
		}
		requireTime(t, e.AssignedAt, data["assignedAt"])
	})
}

// FuzzDecodeTripCreated: see fuzzDecoder; trip-created is the event the
// service reads back from its own subscription.
func FuzzDecodeTripCreated(f *testing.F) {
	seeds := []string{
		cloudEvent(createdData),
		cloudEvent(strconv.Quote(createdData)),
		cloudEvent(strings.Replace(createdData, `"lat":50.08`, `"lat":90.00000000000000001`, 1)),
		cloudEvent(strings.Replace(createdData, `"lat":50.08`, `"lat":1e400`, 1)),
		cloudEvent(strings.Replace(createdData, `"lat":50.08`, `"lat":-0e-999999999999`, 1)),
		cloudEvent(strings.Replace(createdData, `"pickup"`, `"Pickup"`, 1)),
		cloudEvent(strings.Replace(createdData, `"lon":14.26`, `"LON":14.26`, 1)),
		cloudEvent(strings.Replace(createdData, `T09:30:00Z`, `t09:30:00z`, 1)),
		cloudEvent(strings.Replace(createdData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60Z`, 1)),
	}
	fuzzDecoder(f, TopicTripCreated, seeds, decodeTripCreated, func(t *testing.T, e app.TripCreated, data map[string]any) {
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
	})
}

// FuzzDecodeDriverNotFound: see fuzzDecoder.
func FuzzDecodeDriverNotFound(f *testing.F) {
	const data = `{"tripId":"` + exampleTripID + `","riderId":"r","reason":"x","decidedAt":"2026-11-27T09:31:00+01:00"}`
	seeds := []string{
		cloudEvent(data),
		cloudEvent(strconv.Quote(data)),
		cloudEvent(`{"tripId":"` + exampleTripID + `","riderId":"","reason":"","decidedAt":"2026-13-01T00:00:00Z"}`),
		cloudEvent(strings.Replace(data, `"decidedAt"`, `"DecidedAt"`, 1)),
		cloudEvent(strings.Replace(data, `}`, `,"REASON":""}`, 1)),
		cloudEvent(strings.Replace(data, `T09:31:00+01:00`, `t09:31:00z`, 1)),
		cloudEvent(strings.Replace(data, `T09:31:00+01:00`, `T0:00:00Z`, 1)),
		cloudEvent(strings.Replace(data, `T09:31:00+01:00`, `T09:31:00,5Z`, 1)),
		cloudEvent(strings.Replace(data, `2026-11-27T09:31:00+01:00`, `2016-12-31T23:59:60Z`, 1)),
	}
	fuzzDecoder(f, TopicDriverNotFound, seeds, decodeDriverNotFound, func(t *testing.T, e app.DriverNotFound, data map[string]any) {
		requireTripID(t, e.TripID)
		if e.TripID != data["tripId"] {
			t.Errorf("read tripId %q, the data says %v", e.TripID, data["tripId"])
		}
		requireTime(t, e.DecidedAt, data["decidedAt"])
	})
}

// fuzzDecoder fuzzes decode, the decoder of topic's data, from the
// contract's example and the seed CloudEvent bodies. Whatever the broker
// delivers, the decoder either returns an invalid-event error (DROP) or an
// event whose data the contract's schema accepts, which check then compares
// with that data, read again as JSON Schema reads it; it never panics. It
// refuses only data the contract refuses too, or data outside what the
// service can represent.
func fuzzDecoder[E any](f *testing.F, topic string, seeds []string, decode func([]byte) (E, error), check func(t *testing.T, e E, data map[string]any)) {
	f.Add(contracttest.Example(f, topic))
	for _, body := range seeds {
		f.Add([]byte(body))
	}
	schema := contracttest.Schema(f, topic)
	f.Fuzz(func(t *testing.T, body []byte) {
		ce, err := readEnvelope(body)
		if err != nil {
			requireInvalid(t, err)
			return
		}
		e, err := decode(ce.RawData)
		if data, accepted := requireContractVerdict(t, schema, body, err); accepted {
			check(t, e, data)
		}
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
	if bigUnreadable(data) {
		return false, nil
	}
	defer func() {
		if recover() != nil {
			judged, verdict = false, nil
		}
	}()
	return true, schema.Validate(data)
}

// requireContractVerdict fails unless the decoder's verdict on the data of
// the CloudEvent body (its error err) is the contract's, judged by the
// schema read from contracts/ on disk; data the library cannot judge must
// be refused. It returns the data, read as JSON Schema reads it, when the
// decoder accepted it.
func requireContractVerdict(t *testing.T, schema *jsonschema.Schema, body []byte, err error) (map[string]any, bool) {
	t.Helper()
	if err != nil {
		requireInvalid(t, err)
	}
	data, readable := contractData(t, body)
	judged, verdict := false, error(nil)
	if readable {
		judged, verdict = contractVerdict(schema, data)
	}
	switch {
	case err == nil && !judged:
		t.Fatalf("accepted data that the contract cannot judge: %s", body)
	case err == nil && verdict != nil:
		t.Fatalf("accepted data that the contract refuses (%v): %s", verdict, body)
	case err != nil && judged && verdict == nil:
		t.Fatalf("refused data that the contract accepts (%v): %s", err, body)
	}
	obj, _ := data.(map[string]any)
	return obj, err == nil
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
	if err != nil {
		// A form only the schema library's reading takes (T+9:30:00Z:
		// it reads the fields with strconv.Atoi; RFC 3339 wants two
		// digits), which the decoder reads as the library does.
		want = got
	}
	if want.IsZero() || !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("read %v, the data says %q", got, s)
	}
}

// bigUnreadable reports whether v holds a number that math/big cannot read.
func bigUnreadable(v any) bool {
	switch v := v.(type) {
	case json.Number:
		_, ok := new(big.Rat).SetString(string(v))
		return !ok
	case map[string]any:
		return slices.ContainsFunc(slices.Collect(maps.Values(v)), bigUnreadable)
	case []any:
		return slices.ContainsFunc(v, bigUnreadable)
	}
	return false
}

func jsonNumber(v any) json.Number {
	n, _ := v.(json.Number)
	return n
}
