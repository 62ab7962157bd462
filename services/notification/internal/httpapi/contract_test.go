package httpapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemas compiles the payload schema of each subscribed topic from
// contracts/schemas, with formats such as date-time asserted.
func schemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(contractsDir, "schemas", "*.schema.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in %s: %v", contractsDir, err)
	}
	for _, f := range files {
		doc := unmarshalJSON(t, mustRead(t, f))
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	compiled := map[string]*jsonschema.Schema{}
	for _, topic := range []string{"trip-created", "driver-assigned", "driver-not-found"} {
		s, err := c.Compile("https://ride-choreography.example/contracts/schemas/" + topic + ".schema.json")
		if err != nil {
			t.Fatalf("compile the schema of %s: %v", topic, err)
		}
		compiled[topic] = s
	}
	return compiled
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unmarshalJSON(t testing.TB, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return v
}

func TestContractExamplesMatchTheSchemas(t *testing.T) {
	compiled := schemas(t)
	for topic, schema := range compiled {
		t.Run(topic, func(t *testing.T) {
			var ce struct {
				Topic string
				Data  json.RawMessage
			}
			if err := json.Unmarshal(example(t, topic), &ce); err != nil {
				t.Fatal(err)
			}
			if ce.Topic != topic {
				t.Errorf("example of %s has topic %q", topic, ce.Topic)
			}
			if err := schema.Validate(unmarshalJSON(t, ce.Data)); err != nil {
				t.Errorf("example data does not match the schema: %v", err)
			}
		})
	}
}

// variant is an example's data, changed: each change sets the property at a
// dotted path to a JSON literal, or removes it when the literal is empty.
type variant struct {
	name    string
	topic   string
	changes map[string]string
}

// data returns the example data of the variant's topic with its changes.
func (v variant) data(t testing.TB) []byte {
	t.Helper()
	data := exampleData(t, v.topic)
	for path, literal := range v.changes {
		keys := strings.Split(path, ".")
		parent := data
		for _, k := range keys[:len(keys)-1] {
			child, ok := parent[k].(map[string]any)
			if !ok {
				t.Fatalf("%s: no object at %s", v.name, k)
			}
			parent = child
		}
		last := keys[len(keys)-1]
		if literal == "" {
			delete(parent, last)
		} else {
			parent[last] = json.RawMessage(literal)
		}
	}
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatalf("%s: %v", v.name, err)
	}
	return b
}

