// Package terraform holds the tests of the Azure Container Apps deployment
// in this folder. `tofu validate` (scripts/validate-terraform.sh) checks the
// configuration against the azurerm provider's schema; these tests check
// what validate cannot: that the deployment matches the event contracts and
// the services, and the values the provider does not check inside for_each
// resources at validate time.
package terraform

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"
)

// contract is what contracts/asyncapi.yaml and the conventions say about
// topics and subscribers.
type contract struct {
	// Topics are the channel addresses.
	Topics []string
	// Receivers maps a topic to the app ids that receive it.
	Receivers map[string][]string
	// MaxDeliveryCount is components/brokers/servicebus.yaml's value.
	MaxDeliveryCount string
	// HandlerTimeoutInSec is components/brokers/servicebus.yaml's value.
	HandlerTimeoutInSec string
	// ProtectedTopics, Publishing and Subscription are its topic scopes:
	// the protected topics, sorted, and app -> the topics it may publish
	// or receive, sorted.
	ProtectedTopics          []string
	Publishing, Subscription map[string][]string
}

// operationApp reads the app id from an AsyncAPI operation id such as
// "notificationReceivesTripCreated".
var operationApp = regexp.MustCompile(`^([a-z]+)(Receives|Publishes)[A-Z]`)

// readersBeyondTheContract are the topics that services added beside the
// ride read without being in contracts/asyncapi.yaml (README, "Adding a
// service"): what services/dispatch subscribes to (its
// internal/dapr/subscriptions.go; test/scopes_test.go holds the component
// files' scopes to the same). They read the choreography's events, which
// the other styles do not publish, so they run in the choreography only.
var readersBeyondTheContract = map[string][]string{
	"dispatch": {"trip-created", "driver-assigned", "driver-not-found"},
}

// publicPages are the apps besides the Trip API that people reach from the
// internet: the dispatchers' page, which admits signed-in dispatchers only.
var publicPages = []string{"dispatch"}

func loadContract(t *testing.T) contract {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "contracts", "asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Channels map[string]struct {
			Address string `yaml:"address"`
		} `yaml:"channels"`
		Operations map[string]struct {
			Action  string `yaml:"action"`
			Channel struct {
				Ref string `yaml:"$ref"`
			} `yaml:"channel"`
		} `yaml:"operations"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("contracts/asyncapi.yaml: %v", err)
	}
	c := contract{Receivers: map[string][]string{}}
	for _, ch := range doc.Channels {
		c.Topics = append(c.Topics, ch.Address)
	}
	for id, op := range doc.Operations {
		if op.Action != "receive" {
			continue
		}
		m := operationApp.FindStringSubmatch(id)
		if m == nil {
			t.Fatalf("contracts/asyncapi.yaml: operation %q does not name its app (<app>Receives<Channel>)", id)
		}
		ch, ok := doc.Channels[strings.TrimPrefix(op.Channel.Ref, "#/channels/")]
		if !ok {
			t.Fatalf("contracts/asyncapi.yaml: operation %q refers to unknown channel %q", id, op.Channel.Ref)
		}
		c.Receivers[ch.Address] = append(c.Receivers[ch.Address], m[1])
	}
	if len(c.Topics) == 0 || len(c.Receivers) == 0 {
		t.Fatal("contracts/asyncapi.yaml: no channels or receive operations found")
	}
	for app, topics := range readersBeyondTheContract {
		for _, topic := range topics {
			if !slices.Contains(c.Topics, topic) {
				t.Fatalf("readersBeyondTheContract: %s reads %q, which is no channel of contracts/asyncapi.yaml", app, topic)
			}
			c.Receivers[topic] = append(c.Receivers[topic], app)
		}
	}

	raw, err = os.ReadFile(filepath.Join("..", "..", "components", "brokers", "servicebus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var comp struct {
		Spec struct {
			Metadata []struct {
				Name  string `yaml:"name"`
				Value string `yaml:"value"`
			} `yaml:"metadata"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &comp); err != nil {
		t.Fatalf("components/brokers/servicebus.yaml: %v", err)
	}
	for _, m := range comp.Spec.Metadata {
		switch m.Name {
		case "maxDeliveryCount":
			c.MaxDeliveryCount = m.Value
		case "handlerTimeoutInSec":
			c.HandlerTimeoutInSec = m.Value
		case "protectedTopics":
			c.ProtectedTopics = sortedList(m.Value)
		case "publishingScopes":
			c.Publishing = parseScopes(m.Value)
		case "subscriptionScopes":
			c.Subscription = parseScopes(m.Value)
		}
	}
	if c.MaxDeliveryCount == "" || c.HandlerTimeoutInSec == "" || c.ProtectedTopics == nil || c.Publishing == nil || c.Subscription == nil {
		t.Fatal("components/brokers/servicebus.yaml lacks maxDeliveryCount, handlerTimeoutInSec, protectedTopics, publishingScopes or subscriptionScopes")
	}
	return c
}

const (
	appType       = "azurerm_container_app"
	daprCompType  = "azurerm_container_app_environment_dapr_component"
	topicType     = "azurerm_servicebus_topic"
	subType       = "azurerm_servicebus_subscription"
	namespaceType = "azurerm_servicebus_namespace"
)

