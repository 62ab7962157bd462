package dapr_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/contracttest"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// validate returns the schema's verdict on a JSON document.
func validate(t *testing.T, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return sch.Validate(v)
}

// TestContractExamplesAccepted delivers every example of contracts/examples
// on a topic the service subscribes to, to the route it subscribes with.
func TestContractExamplesAccepted(t *testing.T) {
	h := newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...)
	routes := map[string]http.Handler{"/events/trip-created": h.subscriber.TripCreated()}
	rec := httptest.NewRecorder()
	h.subscriber.Subscriptions().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/dapr/subscribe", nil))
	var subscriptions []struct{ Topic, Route string }
	if err := json.Unmarshal(rec.Body.Bytes(), &subscriptions); err != nil {
		t.Fatal(err)
	}
	examplesDir := filepath.Join(contracttest.Dir(t), "examples")
	examples, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}

	delivered := 0
	for _, file := range examples {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var example struct{ Topic string }
		if err := json.Unmarshal(b, &example); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		i := slices.IndexFunc(subscriptions, func(s struct{ Topic, Route string }) bool { return s.Topic == example.Topic })
		if i < 0 {
			continue // a topic the service publishes
		}
		handler, ok := routes[subscriptions[i].Route]
		if !ok {
			t.Fatalf("no handler here for route %s", subscriptions[i].Route)
		}
		delivered++
		if got := deliver(t, handler, string(b)); got != "SUCCESS" {
			t.Errorf("%s: status = %s, want SUCCESS; log:\n%s", filepath.Base(file), got, h.logs)
		}
	}
	if delivered == 0 {
		t.Errorf("no example in %s is of a topic the service subscribes to", examplesDir)
	}
}

// TestPublishedEventsMatchContract checks every event the service publishes
// against the schema of its topic.
func TestPublishedEventsMatchContract(t *testing.T) {
	tests := []struct {
		name      string
		harness   *harness
		wantTopic string
	}{
		{name: "driver assigned", harness: newHarness(requestedAt.Add(time.Second), driver.DefaultPool()...), wantTopic: app.TopicDriverAssigned},
		{name: "no driver found", harness: newHarness(requestedAt.Add(time.Hour), allBusy(t, requestedAt.Add(time.Hour))...), wantTopic: app.TopicDriverNotFound},
		{name: "no driver near", harness: newHarnessTimed(requestedAt.Add(time.Second), app.Timing{AssignDeadline: time.Minute, RideDuration: time.Minute, MaxPickupMeters: 1}, driver.DefaultPool()...), wantTopic: app.TopicDriverNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deliver(t, tt.harness.subscriber.TripCreated(), string(contracttest.Example(t, app.TopicTripCreated))); got != "SUCCESS" {
				t.Fatalf("status = %s, want SUCCESS", got)
			}
			published := tt.harness.publisher.Published()
			if len(published) != 1 || published[0].Topic != tt.wantTopic {
				t.Fatalf("published %+v, want one event on %s", published, tt.wantTopic)
			}

			doc, err := json.Marshal(published[0].Event)
			if err != nil {
				t.Fatalf("encode event: %v", err)
			}
			if err := validate(t, contracttest.Schema(t, tt.wantTopic), doc); err != nil {
				t.Errorf("%s event %s violates the contract: %v", tt.wantTopic, doc, err)
			}
		})
	}
}

