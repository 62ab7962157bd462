package dapr

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecodeTripCreated decodes contracts/examples/trip-created.json:
// the whole CloudEvent as its handler does (event), and its data alone
// (data).
func BenchmarkDecodeTripCreated(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(contractsDir, "examples", "trip-created.json"))
	if err != nil {
		b.Fatal(err)
	}
	e, err := readEnvelope(body)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("event", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeTripCreatedEvent(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("data", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeTripCreated(e.RawData); err != nil {
				b.Fatal(err)
			}
		}
	})
}
