package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// notificationJSON is a notification as riders read it.
type notificationJSON struct {
	TripID string    `json:"tripId"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text"`
	SentAt time.Time `json:"sentAt"`
}

func toNotificationJSON(n notification.Notification) notificationJSON {
	return notificationJSON{TripID: n.TripID, Kind: string(n.Kind), Text: n.Text, SentAt: n.SentAt}
}

// historyJSON is the body of GET /riders/{riderId}/notifications.
type historyJSON struct {
	RiderID       string             `json:"riderId"`
	Notifications []notificationJSON `json:"notifications"`
}

// riderIDOf returns the rider id in the path of r, unescaped, if
// ValidateRiderID accepts it and it is the rider fromRider admitted.
func riderIDOf(r *http.Request) (string, error) {
	id, err := url.PathUnescape(mux.Vars(r)["riderId"])
	if err != nil {
		return "", fmt.Errorf("%w: %w", notification.ErrInvalidRiderID, err)
	}
	if err := notification.ValidateRiderID(id); err != nil {
		return "", err
	}
	if id != riderOf(r) {
		return "", errNotYourRider
	}
	return id, nil
}

// handleHistory answers with the rider's notifications, oldest first; an
// empty list for a rider who has none.
func handleHistory(logger zerolog.Logger, riders Riders) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		riderID, err := riderIDOf(r)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		h, err := riders.History(r.Context(), riderID)
		if err != nil {
			writeError(logger, w, r, err)
			return
		}
		body := historyJSON{RiderID: riderID, Notifications: []notificationJSON{}}
		for _, n := range h.Notifications() {
			body.Notifications = append(body.Notifications, toNotificationJSON(n))
		}
		writeJSON(w, http.StatusOK, body)
	})
}
