package main

import (
	"fmt"
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
	LogLevel        zerolog.Level
	PprofAddr       string // PPROF_ADDR: where to serve Go's profiles; "" serves none
}

// loadConfig reads the configuration through getenv, with the defaults of
// docs/conventions.md for variables that are unset or empty. It names the
// variable and the value it cannot use.
func loadConfig(getenv func(string) string) (config, error) {
	env := environment{getenv: getenv}
	cfg := config{
		Host:            env.string("APP_HOST", "127.0.0.1"),
		Port:            env.port("APP_PORT", 8082),
		DaprHost:        env.string("DAPR_HOST", "127.0.0.1"),
		DaprGRPCPort:    env.port("DAPR_GRPC_PORT", 50001),
		DaprHTTPPort:    env.port("DAPR_HTTP_PORT", 3500),
		PubSub:          env.string("PUBSUB_NAME", "pubsub"),
		StateStore:      env.string("STATESTORE_NAME", "notification-store"),
		SidecarWait:     env.duration("SIDECAR_WAIT", 60*time.Second),
		ShutdownTimeout: env.duration("SHUTDOWN_TIMEOUT", 4*time.Second),
		LogLevel:        env.logLevel("LOG_LEVEL", zerolog.InfoLevel),
		PprofAddr:       env.string("PPROF_ADDR", ""),
	}
	return cfg, env.err
}

// environment reads variables, keeping the first one it cannot use in err.
type environment struct {
	getenv func(string) string
	err    error
}

func (e *environment) string(name, fallback string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return fallback
}

func (e *environment) port(name string, fallback int) int {
	v := e.getenv(name)
	if v == "" {
		return fallback
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		e.fail(name, v, "a port number from 1 to 65535")
		return fallback
	}
	return p
}

func (e *environment) duration(name string, fallback time.Duration) time.Duration {
	v := e.getenv(name)
	if v == "" {
		return fallback
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.fail(name, v, "a positive duration such as 4s")
		return fallback
	}
	return d
}

func (e *environment) logLevel(name string, fallback zerolog.Level) zerolog.Level {
	v := e.getenv(name)
	if v == "" {
		return fallback
	}
	l, err := zerolog.ParseLevel(v)
	if err != nil || l == zerolog.NoLevel {
		e.fail(name, v, "one of trace, debug, info, warn, error, fatal, panic, disabled")
		return fallback
	}
	return l
}

func (e *environment) fail(name, value, want string) {
	if e.err == nil {
		e.err = fmt.Errorf("%s=%q: want %s", name, value, want)
	}
}
