package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/trip/internal/app"
	"github.com/ride-choreography/services/trip/internal/auth"
	"github.com/ride-choreography/services/trip/internal/tracing"
	"github.com/ride-choreography/services/trip/internal/trip"
)

// maxBodyBytes bounds a request body.
const maxBodyBytes = 64 << 10

// problem is an RFC 9457 problem detail.
type problem struct {
	Type          string         `json:"type"`
	Title         string         `json:"title"`
	Status        int            `json:"status"`
	Detail        string         `json:"detail,omitempty"`
	Instance      string         `json:"instance,omitempty"`
	InvalidParams []invalidParam `json:"invalidParams,omitempty"`
}

type invalidParam struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// requestError is a client error found while reading the request.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(detail string) error {
	return &requestError{status: http.StatusBadRequest, detail: detail}
}

var errNotReady = errors.New("not ready")

// errNotYourRider: the order names a rider other than the token's.
var errNotYourRider = errors.New("riderId must be the rider your token names, or be left out")

// problemOutcomeUnknown is the problem type of an order whose fate is not
// known (app.ErrOutcomeUnknown).
const problemOutcomeUnknown = "https://ride-choreography.example/problems/order-outcome-unknown"

// isRefusal reports whether err is internal/auth's refusal of a token.
func isRefusal(err error) bool {
	_, _, _, ok := auth.Refusal(err)
	return ok
}

// writeError maps an error to its problem response. It is the one place
// an HTTP error is logged.
func writeError(logger zerolog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	p := problem{Type: "about:blank", Instance: r.URL.Path}
	var reqErr *requestError
	var invalid *trip.InvalidOrderError
	switch {
	case errors.As(err, &reqErr):
		p.Status, p.Detail = reqErr.status, reqErr.detail
	case errors.As(err, &invalid):
		p.Status, p.Detail = http.StatusBadRequest, "the order is invalid; see invalidParams"
		for _, f := range invalid.Fields {
			p.InvalidParams = append(p.InvalidParams, invalidParam{Name: f.Field, Reason: f.Reason})
		}
	case isRefusal(err):
		status, detail, challenge, _ := auth.Refusal(err)
		p.Status, p.Detail = status, detail
		if challenge != "" {
			w.Header().Set("WWW-Authenticate", challenge)
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
	case errors.Is(err, errNotYourRider):
		p.Status, p.Detail = http.StatusForbidden, errNotYourRider.Error()
	case errors.Is(err, trip.ErrNotFound):
		p.Status, p.Detail = http.StatusNotFound, "no trip has this id"
	case errors.Is(err, app.ErrIdempotencyKeyReused):
		p.Status, p.Detail = http.StatusUnprocessableEntity, "this Idempotency-Key was already used for a different order; use a new key for a new order"
	case errors.Is(err, errNotReady):
		p.Status, p.Detail = http.StatusServiceUnavailable, err.Error()
	case errors.Is(err, app.ErrOutcomeUnknown):
		// Not a refusal: the order may be on its way. Only a retry with the
		// same Idempotency-Key tells (and never orders twice).
		p.Type = problemOutcomeUnknown
		p.Status = http.StatusServiceUnavailable
		p.Detail = "the order may or may not have been accepted; send it again with the same Idempotency-Key to find out, without ordering twice"
		w.Header().Set("Retry-After", "1")
	default:
		// The sidecar or the state store failed: nothing was accepted, so
		// the client may retry (with the same Idempotency-Key).
		p.Status, p.Detail = http.StatusServiceUnavailable, "the trip service cannot reach its state store right now; retry shortly"
		w.Header().Set("Retry-After", "1")
	}
	p.Title = http.StatusText(p.Status)

	event := logger.Info() // a client's mistake, not the service's
	if p.Status >= 500 {
		event = logger.Error()
	}
	event.Err(err).
		Str("method", r.Method).
		Str("path", r.URL.Path).
		Int("status", p.Status).
		Str("traceId", tracing.TraceID(r.Context())).
		Msg("request failed")

	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads exactly one JSON object with only known fields from a
// JSON body of at most maxBodyBytes into v, a pointer to a struct.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" {
		return &requestError{status: http.StatusUnsupportedMediaType, detail: "Content-Type must be application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return badRequest("the body must hold a single JSON object")
	}
	return exactNames(body, reflect.TypeOf(v))
}

// exactNames refuses a property whose name matches a field only when case
// is ignored: encoding/json takes "RIDERID" for riderId, the API does not.
// Names matching no field at all were refused by DisallowUnknownFields.
func exactNames(raw []byte, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var obj map[string]json.RawMessage
	if t.Kind() != reflect.Struct || json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	for name, value := range obj {
		field, ok := fieldNamed(t, name)
		if !ok {
			return badRequest(fmt.Sprintf("unknown field %q", name))
		}
		if err := exactNames(value, field.Type); err != nil {
			return err
		}
	}
	return nil
}

// fieldNamed returns the field of struct t whose JSON name is exactly name.
func fieldNamed(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func decodeError(err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &requestError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("the body must be at most %d bytes", maxBodyBytes)}
	case errors.Is(err, io.EOF):
		return badRequest("the body is empty; send a JSON object")
	case errors.As(err, &syntaxErr):
		return badRequest(fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("malformed JSON: the body ends too early")
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return badRequest("the body must be a JSON object")
	case errors.As(err, &typeErr):
		return badRequest(fmt.Sprintf("field %s must be a %s", typeErr.Field, typeErr.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return badRequest("the body is not a valid order: " + err.Error())
	}
}

// handleNotFound answers routes that do not exist.
func handleNotFound(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(logger, w, r, &requestError{status: http.StatusNotFound, detail: "no such route"})
	})
}

// handleMethodNotAllowed answers known routes called with the wrong method.
func handleMethodNotAllowed(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(logger, w, r, &requestError{status: http.StatusMethodNotAllowed, detail: r.Method + " is not allowed here"})
	})
}
