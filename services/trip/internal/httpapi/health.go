package httpapi

import (
	"fmt"
	"net/http"

	"github.com/rs/zerolog"
)

// handleHealthz answers while the process is alive.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz answers 200 while the service can take work: its sidecar
// and state store answer and it is not shutting down.
func handleReadyz(logger zerolog.Logger, ready ReadyFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			writeError(logger, w, r, fmt.Errorf("%w: %w", errNotReady, err))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
