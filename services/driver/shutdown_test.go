package main

import (
	"bytes"
	"context"
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

	"github.com/ride-choreography/services/driver/internal/dapr/daprtest"
)

// gracePeriod is how long Azure Container Apps (and Dapr) wait after
// SIGTERM before they kill the process.
const gracePeriod = 5 * time.Second

// holdPublishes makes every publish through fake wait until release is
// closed; entered is closed when the first one starts waiting.
func holdPublishes(fake *daprtest.Sidecar) (entered <-chan struct{}, release chan<- struct{}) {
	in, out := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fake.BeforePublish = func() {
		once.Do(func() { close(in) })
		<-out
	}
	return in, out
}

// sidecarEnv is the environment of a service on port with fake as its
// sidecar, plus extra.
func sidecarEnv(port string, fake *daprtest.Sidecar, extra map[string]string) map[string]string {
	vars := map[string]string{
		"APP_PORT":       port,
		"DAPR_GRPC_PORT": strconv.Itoa(fake.GRPCPort),
		"DAPR_HTTP_PORT": strconv.Itoa(fake.HTTPPort),
	}
	for k, v := range extra {
		vars[k] = v
	}
	return vars
}

// waitReady waits until the service at base answers /readyz with 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for status, _ := get(base + "/readyz"); status != http.StatusOK; status, _ = get(base + "/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 200, last %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliverExample delivers the contract's trip-created example to the
// service at base, as daprd would, and sends its answer on the channel.
func deliverExample(t *testing.T, base string) <-chan string {
	t.Helper()
	example, err := os.ReadFile("../../contracts/examples/trip-created.json")
	if err != nil {
		t.Fatal(err)
	}
	answer := make(chan string, 1)
	go func() {
		resp, err := http.Post(base+"/events/trip-created", "application/cloudevents+json", bytes.NewReader(example))
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- strings.TrimSpace(string(b))
	}()
	return answer
}

// startRun runs the service in the background with the environment vars:
// stop cancels its context (also when the test ends), and done yields what
// run returned.
func startRun(t *testing.T, vars map[string]string) (stop context.CancelFunc, done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	returned := make(chan error, 1)
	go func() { returned <- run(ctx, env(vars), io.Discard, io.Discard) }()
	return cancel, returned
}

// awaitReturn fails the test unless run, stopped by what happened (after),
// returns nil within hangGuard.
func awaitReturn(t *testing.T, done <-chan error, after string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() error = %v after %s, want nil", err, after)
		}
	case <-time.After(hangGuard):
		t.Fatalf("run() did not return after %s", after)
	}
}

func TestRunFinishesDeliveriesInFlightBeforeReturning(t *testing.T) {
	fake := daprtest.Start(t, "driver-store")
	entered, release := holdPublishes(fake)
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	stop, done := startRun(t, sidecarEnv(port, fake, nil))
	waitReady(t, base)
	answer := deliverExample(t, base)

	<-entered
	stop()
	select {
	case err := <-done:
		t.Fatalf("run() returned %v with a delivery in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)

	if got := <-answer; got != `{"status":"SUCCESS"}` {
		t.Errorf("delivery in flight answered %s, want SUCCESS", got)
	}
	awaitReturn(t, done, "the delivery finished")
}

func TestRunAnswersRetryForDeliveryThatCannotFinishInTime(t *testing.T) {
	fake := daprtest.Start(t, "driver-store")
	entered, release := holdPublishes(fake)
	defer close(release)
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	stop, done := startRun(t, sidecarEnv(port, fake, map[string]string{"SHUTDOWN_TIMEOUT": "400ms"}))
	waitReady(t, base)
	answer := deliverExample(t, base)

	<-entered
	stop()

	if got := <-answer; got != `{"status":"RETRY"}` {
		t.Errorf("delivery that could not finish answered %s, want RETRY so that daprd delivers it again", got)
	}
	awaitReturn(t, done, "stop, every request answered within the shutdown timeout")
}

func TestSIGTERMStopsTheServiceWithinTheGracePeriod(t *testing.T) {
	fake := daprtest.Start(t, "driver-store")
	entered, release := holdPublishes(fake)
	defer close(release)
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serviceEnv+"=1")
	for k, v := range sidecarEnv(port, fake, nil) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Killing the process once it has exited does nothing.
	defer func() { _ = cmd.Process.Kill() }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitReady(t, base)
	answer := deliverExample(t, base)

	<-entered
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	if got := <-answer; got != `{"status":"RETRY"}` {
		t.Errorf("delivery in flight answered %s, want RETRY", got)
	}
	select {
	case err := <-exited:
		took := time.Since(sent)
		t.Logf("exited %v after SIGTERM", took.Round(time.Millisecond))
		if took >= gracePeriod {
			t.Errorf("exited %v after SIGTERM, want within the %v grace period", took, gracePeriod)
		}
		if err != nil {
			t.Errorf("exit: %v, want status 0; output:\n%s", err, &logs)
		}
	case <-time.After(hangGuard):
		t.Fatalf("still running %v after SIGTERM; output:\n%s", hangGuard, &logs)
	}
	if !strings.Contains(logs.String(), `"message":"stopped"`) {
		t.Errorf("output lacks the stopped line:\n%s", &logs)
	}
}
