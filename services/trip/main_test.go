package main

import (
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

	"github.com/ride-choreography/services/trip/internal/auth/authtest"
	"github.com/ride-choreography/services/trip/internal/contracttest"
	"github.com/ride-choreography/services/trip/internal/dapr"
	"github.com/ride-choreography/services/trip/internal/dapr/daprtest"
	"github.com/ride-choreography/services/trip/internal/testkit"
)

// hangGuard ends a wait that would otherwise last forever. It bounds
// nothing the service promises.
const hangGuard = 30 * time.Second

// runMainEnv, set to 1 in the environment of this test binary, makes it
// the service, so that a test can send a real SIGTERM to a real process.
const runMainEnv = "TRIP_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serviceLines returns every log line written to logs so far; the test
// fails at one that is not the trip service's.
func serviceLines(t *testing.T, logs *testkit.Buffer) []map[string]any {
	t.Helper()
	lines := logs.All(t)
	for _, line := range lines {
		if line["service"] != "trip" {
			t.Errorf("log line %v lacks service=trip", line)
		}
	}
	return lines
}

// messages returns the message of every log line written to logs so far,
// except the failed readiness probes: how many there are depends on
// timing.
func messages(t *testing.T, logs *testkit.Buffer) []string {
	t.Helper()
	var msgs []string
	for _, line := range serviceLines(t, logs) {
		if line["message"] == "request failed" && line["path"] == "/readyz" {
			continue
		}
		msg, _ := line["message"].(string)
		msgs = append(msgs, msg)
	}
	return msgs
}

// service is the trip service, run by a test.
type service struct {
	url    string
	issuer *authtest.Issuer // of the riders' tokens the service takes
	logs   *testkit.Buffer
	stop   context.CancelFunc // nil for a process
	done   chan error         // what run returned; nil for a process
}

// sidecarEnv is the environment that points the service at the sidecar
// opts reaches.
func sidecarEnv(opts dapr.SidecarOptions) map[string]string {
	return map[string]string{
		"DAPR_HOST":       opts.Host,
		"DAPR_GRPC_PORT":  strconv.Itoa(opts.GRPCPort),
		"DAPR_HTTP_PORT":  strconv.Itoa(opts.HTTPPort),
		"STATESTORE_NAME": opts.StateStore,
		"DAPR_API_TOKEN":  opts.APIToken,
	}
}

// start runs the service in-process, on a free port, with vars as its
// whole environment, and waits until it answers /healthz. The test's end
// stops it.
func start(t *testing.T, vars map[string]string) *service {
	t.Helper()
	vars["APP_PORT"] = freePort(t)
	issuer := authtest.New(t)
	vars["AUTH_ISSUER"], vars["AUTH_JWKS_URL"] = issuer.URL, issuer.JWKSURL()
	ctx, stop := context.WithCancel(t.Context())
	s := &service{url: "http://127.0.0.1:" + vars["APP_PORT"], issuer: issuer, logs: &testkit.Buffer{}, stop: stop, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, tokenEnv(vars), s.logs, io.Discard) }()
	t.Cleanup(func() {
		stop()
		select {
		case <-s.done:
		case <-time.After(hangGuard):
			t.Errorf("run did not return %v after the test ended", hangGuard)
		}
	})
	s.waitFor(t, "/healthz", http.StatusOK)
	return s
}

// returned waits until run returns, and returns what it returned.
func (s *service) returned(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(hangGuard):
		t.Fatalf("run did not return within %v; logs:\n%s", hangGuard, s.logs)
		return nil
	}
}

