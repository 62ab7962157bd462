package e2e

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// No secrets in YAML (README, "Security"): every component credential comes
// from the Dapr secret store (components/secretstore.yaml; on Azure the
// components sign in with a managed identity and hold none). These tests
// read every component file, the folders the sidecars load (components/ with
// each broker file as pubsub.yaml, as make run BROKER= and the harness
// assemble them), the harness's own copies, and the compose and run template
// files, and fail on a credential written in a file. They start no system.
// deploy/terraform's test holds the Terraform's Dapr components to the same
// rule (credentialName below, the same expression there).

// credentialName matches metadata names that hold a credential in some Dapr
// component: passwords, secrets, tokens, keys, connection strings, and the
// URLs that carry a user and password (amqp://user:pass@..., nats://...,
// tcp://... for MQTT). Besides these, a field that components-contrib's
// metadata.yaml marks sensitive for the component's type counts.
var credentialName = regexp.MustCompile(`(?i)(` + credentialWords + `|(url|uri|dsn)$)`)

// credentialWords are the words of a name that holds a credential wherever
// it is, an environment variable's included (whose words "_" parts).
const credentialWords = `password|passwd|passphrase|secret|token|credential|connectionstring|accesskey|accountkey|masterkey|privatekey|clientkey|seedkey|saskey|sharedaccess|apikey|jwt`

// notCredentials are metadata names credentialName matches that hold no
// credential: the local.file secret store's path to its file (README,
// "Security", says how to swap to it).
var notCredentials = []string{"secretsFile"}

// credentialInValue matches a value that carries a credential whatever the
// item's name: a URL with a password (scheme://user:pass@, also with no
// user), or a connection string with a key or password in it.
var credentialInValue = regexp.MustCompile(`(?i)://[^/\s:@]*:[^/\s@]+@|sharedaccesskey=|accountkey=|accesskey=|password=|pwd=`)

// daprResource is the part of a Dapr resource file these checks read.
type daprResource struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Type     string         `yaml:"type"`
		Metadata []metadataItem `yaml:"metadata"`
		Secrets  struct {
			Scopes []secretsScope `yaml:"scopes"`
		} `yaml:"secrets"`
	} `yaml:"spec"`
	Auth struct {
		SecretStore string `yaml:"secretStore"`
	} `yaml:"auth"`
	Scopes []string `yaml:"scopes"`
}

// secretsScope is what a Configuration lets apps read of a secret store.
type secretsScope struct {
	StoreName      string   `yaml:"storeName"`
	DefaultAccess  string   `yaml:"defaultAccess"`
	AllowedSecrets []string `yaml:"allowedSecrets"`
}

// metadataItem is one spec.metadata item. Value is a node so that an empty
// value ("") and no value (a node of kind 0) are told apart.
type metadataItem struct {
	Name         string    `yaml:"name"`
	Value        yaml.Node `yaml:"value"`
	EnvRef       string    `yaml:"envRef"`
	SecretKeyRef *struct {
		Name string `yaml:"name"`
		Key  string `yaml:"key"`
	} `yaml:"secretKeyRef"`
}

// component is one Component document, and the file it is in.
type component struct {
	file string
	daprResource
}

// readResources parses every YAML document of each file (name -> content).
func readResources(files map[string][]byte) ([]component, error) {
	var out []component
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	}) {
		dec := yaml.NewDecoder(bytes.NewReader(files[name]))
		for {
			var r daprResource
			err := dec.Decode(&r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out = append(out, component{file: name, daprResource: r})
		}
	}
	return out, nil
}

