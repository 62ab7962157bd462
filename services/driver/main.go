// Command driver is the driver service of the ride choreography: it
// subscribes to trip-created through Dapr, reserves the nearest free driver
// of its pool, and publishes driver-assigned, or driver-not-found when no
// driver becomes free in time.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/dapr"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/httpapi"
)

// startRetryInterval is the pause between attempts to reach the sidecar at
// start.
const startRetryInterval = 500 * time.Millisecond

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "driver: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// run starts the service and serves until ctx is done, then shuts down
// gracefully. Logs go to stdout as JSON; the HTTP server's own errors go to
// stderr.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Handlers log concurrently; SyncWriter keeps lines whole on any writer.
	logger := zerolog.New(zerolog.SyncWriter(stdout)).Level(cfg.LogLevel).With().Timestamp().Str("service", "driver").Logger()

	sidecar, err := dapr.Connect(dapr.Address{Host: cfg.DaprHost, GRPCPort: cfg.DaprGRPCPort, HTTPPort: cfg.DaprHTTPPort}, cfg.StateStore)
	if err != nil {
		return err
	}
	defer sidecar.Close()
	service := app.NewService(
		dapr.NewStateStore(sidecar, cfg.StateStore),
		dapr.NewPublisher(sidecar, cfg.PubSub),
		driver.DefaultPool(),
		cfg.AssignDeadline,
		time.Now,
	)
	readiness := httpapi.NewReadiness(sidecar.Ready)

	listener, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	server := &http.Server{
		Handler:           httpapi.NewServer(logger, cfg.PubSub, service, service, readiness),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(stderr, "", 0),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	logger.Info().Str("addr", listener.Addr().String()).Msg("listening")

	// daprd asks for the subscriptions as soon as the port is open; events
	// that arrive before the pool is seeded are answered RETRY.
	logger.Info().Str("sidecar", cfg.DaprHost).Stringer("wait", cfg.SidecarWait).Msg("waiting for sidecar")
	err = retryUntil(ctx, cfg.SidecarWait, func(ctx context.Context) error {
		if err := sidecar.Ready(ctx); err != nil {
			return err
		}
		return service.SeedPool(ctx)
	})
	if err != nil && ctx.Err() == nil {
		_ = shutdown(server, readiness, cfg.ShutdownTimeout)
		return fmt.Errorf("wait for sidecar: %w", err)
	}
	if ctx.Err() == nil {
		readiness.Start()
		logger.Info().Msg("ready")
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serve http: %w", err)
	}
	logger.Info().Msg("shutting down")
	if err := shutdown(server, readiness, cfg.ShutdownTimeout); err != nil {
		return err
	}
	logger.Info().Msg("stopped")
	return nil
}

// shutdown turns /readyz to 503 and stops the server, waiting up to timeout
// for the requests in flight, event deliveries included.
func shutdown(server *http.Server, readiness *httpapi.Readiness, timeout time.Duration) error {
	readiness.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}

// retryUntil calls try until it succeeds, ctx is done or timeout has
// passed, and returns the last error.
func retryUntil(ctx context.Context, timeout time.Duration, try func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := try(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(startRetryInterval):
		}
	}
}
