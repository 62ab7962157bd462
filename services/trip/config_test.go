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

// testToken is APP_API_TOKEN, the sidecar's token, in the tests'
// environments.
const testToken = "test-app-token-0123456789"

// testIssuer is AUTH_ISSUER in the tests' environments that verify no
// token.
const testIssuer = "https://issuer.test.example"

// tokenEnv is the environment vars, with APP_API_TOKEN set to testToken
// and AUTH_ISSUER to testIssuer unless vars names them (an empty value
// tests a missing one).
func tokenEnv(vars map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		switch name {
		case "APP_API_TOKEN":
			return testToken
		case "AUTH_ISSUER":
			return testIssuer
		}
		return ""
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	got, err := loadConfig(tokenEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		Host: "127.0.0.1", Port: 8080,
		DaprHost: "127.0.0.1", DaprGRPCPort: 50001, DaprHTTPPort: 3500,
		PubSub: "pubsub", StateStore: "trip-store",
		SidecarWait: 60 * time.Second, ShutdownTimeout: 4 * time.Second,
		LogLevel: zerolog.InfoLevel, TraceRatio: 1, AppAPIToken: testToken,
		AuthIssuer: testIssuer, AuthAudience: "ride-api", AuthJWKSURL: testIssuer + "/.well-known/jwks.json",
		OrdersPerMinute: 10, OrderBurst: 10,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLoadConfigOverrides(t *testing.T) {
	got, err := loadConfig(tokenEnv(map[string]string{
		"APP_HOST": "0.0.0.0", "APP_PORT": "9000", "DAPR_GRPC_PORT": "50011", "DAPR_HTTP_PORT": "3511",
		"STATESTORE_NAME": "trips", "SHUTDOWN_TIMEOUT": "2s", "LOG_LEVEL": "debug", "PPROF_ADDR": "127.0.0.1:6060",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_TRACES_SAMPLER_ARG": "0.01",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Host != "0.0.0.0" || got.Port != 9000 || got.DaprGRPCPort != 50011 || got.DaprHTTPPort != 3511 ||
		got.StateStore != "trips" || got.ShutdownTimeout != 2*time.Second || got.LogLevel != zerolog.DebugLevel ||
		got.PprofAddr != "127.0.0.1:6060" || got.OTLPEndpoint != "http://127.0.0.1:4317" || got.TraceRatio != 0.01 {
		t.Errorf("overrides not applied: %+v", got)
	}
}

func TestLoadConfigReportsEveryBadValue(t *testing.T) {
	_, err := loadConfig(tokenEnv(map[string]string{
		"APP_PORT": "http", "DAPR_GRPC_PORT": "70000", "SIDECAR_WAIT": "-1s", "LOG_LEVEL": "loud",
		"OTEL_TRACES_SAMPLER_ARG": "2",
	}))
	if err == nil {
		t.Fatal("no error for bad values")
	}
	for _, name := range []string{`APP_PORT="http"`, `DAPR_GRPC_PORT="70000"`, `SIDECAR_WAIT="-1s"`, `LOG_LEVEL="loud"`, `OTEL_TRACES_SAMPLER_ARG="2"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), tokenEnv(map[string]string{"APP_PORT": "0"}), &stdout, &stderr)
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
		done <- run(ctx, tokenEnv(map[string]string{"APP_PORT": port, "DAPR_HTTP_PORT": "1", "DAPR_GRPC_PORT": "1"}), &stdout, &stderr)
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

// The sidecar's token is required, and a bad token is reported without
// its value.
func TestLoadConfigChecksTheTokens(t *testing.T) {
	for _, c := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"no APP_API_TOKEN", map[string]string{"APP_API_TOKEN": ""}, "APP_API_TOKEN is not set"},
		{"a short APP_API_TOKEN", map[string]string{"APP_API_TOKEN": "s3cret"}, "APP_API_TOKEN: want at least 16 characters"},
		{"a DAPR_API_TOKEN with a space", map[string]string{"DAPR_API_TOKEN": "0123456789 abcdefgh"}, "DAPR_API_TOKEN: want at least 16 characters without spaces"},
	} {
		_, err := loadConfig(tokenEnv(c.vars))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
			continue
		}
		for _, v := range c.vars {
			if v != "" && strings.Contains(err.Error(), v) {
				t.Errorf("%s: the error %q shows the token", c.name, err)
			}
		}
	}
	cfg, err := loadConfig(tokenEnv(map[string]string{"DAPR_API_TOKEN": "dapr-token-0123456789"}))
	if err != nil || cfg.AppAPIToken != testToken || cfg.DaprAPIToken != "dapr-token-0123456789" {
		t.Errorf("loadConfig() = %v, %v; want both tokens read", err, cfg)
	}
}

func TestLoadConfigWantsAnIssuer(t *testing.T) {
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"AUTH_ISSUER": ""}, "AUTH_ISSUER is not set"},
		{map[string]string{"AUTH_ISSUER": "login.example/tenant"}, `AUTH_ISSUER="login.example/tenant": want an absolute http or https URL`},
		{map[string]string{"AUTH_JWKS_URL": "file:///etc/keys"}, `AUTH_JWKS_URL="file:///etc/keys": want an absolute http or https URL`},
	} {
		_, err := loadConfig(tokenEnv(c.vars))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error containing %q", c.vars, err, c.want)
		}
	}
	cfg, err := loadConfig(tokenEnv(map[string]string{"AUTH_ISSUER": "https://login.example/t/v2.0/", "AUTH_JWKS_URL": "https://login.example/t/keys", "AUTH_AUDIENCE": "api://ride"}))
	if err != nil || cfg.AuthJWKSURL != "https://login.example/t/keys" || cfg.AuthAudience != "api://ride" {
		t.Errorf("explicit JWKS URL and audience: %+v, %v", cfg, err)
	}
}
