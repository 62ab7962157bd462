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

// answerMargin is how much of the shutdown budget (at most half of it) is
// kept for requests to answer in: when only this much is left, the
// requests still in flight are cancelled, so that an event handler that
// cannot finish answers RETRY and daprd delivers the event again. It must
// exceed 500 ms, the longest that http.Server.Shutdown waits between looks
// for finished requests.
const answerMargin = time.Second

func main() {
	if len(os.Args) == 2 && os.Args[1] == healthcheckArg {
		os.Exit(healthcheck(os.Getenv, os.Stderr)) // the image's HEALTHCHECK
	}
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
	if cfg.PprofAddr != "" {
		go servePprof(logger, cfg.PprofAddr)
	}

	pool, err := driver.NewPool(cfg.PoolSize, cfg.PoolArea)
	if err != nil {
		return err
	}

	sidecar, err := dapr.Connect(dapr.Address{Host: cfg.DaprHost, GRPCPort: cfg.DaprGRPCPort, HTTPPort: cfg.DaprHTTPPort}, cfg.StateStore)
	if err != nil {
		return err
	}
	defer sidecar.Close()
	store := dapr.NewStateStore(sidecar, cfg.StateStore)
	service := app.NewService(
		store,
		dapr.NewPublisher(sidecar, cfg.PubSub),
		pool,
		app.Timing{AssignDeadline: cfg.AssignDeadline, RideDuration: cfg.RideDuration},
		time.Now,
	)
	deadLetters := app.NewDeadLetterBox(store, time.Now)
	subscriber := dapr.NewSubscriber(logger, cfg.PubSub, service, deadLetters)
	readiness := httpapi.NewReadiness(sidecar.Ready)

	listener, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	// Every request runs under handlers, which shutdown cancels.
	handlers, cancelHandlers := context.WithCancel(context.Background())
	defer cancelHandlers()
	server := &http.Server{
		Handler:           httpapi.NewServer(logger, subscriber, service, deadLetters, readiness),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(stderr, "", 0),
		BaseContext:       func(net.Listener) context.Context { return handlers },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	logger.Info().Str("addr", listener.Addr().String()).Msg("listening")
	logger.Info().Int("drivers", len(pool)).Stringer("area", cfg.PoolArea).Msg("driver pool")

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
		_ = shutdown(server, readiness, cfg.ShutdownTimeout, cancelHandlers)
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
	if err := shutdown(server, readiness, cfg.ShutdownTimeout, cancelHandlers); err != nil {
		return err
	}
	logger.Info().Msg("stopped")
	return nil
}

// shutdown turns /readyz to 503 and stops the server, waiting up to timeout
// for the requests in flight, event deliveries included. Requests still
// running when only answerMargin is left are cancelled with
// cancelHandlers, so that they answer in time.
func shutdown(server *http.Server, readiness *httpapi.Readiness, timeout time.Duration, cancelHandlers context.CancelFunc) error {
	readiness.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cancelLate := time.AfterFunc(timeout-min(answerMargin, timeout/2), cancelHandlers)
	defer cancelLate.Stop()
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
