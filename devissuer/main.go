// Command devissuer is the development OpenID Connect issuer of make run,
// docker compose and the end-to-end tests: it signs a bearer token for any
// subject it is asked, with no password, and publishes the key that
// verifies it (internal/issuer). The services verify its tokens as they
// would Entra ID's. Never deploy it: anyone who reaches it is anyone.
//
//	TOKEN=$(curl -s 'http://127.0.0.1:8090/token?sub=rider-42')
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

	"github.com/ride-choreography/devissuer/internal/issuer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		stop()
		os.Exit(1)
	}
}

// run serves the issuer until ctx is cancelled (SIGTERM).
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "devissuer: invalid configuration:\n%v\n", err)
		return err
	}
	logger := zerolog.New(zerolog.SyncWriter(stdout)).Level(cfg.LogLevel).With().Timestamp().Str("service", "devissuer").Logger()

	key, err := issuer.LoadKey(cfg.KeyFile)
	if err != nil {
		logger.Error().Err(err).Msg("cannot load the signing key")
		return err
	}
	iss, err := issuer.New(cfg.URL, cfg.Audience, cfg.TTL, key)
	if err != nil {
		logger.Error().Err(err).Msg("cannot sign")
		return err
	}
	server := &http.Server{
		Handler:           iss.Handler(),
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(stderr, "", 0),
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		logger.Error().Err(err).Msg("cannot listen")
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()
	event := logger.Info()
	if ip := net.ParseIP(cfg.Host); ip == nil || !ip.IsLoopback() {
		event = logger.Warn().Str("warning", "it signs a token for anyone who reaches it; keep it on loopback or a private network")
	}
	event.Str("addr", listener.Addr().String()).Str("issuer", cfg.URL).Str("audience", cfg.Audience).
		Bool("keyFile", cfg.KeyFile != "").Msg("development issuer listening")

	select {
	case err := <-serveErr:
		logger.Error().Err(err).Msg("server stopped")
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		server.Close()
	}
	logger.Info().Msg("stopped")
	return nil
}
