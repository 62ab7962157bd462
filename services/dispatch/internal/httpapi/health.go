package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// The phases of a Readiness.
const (
	phaseStarting int32 = iota
	phaseRunning
	phaseStopping
)

// Readiness is what GET /readyz reports: not ready until Start, not ready
// again from Stop on, and in between ready whenever its check passes. Stop
// also ends the board streams (Stopping).
type Readiness struct {
	check    func(context.Context) error
	phase    atomic.Int32
	stopping chan struct{}
	stopOnce sync.Once
}

// NewReadiness returns a Readiness, starting, that checks with check (the
// sidecar and the state store) once it runs.
func NewReadiness(check func(context.Context) error) *Readiness {
	return &Readiness{check: check, stopping: make(chan struct{})}
}

// Start marks the service as able to take work.
func (r *Readiness) Start() {
	r.phase.CompareAndSwap(phaseStarting, phaseRunning)
}

// Stop marks the service as shutting down, for good.
func (r *Readiness) Stop() {
	r.phase.Store(phaseStopping)
	r.stopOnce.Do(func() { close(r.stopping) })
}

// Stopping returns a channel that Stop closes: an open board stream
// ends then, so that shutdown need not wait for its client to leave.
func (r *Readiness) Stopping() <-chan struct{} {
	return r.stopping
}

// Why a Readiness is not ready, besides a failed check.
var (
	errStarting = fmt.Errorf("%w: starting", errNotReady)
	errStopping = fmt.Errorf("%w: shutting down", errNotReady)
)

// Ready returns nil when the service can take work, or an error saying why
// it cannot: errStarting, errStopping, or errNotReady wrapping what its
// check found.
func (r *Readiness) Ready(ctx context.Context) error {
	switch r.phase.Load() {
	case phaseStarting:
		return errStarting
	case phaseStopping:
		return errStopping
	}
	if err := r.check(ctx); err != nil {
		return fmt.Errorf("%w: %w", errNotReady, err)
	}
	return nil
}

// handleHealthz answers while the process is alive.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz answers 200 while the service can take work: it has
// started, is not shutting down, and its sidecar and state store answer.
func handleReadyz(logger zerolog.Logger, readiness *Readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := readiness.Ready(r.Context()); err != nil {
			writeError(logger, w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
