// Command notification is the notification service of the ride-hailing
// choreography: it tells riders about their trips (order received, driver
// on the way, no driver) from the events on Dapr pub/sub, and lets them
// read and follow what they were told.
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
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ride-choreography/services/notification/internal/app"
	"github.com/ride-choreography/services/notification/internal/dapr"
	"github.com/ride-choreography/services/notification/internal/httpapi"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == healthcheckArg {
		os.Exit(healthcheck(os.Getenv, os.Stderr)) // the image's HEALTHCHECK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(1)
	}
}

// run runs the service until ctx is done, then shuts it down gracefully.
// It logs JSON lines to stdout; an error that stops it is logged once, or
// written to stderr when it comes before the logger exists.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "notification: configuration: %v\n", err)
		return err
	}
	logger := zerolog.New(stdout).Level(cfg.LogLevel).With().Timestamp().Str("service", "notification").Logger()
	if cfg.PprofAddr != "" {
		go servePprof(logger, cfg.PprofAddr)
	}
	if err := serve(ctx, cfg, logger); err != nil {
		logger.Error().Err(err).Msg("service stopped")
		return err
	}
	return nil
}

// answerMargin is how long before the end of the shutdown budget in-flight
// work is cancelled, leaving time to answer. It exceeds the 500 ms that
// http.Server.Shutdown may wait between checks for idle connections.
const answerMargin = time.Second

// serve starts the HTTP server, waits for the sidecar, serves until ctx is
// done and shuts down within cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg config, logger zerolog.Logger) error {
	sidecar, err := dapr.Dial(dapr.Config{
		Host: cfg.DaprHost, GRPCPort: cfg.DaprGRPCPort, HTTPPort: cfg.DaprHTTPPort, StateStore: cfg.StateStore,
	})
	if err != nil {
		return err
	}
	defer sidecar.Close()

	svc := app.New(sidecar.StateStore(), time.Now, logger)
	var connected atomic.Bool
	stopping := make(chan struct{})
	// Every request's context derives from handlers, so shutdown can cancel
	// the ones that would not finish in time.
	handlers, cancelHandlers := context.WithCancel(context.Background())
	defer cancelHandlers()
	srv := &http.Server{
		BaseContext: func(net.Listener) context.Context { return handlers },
		Handler: httpapi.NewServer(logger, httpapi.Deps{
			Events:      svc,
			Riders:      svc,
			DeadLetters: app.NewDeadLetters(sidecar.DeadLetterStore(), time.Now, logger),
			PubSub:      cfg.PubSub,
			Stopping:    stopping,
			Ready: func(ctx context.Context) error {
				if !connected.Load() {
					return errors.New("waiting for the sidecar")
				}
				return sidecar.Check(ctx)
			},
		}),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          log.New(logger.With().Str("component", "http").Logger(), "", 0),
	}

	// Serve first: the sidecar asks for the subscriptions when it starts.
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info().Str("addr", ln.Addr().String()).Msg("listening")

	shutdown := func() error {
		close(stopping) // /readyz turns 503, notification streams end
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		// An event still in flight answerMargin before the budget ends is
		// cancelled, so it answers RETRY and is redelivered.
		late := time.AfterFunc(cfg.ShutdownTimeout-min(answerMargin, cfg.ShutdownTimeout/2), cancelHandlers)
		defer late.Stop()
		if err := srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("shut down http server: %w", err)
		}
		logger.Info().Msg("stopped")
		return nil
	}

	if err := sidecar.Wait(ctx, cfg.SidecarWait); err != nil {
		if ctx.Err() != nil {
			return shutdown()
		}
		return errors.Join(err, shutdown())
	}
	connected.Store(true)
	logger.Info().Str("stateStore", cfg.StateStore).Msg("sidecar connected, ready")

	select {
	case err := <-served:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
		logger.Info().Msg("shutting down")
		return shutdown()
	}
}
