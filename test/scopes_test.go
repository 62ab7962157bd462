package e2e

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// Topic scopes: only the right app publishes and receives each topic
// (components/pubsub.yaml, README "Security").

// operationOf reads an AsyncAPI operation id such as
// "driverPublishesDriverAssigned": the app, and whether it sends.
var operationOf = regexp.MustCompile(`^([a-z]+)(Publishes|Receives)[A-Z]`)

// scopeApps are the app ids the scopes name: the services, and the
// coordinators of the other styles, which may use no topic.
var scopeApps = []string{"trip", "driver", "notification", "dispatch", "orchestrator", "workflow"}

// readersBeyondTheContract are the topics that services added beside the
// ride read without being in contracts/asyncapi.yaml (README, "Adding a
// service"): what services/dispatch subscribes to (its
// internal/dapr/subscriptions.go).
var readersBeyondTheContract = map[string][]string{
	"dispatch": {"trip-created", "driver-assigned", "driver-not-found"},
}

// wantScopes derives the pub/sub component's protectedTopics,
// publishingScopes and subscriptionScopes from contracts/asyncapi.yaml:
// each app publishes and receives what its operations say, or
// readersBeyondTheContract, and publishes
// and receives its own dead-letter topic (its sidecar publishes there on
// its behalf; the service lists it).
func wantScopes(t *testing.T) (protected []string, publish, subscribe map[string][]string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "contracts", "asyncapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc asyncAPI
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	publish, subscribe = map[string][]string{}, map[string][]string{}
	for _, app := range scopeApps {
		publish[app], subscribe[app] = []string{}, []string{}
	}
	for id, op := range doc.Operations {
		m := operationOf.FindStringSubmatch(id)
		ch, ok := doc.Channels[strings.TrimPrefix(op.Channel.Ref, "#/channels/")]
		if m == nil || !ok {
			t.Fatalf("contracts/asyncapi.yaml: operation %s names no app (<app>Publishes|Receives<Channel>) or no channel", id)
		}
		if m[2] == "Publishes" {
			publish[m[1]] = append(publish[m[1]], ch.Address)
		} else {
			subscribe[m[1]] = append(subscribe[m[1]], ch.Address)
		}
	}
	for app, ts := range readersBeyondTheContract {
		subscribe[app] = append(subscribe[app], ts...)
	}
	protected = slices.Clone(topics)
	for _, app := range []string{"trip", "driver", "notification", "dispatch"} {
		dl := app + "-dead-letters"
		publish[app] = append(publish[app], dl)
		subscribe[app] = append(subscribe[app], dl)
		protected = append(protected, dl)
	}
	for _, m := range []map[string][]string{publish, subscribe} {
		for _, ts := range m {
			slices.Sort(ts)
		}
	}
	slices.Sort(protected)
	return protected, publish, subscribe
}

// parseScopes reads "app=t1,t2;app2=" into app -> sorted topics.
func parseScopes(v string) map[string][]string {
	out := map[string][]string{}
	for _, part := range strings.Split(strings.ReplaceAll(v, " ", ""), ";") {
		app, list, ok := strings.Cut(part, "=")
		if !ok {
			out[part] = nil // malformed: Dapr ignores it, the test shows it
			continue
		}
		ts := []string{}
		if list != "" {
			ts = strings.Split(list, ",")
		}
		slices.Sort(ts)
		out[app] = ts
	}
	return out
}

// Every pub/sub file, the default and each broker's, scopes the topics as
// the contract says, so swapping the broker keeps the locks.
func TestEveryBrokerFileScopesTheTopics(t *testing.T) {
	protected, publish, subscribe := wantScopes(t)
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "components", "brokers", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join(repoRoot(t), "components", "pubsub.yaml"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
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
			if err := yaml.Unmarshal(b, &comp); err != nil {
				t.Fatal(err)
			}
			meta := map[string]string{}
			for _, m := range comp.Spec.Metadata {
				meta[m.Name] = m.Value
			}
			got := strings.Split(meta["protectedTopics"], ",")
			slices.Sort(got)
			if diff := cmp.Diff(protected, got); diff != "" {
				t.Errorf("protectedTopics (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(publish, parseScopes(meta["publishingScopes"])); diff != "" {
				t.Errorf("publishingScopes differ from contracts/asyncapi.yaml (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(subscribe, parseScopes(meta["subscriptionScopes"])); diff != "" {
				t.Errorf("subscriptionScopes differ from contracts/asyncapi.yaml (-want +got):\n%s", diff)
			}
		})
	}
}