// credentialProblems returns, one line each, every credential the
// Component documents among comps hold in the open: a credential not read
// from a secret store (a literal value, empty included, or an envRef), a
// value that carries a credential whatever its name. With folder set, comps
// are the files one sidecar loads, and each secretKeyRef must also find its
// secret store there, loaded wherever the component is. sensitive gives the
// fields components-contrib marks sensitive for a component type. No line
// shows a value.
func credentialProblems(comps []component, folder bool, sensitive func(typ string) map[string]bool) []string {
	var problems []string
	add := func(c component, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("%s (component %s): ", c.file, c.Metadata.Name)+fmt.Sprintf(format, args...))
	}
	stores := map[string]component{}
	for _, c := range comps {
		if c.Kind == "Component" && strings.HasPrefix(c.Spec.Type, "secretstores.") {
			stores[c.Metadata.Name] = c
		}
	}
	for _, c := range comps {
		if c.Kind != "Component" {
			continue
		}
		marked := sensitive(c.Spec.Type)
		refs := false
		for _, m := range c.Spec.Metadata {
			credential := (credentialName.MatchString(m.Name) || marked[m.Name]) && !slices.Contains(notCredentials, m.Name)
			ref := m.SecretKeyRef != nil && m.SecretKeyRef.Name != ""
			literal := m.Value.Kind != 0
			refs = refs || ref
			switch {
			case literal && credentialInValue.MatchString(m.Value.Value):
				add(c, "metadata %s holds a credential in its value (%s); take it from the secret store with secretKeyRef", m.Name, describe(m.Value.Value))
			case credential && literal:
				add(c, "metadata %s is a credential with a literal value (%s); take it from the secret store with secretKeyRef", m.Name, describe(m.Value.Value))
			case credential && m.EnvRef != "":
				add(c, "metadata %s is a credential read from the environment (envRef %s); take it from the secret store with secretKeyRef, so that swapping the store swaps where every credential comes from", m.Name, m.EnvRef)
			case credential && !ref:
				add(c, "metadata %s is a credential not taken from the secret store (secretKeyRef)", m.Name)
			}
			if ref && m.SecretKeyRef.Key != "" && m.SecretKeyRef.Key != m.SecretKeyRef.Name {
				add(c, "metadata %s: secretKeyRef name %q key %q; each secret of the store holds one value, under its own name", m.Name, m.SecretKeyRef.Name, m.SecretKeyRef.Key)
			}
		}
		if !refs || !folder {
			continue
		}
		store, ok := stores[c.Auth.SecretStore]
		switch {
		case c.Auth.SecretStore == "":
			add(c, "reads secrets (secretKeyRef) but names no secret store (auth.secretStore): outside Kubernetes daprd then never loads it")
		case !ok:
			add(c, "auth.secretStore %q is not a secret store among the files the sidecar loads: daprd never loads the component, and says so only in a warning", c.Auth.SecretStore)
		case len(store.Scopes) > 0 && (len(c.Scopes) == 0 || slices.ContainsFunc(c.Scopes, func(app string) bool { return !slices.Contains(store.Scopes, app) })):
			add(c, "is loaded by apps %v, its secret store %s only by %v: where the store is not, daprd never loads the component, and says so only in a warning", scopesOrAll(c.Scopes), store.Metadata.Name, store.Scopes)
		}
	}
	return problems
}

// describe says what kind of value v is without showing it.
func describe(v string) string {
	if v == "" {
		return "empty"
	}
	return fmt.Sprintf("%d characters", len(v))
}

func scopesOrAll(scopes []string) any {
	if len(scopes) == 0 {
		return "(every app)"
	}
	return scopes
}

// contribSensitive returns the fields components-contrib's metadata.yaml
// marks sensitive for a component type (state.redis is state/redis), at the
// version tools/daprd builds; nil for a type it does not describe.
func contribSensitive(t *testing.T) func(typ string) map[string]bool {
	t.Helper()
	root := daprdModuleDir(t, "github.com/dapr/components-contrib")
	return func(typ string) map[string]bool {
		category, rest, ok := strings.Cut(typ, ".")
		if !ok {
			return nil
		}
		dir := filepath.Join(root, category)
		component := filepath.Join(strings.Split(rest, ".")...)
		if _, err := os.Stat(filepath.Join(dir, component, "metadata.yaml")); err != nil {
			return nil
		}
		out := map[string]bool{}
		for name, f := range contribFields(t, dir, component) {
			if f.Sensitive {
				out[name] = true
			}
		}
		return out
	}
}

