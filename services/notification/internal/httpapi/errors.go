package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/auth"
	"github.com/ride-choreography/services/notification/internal/notification"
	"github.com/ride-choreography/services/notification/internal/tracing"
)

// problem is an RFC 9457 problem detail.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// requestError is a client error found while reading the request.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

var errNotReady = errors.New("not ready")

// errNotYourRider: the path names a rider other than the token's. It is
// answered as a rider that does not exist, telling nothing of them.
var errNotYourRider = errors.New("no such rider: a rider reads only their own notifications")

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
	switch {
	case errors.As(err, &reqErr):
		p.Status, p.Detail = reqErr.status, reqErr.detail
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
		p.Status, p.Detail = http.StatusNotFound, errNotYourRider.Error()
	case errors.Is(err, notification.ErrInvalidRiderID):
		p.Status, p.Detail = http.StatusBadRequest, err.Error()
	case errors.Is(err, errNotReady):
		p.Status, p.Detail = http.StatusServiceUnavailable, err.Error()
	default:
		// The sidecar or the state store failed: nothing was read, so the
		// client may retry.
		p.Status, p.Detail = http.StatusServiceUnavailable, "the notification service cannot reach its state store right now; retry shortly"
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

// handleNotFound answers routes that do not exist.
func handleNotFound(logger zerolog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(logger, w, r, &requestError{status: http.StatusNotFound, detail: "no such route"})
	})
}

// handleMethodNotAllowed answers known routes called with the wrong method,
// naming the methods they take in the Allow header.
func handleMethodNotAllowed(logger zerolog.Logger, router *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allowedMethods(router, r))
		writeError(logger, w, r, &requestError{status: http.StatusMethodNotAllowed, detail: r.Method + " is not allowed here"})
	})
}

// allowedMethods returns the methods for which router routes r's path.
func allowedMethods(router *mux.Router, r *http.Request) string {
	var methods []string
	_ = router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		ms, _ := route.GetMethods()
		for _, m := range ms {
			if !slices.Contains(methods, m) {
				methods = append(methods, m)
			}
		}
		return nil
	})
	var allowed []string
	for _, m := range methods {
		try := r.Clone(r.Context())
		try.Method = m
		var match mux.RouteMatch
		if router.Match(try, &match) && match.MatchErr == nil {
			allowed = append(allowed, m)
		}
	}
	return strings.Join(allowed, ", ")
}