// The forged publish of the issue that asked for the scopes: a made-up
// driver "Mallory" for a real trip, published as driver-assigned (and a
// trip-created, and a driver-not-found) through every sidecar but the one
// whose app owns the topic, and through the sidecar of a stranger app id.
// Each sidecar refuses (403); the trip and what its rider heard stay as
// they were. The stranger's subscription to trip-created is refused too.
func TestOnlyTheRightAppPublishesEachTopic(t *testing.T) {
	sys := shared(t)
	// A stranger: an app of its own, with a sidecar on this system's
	// components, that would like to hear every order.
	mallory, stolen := startStranger(t, sys, "mallory")

	riderID := newID("rider")
	trip := sys.settledTrip(t, accepted(t, sys.orderTrip(t, orderBody(riderID, point{50.0870, 14.4208}))).TripID)
	before := kinds(sys.awaitNotifications(t, riderID, 2))

	forged := map[string]any{ // a driver-assigned for the real trip
		"tripId": trip.TripID, "riderId": riderID,
		"driver":     map[string]any{"id": "mallory", "name": "Mallory", "car": map[string]string{"make": "Lada", "model": "Niva", "color": "black", "plate": "6MA 6666"}},
		"etaSeconds": 60, "assignedAt": time.Now().UTC().Format(time.RFC3339Nano),
	}
	owner := map[string]string{"trip-created": "trip", "driver-assigned": "driver", "driver-not-found": "driver"}
	var refused []string
	for _, topic := range slices.Sorted(maps.Keys(owner)) {
		through := []*app{mallory}
		for _, role := range sys.roles() {
			if a := sys.app(role); a.daprAppID() != owner[topic] {
				through = append(through, a)
			}
		}
		for _, a := range through {
			event := cloudEvent(t, newID("forged"), topic, forged)
			url := a.daprURL() + "/v1.0/publish/pubsub/" + topic
			// Without the sidecar's token (DAPR_API_TOKEN): 401, whoever
			// reaches its port.
			resp, err := client.Post(url, "application/cloudevents+json", strings.NewReader(string(event)))
			if err != nil {
				t.Fatalf("POST %s: %v", url, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s through the sidecar of %s without its token: want 401, got %s %s", topic, a.daprAppID(), resp.Status, body)
			}
			// With it, as the app itself (or whoever took it over): the
			// topic's scopes refuse, 403.
			resp, err = a.callSidecar(http.MethodPost, url, "application/cloudevents+json", strings.NewReader(string(event)))
			if err != nil {
				t.Fatalf("POST %s: %v", url, err)
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s through the sidecar of %s: want 403, got %s %s", topic, a.daprAppID(), resp.Status, body)
				continue
			}
			refused = append(refused, topic+" via "+a.daprAppID())
		}
	}

	// Had any forged event got through, the trip service and the
	// notification service would have handled it by now: give them the
	// time a delivery takes, several times over.
	time.Sleep(2 * time.Second)
	if after := getJSON[tripView](t, sys.url("trip", "/trips/"+trip.TripID)); after.Driver == nil || trip.Driver == nil || after.Driver.ID != trip.Driver.ID || after.Status != trip.Status {
		t.Errorf("the trip changed after the forged events: before %+v, after %+v", trip, after)
	}
	if after := kinds(sys.notifications(t, riderID)); !slices.Equal(before, after) {
		t.Errorf("the rider was told more after the forged events: before %q, after %q", before, after)
	}

	// The stranger asked for every topic, and the trip above went through
	// all three after its sidecar started: its sidecar subscribed to none
	// (the subscription scopes), so it was handed nothing.
	if n := stolen.Load(); n != 0 {
		t.Errorf("the stranger was handed %d events", n)
	}
	report(t, "forged publishes refused (403, and 401 without the sidecar's token): %s; events handed to the stranger: %d", strings.Join(refused, ", "), stolen.Load())
}

// startStranger starts a sidecar with the app id name on the system's
// components, and an app behind it that asks for every topic of the ride
// (GET /dapr/subscribe) and counts the events it is handed; both stop with
// the test.
func startStranger(t *testing.T, s *system, name string) (*app, *atomic.Int64) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var subs []string
		for _, topic := range topics {
			subs = append(subs, fmt.Sprintf(`{"pubsubname":"pubsub","topic":%q,"route":"/stolen"}`, topic))
		}
		io.WriteString(w, "["+strings.Join(subs, ",")+"]")
	})
	var stolen atomic.Int64
	mux.HandleFunc("POST /stolen", func(w http.ResponseWriter, _ *http.Request) {
		stolen.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"SUCCESS"}`)
	})
	ports, err := freePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{name: name, instance: name, port: serveApp(t, mux),
		daprHTTPPort: ports[0], daprGRPCPort: ports[1], metricsPort: ports[2], internalGRPCPort: ports[3],
		appToken: newToken(), daprToken: newToken()}
	if err := s.startSidecar(a); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stopSidecar(t, a, syscall.SIGTERM) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.poll(ctx, name+" sidecar to be ready", func(ctx context.Context) error {
		return httpOK(ctx, a.daprURL()+"/v1.0/healthz")
	}); err != nil {
		t.Fatal(err)
	}
	return a, &stolen
}
