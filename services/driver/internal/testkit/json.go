package testkit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Equal fails the test unless got is the same JSON value as want.
func Equal(tb testing.TB, want, got string) {
	tb.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("want is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		tb.Fatalf("%q is not JSON: %v", got, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		tb.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
}

// Lines returns every line of a JSON log, such as the service's zerolog
// output, as a map; the test fails at a line that is not a JSON object.
func Lines(tb testing.TB, log string) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for line := range strings.Lines(log) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", line, err)
		}
		lines = append(lines, entry)
	}
	return lines
}
