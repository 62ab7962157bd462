package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/contracttest"
	"github.com/ride-choreography/services/driver/internal/dapr/daprtest"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

// hangGuard ends a test that would otherwise wait forever.
const hangGuard = 10 * time.Second

// serviceEnv, set to 1 in the environment of the test binary, makes it run
// the service instead of the tests, so that a test can send a real
// signal to a real process.
const serviceEnv = "DRIVER_TEST_RUN_SERVICE"

func TestMain(m *testing.M) {
	if os.Getenv(serviceEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// freePort returns a loopback port that nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return strconv.Itoa(lis.Addr().(*net.TCPAddr).Port)
}

// get returns the status and body of GET url, or 0 when nothing answers.
func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRunServesUntilStopped(t *testing.T) {
	fake := daprtest.Start(t, "driver-store")
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	var logs bytes.Buffer
	stop, done := startRun(t, sidecarEnv(port, fake, nil), &logs)
	waitReady(t, base)

	if status, body := get(base + "/drivers"); status != http.StatusOK || strings.Count(body, `"status":"free"`) != 5 {
		t.Errorf("GET /drivers = %d %s, want the five seeded drivers, free", status, body)
	}

	if answer := <-deliverExample(t, base); answer != `{"status":"SUCCESS"}` {
		t.Errorf("delivery answered %s, want SUCCESS", answer)
	}
	published := fake.Published()
	if len(published) != 1 || published[0].Topic != "driver-assigned" || !bytes.Contains(published[0].Data, []byte(`"tripId":"0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10"`)) {
		t.Errorf("published %+v, want one driver-assigned for the example trip", published)
	}

	poison := bytes.Replace(contracttest.Example(t, "trip-created"), []byte(`"riderId": "rider-42"`), []byte(`"riderId": ""`), 1)
	for _, route := range []string{"/events/trip-created", "/events/dead-letters"} {
		resp, err := postFromSidecar(base+route, "application/cloudevents+json", bytes.NewReader(poison))
		if err != nil {
			t.Fatalf("deliver to %s: %v", route, err)
		}
		resp.Body.Close()
	}
	if status, body := get(base + "/dead-letters"); status != http.StatusOK || !strings.Contains(body, `"count":1`) || !strings.Contains(body, `at '/riderId': minLength: got 0, want 1`) {
		t.Errorf("GET /dead-letters = %d %s, want the poison event, with its reason", status, body)
	}
	status, body := get(base + "/metrics")
	if status != http.StatusOK {
		t.Errorf("GET /metrics = %d, want 200", status)
	}
	for _, want := range []string{
		`ride_events_handled_total{outcome="SUCCESS",topic="trip-created"} 1`,
		`ride_events_handled_total{outcome="DROP",topic="trip-created"} 1`,
		`ride_events_handled_total{outcome="SUCCESS",topic="driver-dead-letters"} 1`,
		`ride_dead_letters_total{topic="trip-created"} 1`,
		`ride_assignments_total{outcome="driver_assigned"} 1`,
		`ride_assignment_seconds_count 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, "\n"+want) {
			t.Errorf("GET /metrics lacks %q:\n%s", want, body)
		}
	}

	stop()
	awaitReturn(t, done, "a graceful stop")

	var messages []string
	for _, entry := range testkit.Lines(t, logs.String()) {
		if entry["service"] != "driver" {
			t.Errorf("log line %v has no service=driver", entry)
		}
		message, _ := entry["message"].(string)
		messages = append(messages, message)
	}
	for _, want := range []string{"listening", "ready", "driver assigned", "dead letter stored", "shutting down", "stopped"} {
		if !strings.Contains(strings.Join(messages, "|"), want) {
			t.Errorf("logs %q lack %q", messages, want)
		}
	}
}

func TestRunFailsWithoutSidecar(t *testing.T) {
	getenv := tokenEnv(map[string]string{
		"APP_PORT":       freePort(t),
		"DAPR_GRPC_PORT": freePort(t),
		"DAPR_HTTP_PORT": freePort(t),
		"SIDECAR_WAIT":   "300ms",
	})

	var logs bytes.Buffer

	err := run(context.Background(), getenv, &logs, io.Discard)

	if err == nil || !strings.Contains(err.Error(), "wait for sidecar") {
		t.Errorf("run() error = %v, want one about waiting for the sidecar", err)
	}
	var errorLines []string
	for _, entry := range testkit.Lines(t, logs.String()) {
		if entry["level"] == "error" {
			message, _ := entry["message"].(string)
			errorLines = append(errorLines, message)
		}
	}
	if diff := cmp.Diff([]string{"sidecar not ready, giving up"}, errorLines); diff != "" {
		t.Errorf("error log lines (-want +got):\n%s", diff)
	}
}

func TestRunStopsWhileWaitingForSidecar(t *testing.T) {
	getenv := tokenEnv(map[string]string{
		"APP_PORT":       freePort(t),
		"DAPR_GRPC_PORT": freePort(t),
		"DAPR_HTTP_PORT": freePort(t),
	})
	ctx, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()

	if err := run(ctx, getenv, io.Discard, io.Discard); err != nil {
		t.Errorf("run() error = %v, want nil when stopped during start", err)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), tokenEnv(map[string]string{"APP_PORT": "http", "DRIVER_POOL_SIZE": "0"}), &stdout, &stderr)

	if err == nil {
		t.Fatal("run() error = nil, want one")
	}
	want := "driver: invalid configuration:\n" + err.Error() + "\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr mismatch (-want +got):\n%s", diff)
	}
	for _, name := range []string{"APP_PORT", "DRIVER_POOL_SIZE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("run() error = %v, want one naming %s", err, name)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing before the logger exists", stdout.String())
	}
}
