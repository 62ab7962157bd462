package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/devissuer/internal/issuer"
)

// config is the issuer's whole configuration, read from the environment
// once, by loadConfig.
type config struct {
	Host     string        // APP_HOST: address to listen on
	Port     int           // APP_PORT
	URL      string        // ISSUER_URL: the tokens' iss, as the services are told it (AUTH_ISSUER)
	Audience string        // ISSUER_AUDIENCE: the tokens' aud (the services' AUTH_AUDIENCE)
	KeyFile  string        // ISSUER_KEY_FILE: the signing key, made there when missing; "" for a key per process
	TTL      time.Duration // ISSUER_TOKEN_TTL: how long a token lives unless /token is asked otherwise
	LogLevel zerolog.Level // LOG_LEVEL
}

// loadConfig reads the configuration, applying defaults, and reports every
// invalid value at once.
func loadConfig(getenv func(string) string) (config, error) {
	var errs []error
	str := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	cfg := config{
		Host:     str("APP_HOST", "127.0.0.1"),
		Audience: str("ISSUER_AUDIENCE", "ride-api"),
		KeyFile:  str("ISSUER_KEY_FILE", ""),
		Port:     8090,
		TTL:      time.Hour,
		LogLevel: zerolog.InfoLevel,
	}
	if v := getenv("APP_PORT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("APP_PORT=%q: want a port number from 1 to 65535", v))
		}
		cfg.Port = n
	}
	if v := getenv("ISSUER_TOKEN_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > issuer.MaxTTL {
			errs = append(errs, fmt.Errorf("ISSUER_TOKEN_TTL=%q: want a positive duration up to %s, such as 1h", v, issuer.MaxTTL))
		}
		cfg.TTL = d
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		l, err := zerolog.ParseLevel(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
		cfg.LogLevel = l
	}
	cfg.URL = str("ISSUER_URL", "http://"+net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	return cfg, errors.Join(errs...)
}
