package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// components/brokers/ holds one ready pub/sub component per broker, each
// named pubsub so that it replaces components/pubsub.yaml without a change
// to any service (make run BROKER=<name>). These tests read the files the
// way daprd would and hold each to the settings that keep messages for a
// subscriber that is down, to the metadata names its component in
// components-contrib (the version the pinned daprd builds) documents, and to
// holding no secrets. They need no broker, so they cover the brokers that
// cannot run here (Kafka, Azure Service Bus) as well.

// brokerSetting is one metadata item a broker's component must carry:
// a literal value, a variable the sidecar reads it from (envRef), or a
// secret of the secret store (secretKeyRef: its name, whose key must be the
// same; test/secrets_test.go holds credentials to secretKeyRef).
type brokerSetting struct {
	value  string
	envRef string
	secret string
}

// brokerComponents lists every file components/brokers/ must hold, the
// component type it must be, and its keep-messages settings (each file's
// comments explain them).
var brokerComponents = map[string]struct {
	typ      string
	contrib  string // folder under components-contrib's pubsub/
	settings map[string]brokerSetting
}{
	"rabbitmq.yaml": {"pubsub.rabbitmq", "rabbitmq", map[string]brokerSetting{
		"hostname":          {envRef: "RABBITMQ_HOST"},
		"username":          {secret: "RABBITMQ_USERNAME"},
		"password":          {secret: "RABBITMQ_PASSWORD"},
		"durable":           {value: "true"},
		"deletedWhenUnused": {value: "false"},
		"deliveryMode":      {value: "2"},
		"requeueInFailure":  {value: "true"},
		"publisherConfirm":  {value: "true"},
	}},
	"kafka.yaml": {"pubsub.kafka", "kafka", map[string]brokerSetting{
		"brokers":       {envRef: "KAFKA_BROKERS"},
		"consumerGroup": {value: "{appID}"},
		"initialOffset": {value: "oldest"},
		"authType":      {value: "none"},
	}},
	"nats.yaml": {"pubsub.jetstream", "jetstream", map[string]brokerSetting{
		"natsURL":        {secret: "NATS_URL"},
		"durableName":    {value: "{appID}"},
		"queueGroupName": {value: "{appID}"},
		"deliverPolicy":  {value: "all"},
		"ackPolicy":      {value: "explicit"},
		"concurrency":    {value: "single"},
	}},
	"mqtt.yaml": {"pubsub.mqtt3", "mqtt3", map[string]brokerSetting{
		"url":          {secret: "MQTT_URL"},
		"qos":          {value: "1"},
		"cleanSession": {value: "false"},
	}},
	"servicebus.yaml": {"pubsub.azure.servicebus.topics", "azure/servicebus/topics", map[string]brokerSetting{
		"namespaceName":           {envRef: "SERVICEBUS_NAMESPACE"},
		"azureClientId":           {envRef: "AZURE_CLIENT_ID"},
		"disableEntityManagement": {value: "true"},
		"maxDeliveryCount":        {value: "20"},
	}},
	"inmemory.yaml": {"pubsub.in-memory", "in-memory", map[string]brokerSetting{}},
}

