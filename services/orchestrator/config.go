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
	DaprHTTPPort    int           // DAPR_HTTP_PORT
	DriverApp       string        // DRIVER_APP_ID: the driver service's Dapr app id
	NotificationApp string        // NOTIFICATION_APP_ID: the notification service's Dapr app id
	StepTimeout     time.Duration // STEP_TIMEOUT: how long one call of a step may take
	StepAttempts    int           // STEP_ATTEMPTS: how often a failing step is tried before its trip is given up
	StepPause       time.Duration // STEP_PAUSE: the pause between two tries of a step
	SidecarWait     time.Duration // SIDECAR_WAIT: how long to wait for the sidecar at start
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: graceful shutdown budget
	LogLevel        zerolog.Level // LOG_LEVEL
	PprofAddr       string        // PPROF_ADDR: where to serve Go's profiles; "" serves none
	OTLPEndpoint    string        // OTEL_EXPORTER_OTLP_ENDPOINT: where to export spans, e.g. http://127.0.0.1:4317; "" exports none
	TraceRatio      float64       // OTEL_TRACES_SAMPLER_ARG: the share of new traces kept, 0 to 1
	DaprAPIToken    string        // DAPR_API_TOKEN: the token its sidecar requires of the service; "" if it requires none
	AuthIssuer      string        // AUTH_ISSUER: the OpenID Connect issuer of riders' bearer tokens (their iss); required
	AuthAudience    string        // AUTH_AUDIENCE: the tokens' aud, this API's name at the issuer
	AuthJWKSURL     string        // AUTH_JWKS_URL: where the issuer publishes its keys; default AUTH_ISSUER/.well-known/jwks.json
	OrdersPerMinute int           // ORDERS_PER_MINUTE: how many orders a minute one rider may place, after a burst
	OrderBurst      int           // ORDER_BURST: how many orders one rider may place at once
}

// loadConfig reads the configuration, applying defaults, and reports every
// invalid value at once.
func loadConfig(getenv func(string) string) (config, error) {
	p := parser{getenv: getenv}
	cfg := config{
		Host:            p.str("APP_HOST", "127.0.0.1"),
		Port:            p.port("APP_PORT", 8080),
		DaprHost:        p.str("DAPR_HOST", "127.0.0.1"),
		DaprHTTPPort:    p.port("DAPR_HTTP_PORT", 3500),
		DriverApp:       p.str("DRIVER_APP_ID", "driver"),
		NotificationApp: p.str("NOTIFICATION_APP_ID", "notification"),
		StepTimeout:     p.duration("STEP_TIMEOUT", 5*time.Second),
		StepAttempts:    p.count("STEP_ATTEMPTS", 3, 100),
		StepPause:       p.duration("STEP_PAUSE", time.Second),
		SidecarWait:     p.duration("SIDECAR_WAIT", 60*time.Second),
		ShutdownTimeout: p.duration("SHUTDOWN_TIMEOUT", 4*time.Second),
		LogLevel:        p.level("LOG_LEVEL", zerolog.InfoLevel),
		PprofAddr:       p.str("PPROF_ADDR", ""),
		OTLPEndpoint:    p.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		TraceRatio:      p.ratio("OTEL_TRACES_SAMPLER_ARG", 1),
		DaprAPIToken:    p.token("DAPR_API_TOKEN", false, ""),
		AuthIssuer:      p.url("AUTH_ISSUER", "", "the OpenID Connect issuer of riders' tokens, e.g. https://login.microsoftonline.com/<tenant>/v2.0 (make run and the tests start a development issuer)"),
		AuthAudience:    p.str("AUTH_AUDIENCE", "ride-api"),
		OrdersPerMinute: p.count("ORDERS_PER_MINUTE", 10, 10_000),
		OrderBurst:      p.count("ORDER_BURST", 10, 10_000),
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

func (p *parser) count(name string, def, most int) int {
	return parse(p, name, def, fmt.Sprintf("a whole number from 1 to %d", most), func(v string) (int, bool) {
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 1 && n <= most
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