// waitFor polls path until it answers status.
func (s *service) waitFor(t *testing.T, path string, status int) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !answers(s.url+path, status) {
		if time.Now().After(deadline) {
			t.Fatalf("GET %s did not answer %d within %v; logs:\n%s", path, status, hangGuard, s.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitForLog waits until the service logged msg: a log line may follow
// the answer that shows what it reports.
func (s *service) waitForLog(t *testing.T, msg string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !slices.Contains(messages(t, s.logs), msg) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q logged within %v; logs:\n%s", msg, hangGuard, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitUntilClosed waits until the service refuses new connections, which
// it does once its shutdown began.
func (s *service) waitUntilClosed(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !s.refuses() {
		if time.Now().After(deadline) {
			t.Fatalf("the service still takes connections %v after it was told to stop", hangGuard)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// refuses reports whether the service refuses a new connection.
func (s *service) refuses() bool {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(s.url + "/healthz")
	if err != nil {
		return true
	}
	resp.Body.Close()
	return false
}

// problem is the part of a problem response the tests read.
type problem struct {
	Type   string
	Detail string
}

// readResponse returns the status and problem detail of resp, and closes
// it. It may run outside the test's goroutine: it reports with t.Error.
func readResponse(t *testing.T, resp *http.Response) (int, problem) {
	defer resp.Body.Close()
	var p problem
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Errorf("problem body: %v", err)
		}
	}
	return resp.StatusCode, p
}

// readyz returns what GET /readyz answers.
func (s *service) readyz(t *testing.T) (int, problem) {
	t.Helper()
	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	return readResponse(t, resp)
}

// orderBody is an order for rider-42, in Berlin.
const orderBody = `{"riderId":"rider-42","pickup":{"lat":52.52,"lon":13.405},"dropoff":{"lat":52.5,"lon":13.45}}`

// order posts orderBody to the service, as rider-42. It may run outside
// the test's goroutine: it reports with t.Error and then returns nil.
func (s *service) order(t *testing.T) *http.Response {
	req, err := http.NewRequest(http.MethodPost, s.url+"/trips", strings.NewReader(orderBody))
	if err != nil {
		t.Error(err)
		return nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", s.issuer.Bearer(t, "rider-42"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST /trips: %v", err)
		return nil
	}
	return resp
}

func TestRunReportsEveryBadVariable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), tokenEnv(map[string]string{"APP_PORT": "http", "SHUTDOWN_TIMEOUT": "x"}), &stdout, &stderr)

	if err == nil {
		t.Fatal("run() = nil, want an error")
	}
	want := "trip: invalid configuration:\n" +
		`APP_PORT="http": want a port number from 1 to 65535` + "\n" +
		`SHUTDOWN_TIMEOUT="x": want a positive duration such as 5s` + "\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr mismatch (-want +got):\n%s", diff)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing: no logger exists before the configuration is valid", stdout.String())
	}
}

// TestRunIsReadyOnlyBetweenSidecarAndShutdown: /readyz answers 503 while
// the sidecar is unhealthy at start, 200 once it is healthy, 503 whenever
// it fails later, and nothing once the shutdown began. run then returns
// nil, which it does only when the shutdown finished within
// SHUTDOWN_TIMEOUT.
func TestRunIsReadyOnlyBetweenSidecarAndShutdown(t *testing.T) {
	fake, opts := daprtest.Start(t)
	fake.SetHealth(http.StatusInternalServerError)
	s := start(t, sidecarEnv(opts))

	if status, p := s.readyz(t); status != http.StatusServiceUnavailable || p.Detail != "not ready: starting" {
		t.Errorf("/readyz with the sidecar unhealthy: %d %q, want 503 \"not ready: starting\"", status, p.Detail)
	}
	s.waitForLog(t, "listening")
	if diff := cmp.Diff([]string{"listening"}, messages(t, s.logs)); diff != "" {
		t.Errorf("log messages before the sidecar is healthy (-want +got):\n%s", diff)
	}

	fake.SetHealth(http.StatusNoContent)
	s.waitFor(t, "/readyz", http.StatusOK)
	s.waitForLog(t, "ready")
	if diff := cmp.Diff([]string{"listening", "ready"}, messages(t, s.logs)); diff != "" {
		t.Errorf("log messages once ready (-want +got):\n%s", diff)
	}

	fake.SetHealth(http.StatusInternalServerError)
	s.waitFor(t, "/readyz", http.StatusServiceUnavailable)
	fake.SetHealth(http.StatusNoContent)
	s.waitFor(t, "/readyz", http.StatusOK)

	// Once the shutdown began the service refuses new connections, and
	// drops a request read after (net/http's Server.Shutdown): no prober
	// hears /readyz answer 503 "shutting down", nor 200.
	s.stop()
	s.waitUntilClosed(t)

	if err := s.returned(t); err != nil {
		t.Fatalf("run() = %v, want nil", err)
	}
	if diff := cmp.Diff([]string{"listening", "ready", "shutting down", "stopped"}, messages(t, s.logs)); diff != "" {
		t.Errorf("log messages (-want +got):\n%s", diff)
	}
}

