package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// testToken is APP_API_TOKEN, the sidecar's token, in the tests'
// environments.
const testToken = "test-app-token-0123456789"

// tokenEnv is the environment vars, with APP_API_TOKEN set to testToken
// unless vars names it (an empty value tests a missing token).
func tokenEnv(vars map[string]string) func(string) string {
	return func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		if name == "APP_API_TOKEN" {
			return testToken
		}
		return ""
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want config
	}{
		{
			name: "defaults",
			want: config{
				Host:            "127.0.0.1",
				Port:            8081,
				DaprHost:        "127.0.0.1",
				DaprGRPCPort:    50001,
				DaprHTTPPort:    3500,
				PubSub:          "pubsub",
				StateStore:      "driver-store",
				SidecarWait:     60 * time.Second,
				ShutdownTimeout: 4 * time.Second,
				AssignDeadline:  60 * time.Second,
				RideDuration:    2 * time.Minute,
				LogLevel:        zerolog.InfoLevel,
				PoolSize:        5,
				TraceRatio:      1,
				AppAPIToken:     testToken,
				PoolArea:        driver.Area{Min: driver.Position{Lat: 49.98, Lon: 14.25}, Max: driver.Position{Lat: 50.15, Lon: 14.60}},
				MaxPickupKM:     15,
			},
		},
		{
			name: "from the environment",
			env: map[string]string{
				"APP_HOST":                    "0.0.0.0",
				"APP_PORT":                    "9000",
				"DAPR_HOST":                   "sidecar",
				"DAPR_GRPC_PORT":              "50002",
				"DAPR_HTTP_PORT":              "3501",
				"PUBSUB_NAME":                 "bus",
				"STATESTORE_NAME":             "drivers",
				"SIDECAR_WAIT":                "5s",
				"SHUTDOWN_TIMEOUT":            "2500ms",
				"ASSIGN_DEADLINE":             "2m",
				"RIDE_DURATION":               "90s",
				"LOG_LEVEL":                   "debug",
				"DRIVER_POOL_SIZE":            "10000",
				"DRIVER_POOL_AREA":            "49.1, 16.5, 49.3,16.7",
				"PPROF_ADDR":                  "127.0.0.1:6060",
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
				"OTEL_TRACES_SAMPLER_ARG":     "0.01",
				"MAX_PICKUP_KM":               "2.5",
			},
			want: config{
				Host:            "0.0.0.0",
				Port:            9000,
				DaprHost:        "sidecar",
				DaprGRPCPort:    50002,
				DaprHTTPPort:    3501,
				PubSub:          "bus",
				StateStore:      "drivers",
				SidecarWait:     5 * time.Second,
				ShutdownTimeout: 2500 * time.Millisecond,
				AssignDeadline:  2 * time.Minute,
				RideDuration:    90 * time.Second,
				LogLevel:        zerolog.DebugLevel,
				PprofAddr:       "127.0.0.1:6060",
				OTLPEndpoint:    "http://127.0.0.1:4317",
				TraceRatio:      0.01,
				AppAPIToken:     testToken,
				PoolSize:        10_000,
				PoolArea:        driver.Area{Min: driver.Position{Lat: 49.1, Lon: 16.5}, Max: driver.Position{Lat: 49.3, Lon: 16.7}},
				MaxPickupKM:     2.5,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(tokenEnv(tt.env))
			if err != nil {
				t.Fatalf("loadConfig() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("loadConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, value string
	}{
		{name: "APP_PORT", value: "http"},
		{name: "APP_PORT", value: "70000"},
		{name: "DAPR_GRPC_PORT", value: "-1"},
		{name: "DAPR_HTTP_PORT", value: "3500x"},
		{name: "SIDECAR_WAIT", value: "60"},
		{name: "SHUTDOWN_TIMEOUT", value: "-4s"},
		{name: "ASSIGN_DEADLINE", value: "a minute"},
		{name: "RIDE_DURATION", value: "2"},
		{name: "RIDE_DURATION", value: "0s"},
		{name: "LOG_LEVEL", value: "loud"},
		{name: "OTEL_TRACES_SAMPLER_ARG", value: "1.5"},
		{name: "OTEL_TRACES_SAMPLER_ARG", value: "-0.1"},
		{name: "OTEL_TRACES_SAMPLER_ARG", value: "all"},
		{name: "DRIVER_POOL_SIZE", value: "0"},
		{name: "DRIVER_POOL_SIZE", value: "-5"},
		{name: "DRIVER_POOL_SIZE", value: "100001"},
		{name: "DRIVER_POOL_SIZE", value: "1e4"},
		{name: "DRIVER_POOL_SIZE", value: "many"},
		{name: "DRIVER_POOL_AREA", value: "49.98,14.25,50.15"},
		{name: "DRIVER_POOL_AREA", value: "49.98,14.25,50.15,14.60,1"},
		{name: "DRIVER_POOL_AREA", value: "50.15,14.25,49.98,14.60"},
		{name: "DRIVER_POOL_AREA", value: "49.98,14.60,50.15,14.25"},
		{name: "DRIVER_POOL_AREA", value: "50,14,50,15"},
		{name: "DRIVER_POOL_AREA", value: "89,14,91,15"},
		{name: "DRIVER_POOL_AREA", value: "north,14,50,15"},
		{name: "DRIVER_POOL_AREA", value: "NaN,14,50,15"},
		{name: "MAX_PICKUP_KM", value: "0"},
		{name: "MAX_PICKUP_KM", value: "-15"},
		{name: "MAX_PICKUP_KM", value: "20001"},
		{name: "MAX_PICKUP_KM", value: "15km"},
		{name: "MAX_PICKUP_KM", value: "NaN"},
		{name: "MAX_PICKUP_KM", value: "Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := loadConfig(tokenEnv(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatal("loadConfig() error = nil, want one")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.name) || !strings.Contains(msg, `"`+tt.value+`"`) {
				t.Errorf("error %q does not name %s and %q", msg, tt.name, tt.value)
			}
		})
	}
}

func TestLoadConfigReportsEveryBadVariable(t *testing.T) {
	_, err := loadConfig(tokenEnv(map[string]string{
		"APP_PORT":         "http",
		"SIDECAR_WAIT":     "-1s",
		"LOG_LEVEL":        "loud",
		"DRIVER_POOL_SIZE": "0",
		"DRIVER_POOL_AREA": "Prague",
	}))

	if err == nil {
		t.Fatal("loadConfig() error = nil, want one")
	}
	for _, want := range []string{`APP_PORT="http"`, `SIDECAR_WAIT="-1s"`, `LOG_LEVEL="loud"`, `DRIVER_POOL_SIZE="0"`, `DRIVER_POOL_AREA="Prague"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
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

// postFromSidecar POSTs body to url as the sidecar does: with its token.
func postFromSidecar(url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("dapr-api-token", testToken)
	return http.DefaultClient.Do(req)
}
