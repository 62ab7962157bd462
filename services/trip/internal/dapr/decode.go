package dapr

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The contracts (contracts/schemas) are JSON Schemas, and encoding/json
// reads some JSON differently from JSON Schema: it fills a struct field
// from a property whose name differs in case, time.Time takes shapes
// that RFC 3339 does not, and an int refuses 240.0. The helpers below read
// JSON the way the schemas do.

// property is a JSON property that decodeObject reads into value.
type property struct {
	name  string
	value any
}

// decodeObject decodes the JSON object raw into the values of props, each
// from the property named exactly so, with json.Unmarshal; other
// properties, "TripId" beside "tripId" among them, are ignored.
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

// coordinate is a JSON number as written, so that its range is judged
// exactly, as JSON Schema's minimum and maximum do: 90.00000000000000001
// is beyond 90 although it rounds to 90 as a float64.
type coordinate struct {
	exact *big.Rat
}

// UnmarshalJSON decodes a JSON number of any size or precision.
func (c *coordinate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '-' && (b[0] < '0' || b[0] > '9') {
		// json.Number alone also takes a string that holds a number.
		return errors.New("not a number")
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return fmt.Errorf("number %s out of reach", n)
	}
	c.exact = r
	return nil
}

// within returns the coordinate as a float64 and whether it lies from
// -limit to limit.
func (c coordinate) within(limit int64) (float64, bool) {
	f, _ := c.exact.Float64()
	return f, c.exact.Cmp(big.NewRat(-limit, 1)) >= 0 && c.exact.Cmp(big.NewRat(limit, 1)) <= 0
}

// integer is what JSON Schema's "type": "integer" accepts, a number with
// an integral value in any notation (240, 240.0, 2.4e2), as far as it fits
// in an int.
type integer int

// UnmarshalJSON decodes a JSON number with an integral value.
func (n *integer) UnmarshalJSON(b []byte) error {
	v, ok := parseInteger(string(b))
	if !ok {
		return errors.New("not an integer within the range of an int")
	}
	*n = integer(v)
	return nil
}

// parseInteger returns the value of s, a JSON value, if it is a number
// with an integral value that fits in an int. It works on the digits, so
// it is exact where a float64 would round, and fast for any exponent.
func parseInteger(s string) (int, bool) {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false // not a number
	}
	mantissa, exp, _ := strings.Cut(strings.ToLower(s), "e")
	whole, frac, _ := strings.Cut(mantissa, ".")
	digits := strings.TrimLeft(whole+frac, "0")
	if digits == "" {
		return 0, true // zero, in any notation
	}
	e, _ := strconv.ParseInt(cmp.Or(exp, "0"), 10, 32)
	significant := strings.TrimRight(digits, "0")
	// s is significant × 10^shift. An exponent that ParseInt clamped to 32
	// bits gives the same answer as the real one: s has far fewer digits.
	shift := e - int64(len(frac)) + int64(len(digits)-len(significant))
	switch {
	case shift < 0:
		return 0, false // a fraction
	case int64(len(significant))+shift > 19:
		return 0, false // more digits than math.MaxInt64 has
	}
	v, err := strconv.ParseInt(sign+significant+strings.Repeat("0", int(shift)), 10, 0)
	return int(v), err == nil
}

// dateTimePattern is the shape of an RFC 3339 date-time (section 5.6),
// which the schemas' format "date-time" means.
var dateTimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:(\d{2})(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$`)

// parseDateTime parses an RFC 3339 date-time. time.Parse checks the
// ranges, but on its own also takes shapes RFC 3339 refuses (a one-digit
// hour, a decimal comma) and refuses some it allows: a lower-case t or z,
// and a leap second, 23:59:60 UTC, read here as the second after 23:59:59.
func parseDateTime(s string) (time.Time, error) {
	match := dateTimePattern.FindStringSubmatch(s)
	if match == nil {
		return time.Time{}, errors.New("not an RFC 3339 date-time")
	}
	leap := match[1] == "60"
	if leap { // the seconds are s[17:19]
		s = s[:17] + "59" + s[19:]
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 date-time")
	}
	if leap {
		if h, m, _ := t.UTC().Clock(); h != 23 || m != 59 {
			return time.Time{}, errors.New("not an RFC 3339 date-time: a leap second is 23:59:60 UTC")
		}
		t = t.Add(time.Second)
	}
	return t, nil
}
