// Package dapr is the dispatch service's edge to its Dapr sidecar and the
// only package that imports the Dapr SDK: the store of the board and the
// trips, the dead-letter store, the sidecar connection and readiness, and
// the subscription protocol the sidecar uses to deliver events, whose data
// the contracts' JSON Schemas validate.
package dapr

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	daprclient "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ride-choreography/services/dispatch/internal/tracing"
)

// SidecarOptions says where the sidecar is and which of its components the
// service uses.
type SidecarOptions struct {
	// APIToken is the token the sidecar requires (DAPR_API_TOKEN), sent
	// with every call; "" sends none.
	APIToken   string
	Host       string
	GRPCPort   int
	HTTPPort   int
	StateStore string
}

// Sidecar is a connection to the service's Dapr sidecar.
type Sidecar struct {
	client     daprclient.Client
	stateStore string
	healthURL  string
	httpClient *http.Client
}

// readyProbeKey is read by Ready to prove the state store answers.
const readyProbeKey = "readyz-probe"

// NewSidecar prepares the connection to the sidecar without waiting for
// it; WaitReady waits.
func NewSidecar(opts SidecarOptions) (*Sidecar, error) {
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(tracing.GRPCInterceptor()),
	}
	if opts.APIToken != "" {
		// On every call, unary and streaming. (The SDK adds the token
		// only to connections it dials itself.)
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(tokenCredentials(opts.APIToken)))
	}
	// The SDK writes plain-text lines to standard output ("API Token
	// loaded from the environment variable", ...), which would break the
	// service's JSON logs, and says nothing the service does not.
	daprclient.SetLogger(log.New(io.Discard, "", 0))
	conn, err := grpc.NewClient(net.JoinHostPort(opts.Host, strconv.Itoa(opts.GRPCPort)), dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("dial sidecar: %w", err)
	}
	return &Sidecar{
		client:     daprclient.NewClientWithConnection(conn),
		stateStore: opts.StateStore,
		healthURL:  "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(opts.HTTPPort)) + "/v1.0/healthz/outbound",
		httpClient: &http.Client{Timeout: 2 * time.Second},
	}, nil
}

// WaitReady returns once the sidecar answers and the state store is
// reachable, or with an error when ctx ends first. A service starts its HTTP
// server before waiting: the sidecar asks the app for its subscriptions
// while it starts.
func (s *Sidecar) WaitReady(ctx context.Context) error {
	for {
		err := s.Ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for sidecar: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Ready reports whether the sidecar is ready for outbound calls and the
// service's state store answers a read through it.
func (s *Sidecar) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.healthURL, nil)
	if err != nil {
		return fmt.Errorf("sidecar health request: %w", err)
	}
	resp, err := s.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("sidecar health: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sidecar health: %s", resp.Status)
	}
	if _, err := s.client.GetState(ctx, s.stateStore, readyProbeKey, nil); err != nil {
		return fmt.Errorf("state store %s: %w", s.stateStore, err)
	}
	return nil
}

// Close releases the connection.
func (s *Sidecar) Close() {
	s.client.Close()
}

// tokenCredentials sends the token the sidecar requires as the
// dapr-api-token metadata of every gRPC call.
type tokenCredentials string

func (c tokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"dapr-api-token": string(c)}, nil
}

// RequireTransportSecurity is false: the sidecar is on loopback, without TLS.
func (tokenCredentials) RequireTransportSecurity() bool { return false }
