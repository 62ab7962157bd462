package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/dispatch/internal/auth/authtest"
	"github.com/ride-choreography/services/dispatch/internal/contracttest"
	"github.com/ride-choreography/services/dispatch/internal/dapr/daprtest"
	"github.com/ride-choreography/services/dispatch/internal/testkit"
)

// TestMain lets a test run the service as a process of its own: this test
// binary, started with DISPATCH_RUN_MAIN=1, is the service.
func TestMain(m *testing.M) {
	if os.Getenv("DISPATCH_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// freePort returns a TCP port that nothing listened on a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// service is run, started in the background by a test.
type service struct {
	url    string
	issuer *authtest.Issuer // of the dispatchers' tokens the service takes
	stdout *testkit.Buffer
	stop   context.CancelFunc
	done   chan error
}

// start runs the service with env as its whole environment, and waits
// until it answers /healthz.
func start(t *testing.T, env map[string]string) *service {
	t.Helper()
	env["APP_PORT"] = freePort(t)
	issuer := authtest.New(t)
	env["AUTH_ISSUER"], env["AUTH_JWKS_URL"] = issuer.URL, issuer.JWKSURL()
	ctx, stop := context.WithCancel(t.Context())
	s := &service{url: "http://127.0.0.1:" + env["APP_PORT"], issuer: issuer, stdout: &testkit.Buffer{}, stop: stop, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, tokenEnv(env), s.stdout, io.Discard) }()
	t.Cleanup(func() {
		stop()
		<-s.done
	})
	s.waitFor(t, "/healthz", http.StatusOK)
	return s
}

// waitFor polls path until it answers status, for at most 10 s.
func (s *service) waitFor(t *testing.T, path string, status int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// With the sidecar's token: /dapr/ routes are the sidecar's.
		req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("dapr-api-token", testToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer %d within 10 s (last error %v); logs:\n%s", path, status, err, s.stdout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// shutdown stops the service as SIGTERM would, and returns what run
// returned.
func (s *service) shutdown(t *testing.T) error {
	t.Helper()
	s.stop()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after the context was cancelled")
		return nil
	}
}

func sidecarEnv(t *testing.T) map[string]string {
	t.Helper()
	_, opts := daprtest.Start(t)
	return map[string]string{
		"DAPR_HOST":       opts.Host,
		"DAPR_GRPC_PORT":  strconv.Itoa(opts.GRPCPort),
		"DAPR_HTTP_PORT":  strconv.Itoa(opts.HTTPPort),
		"STATESTORE_NAME": opts.StateStore,
		"DAPR_API_TOKEN":  opts.APIToken,
	}
}

func TestRunHandlesEventsAndShutsDownWithAnOpenStream(t *testing.T) {
	s := start(t, sidecarEnv(t))
	s.waitFor(t, "/readyz", http.StatusOK)

	if got := post(t, s.url+"/events/trip-created", contracttest.Example(t, "trip-created")); got != "SUCCESS" {
		t.Fatalf("trip-created: %s, want SUCCESS", got)
	}
	// The subscriptions and the use cases count into what GET /metrics
	// serves.
	served := get(t, s.url+"/metrics")
	for _, want := range []string{
		`ride_events_handled_total{outcome="SUCCESS",topic="trip-created"} 1`,
		`ride_dispatch_trips_recorded_total{status="waiting"} 1`,
	} {
		if !strings.Contains(served, "\n"+want+"\n") {
			t.Errorf("GET /metrics has no %s; it served:\n%s", want, served)
		}
	}

	stream, err := s.asDispatcher(t, "dispatcher-1", "/board/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	lines := bufio.NewScanner(stream.Body)
	firstBoardShows(t, lines, "rider-42 ordered a trip")

	if err := s.shutdown(t); err != nil {
		t.Fatalf("run() = %v, want nil", err)
	}
	for lines.Scan() {
	}
	if err := lines.Err(); err != nil {
		t.Errorf("stream did not end cleanly: %v", err)
	}
	// Readiness polls that came before the sidecar was connected logged
	// "request failed"; how many depends on timing.
	got := slices.DeleteFunc(s.stdout.Messages(t), func(msg string) bool { return msg == "request failed" })
	want := []string{"listening", "ready", "event handled", "shutting down", "stopped"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log messages mismatch (-want +got):\n%s", diff)
	}
}

func TestRunServesBeforeTheSidecarIsThere(t *testing.T) {
	s := start(t, map[string]string{"DAPR_GRPC_PORT": freePort(t), "DAPR_HTTP_PORT": freePort(t)})

	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var problem struct{ Status int }
	if err := json.NewDecoder(resp.Body).Decode(&problem); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || problem.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz: %d, want 503", resp.StatusCode)
	}
	s.waitFor(t, "/dapr/subscribe", http.StatusOK)

	if err := s.shutdown(t); err != nil {
		t.Errorf("run() = %v, want nil", err)
	}
}

func TestRunFailsWhenTheSidecarNeverComes(t *testing.T) {
	s := start(t, map[string]string{"DAPR_GRPC_PORT": freePort(t), "DAPR_HTTP_PORT": freePort(t), "SIDECAR_WAIT": "1s"})

	select {
	case err := <-s.done:
		s.done <- err
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "wait for sidecar") {
			t.Errorf("run() = %v, want the wait for the sidecar to end at its deadline", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not give up on the sidecar")
	}
	want := []string{"listening", "sidecar not ready, giving up"}
	if diff := cmp.Diff(want, s.stdout.Messages(t)); diff != "" {
		t.Errorf("log messages mismatch (-want +got):\n%s", diff)
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), tokenEnv(map[string]string{"APP_PORT": "http"}), &stdout, &stderr); err == nil {
		t.Fatal("run() = nil, want an error")
	}
	if diff := cmp.Diff("dispatch: invalid configuration:\nAPP_PORT=\"http\": want a port number from 1 to 65535\n", stderr.String()); diff != "" {
		t.Errorf("stderr mismatch (-want +got):\n%s", diff)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing", stdout.String())
	}
}

// TestSIGTERMEndsStreamsAndFinishesAnEventInFlight runs the service as a
// process, as a platform does, and sends it SIGTERM while board streams
// are open and an event handler waits on the state store. The
// handler finishes and answers, the streams end cleanly, and the process
// exits 0, which it does only when the shutdown finished within
// SHUTDOWN_TIMEOUT (4 s, inside the 5 s that Container Apps gives).
func TestSIGTERMEndsStreamsAndFinishesAnEventInFlight(t *testing.T) {
	fake, opts := daprtest.Start(t)
	port := freePort(t)
	issuer := authtest.New(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{
		"DISPATCH_RUN_MAIN=1",
		"APP_PORT=" + port,
		"DAPR_GRPC_PORT=" + strconv.Itoa(opts.GRPCPort),
		"DAPR_HTTP_PORT=" + strconv.Itoa(opts.HTTPPort),
		"STATESTORE_NAME=" + opts.StateStore,
		"DAPR_API_TOKEN=" + opts.APIToken,
		"SHUTDOWN_TIMEOUT=4s",
		"APP_API_TOKEN=" + testToken,
		"AUTH_ISSUER=" + issuer.URL,
		"AUTH_JWKS_URL=" + issuer.JWKSURL(),
	}
	s := &service{url: "http://127.0.0.1:" + port, issuer: issuer, stdout: &testkit.Buffer{}}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // if the test failed before it exited
		<-exited
	})
	s.waitFor(t, "/readyz", http.StatusOK)
	if got := post(t, s.url+"/events/trip-created", contracttest.Example(t, "trip-created")); got != "SUCCESS" {
		t.Fatalf("trip-created: %s, want SUCCESS", got)
	}

	var streams []*bufio.Scanner
	for _, dispatcher := range []string{"dispatcher-1", "dispatcher-1", "dispatcher-2"} {
		resp, err := s.asDispatcher(t, dispatcher, "/board/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		streams = append(streams, bufio.NewScanner(resp.Body))
	}
	firstBoardShows(t, streams[0], "rider-42 ordered a trip")

	held, release := fake.Hold()
	defer release()
	answer := make(chan string, 1)
	assigned := contracttest.Example(t, "driver-assigned")
	go func() { answer <- post(t, s.url+"/events/driver-assigned", assigned) }()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the driver-assigned handler never reached the state store")
	}

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.waitUntilClosed(t)
	release()

	if got := <-answer; got != "SUCCESS" {
		t.Errorf("driver-assigned in flight at SIGTERM: %s, want SUCCESS", got)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit: %v, want status 0; logs:\n%s", err, s.stdout)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after SIGTERM; logs:\n%s", s.stdout)
	}
	t.Logf("exited %s after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	for i, lines := range streams {
		for lines.Scan() {
		}
		if err := lines.Err(); err != nil {
			t.Errorf("stream %d did not end cleanly: %v", i, err)
		}
	}
	got := slices.DeleteFunc(s.stdout.Messages(t), func(msg string) bool { return msg == "request failed" })
	want := []string{"listening", "ready", "event handled", "shutting down", "event handled", "stopped"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log messages mismatch (-want +got):\n%s", diff)
	}
}

