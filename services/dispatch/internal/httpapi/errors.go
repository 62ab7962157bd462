package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/dispatch/internal/auth"
	"github.com/ride-choreography/services/dispatch/internal/tracing"
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

// isRefusal reports whether err is internal/auth's refusal of a token.
func isRefusal(err error) bool {
	_, _, _, ok := auth.Refusal(err)
	return ok
}

// streamRetryAfter is the Retry-After, in seconds, of a stream refused
// because the dispatcher has too many open.
const streamRetryAfter = "5"

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
	case errors.Is(err, errTooManyStreams):
		p.Status, p.Detail = http.StatusTooManyRequests, "this dispatcher has as many board streams open as allowed; close one, or retry later"
		w.Header().Set("Retry-After", streamRetryAfter)
	case errors.Is(err, errNotReady):
		p.Status, p.Detail = http.StatusServiceUnavailable, notReadyDetail(err)
	default:
		// The sidecar or the state store failed: nothing was read, so the
		// client may retry.
		p.Status, p.Detail = http.StatusServiceUnavailable, "the dispatch service cannot reach its state store right now; retry shortly"
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

// notReadyDetail says why the service is not ready (Readiness.Ready):
// starting, shutting down, or what it depends on not answering, in words
// of its own; the error of the check, which may hold addresses and the
// sidecar's words, goes to the log only.
func notReadyDetail(err error) string {
	switch {
	case errors.Is(err, errStarting):
		return errStarting.Error()
	case errors.Is(err, errStopping):
		return errStopping.Error()
	}
	return "not ready: the sidecar or the state store does not answer"
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