// The values the provider accepts (its schema's validation functions, read
// from the azurerm source validated against); validate skips them inside
// for_each resources, so they are checked here.
var (
	appProtocols    = []string{"http", "grpc"}
	revisionModes   = []string{"Single", "Multiple"}
	ingressTrans    = []string{"auto", "http", "http2", "tcp"}
	probeTransports = []string{"TCP", "HTTP", "HTTPS"}
	// Topics need Standard or Premium; Basic is valid for the provider but
	// has no topics.
	servicebusSKUs   = []string{"Standard", "Premium"}
	workspaceSKUs    = []string{"PerNode", "Premium", "Standard", "Standalone", "Unlimited", "CapacityReservation", "PerGB2018", "LACluster"}
	clusteringPolicy = []string{"EnterpriseCluster", "OSSCluster", "NoCluster"}
	redisSKU         = regexp.MustCompile(`^(Balanced_B|ComputeOptimized_X|FlashOptimized_A|MemoryOptimized_M)[0-9]+$`)
	scaleRuleName    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	componentType    = regexp.MustCompile(`^(state|pubsub|bindings|secretstores|configuration|lock|crypto|conversation|middleware\.http)\.[a-z0-9.]+$`)
	// credentialName matches Dapr component metadata names that carry a
	// credential: passwords, secrets, tokens, keys, connection strings and
	// the URLs brokers take a user and password in. The same expression as
	// test/secrets_test.go's, which holds the repository's component files
	// to the same rule (and checks that the two stay the same).
	credentialName = regexp.MustCompile(`(?i)(password|passwd|passphrase|secret|token|credential|connectionstring|accesskey|accountkey|masterkey|privatekey|clientkey|seedkey|saskey|sharedaccess|apikey|jwt|(url|uri|dsn)$)`)
	// credentialInValue matches a value that carries a credential whatever
	// its name: a URL with a password, a connection string with a key.
	credentialInValue = regexp.MustCompile(`(?i)://[^/\s:@]*:[^/\s@]+@|sharedaccesskey=|accountkey=|accesskey=|password=|pwd=`)
)

// coordinatorOf is the Dapr app id that serves the Trip API in each style
// (variable "style").
var coordinatorOf = map[string]string{"choreography": "trip", "orchestration": "orchestrator", "workflow": "workflow"}

