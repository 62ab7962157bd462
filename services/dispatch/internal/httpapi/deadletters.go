package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

type deadLettersResponse struct {
	Count       int                  `json:"count"`
	DeadLetters []deadLetterResponse `json:"deadLetters"`
}

type deadLetterResponse struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Reason     string          `json:"reason"`
	Event      json.RawMessage `json:"event"`
}

// handleDeadLetters answers GET /dead-letters: the events the service could
// never handle, oldest first, and how many there ever were.
func handleDeadLetters(logger zerolog.Logger, deadLetters DeadLetters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		box, err := deadLetters.List(r.Context())
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		resp := deadLettersResponse{Count: box.Count, DeadLetters: make([]deadLetterResponse, len(box.Items))}
		for i, dl := range box.Items {
			resp.DeadLetters[i] = deadLetterResponse(dl)
		}
		writeJSON(w, http.StatusOK, resp)
	})
}
