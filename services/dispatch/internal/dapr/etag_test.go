package dapr

import "testing"

func TestETagAfter(t *testing.T) {
	for _, tt := range []struct{ etag, want string }{{"", "1"}, {"1", "2"}, {"9", "10"}, {"abc", ""}} {
		if got := etagAfter(tt.etag); got != tt.want {
			t.Errorf("etagAfter(%q) = %q, want %q", tt.etag, got, tt.want)
		}
	}
}
