package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/ride-choreography/backlog/internal/redistest"
)

// hangGuard ends a test that would otherwise wait forever.
const hangGuard = 10 * time.Second

// exporterEnv, set to 1 in the environment of the test binary, makes it
// run the exporter instead of the tests, so that a test can send a real
// signal to a real process.
const exporterEnv = "BACKLOG_TEST_RUN_EXPORTER"

func TestMain(m *testing.M) {
	if os.Getenv(exporterEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
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

// backlogLines returns the ride_backlog_ lines of a /metrics body.
func backlogLines(body string) []string {
	var out []string
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "ride_backlog_") {
			out = append(out, strings.TrimSuffix(line, "\n"))
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer that run writes to while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// messages returns "level message" of each JSON log line, and checks that
// each is the exporter's.
func messages(t *testing.T, logs string) []string {
	t.Helper()
	var out []string
	for line := range strings.Lines(logs) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if entry["service"] != "backlog" {
			t.Errorf("log line %q has no service=backlog", line)
		}
		out = append(out, entry["level"].(string)+" "+entry["message"].(string))
	}
	return out
}

// startRun runs the exporter in-process with vars as its environment and
// returns its base URL once it answers /healthz; stop cancels it, and done
// yields what run returned.
func startRun(t *testing.T, vars map[string]string, logs io.Writer) (base string, stop func(), done <-chan error) {
	t.Helper()
	port := strconv.Itoa(redistest.FreePort(t))
	vars["APP_PORT"] = port
	base = "http://127.0.0.1:" + port
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	result := make(chan error, 1)
	go func() { result <- run(ctx, env(vars), logs, io.Discard) }()
	deadline := time.Now().Add(hangGuard)
	for status, _ := get(base + "/healthz"); status != http.StatusOK; status, _ = get(base + "/healthz") {
		select {
		case err := <-result:
			t.Fatalf("run() returned %v before it answered /healthz", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered 200, last %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return base, cancel, result
}

// awaitReturn waits for run to return nil.
func awaitReturn(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() error = %v, want nil after a graceful stop", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("run() did not return after its context was cancelled")
	}
}

func TestRunServesTheBacklog(t *testing.T) {
	s := redistest.Start(t)
	ctx := context.Background()
	for _, g := range []struct{ stream, group string }{
		{"trip-created", "driver"}, {"trip-created", "notification"}, {"trip-created", "trip"}, {"driver-assigned", "trip"},
	} {
		if err := s.Client.XGroupCreateMkStream(ctx, g.stream, g.group, "0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		if err := s.Client.XAdd(ctx, &redis.XAddArgs{Stream: "trip-created", Values: map[string]any{"data": "{}"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	read, err := s.Client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "trip", Consumer: "trip", Streams: []string{"trip-created", ">"}, Count: 4, Block: -1}).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Client.XAck(ctx, "trip-created", "trip", read[0].Messages[0].ID).Err(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	base, stop, done := startRun(t, map[string]string{"REDIS_HOST": s.Addr}, &logs)

	status, body := get(base + "/metrics")

	if status != http.StatusOK {
		t.Errorf("GET /metrics = %d, want 200", status)
	}
	want := []string{
		`ride_backlog_lag{app="driver",topic="trip-created"} 4`,
		`ride_backlog_lag{app="notification",topic="trip-created"} 4`,
		`ride_backlog_lag{app="trip",topic="driver-assigned"} 0`,
		`ride_backlog_lag{app="trip",topic="trip-created"} 0`,
		`ride_backlog_pending{app="driver",topic="trip-created"} 0`,
		`ride_backlog_pending{app="notification",topic="trip-created"} 0`,
		`ride_backlog_pending{app="trip",topic="driver-assigned"} 0`,
		`ride_backlog_pending{app="trip",topic="trip-created"} 3`,
		`ride_backlog_up 1`,
	}
	if diff := cmp.Diff(want, backlogLines(body)); diff != "" {
		t.Errorf("GET /metrics backlog mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, "\ngo_goroutines ") {
		t.Errorf("GET /metrics lacks the Go runtime's metrics:\n%s", body)
	}
	if status, body := get(base + "/healthz"); status != http.StatusOK || body != `{"status":"ok"}` {
		t.Errorf("GET /healthz = %d %s, want 200 ok", status, body)
	}
	resp, err := http.Post(base+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics = %d, want 405", resp.StatusCode)
	}

	stop()
	awaitReturn(t, done)
	if diff := cmp.Diff([]string{"info listening", "info shutting down", "info stopped"}, messages(t, logs.String())); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// TestRunReportsRedisDown: with no Redis, and with a Redis that goes away
// while the exporter runs, /metrics still answers 200, with
// ride_backlog_up 0 and no backlog, and each failed read is logged.
func TestRunReportsRedisDown(t *testing.T) {
	t.Run("never there", func(t *testing.T) {
		var logs syncBuffer
		base, stop, done := startRun(t, map[string]string{"REDIS_HOST": "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))}, &logs)

		status, body := get(base + "/metrics")

		if status != http.StatusOK || !cmp.Equal(backlogLines(body), []string{"ride_backlog_up 0"}) {
			t.Errorf("GET /metrics = %d %v, want 200 with ride_backlog_up 0 only", status, backlogLines(body))
		}
		stop()
		awaitReturn(t, done)
		if diff := cmp.Diff([]string{"info listening", "error backlog not read", "info shutting down", "info stopped"}, messages(t, logs.String())); diff != "" {
			t.Errorf("log mismatch (-want +got):\n%s", diff)
		}
		if !strings.Contains(logs.String(), "connection refused") {
			t.Errorf("the log does not say why the backlog was not read:\n%s", logs.String())
		}
	})
	t.Run("gone while running", func(t *testing.T) {
		s := redistest.Start(t)
		if err := s.Client.XGroupCreateMkStream(context.Background(), "trip-created", "driver", "0").Err(); err != nil {
			t.Fatal(err)
		}
		base, stop, done := startRun(t, map[string]string{"REDIS_HOST": s.Addr}, io.Discard)
		if _, body := get(base + "/metrics"); !strings.Contains(body, "\nride_backlog_up 1\n") {
			t.Fatalf("GET /metrics with Redis up:\n%s\nwant ride_backlog_up 1", body)
		}

		_ = s.Client.ShutdownNoSave(context.Background()).Err() // the connection ends with Redis

		status, body := get(base + "/metrics")
		if status != http.StatusOK || !cmp.Equal(backlogLines(body), []string{"ride_backlog_up 0"}) {
			t.Errorf("GET /metrics = %d %v, want 200 with ride_backlog_up 0 only", status, backlogLines(body))
		}
		stop()
		awaitReturn(t, done)
	})
}

func TestRunRejectsBadConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), env(map[string]string{"APP_PORT": "http", "REDIS_HOST": "localhost", "BACKLOG_TOPICS": "a,a"}), &stdout, &stderr)

	if err == nil {
		t.Fatal("run() error = nil, want one")
	}
	want := "backlog: invalid configuration:\n" + err.Error() + "\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr mismatch (-want +got):\n%s", diff)
	}
	for _, name := range []string{"APP_PORT", "REDIS_HOST", "BACKLOG_TOPICS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("run() error = %v, want one naming %s", err, name)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing before the logger exists", stdout.String())
	}
}

func TestRunFailsWhenThePortIsTaken(t *testing.T) {
	taken := redistest.Start(t) // something that listens
	_, port, _ := strings.Cut(taken.Addr, ":")
	var logs bytes.Buffer

	err := run(context.Background(), env(map[string]string{"APP_PORT": port}), &logs, io.Discard)

	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("run() error = %v, want address already in use", err)
	}
	if diff := cmp.Diff([]string{"error cannot listen"}, messages(t, logs.String())); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// TestSIGTERMStopsTheExporter sends a real SIGTERM to the exporter running
// as its own process: it exits 0, well inside the 5 s a container gets.
func TestSIGTERMStopsTheExporter(t *testing.T) {
	s := redistest.Start(t)
	port := strconv.Itoa(redistest.FreePort(t))
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), exporterEnv+"=1", "APP_PORT="+port, "REDIS_HOST="+s.Addr)
	var logs syncBuffer
	cmd.Stdout = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(hangGuard)
	for status, _ := get(base + "/metrics"); status != http.StatusOK; status, _ = get(base + "/metrics") {
		if time.Now().After(deadline) {
			t.Fatalf("the exporter never answered /metrics; its log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the exporter exited with %v after SIGTERM, want 0", err)
		}
		if took := time.Since(sent); took > 5*time.Second {
			t.Errorf("the exporter took %s to stop, want under 5s", took)
		}
	case <-time.After(hangGuard):
		t.Fatal("the exporter did not exit after SIGTERM")
	}
	if diff := cmp.Diff([]string{"info listening", "info shutting down", "info stopped"}, messages(t, logs.String())); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}
