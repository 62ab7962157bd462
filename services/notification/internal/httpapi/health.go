package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/rs/zerolog"
)

// handleHealthz answers that the process is alive.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
	})
}

// handleReadyz answers whether the service can take work: not once
// shutdown began, and only while ready reports the sidecar and the state
// store usable.
func handleReadyz(logger zerolog.Logger, ready func(context.Context) error, stopping <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stopping:
			writeError(w, r, logger, fmt.Errorf("%w: shutting down", errNotReady))
			return
		default:
		}
		if err := ready(r.Context()); err != nil {
			writeError(w, r, logger, fmt.Errorf("%w: %w", errNotReady, err))
			return
		}
		writeJSON(w, http.StatusOK, statusBody{Status: "ready"})
	})
}