// TestAcceptedTripsMatchContract checks that the handler accepts exactly the
// trip-created data that the contract schema accepts, as an object and as
// a JSON string holding it, and drops the rest.
func TestAcceptedTripsMatchContract(t *testing.T) {
	sch := contracttest.Schema(t, app.TopicTripCreated)
	datas := map[string]string{
		"valid":                    validData,
		"unknown property":         strings.Replace(validData, `{`, `{"promo":"SPRING",`, 1),
		"edge coordinates":         strings.Replace(strings.Replace(validData, `"lat":50.08`, `"lat":-90`, 1), `"lon":14.26`, `"lon":180`, 1),
		"longest riderId":          strings.Replace(validData, `"rider-42"`, `"`+strings.Repeat("r", 128)+`"`, 1),
		"riderId too long":         strings.Replace(validData, `"rider-42"`, `"`+strings.Repeat("r", 129)+`"`, 1),
		"empty riderId":            strings.Replace(validData, `"rider-42"`, `""`, 1),
		"tripId not a UUID":        strings.Replace(validData, exampleTrip, "trip-1", 1),
		"missing dropoff":          strings.Replace(validData, `,"dropoff":{"lat":50.1,"lon":14.26}`, ``, 1),
		"latitude above 90":        strings.Replace(validData, `"lat":50.08`, `"lat":90.01`, 1),
		"latitude just above 90":   strings.Replace(validData, `"lat":50.08`, `"lat":90.00000000000000001`, 1),
		"longitude below -180":     strings.Replace(validData, `"lon":14.26`, `"lon":-181`, 1),
		"latitude as a string":     strings.Replace(validData, `"lat":50.08`, `"lat":"50.08"`, 1),
		"pickup is null":           strings.Replace(validData, `{"lat":50.08,"lon":14.42}`, `null`, 1),
		"requestedAt not a date":   strings.Replace(validData, `"2026-11-27T09:30:00Z"`, `"27.11.2026 09:30"`, 1),
		"requestedAt is a number":  strings.Replace(validData, `"2026-11-27T09:30:00Z"`, `1795685400`, 1),
		"missing requestedAt":      strings.Replace(validData, `,"requestedAt":"2026-11-27T09:30:00Z"`, ``, 1),
		"data is an array":         `[` + validData + `]`,
		"riderId with 128 runes":   strings.Replace(validData, `"rider-42"`, `"`+strings.Repeat("ř", 128)+`"`, 1),
		"dropoff latitude missing": strings.Replace(validData, `{"lat":50.1,"lon":14.26}`, `{"lon":14.26}`, 1),
		// encoding/json alone matches names in any case; the schema does not.
		"tripId spelled TripId":       strings.Replace(validData, `"tripId"`, `"TripId"`, 1),
		"pickup latitude spelled Lat": strings.Replace(validData, `"lat":50.08`, `"Lat":50.08`, 1),
		"TRIPID besides tripId":       strings.Replace(validData, `}`, `,"TRIPID":"not a uuid"}`, 1),
		// time.Parse alone takes shapes that RFC 3339 does not, and refuses
		// some that it does: the leap second, 23:59:60 UTC.
		"leap second":                              strings.Replace(validData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60Z`, 1),
		"leap second at an offset":                 strings.Replace(validData, `2026-11-27T09:30:00Z`, `2017-01-01T00:59:60+01:00`, 1),
		"leap second not at the end of a UTC day":  strings.Replace(validData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60+01:00`, 1),
		"requestedAt with lower-case t and z":      strings.Replace(validData, `2026-11-27T09:30:00Z`, `2026-11-27t09:30:00z`, 1),
		"requestedAt with a one-digit hour":        strings.Replace(validData, `2026-11-27T09:30:00Z`, `2026-11-27T9:30:00Z`, 1),
		"requestedAt with a signed one-digit hour": strings.Replace(validData, `2026-11-27T09:30:00Z`, `2026-11-27T+9:30:00Z`, 1),
		"requestedAt at offset +24:00":             strings.Replace(validData, `2026-11-27T09:30:00Z`, `2026-11-27T09:30:00+24:00`, 1),
	}
	for name, data := range datas {
		t.Run(name, func(t *testing.T) {
			schemaErr := validate(t, sch, []byte(data))
			want := "DROP"
			if schemaErr == nil {
				want = "SUCCESS"
			}
			for _, body := range []string{event(data), event(strconv.Quote(data))} {
				events := &recordingEvents{}
				var logs bytes.Buffer
				s := dapr.NewSubscriber(zerolog.New(&logs), "pubsub", events, nil, &recordingMetrics{})
				if got := deliver(t, s.TripCreated(), body); got != want {
					t.Errorf("status = %s, want %s (schema says: %v); log:\n%s", got, want, schemaErr, &logs)
				}
			}
		})
	}
}
