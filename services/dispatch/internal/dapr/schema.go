package dapr

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFiles is a copy of contracts/schemas, every file byte for byte
// (make lint checks it): the service reads no contracts/ at run time.
//
//go:embed schemas/*.schema.json
var schemaFiles embed.FS

// eventSchemas holds the compiled schema of each topic the service reads.
var eventSchemas = mustCompileSchemas(map[string]string{
	TopicTripCreated:    "trip-created.schema.json",
	TopicDriverAssigned: "driver-assigned.schema.json",
	TopicDriverNotFound: "driver-not-found.schema.json",
})

// maxReasonBytes bounds the reason an invalid event is given, so that a log
// line or a dead letter stays small whatever the event holds.
const maxReasonBytes = 512

// mustCompileSchemas compiles, for each topic, the embedded schema file
// named for it, with every embedded file at hand under its $id for the
// $refs between them. It panics when a file does not compile: the service
// is then built wrong, and fails at start (a unit test compiles them).
func mustCompileSchemas(files map[string]string) map[string]*jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	names, err := fs.Glob(schemaFiles, "schemas/*.schema.json")
	if err != nil {
		panic(err)
	}
	ids := make(map[string]string, len(names))
	for _, name := range names {
		b, err := schemaFiles.ReadFile(name)
		if err != nil {
			panic(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			panic(fmt.Sprintf("parse %s: %v", name, err))
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			panic(fmt.Sprintf("%s has no $id", name))
		}
		if err := c.AddResource(id, doc); err != nil {
			panic(fmt.Sprintf("add %s: %v", name, err))
		}
		ids[path.Base(name)] = id
	}
	schemas := make(map[string]*jsonschema.Schema, len(files))
	for topic, file := range files {
		id, ok := ids[file]
		if !ok {
			panic(fmt.Sprintf("no embedded schema %s for topic %s", file, topic))
		}
		schemas[topic] = c.MustCompile(id)
	}
	return schemas
}

// validate reads data, the data of an event on topic, as JSON Schema does
// (property names exactly as written, numbers as exact decimals, nothing
// after the value) and checks it against the topic's schema. It returns the
// object the data is (every schema here is of an object); an error wraps
// errInvalidEvent and says why in one line.
func validate(topic string, data []byte) (object, error) {
	schema, ok := eventSchemas[topic]
	if !ok {
		return nil, fmt.Errorf("validate %s: the service has no schema for it", topic)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, invalid(topic, "data is not one JSON value: "+err.Error())
	}
	if n, ok := unreadableNumber(v); ok {
		return nil, invalid(topic, fmt.Sprintf("number %s has an exponent beyond what the validator reads", n))
	}
	if err := schema.Validate(v); err != nil {
		return nil, invalid(topic, reason(err))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, invalid(topic, "data is not a JSON object")
	}
	return obj, nil
}

// invalid returns the error of an event on topic that can never be
// handled, for the given reason, cut to maxReasonBytes.
func invalid(topic, reason string) error {
	if len(reason) > maxReasonBytes {
		cut := maxReasonBytes
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut] + "…"
	}
	return fmt.Errorf("%w: %s: %s", errInvalidEvent, topic, reason)
}

// reason flattens a validation error to one line: what is wrong where, for
// each leaf of its tree, sorted (the validator walks properties in map
// order, and a dead letter's reason must be the one its drop logged).
func reason(err error) string {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return strings.ReplaceAll(err.Error(), "\n", " ")
	}
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e.Error())
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	slices.Sort(leaves)
	return strings.Join(leaves, "; ")
}

// unreadableNumber returns a number in v that math/big cannot read, and
// whether there is one. The validator compares numbers as math/big
// rationals and panics on one it cannot read, which is one whose decimal
// exponent is beyond a million either way (1e-2000000); such a number is
// refused, wherever it is, before validation.
func unreadableNumber(v any) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if n, ok := unreadableNumber(e); ok {
				return n, true
			}
		}
	case []any:
		for _, e := range v {
			if n, ok := unreadableNumber(e); ok {
				return n, true
			}
		}
	case json.Number:
		// Such an exponent is written out, or takes a million digits.
		if strings.ContainsAny(string(v), "eE") || len(v) > 1e6 {
			if _, ok := new(big.Rat).SetString(string(v)); !ok {
				return string(v), true
			}
		}
	}
	return "", false
}
