package dapr

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The decoders of each topic's event data, fuzzed (see fuzzDecode).

func FuzzDecodeTripCreated(f *testing.F)    { fuzzDecode(f, TopicTripCreated) }
func FuzzDecodeDriverAssigned(f *testing.F) { fuzzDecode(f, TopicDriverAssigned) }
func FuzzDecodeDriverNotFound(f *testing.F) { fuzzDecode(f, TopicDriverNotFound) }

// maxErrorBytes bounds the error of a refusal, which the log and the dead
// letters repeat: the reason (at most maxReasonBytes) and what names it.
const maxErrorBytes = maxReasonBytes + 64

// fuzzDecode fuzzes the decoder of the topic's event data, against the
// reference validation: the topic's schema compiled from contracts/schemas
// on disk. Whatever the data, the decoder never panics, and
//   - it accepts the data exactly when the reference does, and then
//     returns the event made of the data's properties of the exact names;
//   - it refuses the data exactly when the reference does, with an error
//     wrapping errInvalidEvent (the one the handler answers DROP to) that
//     says why in one line of bounded length.
func fuzzDecode(f *testing.F, topic string) {
	schema := referenceSchemas(f)[topic]
	decode := decoders[topic]
	f.Add(exampleData(f, topic))
	for _, v := range variants {
		if v.topic == topic {
			f.Add(v.data(f))
		}
	}
	for _, seed := range []string{``, `null`, `{}`, `[]`, `"{}"`, `{"tripId":1e9999999}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decode(data)
		accepted, v := referenceVerdict(schema, data)
		if err != nil {
			switch {
			case !errors.Is(err, errInvalidEvent):
				t.Fatalf("refused with %q, which does not wrap errInvalidEvent: it would be retried forever, not dropped", err)
			case accepted:
				t.Fatalf("refused data that the schema accepts: %v", err)
			case strings.ContainsAny(err.Error(), "\r\n") || len(err.Error()) > maxErrorBytes:
				t.Fatalf("the reason is not one line of at most %d bytes: %q", maxErrorBytes, err)
			}
			return
		}
		if !accepted {
			t.Fatalf("accepted data that the schema refuses: %+v", got)
		}
		if diff := cmp.Diff(want(topic, v), got); diff != "" {
			t.Errorf("decoded event mismatch (-want +got):\n%s", diff)
		}
	})
}
