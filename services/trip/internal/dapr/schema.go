package dapr

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFiles is a copy of contracts/schemas, which make lint keeps
// identical to it: the service judges events by the contracts themselves.
//
//go:embed schemas/*.schema.json
var schemaFiles embed.FS

// schemaBase is where the contracts' $ids put the schemas.
const schemaBase = "https://ride-choreography.example/contracts/schemas/"

// eventSchemas holds the compiled schema of each topic the service reads.
var eventSchemas = mustCompileSchemas(map[string]string{
	TopicTripCreated:    "trip-created.schema.json",
	TopicDriverAssigned: "driver-assigned.schema.json",
	TopicDriverNotFound: "driver-not-found.schema.json",
})

// mustCompileSchemas compiles the schema of each topic from the embedded
// files, asserting formats (uuid, date-time) as the contracts mean them. A
// schema that does not compile is a broken build: it panics at start.
func mustCompileSchemas(files map[string]string) map[string]*jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	names, err := fs.Glob(schemaFiles, "schemas/*.schema.json")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		b, err := schemaFiles.ReadFile(name)
		if err != nil {
			panic(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			panic(fmt.Sprintf("%s: %v", name, err))
		}
		if err := c.AddResource(schemaBase+strings.TrimPrefix(name, "schemas/"), doc); err != nil {
			panic(err)
		}
	}
	schemas := make(map[string]*jsonschema.Schema, len(files))
	for topic, file := range files {
		schemas[topic] = c.MustCompile(schemaBase + file)
	}
	return schemas
}

// validate checks an event's data against its topic's schema and returns
// it as plain JSON values (numbers as json.Number, exact as written). Its
// errors wrap errInvalidEvent and say in one line what is wrong.
func validate(topic string, data []byte) (o object, err error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not JSON: %w", errInvalidEvent, topic, err)
	}
	// The library panics on numbers that math/big cannot read, as
	// 0e10000000000000000000: data it cannot judge is not accepted.
	defer func() {
		if r := recover(); r != nil {
			o, err = nil, fmt.Errorf("%w: %s: the schema cannot judge it: %v", errInvalidEvent, topic, r)
		}
	}()
	if err := eventSchemas[topic].Validate(v); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", errInvalidEvent, topic, violations(err))
	}
	return object(v.(map[string]any)), nil // every schema says "type": "object"
}

// maxViolations bounds how many of an event's violations its error lists,
// and maxViolationBytes each one (it may quote the offending value).
const (
	maxViolations     = 5
	maxViolationBytes = 200
)

// violations lists what the schema found wrong, one clause per violated
// keyword, such as "at '/riderId': minLength: got 0, want 1".
func violations(err error) string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err.Error()
	}
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, clip(e.Error(), maxViolationBytes))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	if len(leaves) > maxViolations {
		leaves = append(leaves[:maxViolations], fmt.Sprintf("and %d more", len(leaves)-maxViolations))
	}
	return strings.Join(leaves, "; ")
}

// clip shortens s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
