// Command dispatch is the dispatch service of the ride-hailing
// choreography: it keeps the dispatchers' live picture of the area (riders
// waiting for a driver, trips just assigned or left without one, counters,
// the latest events) from the events on Dapr pub/sub, and serves it as a
// web page. No other service knows it exists: it only reads the events
// they publish anyway. It talks to other services only through its Dapr
// sidecar.
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

	"github.com/ride-choreography/services/dispatch/internal/app"
	"github.com/ride-choreography/services/dispatch/internal/auth"
	"github.com/ride-choreography/services/dispatch/internal/dapr"
	"github.com/ride-choreography/services/dispatch/internal/httpapi"
	"github.com/ride-choreography/services/dispatch/internal/metrics"
	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == healthcheckArg {
		os.Exit(healthcheck(os.Getenv, os.Stderr)) // the image's HEALTHCHECK
	}
	// Log times in UTC to the microsecond and of fixed width, so that the
	// lines of all the services sort into one story (README, "Follow one
	// trip through the logs").
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000000Z07:00"
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() }
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		stop()
		os.Exit(1)
	}
}

// answerMargin is how long before the end of the shutdown budget in-flight
// work is cancelled, leaving time to answer. It exceeds the 500 ms that
// http.Server.Shutdown may wait between checks for idle connections.
const answerMargin = time.Second

// run starts the service and blocks until ctx is cancelled (SIGTERM), then
// shuts down gracefully: readiness turns 503, board streams end,
// in-flight requests and event deliveries finish, and run returns within
// the shutdown budget.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "dispatch: invalid configuration:\n%v\n", err)
		return err
	}
	logger := zerolog.New(zerolog.SyncWriter(stdout)).Level(cfg.LogLevel).With().Timestamp().Str("service", "dispatch").Logger()
	if cfg.PprofAddr != "" {
		go servePprof(logger, cfg.PprofAddr)
	}
	flushSpans, err := tracing.Setup(tracing.Options{Service: "dispatch", Endpoint: cfg.OTLPEndpoint, SampleRatio: cfg.TraceRatio})
	if err != nil {
		logger.Error().Err(err).Msg("cannot start")
		return err
	}
	defer flush(logger, flushSpans)

	sidecar, err := dapr.NewSidecar(dapr.SidecarOptions{
		APIToken:   cfg.DaprAPIToken,
		Host:       cfg.DaprHost,
		GRPCPort:   cfg.DaprGRPCPort,
		HTTPPort:   cfg.DaprHTTPPort,
		StateStore: cfg.StateStore,
	})
	if err != nil {
		logger.Error().Err(err).Msg("cannot start")
		return err
	}
	defer sidecar.Close()

	m := metrics.New()
	board := app.NewService(dapr.NewBoardStore(sidecar), m, time.Now, logger)
	deadLetters := app.NewDeadLetterBox(dapr.NewDeadLetterStore(sidecar), time.Now)
	readiness := httpapi.NewReadiness(sidecar.Ready)
	// Every request's context derives from handlers, so shutdown can cancel
	// the ones that would not finish in time.
	handlers, cancelHandlers := context.WithCancel(context.Background())
	defer cancelHandlers()
	server := &http.Server{
		Handler: httpapi.NewServer(logger, httpapi.Deps{
			Auth:         auth.New(handlers, cfg.AuthIssuer, cfg.AuthAudience, cfg.AuthJWKSURL),
			SidecarToken: cfg.AppAPIToken,
			SecureCookie: cfg.SecureCookie,
			Board:        board,
			DeadLetters:  deadLetters,
			Subscriber:   dapr.NewSubscriber(logger, cfg.PubSub, board, deadLetters, m),
			Readiness:    readiness,
			Metrics:      m.Handler(),

			MaxStreamsPerDispatcher: cfg.MaxStreamsPerDispatcher,
		}),
		ErrorLog:    log.New(stderr, "", 0), // the server's own errors, such as a failed TLS handshake
		BaseContext: func(net.Listener) context.Context { return handlers },
	}
	limit(server)

	listener, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		logger.Error().Err(err).Msg("cannot listen")
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	logger.Info().Str("addr", listener.Addr().String()).Msg("listening")

	// The sidecar asks for the subscriptions as soon as the port is open.
	waitCtx, cancel := context.WithTimeout(ctx, cfg.SidecarWait)
	err = sidecar.WaitReady(waitCtx)
	cancel()
	switch {
	case ctx.Err() != nil:
		// Stopped while waiting: shut down below.
	case err != nil:
		logger.Error().Err(err).Dur("waited", cfg.SidecarWait).Msg("sidecar not ready, giving up")
		_ = shutdown(server, readiness, cfg.ShutdownTimeout, cancelHandlers)
		return err
	default:
		readiness.Start()
		logger.Info().Msg("ready")
	}

	select {
	case err := <-serveErr:
		logger.Error().Err(err).Msg("server stopped")
		return err
	case <-ctx.Done():
	}
	logger.Info().Dur("budget", cfg.ShutdownTimeout).Msg("shutting down")
	if err := shutdown(server, readiness, cfg.ShutdownTimeout, cancelHandlers); err != nil {
		logger.Error().Err(err).Msg("shutdown budget exceeded, connections closed")
		return err
	}
	logger.Info().Msg("stopped")
	return nil
}

// flushTimeout bounds the export of the last spans at exit, which an
// unreachable collector would otherwise hold up.
const flushTimeout = 500 * time.Millisecond

// flush exports the spans not exported yet, within flushTimeout.
func flush(logger zerolog.Logger, flushSpans func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	if err := flushSpans(ctx); err != nil {
		logger.Warn().Err(err).Msg("last spans not exported")
	}
}

// shutdown turns /readyz to 503, ends the board streams and stops
// the server, waiting up to timeout for the requests in flight, event
// deliveries included. Work still running answerMargin before the budget
// ends is cancelled with cancelHandlers: an event then gets RETRY, so every
// caller hears an answer before the process exits.
func shutdown(server *http.Server, readiness *httpapi.Readiness, timeout time.Duration, cancelHandlers context.CancelFunc) error {
	readiness.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	late := time.AfterFunc(timeout-min(answerMargin, timeout/2), cancelHandlers)
	defer late.Stop()
	if err := server.Shutdown(ctx); err != nil {
		server.Close()
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
