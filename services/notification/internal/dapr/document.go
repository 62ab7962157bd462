package dapr

import (
	"encoding/json"
	"time"

	"github.com/ride-choreography/services/notification/internal/notification"
)

// storedHistory is how a rider's history is kept in the state store.
type storedHistory struct {
	Notifications []storedNotification `json:"notifications"`
}

type storedNotification struct {
	TripID string    `json:"tripId"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text"`
	SentAt time.Time `json:"sentAt"`
}

func encodeHistory(h notification.History) ([]byte, error) {
	doc := storedHistory{Notifications: []storedNotification{}}
	for _, n := range h.Notifications() {
		doc.Notifications = append(doc.Notifications, storedNotification{
			TripID: n.TripID, Kind: string(n.Kind), Text: n.Text, SentAt: n.SentAt,
		})
	}
	return json.Marshal(doc)
}

func decodeHistory(data []byte) (notification.History, error) {
	var doc storedHistory
	if err := json.Unmarshal(data, &doc); err != nil {
		return notification.History{}, err
	}
	ns := make([]notification.Notification, 0, len(doc.Notifications))
	for _, n := range doc.Notifications {
		ns = append(ns, notification.Notification{
			TripID: n.TripID, Kind: notification.Kind(n.Kind), Text: n.Text, SentAt: n.SentAt,
		})
	}
	return notification.NewHistory(ns), nil
}
