// Command backlog serves, as Prometheus metrics, how many events wait for
// each subscription on the Redis Streams broker: per topic and subscribing
// app, the entries its consumer group was not handed yet (lag) and those it
// was handed and has not acknowledged (pending). It reads the broker from
// outside, as KEDA's redis-streams scaler does, so no service learns which
// broker it is on; it is the only program of the project that knows Redis.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/backlog/internal/metrics"
	"github.com/ride-choreography/backlog/internal/streams"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		stop()
		os.Exit(1)
	}
}

const (
	// readTimeout bounds each scrape's read of the broker, well inside
	// Prometheus's default scrape timeout (10 s).
	readTimeout = 3 * time.Second
	// shutdownTimeout is how long a scrape in flight may take to finish
	// after SIGTERM: one read of the broker, and a little more, inside the
	// 5 s a container gets to stop, as for the services.
	shutdownTimeout = 4 * time.Second
)

// run serves the metrics until ctx is cancelled (SIGTERM), then lets the
// scrapes in flight finish and returns.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "backlog: invalid configuration:\n%v\n", err)
		return err
	}
	logger := zerolog.New(zerolog.SyncWriter(stdout)).Level(cfg.LogLevel).With().Timestamp().Str("service", "backlog").Logger()

	reader := streams.NewReader(cfg.RedisAddr, cfg.RedisPassword, cfg.Topics)
	defer reader.Close()
	m := metrics.New(logger, reader, readTimeout)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 2 * time.Second,        // a silent connection must not hold up the shutdown
		ErrorLog:          log.New(stderr, "", 0), // the server's own errors, such as a failed TLS handshake
	}

	listener, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		logger.Error().Err(err).Msg("cannot listen")
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	logger.Info().Str("addr", listener.Addr().String()).Str("redis", cfg.RedisAddr).
		Strs("topics", cfg.Topics).Msg("listening")

	select {
	case err := <-serveErr:
		logger.Error().Err(err).Msg("server stopped")
		return err
	case <-ctx.Done():
	}
	logger.Info().Dur("budget", shutdownTimeout).Msg("shutting down")
	if err := shutdown(server, shutdownTimeout); err != nil {
		logger.Error().Err(err).Msg("shutdown budget exceeded, connections closed")
		return err
	}
	logger.Info().Msg("stopped")
	return nil
}

// shutdown stops the server, waiting up to timeout for the scrapes in
// flight.
func shutdown(server *http.Server, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		server.Close()
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