// TestRunAcceptsAnOrder: POST /trips through the running service
// publishes the trip's trip-created event, as the contract has it, and
// answers 202 with the trip.
func TestRunAcceptsAnOrder(t *testing.T) {
	fake, opts := daprtest.Start(t)
	s := start(t, sidecarEnv(opts))
	s.waitFor(t, "/readyz", http.StatusOK)

	resp := s.order(t)
	if resp == nil {
		t.FailNow()
	}
	defer resp.Body.Close()
	var accepted struct{ TripID, RiderID, Status string }
	if err := json.NewDecoder(resp.Body).Decode(&accepted); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || accepted.RiderID != "rider-42" || accepted.Status != "requested" {
		t.Fatalf("POST /trips: %d %+v, want 202 and a requested trip for rider-42", resp.StatusCode, accepted)
	}
	if got, want := resp.Header.Get("Location"), "/trips/"+accepted.TripID; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}

	published := fake.Published()
	if len(published) != 1 {
		t.Fatalf("published %d events, want 1: %+v", len(published), published)
	}
	event := published[0]
	if event.PubsubName != "pubsub" || event.Topic != "trip-created" || event.ContentType != "application/json" {
		t.Errorf("published to %s/%s as %s, want pubsub/trip-created as application/json", event.PubsubName, event.Topic, event.ContentType)
	}
	if err := contracttest.Validate(t, contracttest.Schema(t, "trip-created"), event.Data); err != nil {
		t.Errorf("published trip-created breaks its contract: %v\n%s", err, event.Data)
	}
	var created struct{ TripID, RiderID string }
	if err := json.Unmarshal(event.Data, &created); err != nil {
		t.Fatal(err)
	}
	if created.TripID != accepted.TripID || created.RiderID != "rider-42" {
		t.Errorf("published trip %s of %s, want %s of rider-42", created.TripID, created.RiderID, accepted.TripID)
	}

	s.stop()
	if err := s.returned(t); err != nil {
		t.Fatalf("run() = %v, want nil", err)
	}
	want := []string{"listening", "ready", "trip ordered", "shutting down", "stopped"}
	if diff := cmp.Diff(want, messages(t, s.logs)); diff != "" {
		t.Errorf("log messages (-want +got):\n%s", diff)
	}
}

// TestRunGivesUpOnASidecarThatNeverBecomesHealthy: after SIDECAR_WAIT run
// logs the failure once, stops serving and returns an error.
func TestRunGivesUpOnASidecarThatNeverBecomesHealthy(t *testing.T) {
	fake, opts := daprtest.Start(t)
	fake.SetHealth(http.StatusInternalServerError)
	vars := sidecarEnv(opts)
	vars["SIDECAR_WAIT"] = "1s"
	s := start(t, vars)

	err := s.returned(t)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "wait for sidecar") || !strings.Contains(err.Error(), "500") {
		t.Errorf("run() = %v, want the wait for the sidecar ended at its deadline, naming the health status", err)
	}
	if diff := cmp.Diff([]string{"listening", "sidecar not ready, giving up"}, messages(t, s.logs)); diff != "" {
		t.Errorf("log messages (-want +got):\n%s", diff)
	}
	for _, line := range serviceLines(t, s.logs) {
		if line["message"] == "sidecar not ready, giving up" && (line["level"] != "error" || line["waited"] != 1000.0) {
			t.Errorf("giving up logged %v, want level error and waited 1000 (ms)", line)
		}
	}
	if !s.refuses() {
		t.Error("the service still takes connections after run returned")
	}
}

