package dapr

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/dispatch"
)

// contractsDir is the repository's contracts folder, seen from this package.
const contractsDir = "../../../../contracts"

// topics are the topics the service reads.
var topics = []string{TopicTripCreated, TopicDriverAssigned, TopicDriverNotFound}

// decoders are the decoders of each topic, with their results as any.
var decoders = map[string]func([]byte) (any, error){
	TopicTripCreated:    func(b []byte) (any, error) { return decodeTripCreated(b) },
	TopicDriverAssigned: func(b []byte) (any, error) { return decodeDriverAssigned(b) },
	TopicDriverNotFound: func(b []byte) (any, error) { return decodeDriverNotFound(b) },
}

// referenceSchemas compiles the schema of each topic from the contracts
// folder on disk, not from the service's embedded copy: the reference the
// decoders are held to.
func referenceSchemas(tb testing.TB) map[string]*jsonschema.Schema {
	tb.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(contractsDir, "schemas", "*.schema.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no schemas in %s: %v", contractsDir, err)
	}
	for _, f := range files {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(readFile(tb, f)))
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
	}
	compiled := map[string]*jsonschema.Schema{}
	for _, topic := range topics {
		s, err := c.Compile("https://ride-choreography.example/contracts/schemas/" + topic + ".schema.json")
		if err != nil {
			tb.Fatalf("compile the schema of %s: %v", topic, err)
		}
		compiled[topic] = s
	}
	return compiled
}

// referenceVerdict reports whether schema accepts data, and returns data
// as the schema validator reads it. The validator compares numbers as
// math/big rationals: it has no verdict on data holding a number math/big
// cannot read (1e9999999), wherever it is, and may panic on it. Data it
// cannot judge counts as refused, as the service refuses it.
func referenceVerdict(schema *jsonschema.Schema, data []byte) (accepted bool, v any) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil || bigUnreadable(v) {
		return false, nil
	}
	defer func() {
		if recover() != nil {
			accepted = false
		}
	}()
	return schema.Validate(v) == nil, v
}

