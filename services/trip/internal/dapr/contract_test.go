package dapr

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ride-choreography/services/trip/internal/contracttest"
)

// TestDecodersAgreeWithContracts: the service accepts exactly the events
// the contract accepts, so it drops nothing a conforming producer sends and
// takes nothing the contract forbids.
func TestDecodersAgreeWithContracts(t *testing.T) {
	const notFound = `{"tripId":"` + exampleTripID + `","riderId":"r","reason":"none free","decidedAt":"2026-11-27T09:31:00Z"}`
	assigned := func(old, new string) string { return strings.Replace(assignedData, old, new, 1) }
	assignedAt := func(s string) string { return assigned(`"2026-11-27T09:30:01Z"`, `"`+s+`"`) }
	eta := func(n string) string { return assigned(`240`, n) }
	tests := []struct {
		name  string
		topic string
		data  string
	}{
		{name: "example", topic: "driver-assigned", data: exampleData(t, "driver-assigned")},
		{name: "valid", topic: "driver-assigned", data: assignedData},
		{name: "no riderId", topic: "driver-assigned", data: assigned(`"riderId":"r",`, ``)},
		{name: "empty name", topic: "driver-assigned", data: assigned(`"name":"Jarda"`, `"name":""`)},
		{name: "riderId of 128 characters", topic: "driver-assigned", data: assigned(`"riderId":"r"`, `"riderId":"`+strings.Repeat("ř", 128)+`"`)},
		{name: "riderId of 129 characters", topic: "driver-assigned", data: assigned(`"riderId":"r"`, `"riderId":"`+strings.Repeat("r", 129)+`"`)},
		{name: "trip id not a UUID", topic: "driver-assigned", data: assigned(exampleTripID, "not-a-uuid")},
		{name: "trip id in upper case", topic: "driver-assigned", data: assigned(exampleTripID, strings.ToUpper(exampleTripID))},
		{name: "unknown property", topic: "driver-assigned", data: assigned(`{"tripId"`, `{"extra":true,"tripId"`)},
		{name: "data an array", topic: "driver-assigned", data: `[` + assignedData + `]`},
		{name: "driver null", topic: "driver-assigned", data: assigned(`"driver":{`, `"driver":null,"x":{`)},

		// encoding/json alone fills a field from a property whose name
		// differs in case; the schema ignores that property.
		{name: "tripId spelled TripId", topic: "driver-assigned", data: assigned(`"tripId"`, `"TripId"`)},
		{name: "TRIPID besides tripId", topic: "driver-assigned", data: assigned(`}`, `,"TRIPID":"not a uuid"}`)},
		{name: "driver spelled DRIVER", topic: "driver-assigned", data: assigned(`"driver"`, `"DRIVER"`)},
		{name: "car plate spelled Plate", topic: "driver-assigned", data: assigned(`"plate"`, `"Plate"`)},
		{name: "empty Name besides name", topic: "driver-assigned", data: assigned(`"name":"Jarda"`, `"name":"Jarda","Name":""`)},
		{name: "etaSeconds spelled ETASeconds", topic: "driver-assigned", data: assigned(`"etaSeconds"`, `"ETASeconds"`)},
		{name: "assignedAt spelled assignedat", topic: "driver-assigned", data: assigned(`"assignedAt"`, `"assignedat"`)},
		{name: "decidedAt spelled DecidedAt", topic: "driver-not-found", data: strings.Replace(notFound, `"decidedAt"`, `"DecidedAt"`, 1)},
		{name: "reason spelled REASON", topic: "driver-not-found", data: strings.Replace(notFound, `"reason"`, `"REASON"`, 1)},

		// etaSeconds is a JSON Schema integer: an integral number in any
		// notation. Decoding into an int takes only the plain one.
		{name: "eta 0", topic: "driver-assigned", data: eta(`0`)},
		{name: "eta -0", topic: "driver-assigned", data: eta(`-0`)},
		{name: "eta -5", topic: "driver-assigned", data: eta(`-5`)},
		{name: "eta 240.0", topic: "driver-assigned", data: eta(`240.0`)},
		{name: "eta 2.4e2", topic: "driver-assigned", data: eta(`2.4e2`)},
		{name: "eta 24000E-2", topic: "driver-assigned", data: eta(`24000E-2`)},
		{name: "eta 0.0e-400", topic: "driver-assigned", data: eta(`0.0e-400`)},
		{name: "eta 1.5", topic: "driver-assigned", data: eta(`1.5`)},
		{name: "eta 240.0000000000000000001", topic: "driver-assigned", data: eta(`240.0000000000000000001`)},
		{name: "eta 1e-400", topic: "driver-assigned", data: eta(`1e-400`)},
		{name: "eta as a string", topic: "driver-assigned", data: eta(`"240"`)},
		{name: "eta largest int", topic: "driver-assigned", data: eta(`9223372036854775807`)},
		{name: "eta largest int as 92233720368547758070e-1", topic: "driver-assigned", data: eta(`92233720368547758070e-1`)},
		{name: "eta 1e18", topic: "driver-assigned", data: eta(`1e18`)},
		{name: "eta largest int + 1", topic: "driver-assigned", data: eta(`9223372036854775808`)},
		{name: "eta 1e19", topic: "driver-assigned", data: eta(`1e19`)},
		{name: "eta 1e400", topic: "driver-assigned", data: eta(`1e400`)},
		{name: "eta of 400 digits", topic: "driver-assigned", data: eta(strings.Repeat("9", 400))},
		{name: "eta 1e999999999999999999999", topic: "driver-assigned", data: eta(`1e999999999999999999999`)},

		// format date-time is RFC 3339, which time.Parse alone does not check.
		{name: "assignedAt a date", topic: "driver-assigned", data: assignedAt(`2026-11-27`)},
		{name: "assignedAt lower-case t and z", topic: "driver-assigned", data: assignedAt(`2026-11-27t09:30:01z`)},
		{name: "assignedAt one-digit hour", topic: "driver-assigned", data: assignedAt(`2026-11-27T9:30:01Z`)},
		{name: "assignedAt T0:00:00Z", topic: "driver-assigned", data: assignedAt(`2026-11-27T0:00:00Z`)},
		{name: "assignedAt decimal comma", topic: "driver-assigned", data: assignedAt(`2026-11-27T09:30:01,5Z`)},
		{name: "assignedAt 12 fraction digits", topic: "driver-assigned", data: assignedAt(`2026-11-27T09:30:01.123456789123Z`)},
		{name: "assignedAt offset -00:00", topic: "driver-assigned", data: assignedAt(`2026-11-27T09:30:01-00:00`)},
		{name: "assignedAt offset +24:00", topic: "driver-assigned", data: assignedAt(`2026-11-27T09:30:01+24:00`)},
		{name: "assignedAt without offset", topic: "driver-assigned", data: assignedAt(`2026-11-27T09:30:01`)},
		{name: "assignedAt 29 February 2026", topic: "driver-assigned", data: assignedAt(`2026-02-29T09:30:01Z`)},
		{name: "assignedAt leap second", topic: "driver-assigned", data: assignedAt(`2016-12-31T23:59:60Z`)},
		{name: "assignedAt leap second at an offset", topic: "driver-assigned", data: assignedAt(`2016-12-31T22:59:60.5-01:00`)},
		{name: "assignedAt second 60 off the UTC minute 23:59", topic: "driver-assigned", data: assignedAt(`2016-12-31T23:59:60+01:00`)},
		{name: "assignedAt second 61", topic: "driver-assigned", data: assignedAt(`2016-12-31T23:59:61Z`)},
		{name: "assignedAt signed hour", topic: "driver-assigned", data: assignedAt(`2026-11-27T+9:30:01Z`)}, // the library takes it, reading the field with strconv.Atoi

		{name: "example", topic: "trip-created", data: exampleData(t, "trip-created")},
		{name: "valid", topic: "trip-created", data: createdData},
		{name: "lat 90", topic: "trip-created", data: strings.Replace(createdData, `"lat":50.08`, `"lat":90`, 1)},
		{name: "lat 9e1", topic: "trip-created", data: strings.Replace(createdData, `"lat":50.08`, `"lat":9e1`, 1)},
		{name: "lat beyond 90 by 1e-17", topic: "trip-created", data: strings.Replace(createdData, `"lat":50.08`, `"lat":90.00000000000000001`, 1)},
		{name: "lon -180", topic: "trip-created", data: strings.Replace(createdData, `"lon":14.26`, `"lon":-180`, 1)},
		{name: "lon -180.5", topic: "trip-created", data: strings.Replace(createdData, `"lon":14.26`, `"lon":-180.5`, 1)},
		{name: "no dropoff", topic: "trip-created", data: strings.Replace(createdData, `,"dropoff":{"lat":50.1,"lon":14.26}`, ``, 1)},
		{name: "pickup without lat", topic: "trip-created", data: strings.Replace(createdData, `"lat":50.08,`, ``, 1)},
		{name: "pickup spelled PICKUP", topic: "trip-created", data: strings.Replace(createdData, `"pickup"`, `"PICKUP"`, 1)},
		{name: "lat spelled Lat", topic: "trip-created", data: strings.Replace(createdData, `"lat":50.08`, `"Lat":50.08`, 1)},
		{name: "requestedAt leap second", topic: "trip-created", data: strings.Replace(createdData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60Z`, 1)},
		{name: "riderId of 129 characters", topic: "trip-created", data: strings.Replace(createdData, `"rider-42"`, `"`+strings.Repeat("r", 129)+`"`, 1)},

		{name: "example", topic: "driver-not-found", data: exampleData(t, "driver-not-found")},
		{name: "valid", topic: "driver-not-found", data: notFound},
		{name: "no reason", topic: "driver-not-found", data: strings.Replace(notFound, `"reason":"none free",`, ``, 1)},
		{name: "riderId a number", topic: "driver-not-found", data: strings.Replace(notFound, `"riderId":"r"`, `"riderId":5`, 1)},
		{name: "decidedAt lower-case t and z", topic: "driver-not-found", data: strings.Replace(notFound, `T09:31:00Z`, `t09:31:00z`, 1)},
		{name: "decidedAt T0:00:00Z", topic: "driver-not-found", data: strings.Replace(notFound, `T09:31:00Z`, `T0:00:00Z`, 1)},
	}
	schemas := map[string]*jsonschema.Schema{
		"trip-created":     contracttest.Schema(t, "trip-created"),
		"driver-assigned":  contracttest.Schema(t, "driver-assigned"),
		"driver-not-found": contracttest.Schema(t, "driver-not-found"),
	}
	for _, tt := range tests {
		t.Run(tt.topic+"/"+tt.name, func(t *testing.T) {
			schemaErr := contracttest.Validate(t, schemas[tt.topic], []byte(tt.data))
			// As Dapr delivers it, and as some publishers send it: data as a
			// JSON string.
			for _, body := range []string{cloudEvent(tt.data), cloudEvent(strconv.Quote(tt.data))} {
				decodeErr := decodeEvent(tt.topic, []byte(body))
				if (schemaErr == nil) != (decodeErr == nil) {
					t.Errorf("%s:\n  contract says %v\n  decoder says %v", body, schemaErr, decodeErr)
				}
			}
		})
	}
}

// decodeEvent runs the service's decoders for topic on a CloudEvent.
func decodeEvent(topic string, body []byte) error {
	ce, err := readEnvelope(body)
	if err != nil {
		return err
	}
	switch topic {
	case TopicTripCreated:
		_, err = decodeTripCreated(ce.RawData)
	case TopicDriverAssigned:
		_, err = decodeDriverAssigned(ce.RawData)
	default:
		_, err = decodeDriverNotFound(ce.RawData)
	}
	return err
}

func exampleData(t testing.TB, name string) string {
	t.Helper()
	var ce struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(contracttest.Example(t, name), &ce); err != nil {
		t.Fatal(err)
	}
	return string(ce.Data)
}
