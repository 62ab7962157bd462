package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"
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
