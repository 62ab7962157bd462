package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
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
				Host:      "127.0.0.1",
				Port:      9099,
				RedisAddr: "localhost:6379",
				Topics:    []string{"trip-created", "driver-assigned", "driver-not-found"},
				LogLevel:  zerolog.InfoLevel,
			},
		},
		{
			name: "from the environment",
			env: map[string]string{
				"APP_HOST":       "0.0.0.0",
				"APP_PORT":       "9100",
				"REDIS_HOST":     "redis:6380",
				"REDIS_PASSWORD": "secret",
				"BACKLOG_TOPICS": " trip-created , trip-dead-letters,driver-dead-letters",
				"LOG_LEVEL":      "debug",
			},
			want: config{
				Host:          "0.0.0.0",
				Port:          9100,
				RedisAddr:     "redis:6380",
				RedisPassword: "secret",
				Topics:        []string{"trip-created", "trip-dead-letters", "driver-dead-letters"},
				LogLevel:      zerolog.DebugLevel,
			},
		},
		{
			name: "IPv6 Redis, one topic",
			env:  map[string]string{"REDIS_HOST": "[::1]:6379", "BACKLOG_TOPICS": "trip-created"},
			want: config{
				Host:      "127.0.0.1",
				Port:      9099,
				RedisAddr: "[::1]:6379",
				Topics:    []string{"trip-created"},
				LogLevel:  zerolog.InfoLevel,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadConfig(env(tt.env))
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
		{name: "APP_PORT", value: "metrics"},
		{name: "APP_PORT", value: "0"},
		{name: "APP_PORT", value: "65536"},
		{name: "REDIS_HOST", value: "localhost"},
		{name: "REDIS_HOST", value: ":6379"},
		{name: "REDIS_HOST", value: "localhost:redis"},
		{name: "REDIS_HOST", value: "localhost:70000"},
		{name: "REDIS_HOST", value: "redis://localhost:6379"},
		{name: "BACKLOG_TOPICS", value: ","},
		{name: "BACKLOG_TOPICS", value: "trip-created,,driver-assigned"},
		{name: "BACKLOG_TOPICS", value: "trip-created,"},
		{name: "BACKLOG_TOPICS", value: "trip created"},
		{name: "BACKLOG_TOPICS", value: "trip-created,trip-created"},
		{name: "LOG_LEVEL", value: "loud"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			_, err := loadConfig(env(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatalf("loadConfig(%s=%q) error = nil, want one", tt.name, tt.value)
			}
			if !strings.Contains(err.Error(), tt.name+"=") || !strings.Contains(err.Error(), "want ") {
				t.Errorf("error %q does not name %s and say what is wanted", err, tt.name)
			}
		})
	}
}

// TestLoadConfigReportsEveryBadValue: one run names every bad variable, so
// a misconfiguration is fixed in one go.
func TestLoadConfigReportsEveryBadValue(t *testing.T) {
	_, err := loadConfig(env(map[string]string{
		"APP_PORT":       "x",
		"REDIS_HOST":     "localhost",
		"BACKLOG_TOPICS": "a,,b",
		"LOG_LEVEL":      "loud",
	}))

	if err == nil {
		t.Fatal("loadConfig() error = nil, want one naming every bad variable")
	}
	for _, name := range []string{"APP_PORT", "REDIS_HOST", "BACKLOG_TOPICS", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name+"=") {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != 4 {
		t.Errorf("error has %d lines, want one per bad variable:\n%s", lines, err)
	}
}
