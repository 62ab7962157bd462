package dapr

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/driver"
)

// exampleData is the data of contracts/examples/trip-created.json.
const exampleData = `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-11-27T09:30:00Z"}`

func TestDecodeTripCreated(t *testing.T) {
	example := app.TripCreated{
		TripID:      "0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10",
		RiderID:     "rider-42",
		Pickup:      driver.Position{Lat: 50.08, Lon: 14.42},
		Dropoff:     driver.Position{Lat: 50.1, Lon: 14.26},
		RequestedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC),
	}
	with := func(change func(*app.TripCreated)) app.TripCreated {
		trip := example
		change(&trip)
		return trip
	}
	tests := []struct {
		name string
		data string
		want app.TripCreated
	}{
		{name: "contract example", data: exampleData, want: example},
		{
			name: "names read exactly, not in any case",
			data: strings.Replace(exampleData, `{`, `{"TRIPID":"not a uuid","RiderId":"x","PICKUP":{"lat":1,"lon":2},`, 1),
			want: example,
		},
		{
			name: "a later duplicate wins, as JSON Schema reads it",
			data: strings.Replace(exampleData, `"riderId":"rider-42"`, `"riderId":"first","riderId":"rider-42"`, 1),
			want: example,
		},
		{
			name: "numbers beyond float64 precision, inside the range",
			data: strings.Replace(exampleData, `"lat":50.08`, `"lat":89.99999999999999999999`, 1),
			want: with(func(t *app.TripCreated) { t.Pickup.Lat = 90 }),
		},
		{
			name: "number with an exponent",
			data: strings.Replace(exampleData, `"lon":14.26`, `"lon":1.8e2`, 1),
			want: with(func(t *app.TripCreated) { t.Dropoff.Lon = 180 }),
		},
		{
			name: "leap second",
			data: strings.Replace(exampleData, `2026-11-27T09:30:00Z`, `2016-12-31T23:59:60Z`, 1),
			want: with(func(t *app.TripCreated) { t.RequestedAt = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC) }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeTripCreated([]byte(tt.data))
			if err != nil {
				t.Fatalf("decodeTripCreated() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decodeTripCreated() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeTripCreatedRefusesInvalid(t *testing.T) {
	for name, data := range map[string]string{
		"not JSON":              `{"tripId"`,
		"an array":              `[` + exampleData + `]`,
		"tripId spelled TripId": strings.Replace(exampleData, `"tripId"`, `"TripId"`, 1),
		"latitude just above":   strings.Replace(exampleData, `"lat":50.08`, `"lat":90.00000000000000001`, 1),
		"leap second not at the end of a UTC day": strings.Replace(exampleData, `09:30:00Z`, `09:59:60Z`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decodeTripCreated([]byte(data))
			if !errors.Is(err, errInvalidEvent) {
				t.Errorf("decodeTripCreated() error = %v, want one wrapping %v", err, errInvalidEvent)
			}
			if got != (app.TripCreated{}) {
				t.Errorf("decodeTripCreated() = %+v with the error, want nothing", got)
			}
		})
	}
}

// TestDateTime reads every form of date-time that the schemas' format
// accepts; the schema is checked to accept each.
func TestDateTime(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
	}{
		{in: "2026-11-27T09:30:00Z", want: utc(2026, 11, 27, 9, 30, 0, 0)},
		{in: "2026-11-27t09:30:00z", want: utc(2026, 11, 27, 9, 30, 0, 0)},
		{in: "2026-11-27T10:30:00.25+01:00", want: utc(2026, 11, 27, 9, 30, 0, 250_000_000)},
		{in: "2026-11-27T00:15:00-09:30", want: utc(2026, 11, 27, 9, 45, 0, 0)},
		{in: "2026-11-27T09:30:00.123456789123Z", want: utc(2026, 11, 27, 9, 30, 0, 123_456_789)},
		{in: "2024-02-29T09:30:00Z", want: utc(2024, 2, 29, 9, 30, 0, 0)},
		{in: "0000-01-01T00:00:00Z", want: utc(0, 1, 1, 0, 0, 0, 0)},
		{in: "2016-12-31T23:59:60Z", want: utc(2017, 1, 1, 0, 0, 0, 0)},
		{in: "2016-12-31T23:59:60.5Z", want: utc(2017, 1, 1, 0, 0, 0, 500_000_000)},
		{in: "2016-12-31T22:59:60-01:00", want: utc(2017, 1, 1, 0, 0, 0, 0)},
		{in: "2017-01-01T00:59:60+01:00", want: utc(2017, 1, 1, 0, 0, 0, 0)},
		// jsonschema reads each two-character field with strconv.Atoi,
		// which takes a sign: "+9" is 9, "-0" is 0.
		{in: "2026-11-27T+9:30:00Z", want: utc(2026, 11, 27, 9, 30, 0, 0)},
		{in: "2026-11-27T09:-0:+0Z", want: utc(2026, 11, 27, 9, 0, 0, 0)},
		{in: "2026-11-27T09:30:00-+1:+5", want: utc(2026, 11, 27, 10, 35, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			data := strings.Replace(exampleData, "2026-11-27T09:30:00Z", tt.in, 1)
			o, err := validate(app.TopicTripCreated, []byte(data))
			if err != nil {
				t.Fatalf("the schema refuses %s: %v", tt.in, err)
			}

			got := o.dateTime("requestedAt")

			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("dateTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
