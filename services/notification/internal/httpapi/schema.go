package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// object is a JSON object of event data, with its numbers kept as written,
// and the path it sits at in the data ("driver.car." below the top) for
// error messages.
type object struct {
	path  string
	props map[string]any
}

// parseObject decodes raw, which must hold exactly one JSON object.
func parseObject(raw []byte) (object, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return object{}, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return object{}, errors.New("more than one JSON value")
	}
	props, ok := v.(map[string]any)
	if !ok {
		return object{}, fmt.Errorf("%s, want object", jsonType(v))
	}
	return object{props: props}, nil
}

// jsonType names the JSON Schema type of a value decoded with UseNumber.
func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	default:
		return "null"
	}
}

// schemaReader reads properties of event data the way the contracts' JSON
// Schemas define them, by exact name; properties it is not asked for are
// ignored. It keeps the first violation in err (wrapping errInvalidEvent);
// reads after a violation return zero values.
type schemaReader struct {
	err error
}

func (r *schemaReader) fail(o object, name, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s%s %s", errInvalidEvent, o.path, name, fmt.Sprintf(format, args...))
	}
}

// value returns the required property name of o if it has the JSON type
// want.
func (r *schemaReader) value(o object, name, want string) (any, bool) {
	if r.err != nil {
		return nil, false
	}
	v, ok := o.props[name]
	if !ok {
		r.fail(o, name, "is missing")
		return nil, false
	}
	if got := jsonType(v); got != want {
		r.fail(o, name, "is %s, want %s", got, want)
		return nil, false
	}
	return v, true
}

// object reads a required object.
func (r *schemaReader) object(o object, name string) object {
	v, ok := r.value(o, name, "object")
	if !ok {
		return object{}
	}
	return object{path: o.path + name + ".", props: v.(map[string]any)}
}

// string reads a required string of minLen to maxLen characters (no upper
// bound when maxLen is 0).
func (r *schemaReader) string(o object, name string, minLen, maxLen int) string {
	v, ok := r.value(o, name, "string")
	if !ok {
		return ""
	}
	s := v.(string)
	switch n := utf8.RuneCountInString(s); {
	case n < minLen:
		r.fail(o, name, "has %d characters, want at least %d", n, minLen)
		return ""
	case maxLen > 0 && n > maxLen:
		r.fail(o, name, "has %d characters, want at most %d", n, maxLen)
		return ""
	}
	return s
}

// text reads a required non-empty string.
func (r *schemaReader) text(o object, name string) string {
	return r.string(o, name, 1, 0)
}

// match reads a required string that matches pattern.
func (r *schemaReader) match(o object, name string, pattern *regexp.Regexp) string {
	s := r.string(o, name, 0, 0)
	if r.err == nil && !pattern.MatchString(s) {
		r.fail(o, name, "%q does not match %s", s, pattern)
		return ""
	}
	return s
}

// dateTime reads a required string in the date-time format.
func (r *schemaReader) dateTime(o object, name string) string {
	s := r.string(o, name, 0, 0)
	if r.err == nil && !isDateTime(s) {
		r.fail(o, name, "%q is not an RFC 3339 date-time", s)
		return ""
	}
	return s
}

// number reads a required number from minimum to maximum, compared
// exactly (see decimal), and returns it as the nearest float64.
func (r *schemaReader) number(o object, name string, minimum, maximum int) float64 {
	v, ok := r.value(o, name, "number")
	if !ok {
		return 0
	}
	n := v.(json.Number)
	if d := parseDecimal(n); d.compare(decimalOf(minimum)) < 0 || d.compare(decimalOf(maximum)) > 0 {
		r.fail(o, name, "is %s, want %d to %d", n, minimum, maximum)
		return 0
	}
	return nearestFloat(n)
}

// integer reads a required number with no fractional part (240, 240.0 or
// 2.4e2), at least minimum, and returns it as the nearest float64.
func (r *schemaReader) integer(o object, name string, minimum int) float64 {
	v, ok := r.value(o, name, "number")
	if !ok {
		return 0
	}
	n := v.(json.Number)
	switch d := parseDecimal(n); {
	case !d.isInteger():
		r.fail(o, name, "is %s, want an integer", n)
		return 0
	case d.compare(decimalOf(minimum)) < 0:
		r.fail(o, name, "is %s, want at least %d", n, minimum)
		return 0
	}
	return nearestFloat(n)
}

// nearestFloat returns the float64 nearest to n. A json.Number is
// well-formed, so the only error is ErrRange, and the value is then the
// infinity or zero that the number stands beyond.
func nearestFloat(n json.Number) float64 {
	f, _ := strconv.ParseFloat(n.String(), 64)
	return f
}

// dateTimePattern is the shape of an RFC 3339 date-time; isDateTime checks
// the ranges.
var dateTimePattern = regexp.MustCompile(
	`^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$`)

// isDateTime reports whether s is an RFC 3339 date-time, JSON Schema's
// "date-time" format: "T" and "Z" in either case, a leap second only at
// 23:59:60 UTC.
func isDateTime(s string) bool {
	m := dateTimePattern.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	if _, err := time.Parse(time.DateOnly, m[1]); err != nil {
		return false
	}
	hour, minute, second := atoi(m[2]), atoi(m[3]), atoi(m[4])
	offset := 0
	if m[5] != "" {
		offsetHour, offsetMinute := atoi(m[6]), atoi(m[7])
		if offsetHour > 23 || offsetMinute > 59 {
			return false
		}
		offset = offsetHour*60 + offsetMinute
		if m[5] == "-" {
			offset = -offset
		}
	}
	if hour > 23 || minute > 59 || second > 60 {
		return false
	}
	utcMinute := ((hour*60+minute-offset)%(24*60) + 24*60) % (24 * 60)
	return second < 60 || utcMinute == 23*60+59
}

// atoi converts digits that a pattern matched.
func atoi(digits string) int {
	n, _ := strconv.Atoi(digits)
	return n
}