// brokerComponent is the part of a Dapr Component these tests read.
type brokerComponent struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Type     string `yaml:"type"`
		Version  string `yaml:"version"`
		Metadata []struct {
			Name         string `yaml:"name"`
			Value        any    `yaml:"value"`
			EnvRef       string `yaml:"envRef"`
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"metadata"`
	} `yaml:"spec"`
	Auth struct {
		SecretStore string `yaml:"secretStore"`
	} `yaml:"auth"`
	Scopes []string `yaml:"scopes"`
}

// readBrokerComponents parses every components/brokers/*.yaml, strictly
// (an unknown key is an error: daprd would ignore a misspelt one), keyed by
// file name, with each file's text.
func readBrokerComponents(t *testing.T) (map[string]brokerComponent, map[string]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "components", "brokers", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	comps, texts := map[string]brokerComponent{}, map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		var c brokerComponent
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		comps[filepath.Base(f)], texts[filepath.Base(f)] = c, string(b)
	}
	var got, want []string
	for name := range comps {
		got = append(got, name)
	}
	for name := range brokerComponents {
		want = append(want, name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("components/brokers/ holds %v, want %v", got, want)
	}
	return comps, texts
}

func TestBrokerComponentsKeepMessagesForADownSubscriber(t *testing.T) {
	comps, _ := readBrokerComponents(t)
	for file, want := range brokerComponents {
		t.Run(file, func(t *testing.T) {
			c := comps[file]
			if c.APIVersion != "dapr.io/v1alpha1" || c.Kind != "Component" || c.Spec.Version != "v1" {
				t.Errorf("apiVersion %q kind %q version %q, want dapr.io/v1alpha1 Component v1", c.APIVersion, c.Kind, c.Spec.Version)
			}
			if c.Metadata.Name != "pubsub" {
				t.Errorf("metadata.name = %q, want pubsub (the name every service publishes and subscribes on)", c.Metadata.Name)
			}
			if c.Spec.Type != want.typ {
				t.Errorf("spec.type = %q, want %s", c.Spec.Type, want.typ)
			}
			if len(c.Scopes) > 0 {
				t.Errorf("scopes %v: every service needs the broker", c.Scopes)
			}
			got := map[string]brokerSetting{}
			for _, m := range c.Spec.Metadata {
				if _, dup := got[m.Name]; dup {
					t.Errorf("metadata %s is set twice", m.Name)
				}
				s := brokerSetting{envRef: m.EnvRef}
				if m.Value != nil {
					s.value = fmt.Sprint(m.Value)
				}
				if ref := m.SecretKeyRef; ref != nil {
					s.secret = ref.Name
					if ref.Key != ref.Name {
						t.Errorf("metadata %s: secretKeyRef name %q key %q; the secret store's secrets hold one value, under their own name", m.Name, ref.Name, ref.Key)
					}
				}
				got[m.Name] = s
			}
			for name, w := range want.settings {
				g, ok := got[name]
				switch {
				case !ok:
					t.Errorf("metadata %s is missing, want %+v", name, w)
				case g != w:
					t.Errorf("metadata %s = %+v, want %+v", name, g, w)
				}
			}
		})
	}
}

// contribPubsubDir is components-contrib's pubsub/ folder in the Go module
// cache, at the version tools/daprd builds daprd with.
func contribPubsubDir(t *testing.T) string {
	t.Helper()
	return filepath.Join(daprdModuleDir(t, "github.com/dapr/components-contrib"), "pubsub")
}

// daprdModuleDir returns the folder of module, at the version
// tools/daprd/go.mod pins, in the Go module cache.
func daprdModuleDir(t *testing.T, module string) string {
	t.Helper()
	dir := filepath.Join("..", "tools", "daprd")
	for _, args := range [][]string{
		{"list", "-m", "-json", module},
		// Not downloaded yet (no daprd built on this machine): fetch it.
		{"mod", "download", "-json", module},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.Output()
		if err != nil {
			t.Logf("go %s in tools/daprd: %v", strings.Join(args, " "), err)
			continue
		}
		var m struct {
			Dir     string
			Replace *struct{ Dir string }
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("go %s: %v", strings.Join(args, " "), err)
		}
		if m.Replace != nil && m.Replace.Dir != "" {
			m.Dir = m.Replace.Dir
		}
		if m.Dir != "" {
			return m.Dir
		}
	}
	t.Fatalf("cannot find %s (as tools/daprd/go.mod pins it) in the Go module cache; "+
		"run scripts/daprd.sh or `cd tools/daprd && GOWORK=off go mod download %s`", module, module)
	return ""
}

// runtimeScopeFields are the metadata names the Dapr runtime itself reads
// from every pub/sub component (topic scopes), as the constants of its
// pkg/scopes/scopes.go declare them at the version tools/daprd builds.
func runtimeScopeFields(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(daprdModuleDir(t, "github.com/dapr/dapr"), "pkg", "scopes", "scopes.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+\w+Topics\s*=\s*"(\w+)"|^\s+\w+Scopes\s*=\s*"(\w+)"`).FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[1]+m[2])
	}
	if len(names) < 4 {
		t.Fatalf("dapr's pkg/scopes/scopes.go declares %v; want subscriptionScopes, publishingScopes, allowedTopics and protectedTopics", names)
	}
	return names
}

// contribField is one metadata field a component's metadata.yaml documents.
type contribField struct {
	Name      string `yaml:"name"`
	Sensitive bool   `yaml:"sensitive"`
}

// azureADFields are the fields of components-contrib's built-in "azuread"
// authentication profile, which a metadata.yaml includes by name (the
// profile itself is defined in the repository's build tools, outside the
// module). Each must be one of the names the Azure authentication code
// reads, common/authentication/azure/metadata-properties.go.
var azureADFields = []contribField{
	{Name: "azureTenantId"}, {Name: "azureClientId"},
	{Name: "azureClientSecret", Sensitive: true}, {Name: "azureCertificate", Sensitive: true},
	{Name: "azureCertificateFile"}, {Name: "azureCertificatePassword", Sensitive: true},
	{Name: "azureEnvironment"},
}