// bigUnreadable reports whether v holds a number that math/big cannot
// read.
func bigUnreadable(v any) bool {
	switch v := v.(type) {
	case json.Number:
		_, ok := new(big.Rat).SetString(string(v))
		return !ok
	case map[string]any:
		for _, e := range v {
			if bigUnreadable(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if bigUnreadable(e) {
				return true
			}
		}
	}
	return false
}

// want returns what the decoder of the topic must return for data that
// the schema accepted, read from v by this test's own code.
func want(topic string, v any) any {
	data := v.(map[string]any)
	tripID, riderID := data["tripId"].(string), data["riderId"].(string)
	switch topic {
	case TopicTripCreated:
		pickup := data["pickup"].(map[string]any)
		return app.TripCreated{
			TripID: tripID, RiderID: riderID,
			Pickup:      dispatch.Point{Lat: floatOf(pickup["lat"].(json.Number)), Lon: floatOf(pickup["lon"].(json.Number))},
			RequestedAt: timeOf(data["requestedAt"].(string)),
		}
	case TopicDriverAssigned:
		driver := data["driver"].(map[string]any)
		car := driver["car"].(map[string]any)
		return app.DriverAssigned{
			TripID:  tripID,
			RiderID: riderID,
			Driver: dispatch.Driver{
				ID:   driver["id"].(string),
				Name: driver["name"].(string),
				Car: dispatch.Car{
					Make:  car["make"].(string),
					Model: car["model"].(string),
					Color: car["color"].(string),
					Plate: car["plate"].(string),
				},
			},
			ETA:        etaOf(data["etaSeconds"].(json.Number)),
			AssignedAt: timeOf(data["assignedAt"].(string)),
		}
	default:
		return app.DriverNotFound{
			TripID: tripID, RiderID: riderID, NoneNear: data["reasonCode"] == "no_driver_near",
			DecidedAt: timeOf(data["decidedAt"].(string)),
		}
	}
}

// floatOf returns a JSON number as the nearest float64, read by math/big.
func floatOf(n json.Number) float64 {
	f, _, err := big.ParseFloat(n.String(), 10, 200, big.ToNearestEven)
	if err != nil {
		panic("the schema accepted a number that math/big cannot read: " + n)
	}
	v, _ := f.Float64()
	return v
}

// dateTime is RFC 3339's date-time, in either case.
var dateTime = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$`)

// timeOf reads a date-time the schema accepted with time.Date, which takes
// a leap second (second 60) as the instant after second 59.
func timeOf(s string) time.Time {
	m := dateTime.FindStringSubmatch(s)
	if m == nil {
		panic("the schema accepted a date-time this test cannot read: " + s)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	var nanos int
	if m[7] != "" {
		frac := (m[7][1:] + "000000000")[:9]
		nanos, _ = strconv.Atoi(frac)
	}
	zone := time.UTC
	if m[9] != "" {
		offset := (n(10)*60 + n(11)) * 60
		if m[9] == "-" {
			offset = -offset
		}
		zone = time.FixedZone("", offset)
	}
	return time.Date(n(1), time.Month(n(2)), n(3), n(4), n(5), n(6), nanos, zone)
}

// etaOf returns a whole number of seconds as a duration, computed exactly:
// the longest duration for numbers beyond it.
func etaOf(seconds json.Number) time.Duration {
	s, ok := new(big.Rat).SetString(seconds.String())
	if !ok {
		panic("the schema accepted an integer that math/big cannot read: " + seconds)
	}
	ns := s.Mul(s, big.NewRat(int64(time.Second), 1))
	if ns.Cmp(new(big.Rat).SetInt64(math.MaxInt64)) > 0 {
		return math.MaxInt64
	}
	return time.Duration(ns.Num().Int64())
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// exampleData returns the data of the topic's example CloudEvent in
// contracts/examples, as written there.
func exampleData(tb testing.TB, topic string) []byte {
	tb.Helper()
	var ce struct{ Data json.RawMessage }
	if err := json.Unmarshal(readFile(tb, filepath.Join(contractsDir, "examples", topic+".json")), &ce); err != nil {
		tb.Fatal(err)
	}
	return ce.Data
}

func TestEmbeddedSchemasAreTheContracts(t *testing.T) {
	embedded, err := fs.Glob(schemaFiles, "schemas/*")
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := filepath.Glob(filepath.Join(contractsDir, "schemas", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var embeddedNames, diskNames []string
	for _, path := range embedded {
		embeddedNames = append(embeddedNames, strings.TrimPrefix(path, "schemas/"))
	}
	for _, path := range onDisk {
		diskNames = append(diskNames, filepath.Base(path))
	}
	if diff := cmp.Diff(diskNames, embeddedNames); diff != "" {
		t.Fatalf("embedded schemas differ from contracts/schemas (-contracts +embedded); run make schemas:\n%s", diff)
	}
	for _, name := range diskNames {
		b, err := schemaFiles.ReadFile("schemas/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readFile(t, filepath.Join(contractsDir, "schemas", name)), b) {
			t.Errorf("embedded %s differs from contracts/schemas/%s; run make schemas", name, name)
		}
	}
}

func TestEverySubscribedTopicHasItsSchema(t *testing.T) {
	for _, topic := range topics {
		if eventSchemas[topic] == nil {
			t.Errorf("no compiled schema for %s", topic)
		}
	}
	if len(eventSchemas) != len(topics) {
		t.Errorf("%d schemas compiled, want %d", len(eventSchemas), len(topics))
	}
}

// A schema that is missing or does not compile stops the service at start.
func TestMustCompileSchemasPanicsOnABrokenSchema(t *testing.T) {
	for _, file := range []string{"missing.schema.json", "point.schema"} {
		t.Run(file, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("mustCompileSchemas(%s) did not panic", file)
				}
			}()
			mustCompileSchemas(map[string]string{"some-topic": file})
		})
	}
}

func TestContractExamplesAreDecoded(t *testing.T) {
	jarda := dispatch.Driver{
		ID:   "jarda",
		Name: "Jarda",
		Car:  dispatch.Car{Make: "Toyota", Model: "Corolla", Color: "blue", Plate: "1AB 2345"},
	}
	const tripID, riderID = "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10", "rider-42"
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	wants := map[string]any{
		TopicTripCreated: app.TripCreated{
			TripID: tripID, RiderID: riderID, Pickup: dispatch.Point{Lat: 50.08, Lon: 14.42}, RequestedAt: at("2026-11-27T09:30:00Z"),
		},
		TopicDriverAssigned: app.DriverAssigned{TripID: tripID, RiderID: riderID, Driver: jarda, ETA: 240 * time.Second, AssignedAt: at("2026-11-27T09:30:01Z")},
		TopicDriverNotFound: app.DriverNotFound{TripID: tripID, RiderID: riderID, DecidedAt: at("2026-11-27T09:31:00Z")},
	}
	for _, topic := range topics {
		t.Run(topic, func(t *testing.T) {
			got, err := decoders[topic](exampleData(t, topic))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wants[topic], got); diff != "" {
				t.Errorf("decoded event mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// variant is an example's data, changed: each change sets the property at a
// dotted path to a JSON literal, or removes it when the literal is empty.
// accept is what the contract says of it.
type variant struct {
	name    string
	topic   string
	changes map[string]string
	accept  bool
}

// data returns the example data of the variant's topic with its changes.
func (v variant) data(tb testing.TB) []byte {
	tb.Helper()
	var data map[string]any
	if err := json.Unmarshal(exampleData(tb, v.topic), &data); err != nil {
		tb.Fatal(err)
	}
	for path, literal := range v.changes {
		keys := strings.Split(path, ".")
		parent := data
		for _, k := range keys[:len(keys)-1] {
			child, ok := parent[k].(map[string]any)
			if !ok {
				tb.Fatalf("%s: no object at %s", v.name, k)
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
		tb.Fatalf("%s: %v", v.name, err)
	}
	return b
}

// longString returns a JSON string of s, n times.
func longString(n int, s string) string {
	return `"` + strings.Repeat(s, n) + `"`
}

// variants are changes to the example events that the contracts accept
// and refuse, with the verdict.
var variants = []variant{
	{name: "as in the example", topic: TopicTripCreated, accept: true},
	{name: "unknown property", topic: TopicTripCreated, changes: map[string]string{"fare": `{"amount": 12}`}, accept: true},
	// A number math/big cannot read gets no verdict, wherever it is: the
	// service refuses it, even where the schema has nothing to say.
	{name: "unknown property of a number beyond what math/big reads", topic: TopicTripCreated, changes: map[string]string{"fare": `1e9999999`}},
	{name: "no tripId", topic: TopicTripCreated, changes: map[string]string{"tripId": ""}},
	{name: "tripId null", topic: TopicTripCreated, changes: map[string]string{"tripId": `null`}},
	{name: "tripId a number", topic: TopicTripCreated, changes: map[string]string{"tripId": `42`}},
	{name: "tripId upper case", topic: TopicTripCreated, changes: map[string]string{"tripId": `"0B7E4D52-7A4F-4D8E-9C1A-2F6B8E3D9A10"`}},
	{name: "tripId without dashes", topic: TopicTripCreated, changes: map[string]string{"tripId": `"0b7e4d527a4f4d8e9c1a2f6b8e3d9a10"`}},
	{name: "tripId with a newline after it", topic: TopicTripCreated, changes: map[string]string{"tripId": `"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10\n"`}},
	{name: "tripId forged: TripId", topic: TopicTripCreated, changes: map[string]string{"tripId": "", "TripId": `"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"`}},
	{name: "tripId and TRIPID", topic: TopicTripCreated, changes: map[string]string{"TRIPID": `"not a uuid"`}, accept: true},
	{name: "no riderId", topic: TopicTripCreated, changes: map[string]string{"riderId": ""}},
	{name: "riderId forged: riderID", topic: TopicTripCreated, changes: map[string]string{"riderId": "", "riderID": `"rider-42"`}},
	{name: "riderId empty", topic: TopicTripCreated, changes: map[string]string{"riderId": `""`}},
	{name: "riderId of 128 characters", topic: TopicTripCreated, changes: map[string]string{"riderId": longString(128, "r")}, accept: true},
	{name: "riderId of 129 characters", topic: TopicTripCreated, changes: map[string]string{"riderId": longString(129, "r")}},
	{name: "riderId of 128 two-byte characters", topic: TopicTripCreated, changes: map[string]string{"riderId": longString(128, "ř")}, accept: true},
	{name: "riderId of 65 four-byte characters", topic: TopicTripCreated, changes: map[string]string{"riderId": longString(65, "🚕")}, accept: true},
	{name: "riderId with a control character", topic: TopicTripCreated, changes: map[string]string{"riderId": `"rider\n42"`}, accept: true},
	{name: "riderId a number", topic: TopicTripCreated, changes: map[string]string{"riderId": `42`}},
	{name: "riderId null", topic: TopicTripCreated, changes: map[string]string{"riderId": `null`}},
	{name: "no pickup", topic: TopicTripCreated, changes: map[string]string{"pickup": ""}},
	{name: "pickup null", topic: TopicTripCreated, changes: map[string]string{"pickup": `null`}},
	{name: "pickup an array", topic: TopicTripCreated, changes: map[string]string{"pickup": `[50.08, 14.42]`}},
	{name: "pickup without lat", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": ""}},
	{name: "pickup lat 90", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `90`}, accept: true},
	{name: "pickup lat -90", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `-90`}, accept: true},
	{name: "pickup lat 90.0001", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `90.0001`}},
	{name: "pickup lat 5e1", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `5e1`}, accept: true},
	{name: "pickup lat 1e400", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `1e400`}},
	{name: "pickup lat a string", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `"50.08"`}},
	{name: "pickup lat null", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `null`}},
	{name: "pickup lat a hair above 90, 90 as a float64", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `90.0000000000000001`}},
	{name: "pickup lat a hair below -90, -90 as a float64", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `-90.0000000000000001`}},
	{name: "pickup lat 9e1", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `9e1`}, accept: true},
	{name: "pickup lat 0.9E+2", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `0.9E+2`}, accept: true},
	{name: "pickup lat 900e-1", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `900e-1`}, accept: true},
	{name: "pickup lat -0", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `-0`}, accept: true},
	{name: "pickup lat 1e-400, 0 as a float64", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `1e-400`}, accept: true},
	// Beyond what math/big reads (exponents past ±1e6) the validator has
	// no verdict; the service refuses such a number where a bound applies,
	// even 1e-9999999, which is within it.
	{name: "pickup lat 1e9999999", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `1e9999999`}},
	{name: "pickup lat 1e-9999999", topic: TopicTripCreated, changes: map[string]string{"pickup.lat": `1e-9999999`}},
	{name: "dropoff lon 180", topic: TopicTripCreated, changes: map[string]string{"dropoff.lon": `180`}, accept: true},
	{name: "dropoff lon 180.0000000000000001", topic: TopicTripCreated, changes: map[string]string{"dropoff.lon": `180.0000000000000001`}},
	{name: "dropoff lon -180.5", topic: TopicTripCreated, changes: map[string]string{"dropoff.lon": `-180.5`}},
	{name: "no dropoff", topic: TopicTripCreated, changes: map[string]string{"dropoff": ""}},
	{name: "dropoff forged: Lat", topic: TopicTripCreated, changes: map[string]string{"dropoff.lat": "", "dropoff.Lat": `50.1`}},
	{name: "no requestedAt", topic: TopicTripCreated, changes: map[string]string{"requestedAt": ""}},
	{name: "requestedAt with offset and fraction", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27T10:30:00.123+01:00"`}, accept: true},
	{name: "requestedAt in lower case", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27t09:30:00z"`}, accept: true},
	{name: "requestedAt a leap second", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2016-12-31T23:59:60Z"`}, accept: true},
	{name: "requestedAt a leap second with offset", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2017-01-01T00:59:60+01:00"`}, accept: true},
	{name: "requestedAt a second 60 at noon", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27T12:00:60Z"`}},
	{name: "requestedAt a date", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27"`}},
	{name: "requestedAt without zone", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27T09:30:00"`}},
	{name: "requestedAt with a space", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27 09:30:00Z"`}},
	{name: "requestedAt on 30 February", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-02-30T09:30:00Z"`}},
	{name: "requestedAt at hour 24", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27T24:00:00Z"`}},
	{name: "requestedAt with offset +24:00", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `"2026-11-27T09:30:00+24:00"`}},
	{name: "requestedAt a Unix time", topic: TopicTripCreated, changes: map[string]string{"requestedAt": `1795771800`}},

	{name: "as in the example", topic: TopicDriverAssigned, accept: true},
	{name: "no driver", topic: TopicDriverAssigned, changes: map[string]string{"driver": ""}},
	{name: "driver a string", topic: TopicDriverAssigned, changes: map[string]string{"driver": `"Jarda"`}},
	{name: "driver without id", topic: TopicDriverAssigned, changes: map[string]string{"driver.id": ""}},
	{name: "driver name empty", topic: TopicDriverAssigned, changes: map[string]string{"driver.name": `""`}},
	{name: "driver name forged: NAME", topic: TopicDriverAssigned, changes: map[string]string{"driver.name": "", "driver.NAME": `"Jarda"`}},
	{name: "driver with a rating", topic: TopicDriverAssigned, changes: map[string]string{"driver.rating": `4.9`}, accept: true},
	{name: "no car", topic: TopicDriverAssigned, changes: map[string]string{"driver.car": ""}},
	{name: "car without plate", topic: TopicDriverAssigned, changes: map[string]string{"driver.car.plate": ""}},
	{name: "car plate forged: Plate", topic: TopicDriverAssigned, changes: map[string]string{"driver.car.plate": "", "driver.car.Plate": `"1AB 2345"`}},
	{name: "car color empty", topic: TopicDriverAssigned, changes: map[string]string{"driver.car.color": `""`}},
	{name: "car make a number", topic: TopicDriverAssigned, changes: map[string]string{"driver.car.make": `7`}},
	{name: "no etaSeconds", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": ""}},
	{name: "etaSeconds 0", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `0`}, accept: true},
	{name: "etaSeconds -1", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `-1`}},
	{name: "etaSeconds 1.5", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `1.5`}},
	{name: "etaSeconds 240.0", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `240.0`}, accept: true},
	{name: "etaSeconds 2.4e2", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `2.4e2`}, accept: true},
	{name: "etaSeconds 2400e-1", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `2400e-1`}, accept: true},
	{name: "etaSeconds -0", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `-0`}, accept: true},
	{name: "etaSeconds 1e30", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `1e30`}, accept: true},
	{name: "etaSeconds 1e400", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `1e400`}, accept: true},
	{name: "etaSeconds 1e9999999, beyond what math/big reads", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `1e9999999`}},
	{name: "etaSeconds 240.0000000000000001, 240 as a float64", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `240.0000000000000001`}},
	{name: "etaSeconds 1e-400, 0 as a float64", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `1e-400`}},
	{name: "etaSeconds -1e-400, -0 as a float64", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `-1e-400`}},
	{name: "etaSeconds 12345678901234567890.5", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `12345678901234567890.5`}},
	{name: "etaSeconds a string", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `"240"`}},
	{name: "etaSeconds null", topic: TopicDriverAssigned, changes: map[string]string{"etaSeconds": `null`}},
	{name: "no assignedAt", topic: TopicDriverAssigned, changes: map[string]string{"assignedAt": ""}},
	{name: "assignedAt not a date-time", topic: TopicDriverAssigned, changes: map[string]string{"assignedAt": `"soon"`}},
	{name: "assignedAt a leap second", topic: TopicDriverAssigned, changes: map[string]string{"assignedAt": `"2016-12-31T23:59:60.5Z"`}, accept: true},
	{name: "riderId empty", topic: TopicDriverAssigned, changes: map[string]string{"riderId": `""`}},

	{name: "as in the example", topic: TopicDriverNotFound, accept: true},
	{name: "no reason", topic: TopicDriverNotFound, changes: map[string]string{"reason": ""}},
	{name: "reason empty", topic: TopicDriverNotFound, changes: map[string]string{"reason": `""`}},
	{name: "reason an object", topic: TopicDriverNotFound, changes: map[string]string{"reason": `{"code": 1}`}},
	{name: "no decidedAt", topic: TopicDriverNotFound, changes: map[string]string{"decidedAt": ""}},
	{name: "decidedAt not a date-time", topic: TopicDriverNotFound, changes: map[string]string{"decidedAt": `"2026-11-27T09:31"`}},
	{name: "decidedAt a leap second", topic: TopicDriverNotFound, changes: map[string]string{"decidedAt": `"2016-12-31T23:59:60Z"`}, accept: true},
	{name: "no reasonCode, as before it existed", topic: TopicDriverNotFound, changes: map[string]string{"reasonCode": ""}, accept: true},
	{name: "reasonCode no_driver_near", topic: TopicDriverNotFound, changes: map[string]string{"reasonCode": `"no_driver_near"`}, accept: true},
	{name: "reasonCode forged: ReasonCode", topic: TopicDriverNotFound, changes: map[string]string{"reasonCode": "", "ReasonCode": `"no_driver_near"`}, accept: true},
	{name: "reasonCode unknown", topic: TopicDriverNotFound, changes: map[string]string{"reasonCode": `"no_driver_anywhere"`}},
	{name: "reasonCode upper case", topic: TopicDriverNotFound, changes: map[string]string{"reasonCode": `"NO_DRIVER_NEAR"`}},
	{name: "reasonCode null", topic: TopicDriverNotFound, changes: map[string]string{"reasonCode": `null`}},
	{name: "no tripId", topic: TopicDriverNotFound, changes: map[string]string{"tripId": ""}},
	{name: "riderId of 129 characters", topic: TopicDriverNotFound, changes: map[string]string{"riderId": longString(129, "r")}},
}

