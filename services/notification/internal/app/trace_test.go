package app_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/notification/internal/app"
)

func TestTraceParent(t *testing.T) {
	tests := []struct {
		name            string
		traceparent     string
		wantTraceParent string
		wantTraceID     string
	}{
		{
			name:            "valid",
			traceparent:     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			wantTraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			wantTraceID:     "4bf92f3577b34da6a3ce929d0e0e4736",
		},
		{name: "empty", traceparent: ""},
		{name: "too few parts", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"},
		{name: "short trace id", traceparent: "00-4bf92f3577b34da6-00f067aa0ba902b7-01"},
		{name: "not hex", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01"},
		{name: "upper case", traceparent: "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := app.WithTraceParent(t.Context(), tt.traceparent)
			got := []string{app.TraceParent(ctx), app.TraceID(ctx)}
			want := []string{tt.wantTraceParent, tt.wantTraceID}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("traceparent, trace id mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