// check returns every problem found in cfg, deployed in style, one line
// each.
func check(cfg *config, c contract, style string) []string {
	var p problems
	coordinator := coordinatorOf[style]

	// Container apps: app ids, ports, protocols, ingress, probes.
	appIDs := map[string]*block{} // dapr app id -> template
	external := []string{}
	for _, app := range cfg.of(appType) {
		d := app.Body.child("dapr")
		id, ok := d.str("app_id")
		if !ok {
			p.add("%s: no known dapr.app_id", app.Addr())
			continue
		}
		appIDs[id] = app.Body.child("template")
		if proto, ok := d.str("app_protocol"); ok {
			p.oneOf(app.Addr()+" dapr.app_protocol", proto, appProtocols)
		}
		mode, _ := app.Body.str("revision_mode")
		p.oneOf(app.Addr()+" revision_mode", mode, revisionModes)
		port, _ := d.str("app_port")
		if ing := app.Body.child("ingress"); ing != nil {
			if tr, ok := ing.str("transport"); ok {
				p.oneOf(app.Addr()+" ingress.transport", tr, ingressTrans)
			}
			if ext, _ := ing.str("external_enabled"); ext == "true" {
				external = append(external, id)
			}
			if tp, _ := ing.str("target_port"); tp != port {
				p.add("%s: ingress.target_port %q is not dapr.app_port %q", app.Addr(), tp, port)
			}
		}
		for _, s := range app.Body.children("secret") {
			name, _ := s.str("name")
			p.add("%s: has a secret %q; use the managed identity instead", app.Addr(), name)
		}
		tmpl := app.Body.child("template")
		if tmpl == nil {
			p.add("%s: no template", app.Addr())
			continue
		}
		for _, ctr := range tmpl.children("container") {
			env := map[string]string{}
			for _, e := range ctr.children("env") {
				name, _ := e.str("name")
				if _, ok := e.Attrs["secret_name"]; ok {
					p.add("%s: env %s comes from a secret; use the managed identity instead", app.Addr(), name)
				}
				env[name], _ = e.str("value")
			}
			if env["APP_PORT"] != port {
				p.add("%s: env APP_PORT %q is not dapr.app_port %q", app.Addr(), env["APP_PORT"], port)
			}
			if env["PUBSUB_NAME"] != "pubsub" {
				p.add("%s: env PUBSUB_NAME is %q, want pubsub", app.Addr(), env["PUBSUB_NAME"])
			}
			store, hasStore := env["STATESTORE_NAME"]
			switch {
			case id == "orchestrator" && hasStore:
				p.add("%s: env STATESTORE_NAME %q: the naive orchestrator keeps its trips in memory, and has no state store", app.Addr(), store)
			case id != "orchestrator" && !scopedTo(cfg, store, id):
				p.add("%s: env STATESTORE_NAME %q is not a state store scoped to %s", app.Addr(), store, id)
			}
			for probe, path := range map[string]string{"liveness_probe": "/healthz", "readiness_probe": "/readyz"} {
				pr := ctr.child(probe)
				if pr == nil {
					p.add("%s: no %s", app.Addr(), probe)
					continue
				}
				tr, _ := pr.str("transport")
				p.oneOf(app.Addr()+" "+probe+".transport", tr, probeTransports)
				if got, _ := pr.str("path"); got != path {
					p.add("%s: %s.path is %q, want %s", app.Addr(), probe, got, path)
				}
				if got, _ := pr.str("port"); got != port {
					p.add("%s: %s.port is %q, want the app port %q", app.Addr(), probe, got, port)
				}
			}
		}
	}
	wantExternal := []string{coordinator}
	for _, id := range publicPages {
		if _, ok := appIDs[id]; ok {
			wantExternal = append(wantExternal, id)
		}
	}
	slices.Sort(wantExternal)
	slices.Sort(external)
	if diff := cmp.Diff(wantExternal, external); diff != "" {
		p.add("external ingress must be on the Trip API only, %s's in the %s style, and the dispatchers' page (-want +got):\n%s", coordinator, style, diff)
	}
	if _, ok := appIDs[coordinator]; !ok {
		p.add("no container app %s, which serves the Trip API in the %s style", coordinator, style)
	}
	for _, id := range sortedKeys(readersBeyondTheContract) {
		if _, ok := appIDs[id]; ok != (style == "choreography") {
			p.add("container app %s in the %s style: %t, want it in the choreography only, whose events it reads", id, style, ok)
		}
	}
	for id, tmpl := range appIDs {
		if tmpl == nil {
			continue
		}
		maxReplicas, _ := tmpl.str("max_replicas")
		minReplicas, _ := tmpl.str("min_replicas")
		switch {
		case id == "orchestrator" && maxReplicas != "1":
			p.add("%s: max_replicas %q, want 1: a second replica of the naive orchestrator would not know the first's trips", id, maxReplicas)
		case id != coordinator && coordinator != "trip" && (minReplicas == "" || minReplicas == "0"):
			p.add("%s: min_replicas %q in the %s style, want at least 1: the coordinator invokes it, and an invocation wakes no app scaled to zero", id, minReplicas, style)
		}
	}

	// The apps of the contracts that run in this style, and so receive
	// events: each has a subscription per topic it receives, and a
	// dead-letter topic.
	receivers := map[string][]string{}
	receives := map[string]bool{}
	for topic, apps := range c.Receivers {
		for _, a := range apps {
			if _, ok := appIDs[a]; ok {
				receivers[topic] = append(receivers[topic], a)
				receives[a] = true
			}
		}
	}

	// Dapr components: scopes name existing apps; no credentials.
	for _, comp := range cfg.of(daprCompType) {
		scopes, ok := comp.Body.strings("scopes")
		if !ok || len(scopes) == 0 {
			p.add("%s: no scopes; every component is scoped to the apps that use it", comp.Addr())
		}
		for _, s := range scopes {
			if _, ok := appIDs[s]; !ok {
				p.add("%s: scope %q is not the dapr.app_id of any container app", comp.Addr(), s)
			}
		}
		if v, _ := comp.Body.str("version"); v != "v1" {
			p.add("%s: version %q, want v1", comp.Addr(), v)
		}
		if ct, _ := comp.Body.str("component_type"); !componentType.MatchString(ct) {
			p.add("%s: component_type %q is not a Dapr component type", comp.Addr(), ct)
		}
		// No credential in the open: the components sign in with the
		// managed identity. Where a component cannot, its credential is
		// metadata secret_name naming a secret of the component that
		// Container Apps reads from Key Vault with the identity
		// (key_vault_secret_id, identity), never a value in this
		// configuration (and so in its state).
		secrets := map[string]bool{}
		for _, s := range comp.Body.children("secret") {
			name, _ := s.str("name")
			secrets[name] = true
			_, literal := s.Attrs["value"]
			_, vault := s.Attrs["key_vault_secret_id"]
			_, identity := s.Attrs["identity"]
			if literal || !vault || !identity {
				p.add("%s: secret %q is not a Key Vault reference (key_vault_secret_id and identity, no value); use the managed identity, or a Key Vault secret", comp.Addr(), name)
			}
		}
		for _, m := range comp.Body.children("metadata") {
			name, _ := m.str("name")
			_, hasValue := m.Attrs["value"]
			value, known := m.str("value")
			switch {
			case known && credentialInValue.MatchString(value):
				p.add("%s: metadata %q holds a credential in its value; use the managed identity, or secret_name naming a Key Vault secret", comp.Addr(), name)
			case hasValue && credentialName.MatchString(name):
				p.add("%s: metadata %q carries a credential in value; use the managed identity, or secret_name naming a Key Vault secret", comp.Addr(), name)
			}
			if secret, ok := m.str("secret_name"); ok && !secrets[secret] {
				p.add("%s: metadata %q names the secret %q, which the component does not have", comp.Addr(), name, secret)
			}
		}
	}
	pubsub := componentNamed(cfg, "pubsub")
	if pubsub == nil {
		p.add("no Dapr component named pubsub")
	} else {
		meta := metadata(pubsub)
		if ct, _ := pubsub.str("component_type"); ct != "pubsub.azure.servicebus.topics" {
			p.add("pubsub: component_type %q, want pubsub.azure.servicebus.topics", ct)
		}
		if meta["disableEntityManagement"] != "true" {
			p.add("pubsub: disableEntityManagement must be \"true\": Terraform creates topics and subscriptions")
		}
		if meta["maxDeliveryCount"] != c.MaxDeliveryCount {
			p.add("pubsub: maxDeliveryCount %q, components/brokers/servicebus.yaml says %q", meta["maxDeliveryCount"], c.MaxDeliveryCount)
		}
		if meta["handlerTimeoutInSec"] != c.HandlerTimeoutInSec {
			p.add("pubsub: handlerTimeoutInSec %q, components/brokers/servicebus.yaml says %q", meta["handlerTimeoutInSec"], c.HandlerTimeoutInSec)
		}
		for _, name := range []string{"namespaceName", "azureClientId"} {
			if _, ok := meta[name]; !ok {
				p.add("pubsub: no metadata %s", name)
			}
		}
		// Topic scopes: what components/brokers/servicebus.yaml gives each
		// app that runs here, and every topic protected.
		// (of its topics, those this style has: no trip-dead-letters
		// without the trip service).
		var exist, wantProtected []string
		for _, tp := range cfg.of(topicType) {
			name, _ := tp.Body.str("name")
			exist = append(exist, name)
		}
		for _, topic := range c.ProtectedTopics {
			if slices.Contains(exist, topic) {
				wantProtected = append(wantProtected, topic)
			}
		}
		if got := sortedList(meta["protectedTopics"]); !slices.Equal(got, wantProtected) {
			p.add("pubsub: protectedTopics %v, components/brokers/servicebus.yaml says %v", got, wantProtected)
		}
		for _, scope := range []struct {
			name string
			want map[string][]string
		}{{"publishingScopes", c.Publishing}, {"subscriptionScopes", c.Subscription}} {
			got := parseScopes(meta[scope.name])
			for id := range appIDs {
				want, ok := scope.want[id]
				if !ok {
					p.add("pubsub: components/brokers/servicebus.yaml's %s does not name %s", scope.name, id)
				}
				if have, named := got[id]; !named || !slices.Equal(have, want) {
					p.add("pubsub: %s gives %s %v (named: %t), components/brokers/servicebus.yaml %v", scope.name, id, have, named, want)
				}
			}
		}
	}

	// Topics: the contract's channels plus one dead-letter topic per app.
	wantTopics := slices.Clone(c.Topics)
	for id := range receives {
		wantTopics = append(wantTopics, id+"-dead-letters")
	}
	topicByAddr := map[string]string{}
	var gotTopics []string
	for _, tp := range cfg.of(topicType) {
		name, _ := tp.Body.str("name")
		topicByAddr[tp.Addr()] = name
		gotTopics = append(gotTopics, name)
	}
	sort.Strings(wantTopics)
	sort.Strings(gotTopics)
	if diff := cmp.Diff(wantTopics, gotTopics); diff != "" {
		p.add("Service Bus topics differ from contracts/ plus <app>-dead-letters (-want +got):\n%s", diff)
	}

	// Subscriptions: one per (topic, subscriber), named after the app id.
	want := map[string]bool{} // "topic/app"
	for topic, apps := range receivers {
		for _, a := range apps {
			want[topic+"/"+a] = true
		}
	}
	for id := range receives {
		want[id+"-dead-letters/"+id] = true
	}
	got := map[string]bool{}
	for _, s := range cfg.of(subType) {
		name, _ := s.Body.str("name")
		topicID, _ := s.Body.str("topic_id")
		topic, ok := topicByAddr[topicID]
		if !ok {
			p.add("%s: topic_id %q is not a topic of this configuration", s.Addr(), topicID)
			continue
		}
		got[topic+"/"+name] = true
		if !want[topic+"/"+name] {
			p.add("Service Bus subscription %s on %s has no subscriber in contracts/ (a subscription nobody reads fills up)", name, topic)
		}
		if n, _ := s.Body.str("max_delivery_count"); n != c.MaxDeliveryCount {
			p.add("%s: max_delivery_count %q, components/brokers/servicebus.yaml says %q", s.Addr(), n, c.MaxDeliveryCount)
		}
		if v, _ := s.Body.str("dead_lettering_on_message_expiration"); v != "true" {
			p.add("%s: dead_lettering_on_message_expiration must be true: expired events go to the dead-letter queue, not away", s.Addr())
		}
	}
	for _, k := range sortedKeys(want) {
		if !got[k] {
			topic, app, _ := strings.Cut(k, "/")
			p.add("no Service Bus subscription %s on %s (%s receives %s)", app, topic, app, topic)
		}
	}

	// KEDA: a scale rule on every subscription, unique names, identity auth.
	for id, tmpl := range appIDs {
		if tmpl == nil {
			continue
		}
		names := map[string]bool{}
		covered := map[string]bool{}
		for _, kind := range []string{"custom_scale_rule", "http_scale_rule", "tcp_scale_rule", "azure_queue_scale_rule"} {
			for _, r := range tmpl.children(kind) {
				name, _ := r.str("name")
				if names[name] {
					p.add("%s: duplicate scale rule name %q", id, name)
				}
				names[name] = true
				if !scaleRuleName.MatchString(name) {
					p.add("%s: scale rule name %q: lower-case letters, digits, '-' and '.' only", id, name)
				}
				if len(r.children("authentication")) > 0 {
					p.add("%s: scale rule %q authenticates with a secret; use identity_id", id, name)
				}
				if kind != "custom_scale_rule" {
					continue
				}
				if typ, _ := r.str("custom_rule_type"); typ != "azure-servicebus" {
					continue
				}
				if _, ok := r.Attrs["identity_id"]; !ok {
					p.add("%s: scale rule %q has no identity_id", id, name)
				}
				meta := r.stringMap("metadata")
				key := meta["topicName"] + "/" + meta["subscriptionName"]
				if meta["subscriptionName"] != id || !got[key] {
					p.add("%s: scale rule %q watches %q, not one of this app's subscriptions", id, name, key)
				}
				covered[key] = true
			}
		}
		for k := range want {
			if topic, app, _ := strings.Cut(k, "/"); app == id && !covered[k] {
				p.add("%s: no KEDA scale rule on its subscription to %s", id, topic)
			}
		}
	}

	// The workflow's state and history: an actor state store of its own.
	if _, ok := appIDs["workflow"]; ok {
		comp := componentNamed(cfg, "workflow-store")
		if comp == nil {
			p.add("no Dapr component workflow-store: Dapr Workflow keeps the workflows as actor state")
		} else {
			scopes, _ := comp.strings("scopes")
			if metadata(comp)["actorStateStore"] != "true" || !slices.Equal(scopes, []string{"workflow"}) {
				p.add("workflow-store: want actorStateStore \"true\" and scopes [workflow], got %q and %v", metadata(comp)["actorStateStore"], scopes)
			}
		}
	}

	// Enum-like values and the settings that keep credentials out.
	for _, ns := range cfg.of(namespaceType) {
		sku, _ := ns.Body.str("sku")
		p.oneOf(ns.Addr()+" sku", sku, servicebusSKUs)
		if v, _ := ns.Body.str("local_auth_enabled"); v != "false" {
			p.add("%s: local_auth_enabled must be false (no SAS keys, Entra ID only)", ns.Addr())
		}
	}
	for _, w := range cfg.of("azurerm_log_analytics_workspace") {
		sku, _ := w.Body.str("sku")
		p.oneOf(w.Addr()+" sku", sku, workspaceSKUs)
	}
	for _, r := range cfg.of("azurerm_managed_redis") {
		if sku, _ := r.Body.str("sku_name"); !redisSKU.MatchString(sku) {
			p.add("%s: sku_name %q is not a Managed Redis SKU", r.Addr(), sku)
		}
		db := r.Body.child("default_database")
		if db == nil {
			p.add("%s: no default_database (required at creation)", r.Addr())
			continue
		}
		if v, ok := db.str("clustering_policy"); ok {
			p.oneOf(r.Addr()+" clustering_policy", v, clusteringPolicy)
		}
		if v, _ := db.str("access_keys_authentication_enabled"); v == "true" {
			p.add("%s: access keys enabled; use Entra ID", r.Addr())
		}
	}
	for _, env := range cfg.of("azurerm_container_app_environment") {
		if _, ok := env.Body.Attrs["log_analytics_workspace_id"]; ok {
			if v, _ := env.Body.str("logs_destination"); v != "log-analytics" {
				p.add("%s: log_analytics_workspace_id is set but logs_destination is %q, want log-analytics (azurerm 5.x stores no logs otherwise)", env.Addr(), v)
			}
		}
	}
	for _, i := range cfg.Instances {
		if strings.HasSuffix(i.Type, "_authorization_rule") {
			p.add("%s: authorization rules create SAS keys; use the managed identity", i.Addr())
		}
	}
	for _, t := range cfg.Traversals {
		if t == tracingConnectionString {
			continue
		}
		for _, bad := range []string{"connection_string", "primary_key", "secondary_key", "access_key"} {
			if strings.Contains(t, bad) {
				p.add("reference to %s: no connection strings or keys, use the managed identity", t)
			}
		}
	}
	return p
}