// TestSIGTERMAnswersAnOrderInFlight runs the service as a process, as a
// platform does, and sends it SIGTERM while an order waits for the
// sidecar to confirm its publish. Before the shutdown budget
// (SHUTDOWN_TIMEOUT, 4 s) ends, the order is cut off and answered 503
// outcome unknown: the event did reach the broker, so only a retry with
// the same Idempotency-Key can tell. The process then exits 0, which it
// does only when run returned nil, every request answered in time.
func TestSIGTERMAnswersAnOrderInFlight(t *testing.T) {
	fake, opts := daprtest.Start(t)
	port := freePort(t)
	cmd := exec.Command(os.Args[0])
	issuer := authtest.New(t)
	cmd.Env = []string{runMainEnv + "=1", "APP_PORT=" + port, "SHUTDOWN_TIMEOUT=4s", "APP_API_TOKEN=" + testToken,
		"AUTH_ISSUER=" + issuer.URL, "AUTH_JWKS_URL=" + issuer.JWKSURL()}
	for k, v := range sidecarEnv(opts) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := &service{url: "http://127.0.0.1:" + port, issuer: issuer, logs: &testkit.Buffer{}}
	var stderr testkit.Buffer
	cmd.Stdout, cmd.Stderr = s.logs, &stderr
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

	held, release := fake.Hold()
	defer release()
	answer := make(chan *http.Response, 1)
	go func() { answer <- s.order(t) }()
	select {
	case <-held:
	case <-time.After(hangGuard):
		t.Fatal("the order never reached the sidecar")
	}

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	var resp *http.Response
	select {
	case resp = <-answer:
	case <-time.After(hangGuard):
		t.Fatalf("the order in flight at SIGTERM was not answered within %v; logs:\n%s", hangGuard, s.logs)
	}
	if resp == nil {
		t.FailNow()
	}
	retryAfter := resp.Header.Get("Retry-After")
	if status, p := readResponse(t, resp); status != http.StatusServiceUnavailable || p.Type != "https://ride-choreography.example/problems/order-outcome-unknown" || retryAfter != "1" {
		t.Errorf("order in flight at SIGTERM: %d %s, Retry-After %q; want 503 order-outcome-unknown, Retry-After 1", status, p.Type, retryAfter)
	}
	if published := fake.Published(); len(published) != 1 || published[0].Topic != "trip-created" {
		t.Errorf("published %+v, want the order's trip-created: the sidecar carried it out", published)
	}

	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit: %v, want status 0; logs:\n%s\nstderr:\n%s", err, s.logs, &stderr)
		}
	case <-time.After(hangGuard):
		t.Fatalf("still running %v after SIGTERM; logs:\n%s", hangGuard, s.logs)
	}
	t.Logf("exited %v after SIGTERM", time.Since(signalled).Round(time.Millisecond))

	// The order's failure is logged where it is answered: before "stopped".
	want := []string{"listening", "ready", "shutting down", "request failed", "stopped"}
	if diff := cmp.Diff(want, messages(t, s.logs)); diff != "" {
		t.Errorf("log messages (-want +got):\n%s", diff)
	}
	lines := serviceLines(t, s.logs)
	if i := slices.IndexFunc(lines, func(line map[string]any) bool { return line["path"] == "/trips" }); i < 0 || lines[i]["status"] != 503.0 {
		t.Errorf("no log line of the order answered 503; logs:\n%s", s.logs)
	}
}

// TestShutdownIsNotHeldUpByASilentConnection: a connection that never
// sends a request (an HTTP client's spare dial, which daprd's app channel
// makes) does not keep run from shutting down within its budget.
// http.Server.Shutdown counts such a connection as busy for 5 s, more than
// the 4 s budget, so run would return "shutdown budget exceeded" unless the
// server drops it sooner (ReadHeaderTimeout).
func TestShutdownIsNotHeldUpByASilentConnection(t *testing.T) {
	_, opts := daprtest.Start(t)
	s := start(t, sidecarEnv(opts))
	s.waitFor(t, "/readyz", http.StatusOK)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(100 * time.Millisecond) // let the server accept it
	s.stop()
	if err := s.returned(t); err != nil {
		t.Fatalf("run returned %v, want nil: the silent connection held up the shutdown; logs:\n%s", err, s.logs)
	}
}