// waitUntilClosed waits until the service refuses new connections, which
// it does once its shutdown began, for at most 10 s.
func (s *service) waitUntilClosed(t *testing.T) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(s.url + "/healthz")
		if err != nil {
			return
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the service still takes connections 10 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// asDispatcher sends GET path as dispatcher, with a token of the service's
// issuer.
func (s *service) asDispatcher(t *testing.T, dispatcher, path string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.issuer.DispatcherToken(t, dispatcher))
	return http.DefaultClient.Do(req)
}

// firstBoardShows reads the first event of a board stream and fails the
// test unless it is a board whose feed has the line want.
func firstBoardShows(t *testing.T, lines *bufio.Scanner, want string) {
	t.Helper()
	if !lines.Scan() || lines.Text() != "event: board" {
		t.Fatalf("first line of the stream %q, want event: board", lines.Text())
	}
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "data: ") {
		t.Fatalf("second line of the stream %q, want the board's data", lines.Text())
	}
	var board struct{ Feed []struct{ Text string } }
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines.Text(), "data: ")), &board); err != nil {
		t.Fatal(err)
	}
	if len(board.Feed) == 0 || board.Feed[0].Text != want {
		t.Fatalf("first board's feed %+v, want %q first", board.Feed, want)
	}
}

// get returns the body of GET url, which must answer 200.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP status %d, want 200", url, resp.StatusCode)
	}
	return string(body)
}

// post delivers a CloudEvent as the sidecar does and returns the status
// the service answered. It may run outside the test's goroutine: it
// reports failures with t.Error.
func post(t *testing.T, url string, event []byte) string {
	resp, err := postFromSidecar(url, "application/cloudevents+json", bytes.NewReader(event))
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	var answer struct{ Status string }
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		t.Error(err)
	}
	return answer.Status
}
