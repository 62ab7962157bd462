package main

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/rs/zerolog"
)

// config is the exporter's whole configuration, read from the environment
// once, by loadConfig.
type config struct {
	Host string // APP_HOST: address to listen on
	Port int    // APP_PORT
	// RedisAddr (REDIS_HOST, host:port) is the broker, the variable Dapr's
	// Redis components read (components/pubsub.yaml).
	RedisAddr     string
	RedisPassword string   // REDIS_PASSWORD; "" for none
	Topics        []string // BACKLOG_TOPICS: the topics whose subscriptions are watched
	LogLevel      zerolog.Level
}

// defaultTopics are the event topics (docs/conventions.md).
const defaultTopics = "trip-created,driver-assigned,driver-not-found"

// loadConfig reads the configuration, applying defaults, and reports every
// invalid value at once.
func loadConfig(getenv func(string) string) (config, error) {
	p := parser{getenv: getenv}
	cfg := config{
		Host:          p.str("APP_HOST", "127.0.0.1"),
		Port:          p.port("APP_PORT", 9099),
		RedisAddr:     p.hostPort("REDIS_HOST", "localhost:6379"),
		RedisPassword: p.str("REDIS_PASSWORD", ""),
		Topics:        p.topics("BACKLOG_TOPICS", defaultTopics),
		LogLevel:      p.level("LOG_LEVEL", zerolog.InfoLevel),
	}
	return cfg, errors.Join(p.errs...)
}

// parser reads environment variables and collects what is wrong with them.
type parser struct {
	getenv func(string) string
	errs   []error
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

func (p *parser) hostPort(name, def string) string {
	return parse(p, name, def, func(v string) (string, error) {
		host, port, err := net.SplitHostPort(v)
		n, perr := strconv.Atoi(port)
		return v, want(err == nil && host != "" && perr == nil && n >= 1 && n <= 65535, "host:port such as "+def)
	})
}

func (p *parser) level(name string, def zerolog.Level) zerolog.Level {
	return parse(p, name, def, func(v string) (zerolog.Level, error) {
		l, err := zerolog.ParseLevel(v)
		return l, want(err == nil, "debug, info, warn or error")
	})
}

// topics reads a comma-separated list of topic names (spaces around them
// allowed), each named once.
func (p *parser) topics(name, def string) []string {
	read := func(v string) ([]string, error) {
		var topics []string
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
				return nil, errors.New("want comma-separated topic names such as " + def + ", none empty")
			case strings.ContainsFunc(t, unicode.IsSpace):
				return nil, fmt.Errorf("want topic names without spaces, not %q", t)
			case slices.Contains(topics, t):
				return nil, fmt.Errorf("want each topic once, not %q twice", t)
			}
			topics = append(topics, t)
		}
		return topics, nil
	}
	topics, _ := read(def)
	return parse(p, name, topics, read)
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
