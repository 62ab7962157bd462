package dapr

import (
	"testing"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/contracttest"
)

// BenchmarkDecodeTripCreated decodes contracts/examples/trip-created.json:
// the whole CloudEvent as its handler does (event), and its data alone
// (data).
func BenchmarkDecodeTripCreated(b *testing.B) {
	body := contracttest.Example(b, app.TopicTripCreated)
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
