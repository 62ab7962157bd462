package httpapi

import "context"

// ErrInvalidEvent is errInvalidEvent, for the tests in package
// httpapi_test: the error of an event that is dropped.
var ErrInvalidEvent = errInvalidEvent

// DecodeEvent decodes body as the handler of topic's deliveries does, and
// applies the event it holds to events.
func DecodeEvent(ctx context.Context, topic string, body []byte, events Events) error {
	d := delivery{topic: topic}
	e, err := d.decode(body)
	if err != nil {
		return err
	}
	return e.apply(ctx, events)
}
