package notification_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ride-choreography/services/notification/internal/notification"
)

func TestValidateRiderID(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		wantErr error
	}{
		{name: "plain", id: "rider-42"},
		{name: "one character", id: "r"},
		{name: "128 characters", id: strings.Repeat("r", 128)},
		{name: "128 characters of two bytes each", id: strings.Repeat("ř", 128)},
		{name: "spaces and punctuation", id: "Jana Nováková <jana@example.com>"},
		{name: "empty", id: "", wantErr: notification.ErrInvalidRiderID},
		{name: "129 characters", id: strings.Repeat("r", 129), wantErr: notification.ErrInvalidRiderID},
		{name: "newline", id: "rider\n42", wantErr: notification.ErrInvalidRiderID},
		{name: "NUL", id: "rider\x0042", wantErr: notification.ErrInvalidRiderID},
		{name: "DEL", id: "rider\x7f", wantErr: notification.ErrInvalidRiderID},
		{name: "C1 control", id: "rider\u0085", wantErr: notification.ErrInvalidRiderID},
		{name: "not UTF-8", id: "rider\xff", wantErr: notification.ErrInvalidRiderID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := notification.ValidateRiderID(tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ValidateRiderID(%q) = %v, want %v", tt.id, err, tt.wantErr)
			}
		})
	}
}
