package dapr

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/contracttest"
)

// TestEmbeddedSchemasAreTheContracts holds the embedded copy to
// contracts/schemas: the same files, byte for byte.
func TestEmbeddedSchemasAreTheContracts(t *testing.T) {
	dir := filepath.Join(contracttest.Dir(t), "schemas")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in %s: %v", dir, err)
	}
	want := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want[filepath.Base(f)] = string(b)
	}
	embedded, err := fs.ReadDir(schemaFiles, "schemas")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range embedded {
		b, err := schemaFiles.ReadFile("schemas/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = string(b)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("internal/dapr/schemas differs from contracts/schemas (-contracts +embedded); copy them again:\n%s", diff)
	}
}

func TestEventSchemasCompile(t *testing.T) {
	if eventSchemas[app.TopicTripCreated] == nil {
		t.Errorf("no schema compiled for %s", app.TopicTripCreated)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("mustCompileSchemas() of a file that is not embedded did not panic")
		}
	}()
	mustCompileSchemas(map[string]string{"nope": "nope.schema.json"})
}

func TestValidateReason(t *testing.T) {
	const valid = `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"rider-42","pickup":{"lat":50.08,"lon":14.42},"dropoff":{"lat":50.1,"lon":14.26},"requestedAt":"2026-11-27T09:30:00Z"}`
	tests := []struct {
		name string
		data string
		want string
	}{
		{
			name: "empty riderId",
			data: strings.Replace(valid, `"rider-42"`, `""`, 1),
			want: "invalid event: trip-created: at '/riderId': minLength: got 0, want 1",
		},
		{
			name: "latitude out of range, in a referred schema",
			data: strings.Replace(valid, `"lat":50.08`, `"lat":91`, 1),
			want: "invalid event: trip-created: at '/pickup/lat': maximum: got 91, want 90",
		},
		{
			name: "several errors, sorted",
			data: `{"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10","riderId":"","pickup":{"lat":-91,"lon":14.42},"dropoff":{"lat":50.1,"lon":181},"requestedAt":"2026-11-27T09:30:00Z"}`,
			want: "invalid event: trip-created: at '/dropoff/lon': maximum: got 181, want 180; at '/pickup/lat': minimum: got -91, want -90; at '/riderId': minLength: got 0, want 1",
		},
		{
			name: "missing property",
			data: strings.Replace(valid, `"riderId":"rider-42",`, ``, 1),
			want: "invalid event: trip-created: at '': missing property 'riderId'",
		},
		{
			name: "not JSON",
			data: `{"tripId":`,
			want: "invalid event: trip-created: data is not one JSON value: unexpected EOF",
		},
		{
			name: "two JSON values",
			data: valid + `{}`,
			want: "invalid event: trip-created: data is not one JSON value: invalid character after top-level value",
		},
		{
			name: "a number the validator cannot read",
			data: strings.Replace(valid, `"lat":50.08`, `"lat":1e-2000000`, 1),
			want: "invalid event: trip-created: number 1e-2000000 has an exponent beyond what the validator reads",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The validator walks properties in map order: the reason must
			// not depend on it.
			for range 20 {
				_, err := validate(app.TopicTripCreated, []byte(tt.data))
				if !errors.Is(err, errInvalidEvent) {
					t.Fatalf("validate() error = %v, want one wrapping %v", err, errInvalidEvent)
				}
				if err.Error() != tt.want {
					t.Fatalf("validate() error = %q, want %q", err, tt.want)
				}
			}
		})
	}
}

func TestValidateReasonIsOneBoundedLine(t *testing.T) {
	long := `{"tripId":"` + strings.Repeat("ž\n", 10000) + `"}`

	_, err := validate(app.TopicTripCreated, []byte(strings.ReplaceAll(long, "\n", `\n`)))

	if !errors.Is(err, errInvalidEvent) {
		t.Fatalf("validate() error = %v, want one wrapping %v", err, errInvalidEvent)
	}
	reason := err.Error()
	if strings.Contains(reason, "\n") || len(reason) > maxReasonBytes+100 || !strings.HasSuffix(reason, "…") || !strings.ContainsRune(reason, 'ž') {
		t.Errorf("reason of %d bytes = %q, want one line, cut to about %d bytes, at a rune", len(reason), reason, maxReasonBytes)
	}
}

func TestValidateUnknownTopic(t *testing.T) {
	_, err := validate("driver-assigned", []byte(`{}`))

	if err == nil || errors.Is(err, errInvalidEvent) {
		t.Errorf("validate() of a topic the service does not read = %v, want an error that does not blame the event", err)
	}
}
