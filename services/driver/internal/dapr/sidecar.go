// Package dapr adapts the app's ports to the Dapr sidecar. It is the only
// package that imports the Dapr SDK.
package dapr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// probeTimeout bounds one readiness check.
const probeTimeout = 2 * time.Second

// probeKey is the state key read to check that the state store answers.
const probeKey = "readyz-probe"

// Address says where the sidecar listens.
type Address struct {
	Host     string
	GRPCPort int
	HTTPPort int
}

// Sidecar is the service's connection to its Dapr sidecar.
type Sidecar struct {
	client    client.Client
	http      *http.Client
	healthURL string
	store     string
}

// Connect returns a Sidecar for the sidecar at addr, whose state store is
// named store. It does not wait for the sidecar: calls fail until it is up,
// and WaitReady waits for it.
func Connect(addr Address, store string) (*Sidecar, error) {
	conn, err := grpc.NewClient(
		net.JoinHostPort(addr.Host, strconv.Itoa(addr.GRPCPort)),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to sidecar: %w", err)
	}
	return &Sidecar{
		client:    client.NewClientWithConnection(conn),
		http:      &http.Client{Timeout: probeTimeout},
		healthURL: "http://" + net.JoinHostPort(addr.Host, strconv.Itoa(addr.HTTPPort)) + "/v1.0/healthz/outbound",
		store:     store,
	}, nil
}

// Close closes the connection to the sidecar.
func (s *Sidecar) Close() {
	s.client.Close()
}

// Ready returns nil when the sidecar reports itself healthy and the state
// store answers a read, or an error naming what failed.
func (s *Sidecar) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.healthURL, nil)
	if err != nil {
		return fmt.Errorf("sidecar health: %w", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar health: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sidecar health: %s answered %s", s.healthURL, resp.Status)
	}
	if _, err := s.client.GetState(ctx, s.store, probeKey, nil); err != nil {
		return fmt.Errorf("state store %s: %w", s.store, err)
	}
	return nil
}