// contribFields reads the fields a pub/sub component documents in its
// metadata.yaml: its metadata, every authentication profile's, and the
// built-in profiles it names.
func contribFields(t *testing.T, pubsubDir, component string) map[string]contribField {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pubsubDir, component, "metadata.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Type     string         `yaml:"type"`
		Name     string         `yaml:"name"`
		Metadata []contribField `yaml:"metadata"`
		Profiles []struct {
			Metadata []contribField `yaml:"metadata"`
		} `yaml:"authenticationProfiles"`
		Builtin []struct {
			Name     string         `yaml:"name"`
			Metadata []contribField `yaml:"metadata"`
		} `yaml:"builtinAuthenticationProfiles"`
	}
	if err := yaml.Unmarshal(b, &md); err != nil {
		t.Fatalf("%s/metadata.yaml: %v", component, err)
	}
	fields := map[string]contribField{}
	add := func(fs []contribField) {
		for _, f := range fs {
			f.Sensitive = f.Sensitive || fields[f.Name].Sensitive
			fields[f.Name] = f
		}
	}
	add(md.Metadata)
	for _, p := range md.Profiles {
		add(p.Metadata)
	}
	for _, p := range md.Builtin {
		add(p.Metadata)
		if p.Name == "azuread" {
			src, err := os.ReadFile(filepath.Join(pubsubDir, "..", "common", "authentication", "azure", "metadata-properties.go"))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range azureADFields {
				if !strings.Contains(string(src), `"`+f.Name+`"`) {
					t.Fatalf("the azuread profile field %s is not read by components-contrib's Azure authentication", f.Name)
				}
			}
			add(azureADFields)
		}
	}
	return fields
}

func TestBrokerComponentsUseOnlyDocumentedMetadata(t *testing.T) {
	comps, _ := readBrokerComponents(t)
	pubsubDir := contribPubsubDir(t)
	scopes := runtimeScopeFields(t)
	for file, want := range brokerComponents {
		t.Run(file, func(t *testing.T) {
			fields := contribFields(t, pubsubDir, want.contrib)
			for _, name := range scopes {
				fields[name] = contribField{Name: name}
			}
			for _, m := range comps[file].Spec.Metadata {
				if _, ok := fields[m.Name]; !ok {
					var names []string
					for n := range fields {
						names = append(names, n)
					}
					slices.Sort(names)
					t.Errorf("metadata %s is not a field of %s (pubsub/%s/metadata.yaml documents %v): daprd would ignore it",
						m.Name, want.typ, want.contrib, names)
				}
			}
		})
	}
}

func TestBrokerServiceBusUsesManagedIdentityAndPreparedTopics(t *testing.T) {
	comps, texts := readBrokerComponents(t)
	c, text := comps["servicebus.yaml"], texts["servicebus.yaml"]
	for _, m := range c.Spec.Metadata {
		if strings.EqualFold(m.Name, "connectionString") {
			t.Errorf("servicebus.yaml sets connectionString (%+v): use managed identity (namespaceName, azureClientId)", m)
		}
		if m.SecretKeyRef != nil {
			t.Errorf("servicebus.yaml reads %s from a secret store: with managed identity there is no secret", m.Name)
		}
	}
	// The sidecar does not create topics or subscriptions
	// (disableEntityManagement, checked above); the file must say what has
	// to exist instead: every topic, and the dead-letter topics.
	for _, topic := range []string{"trip-created", "driver-assigned", "driver-not-found", "<service>-dead-letters"} {
		if !strings.Contains(text, topic) {
			t.Errorf("servicebus.yaml does not name the topic %s that must be created up front", topic)
		}
	}
	for _, phrase := range []string{"NOT created by the sidecar", "Terraform", "managed identity"} {
		if !strings.Contains(text, phrase) {
			t.Errorf("servicebus.yaml's comments do not explain %q", phrase)
		}
	}
}

// make run BROKER=<name> (scripts/run.sh) offers exactly the brokers with a
// component, refuses an unknown one with the list of choices, and refuses
// the in-memory component, which cannot carry events between services. Both
// refusals come before anything is built or started.
func TestBrokerSwitchInMakeRun(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("..", "scripts", "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^brokers=\(([^)]*)\)`).FindSubmatch(script)
	if m == nil {
		t.Fatal("scripts/run.sh has no brokers=(...) list")
	}
	choices := strings.Fields(string(m[1]))
	var want []string
	for file := range brokerComponents {
		if file != "inmemory.yaml" {
			want = append(want, strings.TrimSuffix(file, ".yaml"))
		}
	}
	want = append(want, "redis")
	slices.Sort(want)
	if got := slices.Sorted(slices.Values(choices)); !slices.Equal(got, want) {
		t.Errorf("run.sh offers %v, want %v (redis and every components/brokers file but inmemory)", got, want)
	}

	for _, tt := range []struct{ broker, says string }{
		{"kafak", "choose one of: " + string(m[1])},
		{"inmemory", "delivers only within one sidecar"},
	} {
		cmd := exec.Command("bash", filepath.Join("..", "scripts", "run.sh"))
		cmd.Env = append(os.Environ(), "BROKER="+tt.broker)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.says) {
			t.Errorf("BROKER=%s scripts/run.sh: %v, output %q; want a failure saying %q", tt.broker, err, out, tt.says)
		}
	}
}