// readYAMLFiles reads the files matching pattern under the repository root.
func readYAMLFiles(t *testing.T, pattern string) map[string][]byte {
	t.Helper()
	root := repoRoot(t)
	paths, err := filepath.Glob(filepath.Join(root, pattern))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		files[rel] = b
	}
	return files
}

// sidecarFolders are the sets of component files a sidecar loads: the
// components/ folder (Redis), and for each broker file that folder with the
// broker's file in pubsub.yaml's place, as make run BROKER= and the
// harness's withPubsub assemble them.
func sidecarFolders(t *testing.T) map[string]map[string][]byte {
	t.Helper()
	base := readYAMLFiles(t, "components/*.yaml")
	folders := map[string]map[string][]byte{"components/": base}
	for name, b := range readYAMLFiles(t, "components/brokers/*.yaml") {
		folder := map[string][]byte{}
		for f, c := range base {
			if f != filepath.Join("components", "pubsub.yaml") {
				folder[f] = c
			}
		}
		folder[name] = b
		folders["components/ with "+name] = folder
	}
	return folders
}

func TestNoComponentHoldsACredential(t *testing.T) {
	sensitive := contribSensitive(t)
	folders := sidecarFolders(t)
	refs := 0
	for name, files := range folders {
		t.Run(name, func(t *testing.T) {
			comps, err := readResources(files)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range comps {
				if c.Kind == "Component" && sensitive(c.Spec.Type) == nil {
					t.Errorf("%s: components-contrib (as tools/daprd builds it) describes no component %s; cannot tell its sensitive fields", c.file, c.Spec.Type)
				}
				for _, m := range c.Spec.Metadata {
					if m.SecretKeyRef != nil {
						refs++
					}
				}
			}
			for _, p := range credentialProblems(comps, true, sensitive) {
				t.Error(p)
			}
		})
	}
	// The components do read credentials, and from the store: a check that
	// finds no secretKeyRef anywhere has nothing to hold.
	if refs == 0 {
		t.Error("no component reads a secret (secretKeyRef); the Redis password at least comes from the secret store")
	}

	// Every other YAML file of the repository that holds a Dapr component
	// (none today): a component file anywhere is held to the same rule.
	root := repoRoot(t)
	others := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if base := d.Name(); base == ".git" || base == ".dapr" || base == ".terraform" || base == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(p); (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(rel, "components"+string(filepath.Separator)) {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if regexp.MustCompile(`(?m)^kind:\s*Component\s*$`).Match(b) {
				others[rel] = b
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	comps, err := readResources(others)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range credentialProblems(comps, false, sensitive) {
		t.Error(p)
	}
}

// The secret store is there for the sidecars, to set up their components:
// every sidecar's Configuration denies every app each secret store in
// components/ through the secrets API, and daprd builds with the store's
// type.
func TestSecretStoresServeOnlyTheSidecars(t *testing.T) {
	comps, err := readResources(readYAMLFiles(t, "components/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var stores []component
	var config *component
	for _, c := range comps {
		switch {
		case c.Kind == "Component" && strings.HasPrefix(c.Spec.Type, "secretstores."):
			stores = append(stores, c)
		case c.Kind == "Configuration":
			if config != nil {
				t.Fatalf("two Configurations in components/: %s and %s", config.file, c.file)
			}
			config = &c
		}
	}
	if len(stores) == 0 || config == nil {
		t.Fatalf("components/ holds %d secret stores and no Configuration (%v); want the secret store and config.yaml", len(stores), config)
	}
	registered := daprdSecretStores(t)
	for _, s := range stores {
		i := slices.IndexFunc(config.Spec.Secrets.Scopes, func(sc secretsScope) bool { return sc.StoreName == s.Metadata.Name })
		if i < 0 {
			t.Errorf("%s: no secrets scope for the store %s: every app may read every secret of it through its sidecar", config.file, s.Metadata.Name)
		} else if sc := config.Spec.Secrets.Scopes[i]; !strings.EqualFold(sc.DefaultAccess, "deny") || len(sc.AllowedSecrets) > 0 {
			t.Errorf("%s: the secrets scope of %s is defaultAccess %q allowedSecrets %v; want deny, and none allowed: no app reads a secret", config.file, s.Metadata.Name, sc.DefaultAccess, sc.AllowedSecrets)
		}
		if kind := strings.TrimPrefix(s.Spec.Type, "secretstores."); !registered[kind] {
			t.Errorf("%s: daprd as tools/daprd builds it does not register the secret store %s (it has %d others)", s.file, s.Spec.Type, len(registered))
		}
	}
}

// daprdSecretStores are the secret store kinds ("local.env") the daprd that
// tools/daprd builds registers: those of Dapr's cmd/daprd/components built
// with the stablecomponents tag (scripts/daprd.sh), and any tools/daprd's
// main.go adds.
func daprdSecretStores(t *testing.T) map[string]bool {
	t.Helper()
	dir := filepath.Join(daprdModuleDir(t, "github.com/dapr/dapr"), "cmd", "daprd", "components")
	files, err := filepath.Glob(filepath.Join(dir, "secretstores_*.go"))
	if err != nil {
		t.Fatal(err)
	}
	main, err := os.ReadFile(filepath.Join(repoRoot(t), "tools", "daprd", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	register := regexp.MustCompile(`secretstoresLoader\.DefaultRegistry\.RegisterComponent\([^,]+,\s*((?:"[^"]+",?\s*)+)\)`)
	kinds := map[string]bool{}
	collect := func(src []byte) {
		for _, m := range register.FindAllSubmatch(src, -1) {
			for _, k := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(m[1], -1) {
				kinds[string(k[1])] = true
			}
		}
	}
	collect(main)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		build, _, _ := bytes.Cut(src, []byte("\n"))
		if bytes.HasPrefix(build, []byte("//go:build")) && bytes.Contains(build, []byte("stablecomponents")) {
			collect(src)
		}
	}
	if len(kinds) == 0 {
		t.Fatalf("found no secret store registered in %s: has the layout changed?", dir)
	}
	return kinds
}

// What the harness writes for a system, the folder of components its
// sidecars load (with a broker file as pubsub.yaml, as the broker matrix
// runs) and its Configuration, holds no credential either, and still finds
// the secret store.
func TestHarnessWritesNoCredentials(t *testing.T) {
	sensitive := contribSensitive(t)
	for _, broker := range []string{"", "brokers/rabbitmq.yaml", "brokers/nats.yaml", "brokers/mqtt.yaml"} {
		t.Run(cmp.Or(broker, "components/"), func(t *testing.T) {
			s := &system{dir: t.TempDir(), settings: settings{pubsub: broker}}
			dir, err := s.components()
			if err != nil {
				t.Fatal(err)
			}
			config, err := s.daprConfig(dir)
			if err != nil {
				t.Fatal(err)
			}
			paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for _, p := range append(paths, config) {
				if files[p], err = os.ReadFile(p); err != nil {
					t.Fatal(err)
				}
			}
			comps, err := readResources(files)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(comps, func(c component) bool { return strings.HasPrefix(c.Spec.Type, "secretstores.") }) {
				t.Errorf("the sidecars' folder %s holds no secret store", dir)
			}
			for _, p := range credentialProblems(comps, true, sensitive) {
				t.Error(p)
			}
		})
	}
}

// The other ways of running hand the sidecars their secrets from the
// caller's environment, never from the file: in docker-compose.yml (and
// its override files) every variable that looks like a credential is
// interpolated (${VAR...}), and no value carries one.
func TestComposeAndRunTemplateTakeSecretsFromTheEnvironment(t *testing.T) {
	files := readYAMLFiles(t, "docker-compose.yml")
	for name, b := range readYAMLFiles(t, "deploy/compose/*.yml") {
		files[name] = b
	}
	for name, b := range readYAMLFiles(t, "dapr.yaml") {
		files[name] = b
	}
	if len(files) < 2 {
		t.Fatalf("found %d of docker-compose.yml, deploy/compose/*.yml and dapr.yaml", len(files))
	}
	checked := 0
	for name, b := range files {
		problems, n, err := environmentProblems(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checked += n
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
	}
	if checked == 0 {
		t.Error("no environment variable that looks like a credential found: docker-compose.yml hands the sidecars REDIS_PASSWORD and the tokens")
	}
}

// environmentProblems reads a compose file or a run template and returns
// every environment entry (an "environment" or "env" mapping or list, at
// any depth) that gives a credential-like variable a literal value, or
// whose value carries a credential; and how many credential-like variables
// it saw.
func environmentProblems(b []byte) (problems []string, credentials int, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, 0, err
	}
	// Variable names part words with "_": CONNECTION_STRING, ACCESS_KEY.
	// A URL variable is no credential by its name here (ISSUER_URL,
	// OTEL_EXPORTER_OTLP_ENDPOINT): one with a password in it is, by its
	// value.
	credentialVariable := regexp.MustCompile(`(?i)(` + credentialWords + `|key$)`)
	check := func(path, name, value string) {
		if !credentialVariable.MatchString(strings.ReplaceAll(name, "_", "")) {
			if credentialInValue.MatchString(value) {
				problems = append(problems, fmt.Sprintf("%s: %s carries a credential in its value", path, name))
			}
			return
		}
		credentials++
		if !strings.Contains(value, "${") {
			problems = append(problems, fmt.Sprintf("%s: %s is a credential with a literal value (%d characters); interpolate it from the environment (${%s...})", path, name, len(value), name))
		}
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, val := n.Content[i].Value, n.Content[i+1]
				if key != "environment" && key != "env" {
					walk(val, path+"."+key)
					continue
				}
				switch val.Kind {
				case yaml.MappingNode:
					for j := 0; j+1 < len(val.Content); j += 2 {
						check(path+"."+key, val.Content[j].Value, val.Content[j+1].Value)
					}
				case yaml.SequenceNode:
					for _, e := range val.Content {
						k, v, _ := strings.Cut(e.Value, "=")
						check(path+"."+key, k, v)
					}
				}
			}
		}
	}
	walk(&doc, "")
	return problems, credentials, nil
}

// TestCredentialChecksCatchEachKind feeds the checks above files that each
// hold one kind of credential in the open, next to the repository's own
// secret store, and expects each to be named: a check that cannot fail
// proves nothing.
func TestCredentialChecksCatchEachKind(t *testing.T) {
	sensitive := contribSensitive(t)
	store := readYAMLFiles(t, "components/secretstore.yaml")
	if len(store) != 1 {
		t.Fatal("no components/secretstore.yaml")
	}
	const head = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: %s\n  version: v1\n  metadata:\n"
	component := func(name, typ, items string, rest ...string) string {
		return fmt.Sprintf(head, name, typ) + items + strings.Join(rest, "")
	}
	const fromStore = "auth:\n  secretStore: secretstore\n"
	tests := []struct {
		name, file, want string
	}{
		{"a literal Redis password", component("trip-store", "state.redis",
			"    - name: redisHost\n      envRef: REDIS_HOST\n    - name: redisPassword\n      value: hunter2\n"),
			"metadata redisPassword is a credential with a literal value (7 characters)"},
		{"an empty Redis password", component("trip-store", "state.redis",
			"    - name: redisPassword\n      value: \"\"\n"),
			"metadata redisPassword is a credential with a literal value (empty)"},
		{"a Redis password from the environment", component("trip-store", "state.redis",
			"    - name: redisPassword\n      envRef: REDIS_PASSWORD\n"),
			"metadata redisPassword is a credential read from the environment (envRef REDIS_PASSWORD)"},
		{"an AMQP URL with a password as RabbitMQ's connection string", component("pubsub", "pubsub.rabbitmq",
			"    - name: connectionString\n      value: amqp://ride:hunter2@rabbit:5672\n"),
			"metadata connectionString holds a credential in its value"},
		{"an AMQP URL with a password under a name that is no credential", component("pubsub", "pubsub.rabbitmq",
			"    - name: hostname\n      value: amqp://ride:hunter2@rabbit:5672\n"),
			"metadata hostname holds a credential in its value"},
		{"a Service Bus connection string", component("pubsub", "pubsub.azure.servicebus.topics",
			"    - name: connectionString\n      value: Endpoint=sb://ride.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abc=\n"),
			"metadata connectionString holds a credential in its value"},
		{"a NATS URL in the file", component("pubsub", "pubsub.jetstream",
			"    - name: natsURL\n      value: nats://127.0.0.1:4222\n"),
			"metadata natsURL is a credential with a literal value"},
		{"an MQTT URL with a password", component("pubsub", "pubsub.mqtt3",
			"    - name: url\n      value: tcp://ride:hunter2@127.0.0.1:1883\n"),
			"metadata url holds a credential in its value"},
		{"a Kafka SASL password", component("pubsub", "pubsub.kafka",
			"    - name: authType\n      value: password\n    - name: saslUsername\n      value: ride\n    - name: saslPassword\n      value: hunter2\n"),
			"metadata saslPassword is a credential with a literal value"},
		{"a field only components-contrib marks sensitive", component("pubsub", "pubsub.rabbitmq",
			"    - name: clientCert\n      value: \"-----BEGIN CERTIFICATE-----\"\n"),
			"metadata clientCert is a credential with a literal value"},
		{"a secret store with a literal client secret", component("secretstore", "secretstores.azure.keyvault",
			"    - name: vaultName\n      value: ride-kv\n    - name: azureClientSecret\n      value: hunter2\n"),
			"metadata azureClientSecret is a credential with a literal value"},
		{"a secret without a secret store", component("trip-store", "state.redis",
			"    - name: redisPassword\n      secretKeyRef:\n        name: REDIS_PASSWORD\n        key: REDIS_PASSWORD\n"),
			"names no secret store (auth.secretStore)"},
		{"a secret store that is not there", component("trip-store", "state.redis",
			"    - name: redisPassword\n      secretKeyRef:\n        name: REDIS_PASSWORD\n        key: REDIS_PASSWORD\n", "auth:\n  secretStore: vault\n"),
			`auth.secretStore "vault" is not a secret store among the files`},
		{"a secret whose key is not its name", component("trip-store", "state.redis",
			"    - name: redisPassword\n      secretKeyRef:\n        name: redis\n        key: password\n", fromStore),
			`secretKeyRef name "redis" key "password"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comps, err := readResources(map[string][]byte{"components/secretstore.yaml": store["components/secretstore.yaml"], "broken.yaml": []byte(tt.file)})
			if err != nil {
				t.Fatal(err)
			}
			wantCredentialProblem(t, credentialProblems(comps, true, sensitive), tt.want)
		})
	}

	t.Run("a secret store scoped out of an app whose component reads it", func(t *testing.T) {
		scoped := string(store["components/secretstore.yaml"]) + "scopes:\n  - driver\n"
		comps, err := readResources(map[string][]byte{"secretstore.yaml": []byte(scoped), "trip-store.yaml": []byte(component("trip-store", "state.redis",
			"    - name: redisPassword\n      secretKeyRef:\n        name: REDIS_PASSWORD\n        key: REDIS_PASSWORD\n", fromStore, "scopes:\n  - trip\n"))})
		if err != nil {
			t.Fatal(err)
		}
		wantCredentialProblem(t, credentialProblems(comps, true, sensitive), "is loaded by apps [trip], its secret store secretstore only by [driver]")
	})

	t.Run("a component that reads its credential from the store is fine", func(t *testing.T) {
		comps, err := readResources(map[string][]byte{"secretstore.yaml": store["components/secretstore.yaml"], "trip-store.yaml": []byte(component("trip-store", "state.redis",
			"    - name: redisHost\n      envRef: REDIS_HOST\n    - name: redisPassword\n      secretKeyRef:\n        name: REDIS_PASSWORD\n        key: REDIS_PASSWORD\n", fromStore, "scopes:\n  - trip\n"))})
		if err != nil {
			t.Fatal(err)
		}
		if p := credentialProblems(comps, true, sensitive); len(p) > 0 {
			t.Errorf("want no problem, got %q", p)
		}
	})

	for _, tt := range []struct{ name, file, want string }{
		{"a literal password in compose", "services:\n  trip-dapr:\n    environment:\n      REDIS_PASSWORD: hunter2\n", "REDIS_PASSWORD is a credential with a literal value (7 characters)"},
		{"a literal token in a list", "services:\n  trip:\n    environment:\n      - APP_API_TOKEN=0123456789abcdef\n", "APP_API_TOKEN is a credential with a literal value"},
		{"an AMQP URL with a password in compose", "services:\n  trip-dapr:\n    environment:\n      RABBITMQ_HOST: amqp://ride:hunter2@rabbit:5672\n", "RABBITMQ_HOST carries a credential"},
		{"a literal key in a run template", "apps:\n  - appID: trip\n    env:\n      AZURE_CLIENT_SECRET: hunter2\n", "AZURE_CLIENT_SECRET is a credential with a literal value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			problems, _, err := environmentProblems([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			wantCredentialProblem(t, problems, tt.want)
		})
	}
	t.Run("a URL without a password in compose is fine", func(t *testing.T) {
		problems, _, err := environmentProblems([]byte("services:\n  devissuer:\n    environment:\n      ISSUER_URL: http://localhost:8090\n"))
		if err != nil || len(problems) > 0 {
			t.Errorf("want no problem, got %q, %v", problems, err)
		}
	})
	t.Run("an interpolated password in compose is fine", func(t *testing.T) {
		problems, n, err := environmentProblems([]byte("services:\n  trip-dapr:\n    environment:\n      REDIS_PASSWORD: ${REDIS_PASSWORD:-}\n"))
		if err != nil || len(problems) > 0 || n != 1 {
			t.Errorf("want one credential and no problem, got %d, %q, %v", n, problems, err)
		}
	})
}

// wantCredentialProblem fails the test unless one of problems mentions want.
func wantCredentialProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got:\n  %s", want, strings.Join(problems, "\n  "))
}

// deploy/terraform's test holds the Terraform's Dapr components to the
// same rule, with the same expression: the two cannot drift apart.
func TestTerraformChecksTheSameCredentialNames(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", "terraform", "deploy_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^\\s*credentialName\\s*=\\s*regexp\\.MustCompile\\(`([^`]*)`\\)").FindSubmatch(src)
	if m == nil {
		t.Fatal("deploy/terraform/deploy_test.go declares no credentialName = regexp.MustCompile(`...`)")
	}
	if got, want := string(m[1]), credentialName.String(); got != want {
		t.Errorf("deploy/terraform's credentialName is\n  %s\nthis test's is\n  %s\nkeep them the same", got, want)
	}
}

// Through every sidecar of the running system, with the sidecar's own
// token, the secrets API answers 403 for the secret every component reads,
// and lists none: the components got the Redis password (the system's
// Redis requires one, and its trips flow), the apps cannot.
func TestSidecarsHandOutNoSecrets(t *testing.T) {
	sys := shared(t)
	if sys.redisPassword == "" {
		t.Fatal("the system's Redis has no password: nothing shows that the components read it from the secret store")
	}
	for _, role := range services {
		a := sys.app(role)
		t.Run(a.daprAppID(), func(t *testing.T) {
			for path, want := range map[string]int{
				"/v1.0/secrets/secretstore/REDIS_PASSWORD": http.StatusForbidden,
				"/v1.0/secrets/secretstore/bulk":           http.StatusOK,
			} {
				resp, err := a.callSidecar(http.MethodGet, a.daprURL()+path, "", nil)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want || bytes.Contains(body, []byte(sys.redisPassword)) {
					t.Errorf("GET %s: %s, want %d and no password in the answer (it has %d bytes)", path, resp.Status, want, len(body))
				}
				if want == http.StatusOK && strings.TrimSpace(string(body)) != "{}" {
					t.Errorf("GET %s lists secrets (%d bytes); want {}", path, len(body))
				}
			}
		})
	}
}