// TestDecodersAcceptWhatTheContractsAccept decodes variants of the example
// events: each decoder accepts exactly what the contract accepts, as the
// table says and as the reference validation (the schemas on disk) does,
// and reads an accepted event by the exact property names.
func TestDecodersAcceptWhatTheContractsAccept(t *testing.T) {
	reference := referenceSchemas(t)
	accepted := map[bool]int{}
	for _, v := range variants {
		t.Run(v.topic+"/"+v.name, func(t *testing.T) {
			data := v.data(t)
			refAccepts, refValue := referenceVerdict(reference[v.topic], data)
			if refAccepts != v.accept {
				t.Fatalf("the reference validation says %t of %s, the table %t", refAccepts, data, v.accept)
			}
			accepted[v.accept]++
			got, err := decoders[v.topic](data)
			switch {
			case v.accept && err != nil:
				t.Fatalf("the contract accepts %s, the decoder refuses it: %v", data, err)
			case !v.accept && err == nil:
				t.Fatalf("the contract refuses %s, the decoder accepts it", data)
			case err != nil && !errors.Is(err, errInvalidEvent):
				t.Fatalf("refused with %q, which does not wrap errInvalidEvent: it would be retried, not dropped", err)
			case err == nil:
				if diff := cmp.Diff(want(v.topic, refValue), got); diff != "" {
					t.Errorf("decoded event mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
	// Both sides of the table must be there, or the test proves little.
	if accepted[true] < 20 || accepted[false] < 40 {
		t.Errorf("the table has %d variants the contracts accept and %d they refuse, want at least 20 and 40",
			accepted[true], accepted[false])
	}
}

// Decoders refuse data that is not one JSON object, whatever its topic.
func TestDecodersRefuseDataThatIsNoObject(t *testing.T) {
	example := string(exampleData(t, TopicTripCreated))
	for _, data := range []string{``, ` `, `null`, `[]`, `"text"`, `42`, `{`, example + `}`, example + example, example + ` x`} {
		for _, topic := range topics {
			if _, err := decoders[topic]([]byte(data)); !errors.Is(err, errInvalidEvent) {
				t.Errorf("%s: decode(%.40q) error = %v, want an invalid event", topic, data, err)
			}
		}
	}
}

// The reason a decoder gives is the one the drop logs and the dead letter
// keeps: one line, naming the topic and each violation, bounded in length.
func TestDecodeErrorIsOneBoundedLine(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]string
		want    string
	}{
		{
			name:    "one violation",
			changes: map[string]string{"riderId": `""`},
			want:    "invalid event: trip-created: at '/riderId': minLength: got 0, want 1",
		},
		{
			name:    "two, in the order of their locations",
			changes: map[string]string{"riderId": `""`, "pickup.lat": `91`},
			want:    "invalid event: trip-created: at '/pickup/lat': maximum: got 91, want 90; at '/riderId': minLength: got 0, want 1",
		},
		{
			name:    "missing properties",
			changes: map[string]string{"riderId": "", "tripId": ""},
			want:    "invalid event: trip-created: at '': missing properties 'tripId', 'riderId'",
		},
		{
			name: "many, each listed",
			changes: map[string]string{
				"riderId": `""`, "pickup.lat": `91`, "pickup.lon": `181`, "dropoff.lat": `-91`, "requestedAt": `"soon"`,
			},
			want: "invalid event: trip-created: at '/dropoff/lat': minimum: got -91, want -90; " +
				"at '/pickup/lat': maximum: got 91, want 90; at '/pickup/lon': maximum: got 181, want 180; " +
				"at '/requestedAt': 'soon' is not valid date-time: less than 20 characters long; " +
				"at '/riderId': minLength: got 0, want 1",
		},
		{
			name:    "a long value, cut",
			changes: map[string]string{"tripId": longString(10000, "x")},
			want:    "invalid event: trip-created: at '/tripId': '" + strings.Repeat("x", maxReasonBytes-len("at '/tripId': '")) + "…",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeTripCreated(variant{name: tt.name, topic: TopicTripCreated, changes: tt.changes}.data(t))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObjectInteger(t *testing.T) {
	tests := []struct {
		number string
		want   int64
	}{
		{"240", 240},
		{"-0", 0},
		{"240.0", 240},
		{"2.4e2", 240},
		{"2400e-1", 240},
		{"9007199254740992", 9007199254740992},
		// Beyond 2^53, the nearest float64: seconds saturates long before.
		{"9007199254740993", 9007199254740992},
		{"9007199254740993.0", 9007199254740992},
		{"9223372036854775807", math.MaxInt64},
		{"9223372036854775807.0", math.MaxInt64},
		{"9223372036854775808", math.MaxInt64},
		{"-9223372036854775808", math.MinInt64},
		{"-9223372036854775809", math.MinInt64},
		{"18446744073709551616", math.MaxInt64},
		{"1e30", math.MaxInt64},
		{"-1e30", math.MinInt64},
		{"1e400", math.MaxInt64},
	}
	for _, tt := range tests {
		o := object{"n": json.Number(tt.number)}
		if got := o.integer("n"); got != tt.want {
			t.Errorf("integer(%s) = %d, want %d", tt.number, got, tt.want)
		}
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		s    int64
		want time.Duration
	}{
		{0, 0},
		{240, 4 * time.Minute},
		{math.MaxInt64 / int64(time.Second), time.Duration(math.MaxInt64/int64(time.Second)) * time.Second},
		{math.MaxInt64/int64(time.Second) + 1, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := seconds(tt.s); got != tt.want {
			t.Errorf("seconds(%d) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
