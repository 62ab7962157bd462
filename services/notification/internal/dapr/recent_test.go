package dapr

import (
	"testing"
	"time"

	"github.com/ride-choreography/services/notification/internal/notification"
)

func TestRecentHistoriesKeepCopiesAndForgetTheOldestFirst(t *testing.T) {
	r := newRecentHistories(2)
	h := notification.NewHistory([]notification.Notification{notification.TripReceived("t1", time.Unix(0, 0))})
	r.put("a", h, "1")
	got, etag, _ := r.get("a")
	if _, err := got.Add(notification.TripReceived("t2", time.Unix(0, 0))); err != nil || etag != "1" {
		t.Fatalf("add to the copy: %v, etag %q", err, etag)
	}
	if again, _, _ := r.get("a"); len(again.Notifications()) != 1 {
		t.Errorf("changing a history got from the store changed what it remembers: %d notifications", len(again.Notifications()))
	}
	r.put("b", h, "1")
	r.put("c", h, "1")
	for id, want := range map[string]bool{"a": false, "b": true, "c": true} {
		if _, _, ok := r.get(id); ok != want {
			t.Errorf("remembers %s: %v, want %v", id, ok, want)
		}
	}
	r.forget("b")
	if _, _, ok := r.get("b"); ok {
		t.Error("remembers b after forget")
	}
}

func TestETagAfter(t *testing.T) {
	for _, tt := range []struct {
		etag, want string
		ok         bool
	}{{"", "1", true}, {"1", "2", true}, {"9", "10", true}, {"abc", "", false}} {
		if got, ok := etagAfter(tt.etag); got != tt.want || ok != tt.ok {
			t.Errorf("etagAfter(%q) = %q, %v; want %q, %v", tt.etag, got, ok, tt.want, tt.ok)
		}
	}
}
