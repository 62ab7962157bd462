package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// readBody reads the request body up to limit bytes and leaves the rest.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read event body: %w", err)
	}
	return body, nil
}

// property is a JSON property that decodeObject reads into value.
type property struct {
	name  string
	value any
}

// decodeObject decodes the JSON object raw into the values of props, each
// from the property named exactly so, with json.Unmarshal; other
// properties are ignored. Unlike json.Unmarshal into a struct, which fills
// a field from a property whose name differs in case ("TripID" for
// "tripId"), it reads names the way the contract schemas do.
func decodeObject(raw []byte, props ...property) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return err
	}
	if obj == nil {
		return errors.New("null is not an object")
	}
	for _, p := range props {
		if v, ok := obj[p.name]; ok {
			if err := json.Unmarshal(v, p.value); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
		}
	}
	return nil
}