// tracingConnectionString is the one connection string the deployment
// names: Application Insights', which Container Apps takes for the sidecars'
// Dapr tracing (dapr_application_insights_connection_string; it offers no
// managed identity there). It grants sending telemetry only, not reading
// anything, and Microsoft does not count its instrumentation key as a
// secret. Every other connection string or key is refused.
const tracingConnectionString = "azurerm_application_insights.this.connection_string"

// parseScopes reads Dapr's "app=t1,t2;app2=" into app -> sorted topics.
func parseScopes(v string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(strings.ReplaceAll(v, " ", ""), ";") {
		if app, list, ok := strings.Cut(part, "="); ok {
			out[app] = sortedList(list)
		}
	}
	return out
}

// sortedList reads "a,b,c" into its sorted items; "" is none.
func sortedList(v string) []string {
	items := []string{}
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	slices.Sort(items)
	return items
}

type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p *problems) oneOf(what, got string, allowed []string) {
	if !slices.Contains(allowed, got) {
		p.add("%s is %q, want one of %v", what, got, allowed)
	}
}

func componentNamed(cfg *config, name string) *block {
	for _, c := range cfg.of(daprCompType) {
		if n, _ := c.Body.str("name"); n == name {
			return c.Body
		}
	}
	return nil
}

func metadata(comp *block) map[string]string {
	out := map[string]string{}
	for _, m := range comp.children("metadata") {
		name, _ := m.str("name")
		v, ok := m.str("value")
		if !ok {
			v = "(unknown)"
		}
		out[name] = v
	}
	return out
}

