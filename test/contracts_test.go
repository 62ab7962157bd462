package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const schemaIDPrefix = "https://ride-choreography.example/contracts/schemas/"

// topics are the topics of the design (DESIGN.md, docs/conventions.md).
var topics = []string{"driver-assigned", "driver-not-found", "trip-created"}

// asyncAPI is the part of contracts/asyncapi.yaml the checks read.
type asyncAPI struct {
	AsyncAPI string `yaml:"asyncapi"`
	Channels map[string]struct {
		Address  string `yaml:"address"`
		Messages map[string]struct {
			Ref string `yaml:"$ref"`
		} `yaml:"messages"`
	} `yaml:"channels"`
	Operations map[string]struct {
		Action  string `yaml:"action"`
		Channel struct {
			Ref string `yaml:"$ref"`
		} `yaml:"channel"`
	} `yaml:"operations"`
	Components struct {
		Messages map[string]struct {
			Name    string `yaml:"name"`
			Payload struct {
				Schema struct {
					Ref string `yaml:"$ref"`
				} `yaml:"schema"`
			} `yaml:"payload"`
			Examples []struct {
				Payload any `yaml:"payload"`
			} `yaml:"examples"`
		} `yaml:"messages"`
	} `yaml:"components"`
}

// TestAsyncAPIDescribesTheTopics: the AsyncAPI document names exactly the
// design's topics, each with a schema file that exists, a publisher and at
// least one subscriber, and examples that satisfy the schema.
func TestAsyncAPIDescribesTheTopics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "contracts", "asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc asyncAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("asyncapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.AsyncAPI, "3.") {
		t.Errorf("asyncapi version %q, want 3.x", doc.AsyncAPI)
	}

	var addresses []string
	sends, receives := map[string]int{}, map[string]int{}
	for name, ch := range doc.Channels {
		addresses = append(addresses, ch.Address)
		for _, m := range ch.Messages {
			msgName := strings.TrimPrefix(m.Ref, "#/components/messages/")
			msg, ok := doc.Components.Messages[msgName]
			if !ok {
				t.Errorf("channel %s refers to unknown message %s", name, m.Ref)
				continue
			}
			if msg.Name != ch.Address {
				t.Errorf("message %s is named %q, want its topic %q", msgName, msg.Name, ch.Address)
			}
			wantRef := "./schemas/" + ch.Address + ".schema.json"
			if msg.Payload.Schema.Ref != wantRef {
				t.Errorf("message %s payload $ref %q, want %q", msgName, msg.Payload.Schema.Ref, wantRef)
			}
			schema := compileSchema(t, ch.Address)
			if len(msg.Examples) == 0 {
				t.Errorf("message %s has no example", msgName)
			}
			for i, ex := range msg.Examples {
				payload, _ := json.Marshal(ex.Payload)
				if err := validate(schema, payload); err != nil {
					t.Errorf("message %s example %d violates its schema: %v", msgName, i, err)
				}
			}
		}
	}
	for name, op := range doc.Operations {
		ch, ok := doc.Channels[strings.TrimPrefix(op.Channel.Ref, "#/channels/")]
		if !ok {
			t.Errorf("operation %s refers to unknown channel %s", name, op.Channel.Ref)
			continue
		}
		switch op.Action {
		case "send":
			sends[ch.Address]++
		case "receive":
			receives[ch.Address]++
		default:
			t.Errorf("operation %s has action %q", name, op.Action)
		}
	}
	slices.Sort(addresses)
	if diff := cmp.Diff(topics, addresses); diff != "" {
		t.Errorf("channel addresses (-want +got):\n%s", diff)
	}
	for _, topic := range topics {
		if sends[topic] != 1 || receives[topic] == 0 {
			t.Errorf("topic %s: %d publishers and %d subscribers, want exactly 1 and at least 1", topic, sends[topic], receives[topic])
		}
	}
}

// TestExampleEventsSatisfyTheirSchemas: every example CloudEvent in
// contracts/examples carries data that satisfies its topic's schema.
func TestExampleEventsSatisfyTheirSchemas(t *testing.T) {
	for _, topic := range topics {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "contracts", "examples", topic+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var ce struct {
			SpecVersion string          `json:"specversion"`
			ID          string          `json:"id"`
			Topic       string          `json:"topic"`
			PubsubName  string          `json:"pubsubname"`
			Data        json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &ce); err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		if ce.SpecVersion != "1.0" || ce.ID == "" || ce.Topic != topic || ce.PubsubName != "pubsub" {
			t.Errorf("%s example envelope: specversion %q id %q topic %q pubsubname %q", topic, ce.SpecVersion, ce.ID, ce.Topic, ce.PubsubName)
		}
		if err := validate(compileSchema(t, topic), ce.Data); err != nil {
			t.Errorf("%s example data violates the schema: %v", topic, err)
		}
	}
}

func compileSchema(t *testing.T, topic string) *jsonschema.Schema {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "contracts", "schemas")
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
		if id, _ := doc.(map[string]any)["$id"].(string); id != schemaIDPrefix+e.Name() {
			t.Errorf("%s has $id %q, want %q", e.Name(), id, schemaIDPrefix+e.Name())
		}
		if err := c.AddResource(schemaIDPrefix+e.Name(), doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile(schemaIDPrefix + topic + ".schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(s *jsonschema.Schema, data []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(doc)
}

// repoRoot is the repository root: the tests run in test/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
