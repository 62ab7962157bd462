package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/driver"
)

// config is the service's configuration, read from the environment by
// loadConfig.
type config struct {
	Host            string
	Port            int
	DaprHost        string
	DaprGRPCPort    int
	DaprHTTPPort    int
	PubSub          string
	StateStore      string
	SidecarWait     time.Duration
	ShutdownTimeout time.Duration
	AssignDeadline  time.Duration
	RideDuration    time.Duration
	LogLevel        zerolog.Level
	PprofAddr       string // PPROF_ADDR: where to serve Go's profiles; "" serves none
	// PoolSize is how many drivers the pool has: the five named ones (the
	// first PoolSize of them when fewer), then generated ones.
	PoolSize int
	// PoolArea is where the generated drivers wait.
	PoolArea driver.Area
}

// Addr is the address the HTTP server listens on.
func (c config) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// loadConfig reads the configuration through getenv, applies the defaults
// and returns an error naming every variable with a bad value.
func loadConfig(getenv func(string) string) (config, error) {
	env := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
	var errs []error
	port := func(name, fallback string) int {
		v := env(name, fallback)
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s: %q is not a port number", name, v))
		}
		return p
	}
	duration := func(name, fallback string) time.Duration {
		v := env(name, fallback)
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as %s", name, v, fallback))
		}
		return d
	}
	poolSize := func(name, fallback string) int {
		v := env(name, fallback)
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > driver.MaxPoolSize {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number from 1 to %d", name, v, driver.MaxPoolSize))
		}
		return n
	}
	area := func(name string, fallback driver.Area) driver.Area {
		v := env(name, fallback.String())
		a, err := parseArea(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not minLat,minLon,maxLat,maxLon such as %s: %w", name, v, fallback, err))
		}
		return a
	}

	cfg := config{
		Host:            env("APP_HOST", "127.0.0.1"),
		Port:            port("APP_PORT", "8081"),
		DaprHost:        env("DAPR_HOST", "127.0.0.1"),
		DaprGRPCPort:    port("DAPR_GRPC_PORT", "50001"),
		DaprHTTPPort:    port("DAPR_HTTP_PORT", "3500"),
		PubSub:          env("PUBSUB_NAME", "pubsub"),
		StateStore:      env("STATESTORE_NAME", "driver-store"),
		SidecarWait:     duration("SIDECAR_WAIT", "60s"),
		ShutdownTimeout: duration("SHUTDOWN_TIMEOUT", "4s"),
		AssignDeadline:  duration("ASSIGN_DEADLINE", "60s"),
		RideDuration:    duration("RIDE_DURATION", "2m"),
		PoolSize:        poolSize("DRIVER_POOL_SIZE", "5"),
		PoolArea:        area("DRIVER_POOL_AREA", driver.Prague),
		PprofAddr:       env("PPROF_ADDR", ""),
	}
	level, err := zerolog.ParseLevel(env("LOG_LEVEL", "info"))
	if err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %q is not a level such as debug, info or warn", getenv("LOG_LEVEL")))
	}
	cfg.LogLevel = level
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("load config: %w", err)
	}
	return cfg, nil
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
