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

	"github.com/ride-choreography/services/driver/internal/contracttest"
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
		"DAPR_API_TOKEN": daprtest.APIToken,
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
	example := contracttest.Example(t, "trip-created")
	answer := make(chan string, 1)
	go func() {
		resp, err := postFromSidecar(base+"/events/trip-created", "application/cloudevents+json", bytes.NewReader(example))
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

// startRun runs the service in the background with the environment vars,
// its logs going to stdout: stop cancels its context (also when the test
// ends), and done yields what run returned.
func startRun(t *testing.T, vars map[string]string, stdout io.Writer) (stop context.CancelFunc, done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	returned := make(chan error, 1)
	go func() { returned <- run(ctx, tokenEnv(vars), stdout, io.Discard) }()
	return cancel, returned
}

// holdDelivery has start start the service with the environment vars (a
// free port, a fake sidecar, and extra), waits until it is ready, delivers
// the contract's trip-created example to it, and returns once the
// delivery's publish is held. answer yields what the delivery answered;
// release lets the publish go on, and is called when the test ends at the
// latest.
func holdDelivery(t *testing.T, extra map[string]string, start func(vars map[string]string)) (answer <-chan string, release func()) {
	t.Helper()
	fake := daprtest.Start(t, "driver-store")
	entered, held := holdPublishes(fake)
	release = sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	port := freePort(t)
	start(sidecarEnv(port, fake, extra))
	base := "http://127.0.0.1:" + port
	waitReady(t, base)
	answer = deliverExample(t, base)
	<-entered
	return answer, release
}

// runHeld is holdDelivery with the service run in-process, by startRun.
func runHeld(t *testing.T, extra map[string]string) (stop context.CancelFunc, done <-chan error, answer <-chan string, release func()) {
	t.Helper()
	answer, release = holdDelivery(t, extra, func(vars map[string]string) { stop, done = startRun(t, vars, io.Discard) })
	return stop, done, answer, release
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
	stop, done, answer, release := runHeld(t, nil)

	stop()
	select {
	case err := <-done:
		t.Fatalf("run() returned %v with a delivery in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	release()

	if got := <-answer; got != `{"status":"SUCCESS"}` {
		t.Errorf("delivery in flight answered %s, want SUCCESS", got)
	}
	awaitReturn(t, done, "the delivery finished")
}

func TestRunAnswersRetryForDeliveryThatCannotFinishInTime(t *testing.T) {
	stop, done, answer, _ := runHeld(t, map[string]string{"SHUTDOWN_TIMEOUT": "400ms"})

	stop()

	if got := <-answer; got != `{"status":"RETRY"}` {
		t.Errorf("delivery that could not finish answered %s, want RETRY so that daprd delivers it again", got)
	}
	awaitReturn(t, done, "stop, every request answered within the shutdown timeout")
}

func TestSIGTERMStopsTheServiceWithinTheGracePeriod(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	exited := make(chan error, 1)
	answer, _ := holdDelivery(t, nil, func(vars map[string]string) {
		cmd.Env = append(os.Environ(), serviceEnv+"=1", "APP_API_TOKEN="+testToken)
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Killing the process once it has exited does nothing.
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		go func() { exited <- cmd.Wait() }()
	})

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
