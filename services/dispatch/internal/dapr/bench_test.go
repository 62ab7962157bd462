package dapr

import "testing"

// The decoders of each topic's event data, on the example of
// contracts/examples: validation by the schema, then the read of the
// app's event.

func BenchmarkDecodeTripCreated(b *testing.B)    { benchmarkDecode(b, TopicTripCreated) }
func BenchmarkDecodeDriverAssigned(b *testing.B) { benchmarkDecode(b, TopicDriverAssigned) }
func BenchmarkDecodeDriverNotFound(b *testing.B) { benchmarkDecode(b, TopicDriverNotFound) }

func benchmarkDecode(b *testing.B, topic string) {
	data := exampleData(b, topic)
	decode := decoders[topic]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
