package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// config is the service's whole configuration, read from the environment
// once, by loadConfig.
type config struct {
	Host            string        // APP_HOST: address to listen on
	Port            int           // APP_PORT
	DaprHost        string        // DAPR_HOST
	DaprGRPCPort    int           // DAPR_GRPC_PORT
	DaprHTTPPort    int           // DAPR_HTTP_PORT
	PubSub          string        // PUBSUB_NAME: the pub/sub component
	StateStore      string        // STATESTORE_NAME: the service's own state store
	SidecarWait     time.Duration // SIDECAR_WAIT: how long to wait for the sidecar at start
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: graceful shutdown budget
	LogLevel        zerolog.Level // LOG_LEVEL
	PprofAddr       string        // PPROF_ADDR: where to serve Go's profiles; "" serves none
	OTLPEndpoint    string        // OTEL_EXPORTER_OTLP_ENDPOINT: where to export spans, e.g. http://127.0.0.1:4317; "" exports none
	TraceRatio      float64       // OTEL_TRACES_SAMPLER_ARG: the share of new traces kept, 0 to 1
	AppAPIToken     string        // APP_API_TOKEN: the token its sidecar sends with each call to the service; required
	DaprAPIToken    string        // DAPR_API_TOKEN: the token its sidecar requires of the service; "" if it requires none
	AuthIssuer      string        // AUTH_ISSUER: the OpenID Connect issuer of dispatchers' tokens (their iss); required
	AuthAudience    string        // AUTH_AUDIENCE: the tokens' aud, this API's name at the issuer
	AuthJWKSURL     string        // AUTH_JWKS_URL: where the issuer publishes its keys; default AUTH_ISSUER/.well-known/jwks.json

	// MaxStreamsPerDispatcher (MAX_STREAMS_PER_DISPATCHER) is how many
	// board streams one dispatcher may have open at once, on each replica.
	MaxStreamsPerDispatcher int
	// SecureCookie (COOKIE_SECURE) marks the session cookie Secure: sent
	// over HTTPS, and over plain HTTP to localhost only.
	SecureCookie bool
}

// loadConfig reads the configuration, applying defaults, and reports every
// invalid value at once.
func loadConfig(getenv func(string) string) (config, error) {
	p := parser{getenv: getenv}
	cfg := config{
		Host:            p.str("APP_HOST", "127.0.0.1"),
		Port:            p.port("APP_PORT", 8083),
		DaprHost:        p.str("DAPR_HOST", "127.0.0.1"),
		DaprGRPCPort:    p.port("DAPR_GRPC_PORT", 50001),
		DaprHTTPPort:    p.port("DAPR_HTTP_PORT", 3500),
		PubSub:          p.str("PUBSUB_NAME", "pubsub"),
		StateStore:      p.str("STATESTORE_NAME", "dispatch-store"),
		SidecarWait:     p.duration("SIDECAR_WAIT", 60*time.Second),
		ShutdownTimeout: p.duration("SHUTDOWN_TIMEOUT", 4*time.Second),
		LogLevel:        p.level("LOG_LEVEL", zerolog.InfoLevel),
		PprofAddr:       p.str("PPROF_ADDR", ""),
		OTLPEndpoint:    p.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		TraceRatio:      p.ratio("OTEL_TRACES_SAMPLER_ARG", 1),
		AppAPIToken:     p.token("APP_API_TOKEN", true, "the sidecar's token, which it sends with every call to the service (make run and the tests generate one; Azure Container Apps sets it)"),
		DaprAPIToken:    p.token("DAPR_API_TOKEN", false, ""),
		AuthIssuer:      p.url("AUTH_ISSUER", "", "the OpenID Connect issuer of dispatchers' tokens, e.g. https://login.microsoftonline.com/<tenant>/v2.0 (make run and the tests start a development issuer)"),
		AuthAudience:    p.str("AUTH_AUDIENCE", "ride-api"),

		MaxStreamsPerDispatcher: p.count("MAX_STREAMS_PER_DISPATCHER", 4, maxStreamsPerDispatcher),
		SecureCookie:            p.boolean("COOKIE_SECURE", true),
	}
	if cfg.AuthIssuer != "" {
		cfg.AuthJWKSURL = p.url("AUTH_JWKS_URL", strings.TrimRight(cfg.AuthIssuer, "/")+"/.well-known/jwks.json", "")
	}
	return cfg, errors.Join(p.errs...)
}

// parser reads environment variables and collects what is wrong with them.
type parser struct {
	getenv func(string) string
	errs   []error
}

// token reads a shared secret such as APP_API_TOKEN: at least 16
// characters without spaces, and set when required. What is wrong with it
// is reported without its value.
func (p *parser) token(name string, required bool, why string) string {
	v := p.getenv(name)
	switch {
	case v == "" && required:
		p.errs = append(p.errs, fmt.Errorf("%s is not set: %s", name, why))
	case v != "" && (len(v) < 16 || strings.ContainsAny(v, " \t\r\n")):
		p.errs = append(p.errs, fmt.Errorf("%s: want at least 16 characters without spaces (%d given)", name, len(v)))
	}
	return v
}

// url reads an absolute http(s) URL; def "" makes it required, and why
// says what it is for.
func (p *parser) url(name, def, why string) string {
	v := p.getenv(name)
	if v == "" {
		v = def
	}
	if v == "" {
		p.errs = append(p.errs, fmt.Errorf("%s is not set: %s", name, why))
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		p.errs = append(p.errs, fmt.Errorf("%s=%q: want an absolute http or https URL", name, v))
	}
	return v
}

func (p *parser) str(name, def string) string {
	if v := p.getenv(name); v != "" {
		return v
	}
	return def
}

func (p *parser) port(name string, def int) int {
	return parse(p, name, def, "a port number from 1 to 65535", func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 1 && n <= 65535
	})
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	return parse(p, name, def, "a positive duration such as 5s", func(v string) (time.Duration, bool) {
		d, err := time.ParseDuration(v)
		return d, err == nil && d > 0
	})
}

func (p *parser) ratio(name string, def float64) float64 {
	return parse(p, name, def, "a number from 0 to 1", func(v string) (float64, bool) {
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil && f >= 0 && f <= 1
	})
}

// maxStreamsPerDispatcher is the most MAX_STREAMS_PER_DISPATCHER takes.
const maxStreamsPerDispatcher = 1000

func (p *parser) boolean(name string, def bool) bool {
	return parse(p, name, def, "true or false", func(v string) (bool, bool) {
		b, err := strconv.ParseBool(v)
		return b, err == nil
	})
}

// count reads a whole number from 1 to most.
func (p *parser) count(name string, def, most int) int {
	return parse(p, name, def, fmt.Sprintf("a whole number from 1 to %d", most), func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 1 && n <= most
	})
}

func (p *parser) level(name string, def zerolog.Level) zerolog.Level {
	return parse(p, name, def, "debug, info, warn or error", func(v string) (zerolog.Level, bool) {
		l, err := zerolog.ParseLevel(v)
		return l, err == nil
	})
}

// parse returns def when the variable name is unset, else what read makes
// of its value; when read refuses the value, p notes that name wants what
// want says.
func parse[T any](p *parser, name string, def T, want string, read func(string) (T, bool)) T {
	v := p.getenv(name)
	if v == "" {
		return def
	}
	x, ok := read(v)
	if !ok {
		p.errs = append(p.errs, fmt.Errorf("%s=%q: want %s", name, v, want))
	}
	return x
}