// variants are changes to the example events, both that the schemas accept
// and that they reject.
var variants = []variant{
	{name: "as in the example", topic: "trip-created"},
	{name: "unknown property", topic: "trip-created", changes: map[string]string{"fare": `{"amount": 12}`}},
	{name: "no tripId", topic: "trip-created", changes: map[string]string{"tripId": ""}},
	{name: "tripId null", topic: "trip-created", changes: map[string]string{"tripId": `null`}},
	{name: "tripId a number", topic: "trip-created", changes: map[string]string{"tripId": `42`}},
	{name: "tripId upper case", topic: "trip-created", changes: map[string]string{"tripId": `"0B7E4D52-7A4F-4D8E-9C1A-2F6B8E3D9A10"`}},
	{name: "tripId without dashes", topic: "trip-created", changes: map[string]string{"tripId": `"0b7e4d527a4f4d8e9c1a2f6b8e3d9a10"`}},
	{name: "tripId with a newline after it", topic: "trip-created", changes: map[string]string{"tripId": `"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10\n"`}},
	{name: "no riderId", topic: "trip-created", changes: map[string]string{"riderId": ""}},
	{name: "riderId empty", topic: "trip-created", changes: map[string]string{"riderId": `""`}},
	{name: "riderId of 128 characters", topic: "trip-created", changes: map[string]string{"riderId": longString(128, "r")}},
	{name: "riderId of 129 characters", topic: "trip-created", changes: map[string]string{"riderId": longString(129, "r")}},
	{name: "riderId of 128 two-byte characters", topic: "trip-created", changes: map[string]string{"riderId": longString(128, "ř")}},
	{name: "riderId of 65 four-byte characters", topic: "trip-created", changes: map[string]string{"riderId": longString(65, "🚕")}},
	{name: "riderId a number", topic: "trip-created", changes: map[string]string{"riderId": `42`}},
	{name: "riderId null", topic: "trip-created", changes: map[string]string{"riderId": `null`}},
	{name: "no pickup", topic: "trip-created", changes: map[string]string{"pickup": ""}},
	{name: "pickup null", topic: "trip-created", changes: map[string]string{"pickup": `null`}},
	{name: "pickup an array", topic: "trip-created", changes: map[string]string{"pickup": `[50.08, 14.42]`}},
	{name: "pickup without lat", topic: "trip-created", changes: map[string]string{"pickup.lat": ""}},
	{name: "pickup lat 90", topic: "trip-created", changes: map[string]string{"pickup.lat": `90`}},
	{name: "pickup lat -90", topic: "trip-created", changes: map[string]string{"pickup.lat": `-90`}},
	{name: "pickup lat 90.0001", topic: "trip-created", changes: map[string]string{"pickup.lat": `90.0001`}},
	{name: "pickup lat 5e1", topic: "trip-created", changes: map[string]string{"pickup.lat": `5e1`}},
	{name: "pickup lat 1e400", topic: "trip-created", changes: map[string]string{"pickup.lat": `1e400`}},
	{name: "pickup lat a string", topic: "trip-created", changes: map[string]string{"pickup.lat": `"50.08"`}},
	{name: "pickup lat null", topic: "trip-created", changes: map[string]string{"pickup.lat": `null`}},
	{name: "pickup lat a hair above 90, 90 as a float64", topic: "trip-created", changes: map[string]string{"pickup.lat": `90.0000000000000001`}},
	{name: "pickup lat a hair below -90, -90 as a float64", topic: "trip-created", changes: map[string]string{"pickup.lat": `-90.0000000000000001`}},
	{name: "pickup lat 9e1", topic: "trip-created", changes: map[string]string{"pickup.lat": `9e1`}},
	{name: "pickup lat 0.9E+2", topic: "trip-created", changes: map[string]string{"pickup.lat": `0.9E+2`}},
	{name: "pickup lat 900e-1", topic: "trip-created", changes: map[string]string{"pickup.lat": `900e-1`}},
	{name: "pickup lat -0", topic: "trip-created", changes: map[string]string{"pickup.lat": `-0`}},
	{name: "pickup lat 1e-400, 0 as a float64", topic: "trip-created", changes: map[string]string{"pickup.lat": `1e-400`}},
	{name: "dropoff lon 180", topic: "trip-created", changes: map[string]string{"dropoff.lon": `180`}},
	{name: "dropoff lon 180.0000000000000001", topic: "trip-created", changes: map[string]string{"dropoff.lon": `180.0000000000000001`}},
	{name: "dropoff lon -180.5", topic: "trip-created", changes: map[string]string{"dropoff.lon": `-180.5`}},
	{name: "no dropoff", topic: "trip-created", changes: map[string]string{"dropoff": ""}},
	{name: "no requestedAt", topic: "trip-created", changes: map[string]string{"requestedAt": ""}},
	{name: "requestedAt with offset and fraction", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27T10:30:00.123+01:00"`}},
	{name: "requestedAt in lower case", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27t09:30:00z"`}},
	{name: "requestedAt a leap second", topic: "trip-created", changes: map[string]string{"requestedAt": `"2016-12-31T23:59:60Z"`}},
	{name: "requestedAt a leap second with offset", topic: "trip-created", changes: map[string]string{"requestedAt": `"2017-01-01T00:59:60+01:00"`}},
	{name: "requestedAt a second 60 at noon", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27T12:00:60Z"`}},
	{name: "requestedAt a date", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27"`}},
	{name: "requestedAt without zone", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27T09:30:00"`}},
	{name: "requestedAt with a space", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27 09:30:00Z"`}},
	{name: "requestedAt on 30 February", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-02-30T09:30:00Z"`}},
	{name: "requestedAt at hour 24", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27T24:00:00Z"`}},
	{name: "requestedAt with offset +24:00", topic: "trip-created", changes: map[string]string{"requestedAt": `"2026-11-27T09:30:00+24:00"`}},
	{name: "requestedAt a Unix time", topic: "trip-created", changes: map[string]string{"requestedAt": `1795771800`}},

	{name: "as in the example", topic: "driver-assigned"},
	{name: "no driver", topic: "driver-assigned", changes: map[string]string{"driver": ""}},
	{name: "driver a string", topic: "driver-assigned", changes: map[string]string{"driver": `"Jarda"`}},
	{name: "driver without id", topic: "driver-assigned", changes: map[string]string{"driver.id": ""}},
	{name: "driver name empty", topic: "driver-assigned", changes: map[string]string{"driver.name": `""`}},
	{name: "driver with a rating", topic: "driver-assigned", changes: map[string]string{"driver.rating": `4.9`}},
	{name: "no car", topic: "driver-assigned", changes: map[string]string{"driver.car": ""}},
	{name: "car without plate", topic: "driver-assigned", changes: map[string]string{"driver.car.plate": ""}},
	{name: "car color empty", topic: "driver-assigned", changes: map[string]string{"driver.car.color": `""`}},
	{name: "car make a number", topic: "driver-assigned", changes: map[string]string{"driver.car.make": `7`}},
	{name: "no etaSeconds", topic: "driver-assigned", changes: map[string]string{"etaSeconds": ""}},
	{name: "etaSeconds 0", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `0`}},
	{name: "etaSeconds -1", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `-1`}},
	{name: "etaSeconds 1.5", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `1.5`}},
	{name: "etaSeconds 240.0", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `240.0`}},
	{name: "etaSeconds 2.4e2", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `2.4e2`}},
	{name: "etaSeconds 1e400", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `1e400`}},
	{name: "etaSeconds 240.0000000000000001, 240 as a float64", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `240.0000000000000001`}},
	{name: "etaSeconds 1e-400, 0 as a float64", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `1e-400`}},
	{name: "etaSeconds -1e-400, -0 as a float64", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `-1e-400`}},
	{name: "etaSeconds 12345678901234567890.5", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `12345678901234567890.5`}},
	{name: "etaSeconds 2400e-1", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `2400e-1`}},
	{name: "etaSeconds -0", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `-0`}},
	{name: "etaSeconds a string", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `"240"`}},
	{name: "etaSeconds null", topic: "driver-assigned", changes: map[string]string{"etaSeconds": `null`}},
	{name: "no assignedAt", topic: "driver-assigned", changes: map[string]string{"assignedAt": ""}},
	{name: "assignedAt not a date-time", topic: "driver-assigned", changes: map[string]string{"assignedAt": `"soon"`}},
	{name: "riderId empty", topic: "driver-assigned", changes: map[string]string{"riderId": `""`}},

	{name: "as in the example", topic: "driver-not-found"},
	{name: "no reason", topic: "driver-not-found", changes: map[string]string{"reason": ""}},
	{name: "reason empty", topic: "driver-not-found", changes: map[string]string{"reason": `""`}},
	{name: "reason an object", topic: "driver-not-found", changes: map[string]string{"reason": `{"code": 1}`}},
	{name: "no decidedAt", topic: "driver-not-found", changes: map[string]string{"decidedAt": ""}},
	{name: "decidedAt not a date-time", topic: "driver-not-found", changes: map[string]string{"decidedAt": `"2026-11-27T09:31"`}},
	{name: "no tripId", topic: "driver-not-found", changes: map[string]string{"tripId": ""}},
	{name: "riderId of 129 characters", topic: "driver-not-found", changes: map[string]string{"riderId": longString(129, "r")}},
}

