// Package daprtest runs a fake Dapr sidecar for tests: the gRPC state and
// publish API, backed by memory with the first-write semantics of Dapr's
// Redis state store, and the HTTP health endpoint.
package daprtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	commonv1 "github.com/dapr/dapr/pkg/proto/common/v1"
	runtimev1 "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Published is one event the sidecar was asked to publish.
type Published struct {
	PubsubName  string
	Topic       string
	Data        []byte
	ContentType string
	TraceParent string
}

type entry struct {
	value      []byte
	version    int
	firstWrite bool
}

// Sidecar is a fake Dapr sidecar with one state store.
type Sidecar struct {
	// GRPCPort and HTTPPort are where it listens, on 127.0.0.1.
	GRPCPort int
	HTTPPort int

	// BeforePublish, when set, runs at the start of every PublishEvent, so
	// that a test can hold a delivery in flight.
	BeforePublish func()

	runtimev1.UnimplementedDaprServer
	store string

	mu        sync.Mutex
	unhealthy bool
	state     map[string]entry
	published []Published
	calls     Calls
}

// Calls counts the calls to the sidecar's gRPC API and the keys they
// named.
type Calls struct {
	GetState, GetBulkState, SaveState, PublishEvent int
	KeysRead, KeysWritten                           int
}

// Total returns the number of calls.
func (c Calls) Total() int {
	return c.GetState + c.GetBulkState + c.SaveState + c.PublishEvent
}

// Start starts a Sidecar with the state store named store; it stops when
// the test ends.
func Start(t testing.TB, store string) *Sidecar {
	t.Helper()
	s := &Sidecar{store: store, state: map[string]entry{}}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake sidecar: %v", err)
	}
	server := grpc.NewServer(grpc.UnaryInterceptor(requireToken))
	runtimev1.RegisterDaprServer(server, s)
	go func() { _ = server.Serve(lis) }()
	t.Cleanup(server.Stop)
	s.GRPCPort = lis.Addr().(*net.TCPAddr).Port

	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.URL.Path != "/v1.0/healthz/outbound" || s.unhealthy {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(health.Close)
	s.HTTPPort = health.Listener.Addr().(*net.TCPAddr).Port
	return s
}

// SetHealthy sets what the health endpoint reports.
func (s *Sidecar) SetHealthy(healthy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unhealthy = !healthy
}

// Value returns the value stored under key and whether there is one.
func (s *Sidecar) Value(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.state[key]
	return e.value, ok
}

// Calls returns the calls counted since the last call of Calls, and
// starts counting anew.
func (s *Sidecar) Calls() Calls {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = Calls{}
	return c
}

// Published returns every event published so far, in order.
func (s *Sidecar) Published() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Published(nil), s.published...)
}

func (s *Sidecar) checkStore(name string) error {
	if name != s.store {
		return status.Errorf(codes.InvalidArgument, "state store %s is not found", name)
	}
	return nil
}

// GetState implements the Dapr gRPC API.
func (s *Sidecar) GetState(_ context.Context, req *runtimev1.GetStateRequest) (*runtimev1.GetStateResponse, error) {
	if err := s.checkStore(req.GetStoreName()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.GetState++
	s.calls.KeysRead++
	e, ok := s.state[req.GetKey()]
	if !ok {
		return &runtimev1.GetStateResponse{}, nil
	}
	return &runtimev1.GetStateResponse{Data: e.value, Etag: strconv.Itoa(e.version)}, nil
}

// GetBulkState implements the Dapr gRPC API.
func (s *Sidecar) GetBulkState(_ context.Context, req *runtimev1.GetBulkStateRequest) (*runtimev1.GetBulkStateResponse, error) {
	if err := s.checkStore(req.GetStoreName()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.GetBulkState++
	s.calls.KeysRead += len(req.GetKeys())
	resp := &runtimev1.GetBulkStateResponse{}
	for _, key := range req.GetKeys() {
		item := &runtimev1.BulkStateItem{Key: key}
		if e, ok := s.state[key]; ok {
			item.Data, item.Etag = e.value, strconv.Itoa(e.version)
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

// SaveState implements the Dapr gRPC API the way daprd does with the Redis
// state store: a first write with an ETag must match the stored version
// (else Aborted), and ETag "0" matches a key not stored yet, or one not
// written with first-write; a first write without an ETag fails on a key
// that was itself first-written, with a plain error (Internal); a last
// write always wins.
func (s *Sidecar) SaveState(_ context.Context, req *runtimev1.SaveStateRequest) (*emptypb.Empty, error) {
	if err := s.checkStore(req.GetStoreName()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.SaveState++
	s.calls.KeysWritten += len(req.GetStates())
	for _, item := range req.GetStates() {
		firstWrite := item.GetOptions().GetConcurrency() == commonv1.StateOptions_CONCURRENCY_FIRST_WRITE
		etag := item.GetEtag().GetValue()
		current, exists := s.state[item.GetKey()]
		switch {
		case !firstWrite || !exists:
		case etag == "0" && !current.firstWrite:
		case etag != "" && etag != strconv.Itoa(current.version):
			return nil, status.Errorf(codes.Aborted, "failed saving state in state store %s: possible etag mismatch", s.store)
		case etag == "" && current.firstWrite:
			return nil, status.Errorf(codes.Internal, "failed saving state in state store %s: failed to set key %s", s.store, item.GetKey())
		}
		s.state[item.GetKey()] = entry{value: item.GetValue(), version: current.version + 1, firstWrite: firstWrite}
	}
	return &emptypb.Empty{}, nil
}

// PublishEvent implements the Dapr gRPC API.
func (s *Sidecar) PublishEvent(ctx context.Context, req *runtimev1.PublishEventRequest) (*emptypb.Empty, error) {
	if s.BeforePublish != nil {
		s.BeforePublish()
	}
	var traceParent string
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("traceparent")) > 0 {
		traceParent = md.Get("traceparent")[0]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls.PublishEvent++
	s.published = append(s.published, Published{
		PubsubName:  req.GetPubsubName(),
		Topic:       req.GetTopic(),
		Data:        req.GetData(),
		ContentType: req.GetDataContentType(),
		TraceParent: traceParent,
	})
	return &emptypb.Empty{}, nil
}

// APIToken is the token the fake sidecar requires of every gRPC call, as
// daprd does with DAPR_API_TOKEN set; a call without it is Unauthenticated.
const APIToken = "fake-dapr-token-0123456789"

// requireToken refuses a call that does not carry APIToken.
func requireToken(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if md, _ := metadata.FromIncomingContext(ctx); len(md.Get("dapr-api-token")) != 1 || md.Get("dapr-api-token")[0] != APIToken {
		return nil, status.Error(codes.Unauthenticated, "Unauthorized")
	}
	return handler(ctx, req)
}
