// Package dapr connects the service to its Dapr sidecar: the state store
// adapters (riders' histories, dead letters), and the sidecar's health. It
// is the only package that imports the Dapr SDK.
package dapr

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	// probeKey is the state key read to check that the store answers.
	probeKey = "readyz-probe"
	// checkTimeout bounds one check of the sidecar.
	checkTimeout = 2 * time.Second
	// waitInterval is the pause between checks while waiting for the
	// sidecar at start.
	waitInterval = 500 * time.Millisecond
)

// Config says where the sidecar is and which state store is the service's.
type Config struct {
	Host       string
	GRPCPort   int
	HTTPPort   int
	StateStore string
}

// Sidecar is the service's connection to its Dapr sidecar.
type Sidecar struct {
	client     client.Client
	healthURL  string
	http       *http.Client
	stateStore string
}

// Dial sets up the connection to the sidecar. It does not wait for the
// sidecar to answer: calls fail until it does (see Wait).
func Dial(cfg Config) (*Sidecar, error) {
	target := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.GRPCPort))
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial sidecar at %s: %w", target, err)
	}
	return &Sidecar{
		client:     client.NewClientWithConnection(conn),
		healthURL:  "http://" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.HTTPPort)) + "/v1.0/healthz/outbound",
		http:       &http.Client{},
		stateStore: cfg.StateStore,
	}, nil
}

// StateStore returns the adapter to the service's own state store.
func (s *Sidecar) StateStore() *StateStore {
	return &StateStore{client: s.client, name: s.stateStore, recent: newRecentHistories(recentSize)}
}

// DeadLetterStore returns the adapter to the list of dead letters in the
// service's own state store.
func (s *Sidecar) DeadLetterStore() *DeadLetterStore {
	return &DeadLetterStore{client: s.client, name: s.stateStore}
}

// Check reports whether the sidecar is healthy and the service's state
// store answers a read.
func (s *Sidecar) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := s.checkHealth(ctx); err != nil {
		return err
	}
	if _, err := s.client.GetState(ctx, s.stateStore, probeKey, nil); err != nil {
		return fmt.Errorf("state store %s: %w", s.stateStore, err)
	}
	return nil
}

func (s *Sidecar) checkHealth(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.healthURL, nil)
	if err != nil {
		return fmt.Errorf("sidecar health: %w", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar health: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sidecar health: %s answered %s", s.healthURL, resp.Status)
	}
	return nil
}

// Wait checks the sidecar until it is ready, for at most timeout.
func (s *Sidecar) Wait(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	retry := time.NewTicker(waitInterval)
	defer retry.Stop()
	for {
		err := s.Check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sidecar not ready within %s: %w", timeout, err)
		case <-retry.C:
		}
	}
}

// Close closes the connection to the sidecar.
func (s *Sidecar) Close() {
	s.client.Close()
}
