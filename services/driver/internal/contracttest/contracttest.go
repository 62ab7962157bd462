// Package contracttest reads the event contracts (contracts/ at the
// repository's root) for tests: the JSON Schemas as they are on disk, not
// the copy embedded in the service, and the example events. The service
// never reads contracts/ at run time.
package contracttest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const idPrefix = "https://ride-choreography.example/contracts/schemas/"

// Dir is the repository's contracts folder.
func Dir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the contracttest source")
	}
	// services/driver/internal/contracttest -> repository root
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "contracts")
}

// Schema compiles the contract schema of a topic,
// contracts/schemas/<topic>.schema.json, with the schemas it references,
// and asserts formats (uuid, date-time).
func Schema(tb testing.TB, topic string) *jsonschema.Schema {
	tb.Helper()
	dir := filepath.Join(Dir(tb), "schemas")
	files, err := filepath.Glob(filepath.Join(dir, "*.schema.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no schemas in %s: %v", dir, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			tb.Fatalf("parse %s: %v", f, err)
		}
		if err := c.AddResource(idPrefix+filepath.Base(f), doc); err != nil {
			tb.Fatalf("add %s: %v", f, err)
		}
	}
	s, err := c.Compile(idPrefix + topic + ".schema.json")
	if err != nil {
		tb.Fatalf("compile the schema of %s: %v", topic, err)
	}
	return s
}

// Example returns the example CloudEvent of a topic,
// contracts/examples/<topic>.json.
func Example(tb testing.TB, topic string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(tb), "examples", topic+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
