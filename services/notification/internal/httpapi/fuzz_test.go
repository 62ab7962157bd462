package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/notification/internal/httpapi"
	"github.com/ride-choreography/services/notification/internal/notification"
)

// The decoders of each topic's deliveries, fuzzed (see fuzzDecode).

func FuzzDecodeTripCreated(f *testing.F)    { fuzzDecode(f, "trip-created") }
func FuzzDecodeDriverAssigned(f *testing.F) { fuzzDecode(f, "driver-assigned") }
func FuzzDecodeDriverNotFound(f *testing.F) { fuzzDecode(f, "driver-not-found") }

// fuzzDecode fuzzes the decoders of the topic's deliveries with whole
// bodies: the CloudEvent and its data. Whatever the body, the decoders
// never panic, and
//   - an event they accept has data that the topic's JSON Schema accepts,
//     and the event applied is made of that data;
//   - an event they refuse gets an error wrapping the invalid-event error,
//     the one the handler answers DROP to, and nothing is applied.
func fuzzDecode(f *testing.F, topic string) {
	schema := schemas(f)[topic]
	for _, seed := range deliverySeeds(f, topic) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got recorder
		err := httpapi.DecodeEvent(t.Context(), topic, body, &got)
		if err != nil {
			if !errors.Is(err, httpapi.ErrInvalidEvent) {
				t.Fatalf("refused with %q, which is not an invalid event: it would be retried forever, not dropped", err)
			}
			if len(got.calls) != 0 {
				t.Fatalf("refused with %q, yet applied %+v", err, got.calls)
			}
			return
		}
		data := deliveredData(t, body)
		want := callFor(topic, data.(map[string]any))
		if judgeable(data) {
			if err := schema.Validate(data); err != nil {
				t.Fatalf("accepted data that the schema rejects: %v", err)
			}
		} else if len(got.calls) == 1 {
			// Neither the schema validator nor math/big reads a number with
			// an exponent beyond ±1e6, so there is no verdict and no exact
			// ETA to compare; every other field still is.
			want.ETA = got.calls[0].ETA
		}
		if diff := cmp.Diff([]call{want}, got.calls); diff != "" {
			t.Errorf("applied event mismatch (-want +got):\n%s", diff)
		}
	})
}

// deliverySeeds returns deliveries of the topic's events: the example, as
// Dapr and as its outbox deliver it, each variant of it, and bodies that
// are no CloudEvent of the topic at all.
func deliverySeeds(f *testing.F, topic string) [][]byte {
	ex := example(f, topic)
	data, err := json.Marshal(exampleData(f, topic))
	if err != nil {
		f.Fatal(err)
	}
	seeds := [][]byte{
		ex,
		cloudEvent(f, topic, string(data)),
		[]byte(strings.Replace(string(ex), `"1.0"`, `"0.3"`, 1)),
		append(bytes.Clone(ex), '}'),
		[]byte(`{"specversion":"1.0","id":"e1","source":"s","type":"t","data":null}`),
		[]byte(`{"specversion":"1.0","id":"e1","source":"s","type":"t","data":"[]"}`),
		[]byte(`{}`),
		[]byte(`[]`),
		[]byte(``),
	}
	for _, v := range variants {
		if v.topic == topic {
			seeds = append(seeds, cloudEvent(f, topic, json.RawMessage(v.data(f))))
		}
	}
	return seeds
}

// deliveredData returns the data of a delivered CloudEvent, read as plainly
// as this test can: the object, or the object a JSON string holds.
func deliveredData(t *testing.T, body []byte) any {
	t.Helper()
	var ce struct{ Data json.RawMessage }
	if err := json.Unmarshal(body, &ce); err != nil {
		t.Fatalf("accepted a body that is not JSON: %v", err)
	}
	raw := ce.Data
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = []byte(s)
	}
	data, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("accepted data that is not one JSON value: %v", err)
	}
	return data
}

// judgeable reports whether every number in v is one math/big parses: the
// schema validator compares numbers with it, and panics on those it
// refuses (exponents beyond ±1e6).
func judgeable(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if !judgeable(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !judgeable(e) {
				return false
			}
		}
	case json.Number:
		_, ok := new(big.Rat).SetString(v.String())
		return ok
	}
	return true
}

