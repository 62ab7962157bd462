package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestTripCreatedMatchesContract validates what the service publishes
// against contracts/schemas/trip-created.schema.json.
func TestTripCreatedMatchesContract(t *testing.T) {
	schema := compileSchema(t, "trip-created.schema.json")
	tr, _, err := newService(newFakeStore()).Order(t.Context(), order, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(newTripCreated(tr))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Errorf("published trip-created %s violates the contract: %v", b, err)
	}
}

func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	dir, err := filepath.Abs("../../../../contracts/schemas")
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Register every schema under its $id so $refs between them resolve
	// without a network.
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://ride-choreography.example/contracts/schemas/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