// scopedTo reports whether the Dapr component named name is a state store
// scoped to app.
func scopedTo(cfg *config, name, app string) bool {
	comp := componentNamed(cfg, name)
	if comp == nil {
		return false
	}
	typ, _ := comp.str("component_type")
	scopes, _ := comp.strings("scopes")
	return strings.HasPrefix(typ, "state.") && slices.Contains(scopes, app)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// loadHere reads and evaluates the configuration in this folder, with the
// variables set.
func loadHere(t *testing.T, set map[string]cty.Value) *config {
	t.Helper()
	files, err := readDir(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := load(files, set)
	if err != nil {
		t.Fatalf("evaluating the configuration: %v", err)
	}
	return cfg
}

func TestDeploymentMatchesContracts(t *testing.T) {
	c := loadContract(t)
	// What each style deploys: the expansion itself must find what the
	// checks look at, or an empty configuration would pass.
	styles := map[string]map[string]int{
		"choreography": {
			appType:       4,
			topicType:     7,  // 3 event topics + 4 dead-letter topics
			subType:       14, // trip 3+1, driver 1+1, notification 3+1, dispatch 3+1
			daprCompType:  5,  // pubsub, 4 state stores
			namespaceType: 1,
		},
		"orchestration": {
			appType:       3, // the orchestrator in trip's place
			topicType:     5, // 3 event topics + driver's and notification's dead letters
			subType:       6, // driver 1+1, notification 3+1
			daprCompType:  3, // pubsub, driver-store, notification-store
			namespaceType: 1,
		},
		"workflow": {
			appType:       3, // the workflow app in trip's place
			topicType:     5,
			subType:       6,
			daprCompType:  4, // pubsub, driver-store, notification-store, workflow-store
			namespaceType: 1,
		},
	}
	for style, wantCounts := range styles {
		t.Run(style, func(t *testing.T) {
			cfg := loadHere(t, map[string]cty.Value{"style": cty.StringVal(style)})
			if got := check(cfg, c, style); len(got) > 0 {
				t.Errorf("deploy/terraform with style %s does not hold:\n  %s", style, strings.Join(got, "\n  "))
			}
			counts := map[string]int{}
			for _, i := range cfg.Instances {
				counts[i.Type]++
			}
			for typ, n := range wantCounts {
				if counts[typ] != n {
					t.Errorf("%d instances of %s, want %d", counts[typ], typ, n)
				}
			}
		})
	}
}

// TestChecksCatchMistakes breaks a copy of the configuration in one place at
// a time and expects check to say so: a check that cannot fail proves
// nothing.
func TestChecksCatchMistakes(t *testing.T) {
	files, err := readDir(".")
	if err != nil {
		t.Fatal(err)
	}
	c := loadContract(t)
	tests := []struct {
		name, file, old, new, want string
		style                      string // "" is choreography
	}{
		{
			name: "scope names no app", file: "dapr.tf",
			old: `scopes                       = [each.value]`, new: `scopes                       = [each.value, "trips"]`,
			want: `scope "trips" is not the dapr.app_id`,
		},
		{
			name: "a component without scopes", file: "dapr.tf",
			old: `scopes                       = local.subscribers`, new: `scopes                       = []`,
			want: `no scopes`,
		},
		{
			name: "subscriber without a subscription", file: "locals.tf",
			old:  "subscribes        = [\"trip-created\", \"driver-assigned\", \"driver-not-found\"]\n      state_store       = \"notification-store\"",
			new:  "subscribes        = [\"trip-created\", \"driver-assigned\"]\n      state_store       = \"notification-store\"",
			want: `no Service Bus subscription notification on driver-not-found`,
		},
		{
			name: "trip without a subscription to its own trip-created", file: "locals.tf",
			old:  "subscribes        = [\"trip-created\", \"driver-assigned\", \"driver-not-found\"]\n      state_store       = \"trip-store\"",
			new:  "subscribes        = [\"driver-assigned\", \"driver-not-found\"]\n      state_store       = \"trip-store\"",
			want: `no Service Bus subscription trip on trip-created`,
		},
		{
			name: "subscription nobody in contracts reads", file: "locals.tf",
			old: `subscribes        = ["trip-created"]`, new: `subscribes        = ["trip-created", "driver-assigned"]`,
			want: `subscription driver on driver-assigned has no subscriber`,
		},
		{
			name: "subscription not named after the app id", file: "servicebus.tf",
			old: `name     = each.value.app`, new: `name     = "sub-${each.value.app}"`,
			want: `no Service Bus subscription trip on driver-assigned`,
		},
		{
			name: "topic not in contracts", file: "locals.tf",
			old: `event_topics = ["trip-created", "driver-assigned", "driver-not-found"]`, new: `event_topics = ["trip-created", "driver-assigned", "driver-not-found", "trip-cancelled"]`,
			want: `"trip-cancelled"`,
		},
		{
			name: "no dead-letter topic", file: "locals.tf",
			old: `"${app}-dead-letters"`, new: `"${app}-dlq"`,
			want: `Service Bus topics differ`,
		},
		{
			name: "subscription without a scale rule", file: "apps.tf",
			old: `if s.app == each.key }`, new: `if s.app == each.key && s.topic != "trip-created" }`,
			want: `driver: no KEDA scale rule on its subscription to trip-created`,
		},
		{
			name: "scale rule names not unique", file: "apps.tf",
			old: `name             = "${custom_scale_rule.key}-backlog"`, new: `name             = "backlog"`,
			want: `duplicate scale rule name "backlog"`,
		},
		{
			name: "scale rule name the provider refuses", file: "apps.tf",
			old: `name             = "${custom_scale_rule.key}-backlog"`, new: `name             = "${custom_scale_rule.key}_Backlog"`,
			want: `lower-case letters, digits`,
		},
		{
			name: "scale rule without identity", file: "apps.tf",
			old: `identity_id      = azurerm_user_assigned_identity.apps.id`, new: ``,
			want: `has no identity_id`,
		},
		{
			name: "scale rule on another app's subscription", file: "apps.tf",
			old: `subscriptionName = custom_scale_rule.value.app`, new: `subscriptionName = "trip"`,
			want: `not one of this app's subscriptions`,
		},
		{
			name: "app_protocol the provider refuses", file: "apps.tf",
			old: `app_protocol = "http"`, new: `app_protocol = "https"`,
			want: `dapr.app_protocol is "https"`,
		},
		{
			name: "probe transport the provider refuses", file: "apps.tf",
			old: `transport        = "HTTP"`, new: `transport        = "GRPC"`,
			want: `liveness_probe.transport is "GRPC"`,
		},
		{
			name: "ingress transport the provider refuses", file: "apps.tf",
			old: `transport        = "http"`, new: `transport        = "https"`,
			want: `ingress.transport is "https"`,
		},
		{
			name: "liveness on the wrong path", file: "apps.tf",
			old: `path             = "/healthz"`, new: `path             = "/health"`,
			want: `liveness_probe.path is "/health"`,
		},
		{
			name: "Service Bus SKU without topics", file: "variables.tf",
			old: `default     = "Standard"`, new: `default     = "Basic"`,
			want: `sku is "Basic"`,
		},
		{
			name: "Redis SKU that does not exist", file: "variables.tf",
			old: `default     = "Balanced_B0"`, new: `default     = "Enterprise_E1"`,
			want: `is not a Managed Redis SKU`,
		},
		{
			name: "logs_destination missing", file: "main.tf",
			old: `logs_destination = "log-analytics"`, new: ``,
			want: `logs_destination is ""`,
		},
		{
			name: "a second public app", file: "apps.tf",
			old: `external_enabled = each.value.external`, new: `external_enabled = true`,
			want: `external ingress must be on the Trip API only`,
		},
		{
			name: "SAS keys on the namespace", file: "servicebus.tf",
			old: `local_auth_enabled  = false`, new: `local_auth_enabled  = true`,
			want: `local_auth_enabled must be false`,
		},
		{
			name: "connection string reference", file: "dapr.tf",
			old: `value = "${azurerm_servicebus_namespace.this.name}.servicebus.windows.net"`, new: `value = azurerm_servicebus_namespace.this.default_primary_connection_string`,
			want: `no connection strings`,
		},
		{
			name: "credential in component metadata", file: "dapr.tf",
			old: `name  = "azureClientId"`, new: `name  = "connectionString"`,
			want: `metadata "connectionString" carries a credential in value`,
		},
		{
			name: "an empty Redis password in the state stores", file: "dapr.tf",
			old: `useEntraID    = "true"`, new: "useEntraID    = \"true\"\n    redisPassword = \"\"",
			want: `metadata "redisPassword" carries a credential in value`,
		},
		{
			name: "an AMQP URL with a password in component metadata", file: "dapr.tf",
			old: `    value = azurerm_user_assigned_identity.apps.client_id`, new: `    value = "amqp://ride:hunter2@rabbit:5672"`,
			want: `metadata "azureClientId" holds a credential in its value`,
		},
		{
			name: "a Service Bus connection string in a secret of the component", file: "dapr.tf",
			old:  `scopes                       = local.subscribers`,
			new:  "scopes                       = local.subscribers\n  secret {\n    name  = \"sb\"\n    value = \"Endpoint=sb://ride-bus.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=abc=\"\n  }\n  metadata {\n    name        = \"connectionString\"\n    secret_name = \"sb\"\n  }",
			want: `secret "sb" is not a Key Vault reference`,
		},
		{
			name: "metadata from a secret the component does not have", file: "dapr.tf",
			old:  `scopes                       = local.subscribers`,
			new:  "scopes                       = local.subscribers\n  metadata {\n    name        = \"connectionString\"\n    secret_name = \"sb\"\n  }",
			want: `metadata "connectionString" names the secret "sb", which the component does not have`,
		},
		{
			name: "secret on a container app", file: "apps.tf",
			old: `revision_mode                = "Single"`, new: "revision_mode                = \"Single\"\n  secret {\n    name  = \"sb\"\n    value = \"Endpoint=sb://x\"\n  }",
			want: `has a secret "sb"`,
		},
		{
			name: "max delivery count differs from the component", file: "servicebus.tf",
			old: `max_delivery_count = local.max_delivery_count`, new: `max_delivery_count = 5`,
			want: `max_delivery_count "5"`,
		},
		{
			name: "handler timeout differs from the component", file: "locals.tf",
			old: `servicebus_handler_timeout_in_sec = 1800`, new: `servicebus_handler_timeout_in_sec = 900`,
			want: `handlerTimeoutInSec "900", components/brokers/servicebus.yaml says "1800"`,
		},
		{
			name: "state store env names another app's store", file: "apps.tf",
			old: `STATESTORE_NAME = each.value.state_store`, new: `STATESTORE_NAME = "trip-store"`,
			want: `STATESTORE_NAME "trip-store" is not a state store scoped to driver`,
		},
		{
			name: "two replicas of the naive orchestrator", file: "locals.tf", style: "orchestration",
			old: `max_replicas      = 1`, new: `max_replicas      = 3`,
			want: `a second replica of the naive orchestrator would not know`,
		},
		{
			name: "driver scaled to zero while the orchestrator invokes it", file: "locals.tf", style: "orchestration",
			old: `max(1, var.min_replicas[name])`, new: `var.min_replicas[name]`,
			want: `driver: min_replicas "0" in the orchestration style`,
		},
		{
			name: "workflow store that is no actor state store", file: "dapr.tf", style: "workflow",
			old: `{ actorStateStore = "true" }`, new: `{}`,
			want: `workflow-store: want actorStateStore "true"`,
		},
		{
			name: "orchestrator given a state store", file: "locals.tf", style: "orchestration",
			old: `state_store       = ""`, new: `state_store       = "orchestrator-store"`,
			want: `the naive orchestrator keeps its trips in memory`,
		},
		{
			name: "the trip service left public beside the workflow", file: "locals.tf", style: "workflow",
			old: `if !a.choreography_only || local.coordinator == "trip"`, new: ``,
			want: `external ingress must be on the Trip API only, workflow's`,
		},
		{
			name: "dispatch without a subscription to driver-not-found", file: "locals.tf",
			old:  "subscribes        = [\"trip-created\", \"driver-assigned\", \"driver-not-found\"]\n      state_store       = \"dispatch-store\"",
			new:  "subscribes        = [\"trip-created\", \"driver-assigned\"]\n      state_store       = \"dispatch-store\"",
			want: `no Service Bus subscription dispatch on driver-not-found`,
		},
		{
			name: "dispatch without its dead-letter subscription's scale rule", file: "apps.tf",
			old: `if s.app == each.key }`, new: `if s.app == each.key && s.topic != "dispatch-dead-letters" }`,
			want: `dispatch: no KEDA scale rule on its subscription to dispatch-dead-letters`,
		},
		{
			name: "dispatch deployed in a style that publishes nothing for it", file: "locals.tf", style: "workflow",
			old:  "choreography_only = true\n      publishes         = []",
			new:  "choreography_only = false\n      publishes         = []",
			want: `container app dispatch in the workflow style: true, want it in the choreography only`,
		},
		{
			name: "the dispatchers' page behind internal ingress", file: "locals.tf",
			old:  "external          = true\n      choreography_only = true\n      publishes         = []",
			new:  "external          = false\n      choreography_only = true\n      publishes         = []",
			want: `external ingress must be on the Trip API only, trip's in the choreography style, and the dispatchers' page`,
		},
		{
			name: "dispatch allowed to publish trip-created", file: "locals.tf",
			old:  "choreography_only = true\n      publishes         = []",
			new:  "choreography_only = true\n      publishes         = [\"trip-created\"]",
			want: `pubsub: publishingScopes gives dispatch [dispatch-dead-letters trip-created]`,
		},
		{
			name: "notification allowed to publish driver-assigned", file: "locals.tf",
			old: "choreography_only = false\n      publishes         = []", new: "choreography_only = false\n      publishes         = [\"driver-assigned\"]",
			want: `pubsub: publishingScopes gives notification [driver-assigned notification-dead-letters]`,
		},
		{
			name: "topics left unprotected", file: "dapr.tf",
			old: `value = local.protected_topics`, new: `value = ""`,
			want: `pubsub: protectedTopics []`,
		},
		{
			name: "sidecar creates entities", file: "dapr.tf",
			old: `value = "true"`, new: `value = "false"`,
			want: `disableEntityManagement must be "true"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := string(files[tt.file])
			if n := strings.Count(src, tt.old); n != 1 {
				t.Fatalf("%s contains %q %d times, want once: update this case", tt.file, tt.old, n)
			}
			mutated := clone(files)
			mutated[tt.file] = []byte(strings.Replace(src, tt.old, tt.new, 1))
			style := tt.style
			if style == "" {
				style = "choreography"
			}
			cfg, err := load(mutated, map[string]cty.Value{"style": cty.StringVal(style)})
			if err != nil {
				t.Fatalf("evaluating the mutated configuration: %v", err)
			}
			wantProblem(t, check(cfg, c, style), tt.want)
		})
	}
}

// TestKeyVaultSecretIsNoProblem: the way out for a component that cannot
// sign in with the managed identity, a credential from Key Vault, passes.
func TestKeyVaultSecretIsNoProblem(t *testing.T) {
	files, err := readDir(".")
	if err != nil {
		t.Fatal(err)
	}
	const old = `scopes                       = local.subscribers`
	if n := strings.Count(string(files["dapr.tf"]), old); n != 1 {
		t.Fatalf("dapr.tf contains %q %d times, want once: update this test", old, n)
	}
	mutated := clone(files)
	mutated["dapr.tf"] = []byte(strings.Replace(string(files["dapr.tf"]), old, old+`
  secret {
    name                = "redis-password"
    key_vault_secret_id = "https://ride-kv.vault.azure.net/secrets/redis-password"
    identity            = azurerm_user_assigned_identity.apps.id
  }
  metadata {
    name        = "redisPassword"
    secret_name = "redis-password"
  }`, 1))
	cfg, err := load(mutated, map[string]cty.Value{"style": cty.StringVal("choreography")})
	if err != nil {
		t.Fatalf("evaluating the mutated configuration: %v", err)
	}
	for _, p := range check(cfg, loadContract(t), "choreography") {
		t.Errorf("a credential from Key Vault: %s", p)
	}
}

// TestPlanChecksTheSameCredentialNames: tests/styles.tftest.hcl, where the
// real planner checks the metadata names, uses credentialName's expression.
func TestPlanChecksTheSameCredentialNames(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("tests", "styles.tftest.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`can\(regex\("([^"]*)", m\.name\)\)`).FindSubmatch(src)
	if m == nil {
		t.Fatal(`tests/styles.tftest.hcl has no can(regex("...", m.name)) on the components' metadata names`)
	}
	if got, want := string(m[1]), credentialName.String(); got != want {
		t.Errorf("tests/styles.tftest.hcl checks the names\n  %s\ndeploy_test.go's credentialName is\n  %s\nkeep them the same", got, want)
	}
}

// TestEvaluatorRefusesWhatItCannotRead keeps the evaluator honest: a
// function or construct it does not know must fail the test, not be
// skipped.
func TestEvaluatorRefusesWhatItCannotRead(t *testing.T) {
	tests := map[string]string{
		"unknown function": `locals { x = upper("a") }`,
		"data source":      `data "azurerm_client_config" "current" {}`,
		"missing local":    `locals { x = local.y }`,
		"unknown for_each": `variable "v" {}
resource "azurerm_servicebus_topic" "t" {
  for_each = var.v
  name     = each.key
}`,
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := load(map[string][]byte{"x.tf": []byte(src)}); err == nil {
				t.Errorf("load accepted %q", src)
			}
		})
	}
}

// wantProblem fails the test unless one of the problems found mentions
// want: the mutation was caught, and for the expected reason.
func wantProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got:\n  %s", want, strings.Join(problems, "\n  "))
}
