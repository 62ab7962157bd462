// Package contracttest reads the event contracts (contracts/ at the
// repository's root) for tests, so that every test package delivers the
// same example events. The service never reads contracts/ at run time.
package contracttest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Example returns the example CloudEvent of a topic:
// contracts/examples/<topic>.json.
func Example(tb testing.TB, topic string) []byte {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the contracttest source")
	}
	// services/dispatch/internal/contracttest -> repository root
	path := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "contracts", "examples", topic+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
