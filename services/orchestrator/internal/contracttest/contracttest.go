// Package contracttest loads the event contracts (contracts/schemas) for
// tests, so each test checks events against the same JSON Schemas that
// other services are held to. The service never reads contracts/ at run
// time.
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
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate contracttest source")
	}
	// services/orchestrator/internal/contracttest -> repository root
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "contracts")
}

// Schema compiles contracts/schemas/<name>.schema.json, with the schemas it
// references, and asserts formats (uuid, date-time).
func Schema(t testing.TB, name string) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join(Dir(t), "schemas")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if err := c.AddResource(idPrefix+e.Name(), doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile(idPrefix + name + ".schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Validate reports whether data (JSON) satisfies the schema.
func Validate(t testing.TB, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(doc)
}

// Example returns contracts/examples/<name>.json.
func Example(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), "examples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