// call is one call of httpapi.Events.
type call struct {
	Kind    notification.Kind
	RiderID string
	TripID  string
	Driver  notification.Driver
	ETA     time.Duration
}

// recorder is an httpapi.Events that records its calls.
type recorder struct {
	calls []call
}

func (r *recorder) TripReceived(_ context.Context, riderID, tripID string) error {
	r.calls = append(r.calls, call{Kind: notification.KindTripReceived, RiderID: riderID, TripID: tripID})
	return nil
}

func (r *recorder) DriverAssigned(_ context.Context, riderID, tripID string, d notification.Driver, eta time.Duration) error {
	r.calls = append(r.calls, call{Kind: notification.KindDriverAssigned, RiderID: riderID, TripID: tripID, Driver: d, ETA: eta})
	return nil
}

func (r *recorder) NoDriver(_ context.Context, riderID, tripID string) error {
	r.calls = append(r.calls, call{Kind: notification.KindNoDriver, RiderID: riderID, TripID: tripID})
	return nil
}

// callFor returns the call that an event of the topic with data, which the
// schema accepts, must make.
func callFor(topic string, data map[string]any) call {
	c := call{RiderID: data["riderId"].(string), TripID: data["tripId"].(string)}
	switch topic {
	case "trip-created":
		c.Kind = notification.KindTripReceived
	case "driver-assigned":
		driver := data["driver"].(map[string]any)
		car := driver["car"].(map[string]any)
		c.Kind = notification.KindDriverAssigned
		c.Driver = notification.Driver{
			Name: driver["name"].(string),
			Car: notification.Car{
				Make:  car["make"].(string),
				Model: car["model"].(string),
				Color: car["color"].(string),
				Plate: car["plate"].(string),
			},
		}
		c.ETA = etaOf(data["etaSeconds"].(json.Number))
	case "driver-not-found":
		c.Kind = notification.KindNoDriver
	}
	return c
}

// etaOf returns a whole number of seconds as a duration, computed exactly:
// the longest duration for numbers beyond it.
func etaOf(seconds json.Number) time.Duration {
	s, ok := new(big.Rat).SetString(seconds.String())
	if !ok {
		return 0 // unreadable: see fuzzDecode
	}
	ns := s.Mul(s, big.NewRat(int64(time.Second), 1))
	if ns.Cmp(new(big.Rat).SetInt64(math.MaxInt64)) > 0 {
		return math.MaxInt64
	}
	return time.Duration(ns.Num().Int64())
}

// FuzzRiderID reads the notifications of any rider id, escaped in the
// URL: an id ValidateRiderID accepts reads as itself; any other is
// answered 400 with a problem, but for the empty id, which leaves no
// rider in the path: 404.
func FuzzRiderID(f *testing.F) {
	for _, id := range []string{
		"rider-42", "r", "Jana Nováková <jana@example.com>", strings.Repeat("ř", 128),
		strings.Repeat("r", 129), "rider\n42", "rider\x7f", "rider\xff",
	} {
		f.Add(id)
	}
	ts := newTestServer(f)
	f.Fuzz(func(t *testing.T, id string) {
		resp := ts.do(t, http.MethodGet, "/riders/"+url.PathEscape(id)+"/notifications", nil)
		if err := notification.ValidateRiderID(id); err != nil {
			want := http.StatusBadRequest
			if id == "" {
				want = http.StatusNotFound
			}
			var got problem
			decodeBody(t, resp, "application/problem+json", &got)
			if resp.StatusCode != want || got.Status != want {
				t.Fatalf("rider id %q (%v): status %d, problem %+v; want %d", id, err, resp.StatusCode, got, want)
			}
			return
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("rider id %q: status %d, want 200", id, resp.StatusCode)
		}
		var got struct{ RiderID string }
		decodeBody(t, resp, "application/json", &got)
		if got.RiderID != id {
			t.Fatalf("rider id %q read as %q", id, got.RiderID)
		}
	})
}
