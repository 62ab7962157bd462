package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// traceTool is make trace's binary (../trace), built with the services.
const traceTool = "trace"

// withTracing runs Jaeger (JAEGER: a Jaeger v2 binary, which make e2e finds
// or builds with scripts/jaeger.sh) with tools/jaeger/config.yaml on ports
// of the system's own, and points every service and sidecar at it through
// OTEL_EXPORTER_OTLP_ENDPOINT, as make run does.
func withTracing() option {
	return func(s *settings) { s.tracing = true }
}

// jaegerPorts are the ports of a system's Jaeger.
type jaegerPorts struct {
	otlpGRPC, otlpHTTP, query, queryGRPC, health int
}

// queryURL is the base URL of the system's Jaeger query API.
func (s *system) queryURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.jaeger.query) }

// startJaeger starts Jaeger and waits until it is healthy.
func (s *system) startJaeger() error {
	bin := os.Getenv("JAEGER")
	if bin == "" {
		return errors.New("JAEGER is not set. The tracing tests read traces back from a real Jaeger: " +
			"run them with `make e2e`, which finds or builds it, or set JAEGER=$(../scripts/jaeger.sh)")
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	s.jaeger = jaegerPorts{otlpGRPC: ports[0], otlpHTTP: ports[1], query: ports[2], queryGRPC: ports[3], health: ports[4]}
	addr := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
	if _, err := s.spawn("jaeger", append(inheritedEnv(),
		"JAEGER_OTLP_GRPC="+addr(s.jaeger.otlpGRPC),
		"JAEGER_OTLP_HTTP="+addr(s.jaeger.otlpHTTP),
		"JAEGER_QUERY="+addr(s.jaeger.query),
		"JAEGER_QUERY_GRPC="+addr(s.jaeger.queryGRPC),
		"JAEGER_HEALTH="+addr(s.jaeger.health),
	), bin, "--config", filepath.Join("..", "tools", "jaeger", "config.yaml")); err != nil {
		return err
	}
	s.otlpEnv = []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + addr(s.jaeger.otlpGRPC)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.poll(ctx, "Jaeger to be healthy", func(ctx context.Context) error {
		return httpOK(ctx, "http://"+addr(s.jaeger.health)+"/status")
	})
}

// jaegerTrace is a trace as the query API answers it.
type jaegerTrace struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		StartTime int64 `json:"startTime"`
		Tags      []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
		ProcessID string `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// tracesOfTrip returns the traces in which a span of service carries
// tripId=tripID.
func (s *system) tracesOfTrip(t *testing.T, service, tripID string) []jaegerTrace {
	t.Helper()
	q := url.Values{"service": {service}, "tags": {fmt.Sprintf(`{"tripId":%q}`, tripID)}, "lookback": {"1h"}, "limit": {"20"}}
	r := do(t, http.MethodGet, s.queryURL()+"/api/traces?"+q.Encode(), "")
	if r.status != http.StatusOK {
		t.Fatalf("Jaeger query: %s", r)
	}
	var answer struct{ Data []jaegerTrace }
	if err := json.Unmarshal(r.body, &answer); err != nil {
		t.Fatalf("Jaeger query answer: %v", err)
	}
	return answer.Data
}

// span is one span of a trace, with its service and parent, for the
// checks.
type span struct {
	id, parent, service, name string
	tags                      map[string]string
}

func spansOf(tr jaegerTrace) map[string]span {
	spans := map[string]span{}
	for _, sp := range tr.Spans {
		x := span{id: sp.SpanID, service: tr.Processes[sp.ProcessID].ServiceName, name: sp.OperationName, tags: map[string]string{}}
		for _, ref := range sp.References {
			if ref.RefType == "CHILD_OF" {
				x.parent = ref.SpanID
			}
		}
		for _, tag := range sp.Tags {
			x.tags[tag.Key] = fmt.Sprint(tag.Value)
		}
		spans[x.id] = x
	}
	return spans
}

// find returns the spans of service named name.
func find(spans map[string]span, service, name string) []span {
	var found []span
	for _, sp := range spans {
		if sp.service == service && sp.name == name {
			found = append(found, sp)
		}
	}
	slices.SortFunc(found, func(a, b span) int { return strings.Compare(a.id, b.id) })
	return found
}

// descends reports whether span id descends from span ancestor.
func descends(spans map[string]span, id, ancestor string) bool {
	for seen := 0; id != "" && seen <= len(spans); seen++ {
		if id == ancestor {
			return true
		}
		id = spans[id].parent
	}
	return false
}

// awaitTripTrace waits until the trip's trace holds every span want
// names, as "service/operation", and the parent of each of its spans, and
// returns it. It fails when the trip has more than one trace.
func (s *system) awaitTripTrace(t *testing.T, tripID string, want ...string) (jaegerTrace, map[string]span) {
	t.Helper()
	var tr jaegerTrace
	var spans map[string]span
	eventually(t, 30*time.Second, "trip "+tripID+"'s trace to hold "+strings.Join(want, ", "), func() (bool, string) {
		traces := s.tracesOfTrip(t, "trip", tripID)
		if len(traces) != 1 {
			return false, fmt.Sprintf("%d traces", len(traces))
		}
		tr, spans = traces[0], spansOf(traces[0])
		var missing []string
		for _, w := range want {
			service, name, _ := strings.Cut(w, "/")
			if len(find(spans, service, name)) == 0 {
				missing = append(missing, w)
			}
		}
		// Processes export in batches: until the last sidecar's arrive, a
		// span may name a parent that is not there yet.
		var orphans int
		for _, sp := range spans {
			if _, ok := spans[sp.parent]; sp.parent != "" && !ok {
				orphans++
			}
		}
		return len(missing) == 0 && orphans == 0, fmt.Sprintf("%d spans, missing %v, %d whose parent has not arrived", len(spans), missing, orphans)
	})
	return tr, spans
}

// TestOneTripIsOneTrace: an order, read back from Jaeger's query API, is
// one trace: the trip service's POST /trips, its publish of trip-created
// through its sidecar, the driver's handling and its publish of
// driver-assigned, the trip and notification services' handling of both
// events, each span a descendant of the one that caused it, each
// service's spans tagged with the trip's id. make trace prints it, and
// every log line about the trip carries the trace's id.
func TestOneTripIsOneTrace(t *testing.T) {
	s := startSystem(t, withTracing())
	riderID := newID("rider")
	trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
	s.awaitNotifications(t, riderID, 2)

	tr, spans := s.awaitTripTrace(t, trip.TripID,
		"trip/POST /trips", "trip/trip-created publish",
		"driver/trip-created process", "driver/driver search", "driver/driver-assigned publish",
		"trip/driver-assigned process", "notification/trip-created process", "notification/driver-assigned process")
	root := find(spans, "trip", "POST /trips")[0]
	if root.parent != "" {
		t.Errorf("POST /trips has a parent span %s; want it to start the trace", root.parent)
	}
	// Causal order: each span descends from the one that caused it, through
	// the sidecars' spans in between.
	for _, link := range []struct{ cause, effect string }{
		{"trip/POST /trips", "trip/trip-created publish"},
		{"trip/trip-created publish", "driver/trip-created process"},
		{"trip/trip-created publish", "notification/trip-created process"},
		{"driver/trip-created process", "driver/driver search"},
		{"driver/trip-created process", "driver/driver-assigned publish"},
		{"driver/driver-assigned publish", "trip/driver-assigned process"},
		{"driver/driver-assigned publish", "notification/driver-assigned process"},
	} {
		service, name, _ := strings.Cut(link.cause, "/")
		cause := find(spans, service, name)
		service, name, _ = strings.Cut(link.effect, "/")
		for _, effect := range find(spans, service, name) {
			if !slices.ContainsFunc(cause, func(c span) bool { return descends(spans, effect.id, c.id) }) {
				t.Errorf("%s (span %s) does not descend from %s", link.effect, effect.id, link.cause)
			}
		}
	}
	// Each service's handling carries the trip's id, so a search by tag in
	// any of them finds the one trace.
	for _, name := range services {
		traces := s.tracesOfTrip(t, name, trip.TripID)
		if len(traces) != 1 || traces[0].TraceID != tr.TraceID {
			t.Errorf("search of %s's spans by tripId: %d traces, want the one trace %s", name, len(traces), tr.TraceID)
		}
	}
	// The sidecars' spans are in it too: daprd reports as the app id, with
	// operations of its own (pubsub, state calls).
	var sidecarSpans int
	for _, sp := range spans {
		if strings.HasPrefix(sp.name, "/dapr.proto") || strings.HasPrefix(sp.name, "pubsub") || strings.HasPrefix(sp.name, "/v1.0") {
			sidecarSpans++
		}
	}
	if sidecarSpans == 0 {
		names := make([]string, 0, len(spans))
		for _, sp := range spans {
			names = append(names, sp.service+"/"+sp.name)
		}
		t.Errorf("no sidecar span in the trace; spans: %v", names)
	}

	t.Run("make trace prints it", func(t *testing.T) {
		out := s.runTraceTool(t, trip.TripID)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.HasPrefix(lines[0], "trace "+tr.TraceID+": ") || !strings.Contains(lines[0], "from 3 services") {
			t.Errorf("make trace heading %q, want trace %s from 3 services", lines[0], tr.TraceID)
		}
		order := []string{"POST /trips", "trip-created publish", "trip-created process [SUCCESS]", "driver-assigned publish", "driver-assigned process [SUCCESS]"}
		at := 0
		for _, line := range lines[2:] {
			if at < len(order) && strings.Contains(line, order[at]) {
				at++
			}
		}
		if at < len(order) {
			t.Errorf("make trace output does not show %q after %q in order:\n%s", order[at], order[:at], out)
		}
	})

	t.Run("every log line about the trip carries its trace", func(t *testing.T) {
		for _, name := range services {
			lines := s.logLinesAbout(t, name, trip.TripID)
			if len(lines) == 0 {
				t.Errorf("%s logged nothing about trip %s", name, trip.TripID)
			}
			for _, line := range lines {
				if line["traceId"] != tr.TraceID {
					t.Errorf("%s logged %v with traceId %q, want %s", name, line, line["traceId"], tr.TraceID)
				}
				if _, ok := line["topic"]; ok && line["eventId"] == "" {
					t.Errorf("%s logged %v about an event without its eventId", name, line)
				}
			}
		}
	})
}

// TestTraceContinuesAcrossRedelivery: with the driver service down when a
// trip is ordered, daprd delivers trip-created again and again until it is
// back; the handling that succeeds is still in the order's trace.
func TestTraceContinuesAcrossRedelivery(t *testing.T) {
	s := startSystem(t, withTracing())
	driver := s.app("driver")
	s.stopService(t, driver, syscall.SIGTERM)
	riderID := newID("rider")
	trip := accepted(t, s.orderTrip(t, orderBody(riderID, jardasCorner)))
	s.awaitNotifications(t, riderID, 1) // trip_received: the order is on the broker
	time.Sleep(2 * time.Second)         // deliveries to the stopped driver fail meanwhile
	s.startApp(t, driver)
	s.awaitNotifications(t, riderID, 2)

	_, spans := s.awaitTripTrace(t, trip.TripID, "trip/POST /trips", "driver/trip-created process", "notification/driver-assigned process")
	root := find(spans, "trip", "POST /trips")[0]
	for _, sp := range find(spans, "driver", "trip-created process") {
		if !descends(spans, sp.id, root.id) {
			t.Errorf("the driver's handling (span %s) is not in the order's causal chain", sp.id)
		}
	}
}

// runTraceTool runs make trace's program against the system's Jaeger.
func (s *system) runTraceTool(t *testing.T, tripID string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, traceTool), "-trip", tripID, "-query", s.queryURL(), "-wait", "10s")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("trace -trip %s: %v\n%s", tripID, err, stderr.String())
	}
	t.Logf("make trace TRIP=%s:\n%s", tripID, stdout.String())
	return stdout.String()
}

// logLinesAbout returns the JSON log lines of every replica of service
// that name the trip.
func (s *system) logLinesAbout(t *testing.T, service, tripID string) []map[string]string {
	t.Helper()
	var lines []map[string]string
	for _, a := range s.apps[service] {
		b, err := os.ReadFile(filepath.Join(s.logDir(), a.instance+".log"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil || line["tripId"] != tripID {
				continue
			}
			flat := map[string]string{}
			for k, v := range line {
				flat[k] = fmt.Sprint(v)
			}
			lines = append(lines, flat)
		}
	}
	return lines
}
