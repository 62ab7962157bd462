package deadletter_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/deadletter"
)

var receivedAt = time.Date(2026, 11, 27, 9, 30, 2, 0, time.UTC)

// letter returns a letter with the given id, and an event of about size
// bytes.
func letter(id string, size int) deadletter.Letter {
	return deadletter.Letter{
		ID:         id,
		Topic:      "trip-created",
		ReceivedAt: receivedAt,
		Reason:     "invalid event: riderId is missing",
		Event:      json.RawMessage(`"` + strings.Repeat("x", max(size-2, 0)) + `"`),
	}
}

// ids returns the ids of the letters, oldest first.
func ids(ls deadletter.List) []string {
	var ids []string
	for _, l := range ls.Letters() {
		ids = append(ids, l.ID)
	}
	return ids
}

func TestAddKeepsEachLetterOnce(t *testing.T) {
	var ls deadletter.List
	for _, id := range []string{"e1", "e2", "e1", "e3", "e2"} {
		ls.Add(letter(id, 100))
	}
	if diff := cmp.Diff([]string{"e1", "e2", "e3"}, ids(ls)); diff != "" {
		t.Errorf("letters mismatch (-want +got):\n%s", diff)
	}
	if got := ls.Count(); got != 3 {
		t.Errorf("count %d, want 3", got)
	}
}

func TestAddReportsWhetherItAdded(t *testing.T) {
	var ls deadletter.List
	if !ls.Add(letter("e1", 100)) {
		t.Error("first letter e1 not added")
	}
	if ls.Add(letter("e1", 200)) {
		t.Error("duplicate of e1 added")
	}
	want := []deadletter.Letter{letter("e1", 100)}
	if diff := cmp.Diff(want, ls.Letters()); diff != "" {
		t.Errorf("letters mismatch (-want +got):\n%s", diff)
	}
}

func TestAddKeepsTheNewestMaxKept(t *testing.T) {
	var ls deadletter.List
	for i := range deadletter.MaxKept + 5 {
		ls.Add(letter(fmt.Sprint("e", i), 100))
	}
	got := ids(ls)
	if len(got) != deadletter.MaxKept {
		t.Fatalf("%d letters kept, want %d", len(got), deadletter.MaxKept)
	}
	if got[0] != "e5" || got[len(got)-1] != fmt.Sprint("e", deadletter.MaxKept+4) {
		t.Errorf("kept %s to %s, want e5 to e%d", got[0], got[len(got)-1], deadletter.MaxKept+4)
	}
	if got := ls.Count(); got != deadletter.MaxKept+5 {
		t.Errorf("count %d, want %d", got, deadletter.MaxKept+5)
	}
}

func TestAddKeepsLargeLettersWithinMaxBytes(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
		want  []string
	}{
		{
			name:  "the oldest make room",
			sizes: []int{deadletter.MaxBytes / 2, deadletter.MaxBytes / 2, deadletter.MaxBytes / 2},
			want:  []string{"e2"},
		},
		{
			name:  "small ones stay with a large one",
			sizes: []int{100, 100, deadletter.MaxBytes / 2},
			want:  []string{"e0", "e1", "e2"},
		},
		{
			name:  "the newest stays, even larger than MaxBytes",
			sizes: []int{100, deadletter.MaxBytes + 1},
			want:  []string{"e1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ls deadletter.List
			for i, size := range tt.sizes {
				ls.Add(letter(fmt.Sprint("e", i), size))
			}
			if diff := cmp.Diff(tt.want, ids(ls)); diff != "" {
				t.Errorf("letters mismatch (-want +got):\n%s", diff)
			}
			if got := ls.Count(); got != len(tt.sizes) {
				t.Errorf("count %d, want %d", got, len(tt.sizes))
			}
		})
	}
}

func TestNewList(t *testing.T) {
	stored := []deadletter.Letter{letter("e1", 100), letter("e2", 100)}
	ls := deadletter.NewList(stored, 7)
	stored[0].ID = "changed"

	if diff := cmp.Diff([]string{"e1", "e2"}, ids(ls)); diff != "" {
		t.Errorf("letters mismatch (-want +got):\n%s", diff)
	}
	if got := ls.Count(); got != 7 {
		t.Errorf("count %d, want 7", got)
	}
	if ls.Add(letter("e1", 100)) {
		t.Error("duplicate of a stored letter added")
	}
	if got := deadletter.NewList(stored, 0).Count(); got != 2 {
		t.Errorf("count of 2 letters stored with count 0: %d, want 2", got)
	}
}

func TestLettersIsACopy(t *testing.T) {
	var ls deadletter.List
	ls.Add(letter("e1", 100))
	ls.Letters()[0].ID = "changed"
	if diff := cmp.Diff([]string{"e1"}, ids(ls)); diff != "" {
		t.Errorf("letters mismatch (-want +got):\n%s", diff)
	}
}
