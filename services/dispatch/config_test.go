package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

// testToken is APP_API_TOKEN, the sidecar's token, in the tests'
// environments.
const testToken = "test-app-token-0123456789"

// tokenEnv is the environment vars, with APP_API_TOKEN set to testToken
// unless vars names it (an empty value tests a missing token).
// testIssuer is AUTH_ISSUER in the tests' environments that verify no
// token.
const testIssuer = "https://issuer.test.example"

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

func TestLoadConfig(t *testing.T) {
	defaults := config{
		Host:            "127.0.0.1",
		Port:            8083,
		DaprHost:        "127.0.0.1",
		DaprGRPCPort:    50001,
		DaprHTTPPort:    3500,
		PubSub:          "pubsub",
		StateStore:      "dispatch-store",
		SidecarWait:     60 * time.Second,
		ShutdownTimeout: 4 * time.Second,
		LogLevel:        zerolog.InfoLevel,
		TraceRatio:      1,
		AppAPIToken:     testToken,
		AuthIssuer:      testIssuer,
		AuthAudience:    "ride-api",
		AuthJWKSURL:     testIssuer + "/.well-known/jwks.json",

		MaxStreamsPerDispatcher: 4,
		SecureCookie:            true,
	}
	tests := []struct {
		name string
		env  map[string]string
		want config
	}{
		{name: "nothing set", want: defaults},
		{name: "empty values", env: map[string]string{"APP_PORT": "", "LOG_LEVEL": ""}, want: defaults},
		{
			name: "everything set",
			env: map[string]string{
				"APP_HOST": "0.0.0.0", "APP_PORT": "9000",
				"DAPR_HOST": "dapr", "DAPR_GRPC_PORT": "50002", "DAPR_HTTP_PORT": "3501",
				"PUBSUB_NAME": "servicebus", "STATESTORE_NAME": "notes",
				"SIDECAR_WAIT": "2m", "SHUTDOWN_TIMEOUT": "1500ms", "LOG_LEVEL": "debug",
				"PPROF_ADDR":                  "127.0.0.1:6060",
				"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_TRACES_SAMPLER_ARG": "0.01",
				"MAX_STREAMS_PER_DISPATCHER": "2", "COOKIE_SECURE": "false",
			},
			want: config{
				Host: "0.0.0.0", Port: 9000,
				DaprHost: "dapr", DaprGRPCPort: 50002, DaprHTTPPort: 3501,
				PubSub: "servicebus", StateStore: "notes",
				SidecarWait: 2 * time.Minute, ShutdownTimeout: 1500 * time.Millisecond, LogLevel: zerolog.DebugLevel,
				PprofAddr: "127.0.0.1:6060", OTLPEndpoint: "http://127.0.0.1:4317", TraceRatio: 0.01,
				AppAPIToken: testToken,
				AuthIssuer:  testIssuer, AuthAudience: "ride-api", AuthJWKSURL: testIssuer + "/.well-known/jwks.json",
				MaxStreamsPerDispatcher: 2, SecureCookie: false,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(tokenEnv(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigRejectsBadValues(t *testing.T) {
	tests := []struct {
		name, value, wantErr string
	}{
		{name: "APP_PORT", value: "http", wantErr: `APP_PORT="http": want a port number from 1 to 65535`},
		{name: "APP_PORT", value: "0", wantErr: `APP_PORT="0": want a port number from 1 to 65535`},
		{name: "DAPR_GRPC_PORT", value: "65536", wantErr: `DAPR_GRPC_PORT="65536": want a port number from 1 to 65535`},
		{name: "DAPR_HTTP_PORT", value: "-1", wantErr: `DAPR_HTTP_PORT="-1": want a port number from 1 to 65535`},
		{name: "SIDECAR_WAIT", value: "60", wantErr: `SIDECAR_WAIT="60": want a positive duration such as 5s`},
		{name: "SHUTDOWN_TIMEOUT", value: "-4s", wantErr: `SHUTDOWN_TIMEOUT="-4s": want a positive duration such as 5s`},
		{name: "LOG_LEVEL", value: "loud", wantErr: `LOG_LEVEL="loud": want debug, info, warn or error`},
		{name: "OTEL_TRACES_SAMPLER_ARG", value: "1.5", wantErr: `OTEL_TRACES_SAMPLER_ARG="1.5": want a number from 0 to 1`},
		{name: "MAX_STREAMS_PER_DISPATCHER", value: "0", wantErr: `MAX_STREAMS_PER_DISPATCHER="0": want a whole number from 1 to 1000`},
		{name: "MAX_STREAMS_PER_DISPATCHER", value: "1001", wantErr: `MAX_STREAMS_PER_DISPATCHER="1001": want a whole number from 1 to 1000`},
		{name: "MAX_STREAMS_PER_DISPATCHER", value: "four", wantErr: `MAX_STREAMS_PER_DISPATCHER="four": want a whole number from 1 to 1000`},
		{name: "COOKIE_SECURE", value: "maybe", wantErr: `COOKIE_SECURE="maybe": want true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := loadConfig(tokenEnv(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigReportsEveryBadValue(t *testing.T) {
	_, err := loadConfig(tokenEnv(map[string]string{
		"APP_PORT": "http", "DAPR_GRPC_PORT": "70000", "SIDECAR_WAIT": "-1s", "LOG_LEVEL": "loud",
	}))
	if err == nil {
		t.Fatal("no error for bad values")
	}
	want := []string{
		`APP_PORT="http": want a port number from 1 to 65535`,
		`DAPR_GRPC_PORT="70000": want a port number from 1 to 65535`,
		`SIDECAR_WAIT="-1s": want a positive duration such as 5s`,
		`LOG_LEVEL="loud": want debug, info, warn or error`,
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
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
