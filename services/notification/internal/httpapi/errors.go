package httpapi

import (
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// Errors of the HTTP layer itself; writeError maps them to status codes.
var (
	errNoRoute          = errors.New("no such resource")
	errMethodNotAllowed = errors.New("method not allowed on this resource")
	errNotReady         = errors.New("not ready")
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// writeError answers r with the problem err stands for. It is the one
// place an HTTP error is logged: client errors at info level, a service
// that is not ready at warn level, anything else at error level.
func writeError(w http.ResponseWriter, r *http.Request, logger zerolog.Logger, err error) {
	status, detail := http.StatusInternalServerError, "the request could not be completed"
	level := zerolog.ErrorLevel
	switch {
	case errors.Is(err, notification.ErrInvalidRiderID):
		status, detail, level = http.StatusBadRequest, err.Error(), zerolog.InfoLevel
	case errors.Is(err, errNoRoute):
		status, detail, level = http.StatusNotFound, err.Error(), zerolog.InfoLevel
	case errors.Is(err, errMethodNotAllowed):
		status, detail, level = http.StatusMethodNotAllowed, err.Error(), zerolog.InfoLevel
	case errors.Is(err, errNotReady):
		status, detail, level = http.StatusServiceUnavailable, err.Error(), zerolog.WarnLevel
	}
	logger.WithLevel(level).
		Str("method", r.Method).
		Str("path", r.URL.Path).
		Int("status", status).
		Err(err).
		Msg("request failed")
	writeJSONAs(w, "application/problem+json", status, problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}
