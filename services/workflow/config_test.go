package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

// testIssuer is AUTH_ISSUER in the tests' environments that verify no
// token.
const testIssuer = "https://issuer.test.example"

// env is the environment vars, with AUTH_ISSUER set to testIssuer unless
// vars names it (an empty value tests a missing one).
func env(vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		if k == "AUTH_ISSUER" {
			return testIssuer
		}
		return ""
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	got, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		Host: "127.0.0.1", Port: 8080,
		DaprHost: "127.0.0.1", DaprGRPCPort: 50001, DaprHTTPPort: 3500,
		DriverApp: "driver", NotificationApp: "notification", StepTimeout: 5 * time.Second,
		SidecarWait: 60 * time.Second, ShutdownTimeout: 4 * time.Second,
		LogLevel: zerolog.InfoLevel, TraceRatio: 1,
		AuthIssuer: testIssuer, AuthAudience: "ride-api", AuthJWKSURL: testIssuer + "/.well-known/jwks.json",
		OrdersPerMinute: 10, OrderBurst: 10,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	got, err := loadConfig(env(map[string]string{
		"APP_HOST": "0.0.0.0", "APP_PORT": "9000", "DAPR_HTTP_PORT": "3511",
		"DRIVER_APP_ID": "drivers", "DAPR_GRPC_PORT": "50011", "STEP_TIMEOUT": "2s", "SHUTDOWN_TIMEOUT": "2s", "LOG_LEVEL": "debug", "PPROF_ADDR": "127.0.0.1:6060",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_TRACES_SAMPLER_ARG": "0.01",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != "0.0.0.0" || got.Port != 9000 || got.DaprHTTPPort != 3511 ||
		got.DriverApp != "drivers" || got.DaprGRPCPort != 50011 || got.StepTimeout != 2*time.Second ||
		got.ShutdownTimeout != 2*time.Second || got.LogLevel != zerolog.DebugLevel ||
		got.PprofAddr != "127.0.0.1:6060" || got.OTLPEndpoint != "http://127.0.0.1:4317" || got.TraceRatio != 0.01 {
		t.Errorf("overrides not applied: %+v", got)
	}
}

func TestLoadConfigReportsEveryBadValue(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"APP_PORT": "http", "DAPR_HTTP_PORT": "70000", "SIDECAR_WAIT": "-1s", "LOG_LEVEL": "loud", "STEP_TIMEOUT": "0s",
		"OTEL_TRACES_SAMPLER_ARG": "2",
	}))
	if err == nil {
		t.Fatal("no error for bad values")
	}
	for _, name := range []string{`APP_PORT="http"`, `DAPR_HTTP_PORT="70000"`, `SIDECAR_WAIT="-1s"`, `LOG_LEVEL="loud"`, `STEP_TIMEOUT="0s"`, `OTEL_TRACES_SAMPLER_ARG="2"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), env(map[string]string{"APP_PORT": "0"}), &stdout, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "APP_PORT") {
		t.Errorf("run = %v, stderr %q; want an error naming APP_PORT", err, stderr.String())
	}
}

// TestRunStopsWithoutSidecar: with no sidecar the service serves /healthz,
// reports not ready, and stops promptly when told to.
func TestRunStopsWithoutSidecar(t *testing.T) {
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(ctx, env(map[string]string{"APP_PORT": port, "DAPR_HTTP_PORT": "1"}), &stdout, &stderr)
	}()
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(5 * time.Second)
	for !answers(base+"/healthz", http.StatusOK) {
		if time.Now().After(deadline) {
			t.Fatal("/healthz never answered 200")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !answers(base+"/readyz", http.StatusServiceUnavailable) {
		t.Error("/readyz is not 503 without a sidecar")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run = %v, want a clean stop", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop within 5s of cancellation")
	}
}

func answers(url string, status int) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == status
}

// freePort returns a loopback port that nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
