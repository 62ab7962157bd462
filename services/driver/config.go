package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/driver"
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
	SidecarWait     time.Duration // SIDECAR_WAIT: how long to wait for the sidecar, and to seed the pool, at start
	ShutdownTimeout time.Duration // SHUTDOWN_TIMEOUT: graceful shutdown budget
	AssignDeadline  time.Duration // ASSIGN_DEADLINE: how long a trip waits for a free driver
	RideDuration    time.Duration // RIDE_DURATION: how long a driver stays on a trip
	LogLevel        zerolog.Level // LOG_LEVEL
	PprofAddr       string        // PPROF_ADDR: where to serve Go's profiles; "" serves none
	OTLPEndpoint    string        // OTEL_EXPORTER_OTLP_ENDPOINT: where to export spans, e.g. http://127.0.0.1:4317; "" exports none
	TraceRatio      float64       // OTEL_TRACES_SAMPLER_ARG: the share of new traces kept, 0 to 1
	AppAPIToken     string        // APP_API_TOKEN: the token its sidecar sends with each call to the service; required
	DaprAPIToken    string        // DAPR_API_TOKEN: the token its sidecar requires of the service; "" if it requires none
	// PoolSize (DRIVER_POOL_SIZE) is how many drivers the pool has: the
	// five named ones (the first PoolSize of them when fewer), then
	// generated ones.
	PoolSize int
	// PoolArea (DRIVER_POOL_AREA) is where the generated drivers wait.
	PoolArea driver.Area
	// MaxPickupKM (MAX_PICKUP_KM) is the farthest from a pickup, in
	// kilometers, that a driver is sent from.
	MaxPickupKM float64
}

// loadConfig reads the configuration, applying defaults, and reports every
// invalid value at once.
func loadConfig(getenv func(string) string) (config, error) {
	p := parser{getenv: getenv}
	cfg := config{
		Host:            p.str("APP_HOST", "127.0.0.1"),
		Port:            p.port("APP_PORT", 8081),
		DaprHost:        p.str("DAPR_HOST", "127.0.0.1"),
		DaprGRPCPort:    p.port("DAPR_GRPC_PORT", 50001),
		DaprHTTPPort:    p.port("DAPR_HTTP_PORT", 3500),
		PubSub:          p.str("PUBSUB_NAME", "pubsub"),
		StateStore:      p.str("STATESTORE_NAME", "driver-store"),
		SidecarWait:     p.duration("SIDECAR_WAIT", 60*time.Second),
		ShutdownTimeout: p.duration("SHUTDOWN_TIMEOUT", 4*time.Second),
		AssignDeadline:  p.duration("ASSIGN_DEADLINE", 60*time.Second),
		RideDuration:    p.duration("RIDE_DURATION", 2*time.Minute),
		LogLevel:        p.level("LOG_LEVEL", zerolog.InfoLevel),
		PprofAddr:       p.str("PPROF_ADDR", ""),
		OTLPEndpoint:    p.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		TraceRatio:      p.ratio("OTEL_TRACES_SAMPLER_ARG", 1),
		AppAPIToken:     p.token("APP_API_TOKEN", true, "the sidecar's token, which it sends with every call to the service (make run and the tests generate one; Azure Container Apps sets it)"),
		DaprAPIToken:    p.token("DAPR_API_TOKEN", false, ""),
		PoolSize:        p.poolSize("DRIVER_POOL_SIZE", 5),
		PoolArea:        p.area("DRIVER_POOL_AREA", driver.Prague),
		MaxPickupKM:     p.km("MAX_PICKUP_KM", 15),
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

func (p *parser) str(name, def string) string {
	if v := p.getenv(name); v != "" {
		return v
	}
	return def
}

func (p *parser) port(name string, def int) int {
	return parse(p, name, def, func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		return n, want(err == nil && n >= 1 && n <= 65535, "a port number from 1 to 65535")
	})
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	return parse(p, name, def, func(v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		return d, want(err == nil && d > 0, "a positive duration such as 5s")
	})
}

func (p *parser) ratio(name string, def float64) float64 {
	return parse(p, name, def, func(v string) (float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		return f, want(err == nil && f >= 0 && f <= 1, "a number from 0 to 1")
	})
}

func (p *parser) level(name string, def zerolog.Level) zerolog.Level {
	return parse(p, name, def, func(v string) (zerolog.Level, error) {
		l, err := zerolog.ParseLevel(v)
		return l, want(err == nil, "debug, info, warn or error")
	})
}

func (p *parser) poolSize(name string, def int) int {
	return parse(p, name, def, func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		return n, want(err == nil && n >= 1 && n <= driver.MaxPoolSize, fmt.Sprintf("a whole number from 1 to %d", driver.MaxPoolSize))
	})
}

// maxKM is the most kilometers MAX_PICKUP_KM takes: about half the
// Earth's circumference, farther than any two points on it are apart.
const maxKM = 20_000

// km reads a distance in kilometers, above 0 and at most maxKM.
func (p *parser) km(name string, def float64) float64 {
	return parse(p, name, def, func(v string) (float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		return f, want(err == nil && f > 0 && f <= maxKM, fmt.Sprintf("a number of kilometers above 0 and at most %d, such as 15 or 2.5", maxKM))
	})
}

func (p *parser) area(name string, def driver.Area) driver.Area {
	return parse(p, name, def, func(v string) (driver.Area, error) {
		a, err := parseArea(v)
		if err != nil {
			return a, fmt.Errorf("want minLat,minLon,maxLat,maxLon such as %s: %w", def, err)
		}
		return a, nil
	})
}

// parse returns def when the variable name is unset, else what read makes
// of its value; when read refuses the value, p notes the variable, the
// value and read's error, which says what is wanted.
func parse[T any](p *parser, name string, def T, read func(string) (T, error)) T {
	v := p.getenv(name)
	if v == "" {
		return def
	}
	x, err := read(v)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("%s=%q: %w", name, v, err))
	}
	return x
}

// want returns nil when ok, else an error saying what is wanted instead.
func want(ok bool, what string) error {
	if ok {
		return nil
	}
	return errors.New("want " + what)
}

// parseArea reads "minLat,minLon,maxLat,maxLon" (decimal degrees; spaces
// around the numbers allowed), a valid driver.Area.
func parseArea(v string) (driver.Area, error) {
	parts := strings.Split(v, ",")
	if len(parts) != 4 {
		return driver.Area{}, fmt.Errorf("%d numbers, want 4", len(parts))
	}
	var n [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return driver.Area{}, fmt.Errorf("%q is not a number", p)
		}
		n[i] = f
	}
	area := driver.Area{Min: driver.Position{Lat: n[0], Lon: n[1]}, Max: driver.Position{Lat: n[2], Lon: n[3]}}
	return area, area.Validate()
}