// longString returns a JSON string of s, n times.
func longString(n int, s string) string {
	return `"` + strings.Repeat(s, n) + `"`
}

// TestDecoderAcceptsWhatTheSchemaAccepts delivers variants of the example
// events and checks that the handler drops exactly those whose data the
// schema rejects.
func TestDecoderAcceptsWhatTheSchemaAccepts(t *testing.T) {
	compiled := schemas(t)
	accepted := map[bool]int{}
	for _, v := range variants {
		t.Run(v.topic+"/"+v.name, func(t *testing.T) {
			data := v.data(t)
			schemaErr := compiled[v.topic].Validate(unmarshalJSON(t, data))
			accepted[schemaErr == nil]++

			ts := newTestServer(t)
			status := ts.deliver(t, v.topic, cloudEvent(t, v.topic, json.RawMessage(data)))
			switch {
			case schemaErr == nil && status == "DROP":
				t.Errorf("the schema accepts %s, the handler drops it: %v", data, ts.logs.lines(t, "event dropped"))
			case schemaErr != nil && status != "DROP":
				t.Errorf("the schema rejects %s (%v), the handler answers %s", data, schemaErr, status)
			}
		})
	}
	// Both sides of the table must be there, or the test proves little.
	if accepted[true] < 20 || accepted[false] < 30 {
		t.Errorf("the table has %d variants the schema accepts and %d it rejects, want at least 20 and 30",
			accepted[true], accepted[false])
	}
}
