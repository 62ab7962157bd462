// Package dapr is the workflow coordinator's edge to its Dapr sidecar: the
// RequestTrip workflow and its activities on Dapr Workflow (the sidecar's
// gRPC API), the other services' steps the activities invoke through it
// (Dapr service invocation over its HTTP API), and its readiness.
package dapr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/ride-choreography/services/workflow/internal/tracing"
)

// SidecarOptions says where the sidecar is.
type SidecarOptions struct {
	Host     string
	GRPCPort int
	HTTPPort int
	// StepTimeout bounds each call of a step.
	StepTimeout time.Duration
	// APIToken is the token the sidecar requires (DAPR_API_TOKEN), sent
	// with every call; "" sends none.
	APIToken string
}

// Sidecar is a connection to the coordinator's Dapr sidecar.
type Sidecar struct {
	conn       *grpc.ClientConn
	baseURL    string
	httpClient *http.Client
	stepClient *http.Client
}

// NewSidecar prepares the connection to the sidecar without waiting for
// it; WaitReady waits.
func NewSidecar(opts SidecarOptions) (*Sidecar, error) {
	dialOpts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(tracing.GRPCInterceptor()),
	}
	if opts.APIToken != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(tokenCredentials(opts.APIToken)))
	}
	conn, err := grpc.NewClient(net.JoinHostPort(opts.Host, strconv.Itoa(opts.GRPCPort)), dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("dial sidecar: %w", err)
	}
	return &Sidecar{
		conn:       conn,
		baseURL:    "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(opts.HTTPPort)),
		httpClient: &http.Client{Timeout: 2 * time.Second},
		// Each invocation is a client span, and carries the trace context
		// to the sidecar, which passes it on to the called app.
		stepClient: &http.Client{Timeout: opts.StepTimeout, Transport: withToken(opts.APIToken, otelhttp.NewTransport(http.DefaultTransport))},
	}, nil
}

// Conn is the gRPC connection to the sidecar, for the workflow client.
func (s *Sidecar) Conn() *grpc.ClientConn { return s.conn }

// Close releases the connection.
func (s *Sidecar) Close() { s.conn.Close() }

// WaitReady returns once the sidecar answers, or with an error when ctx
// ends first.
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

// Ready reports whether the sidecar is ready for outbound calls.
func (s *Sidecar) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+"/v1.0/healthz/outbound", nil)
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
	return nil
}
