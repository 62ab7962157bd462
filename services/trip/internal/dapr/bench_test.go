package dapr

import (
	"testing"
)

// The cost of decoding one event's data, per consumed topic: what every
// delivery pays before the app sees the event.

func BenchmarkDecodeTripCreated(b *testing.B) {
	benchmarkDecode(b, "trip-created", func(data []byte) error {
		_, err := decodeTripCreated(data)
		return err
	})
}

func BenchmarkDecodeDriverAssigned(b *testing.B) {
	benchmarkDecode(b, "driver-assigned", func(data []byte) error {
		_, err := decodeDriverAssigned(data)
		return err
	})
}

func BenchmarkDecodeDriverNotFound(b *testing.B) {
	benchmarkDecode(b, "driver-not-found", func(data []byte) error {
		_, err := decodeDriverNotFound(data)
		return err
	})
}

func benchmarkDecode(b *testing.B, example string, decode func([]byte) error) {
	data := []byte(exampleData(b, example))
	b.ReportAllocs()
	for b.Loop() {
		if err := decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
