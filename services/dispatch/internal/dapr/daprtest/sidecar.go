// Package daprtest runs a fake Dapr sidecar for tests: the parts of the
// gRPC state API and the HTTP health endpoint that the service uses.
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

	"github.com/ride-choreography/services/dispatch/internal/dapr"
)

// StateStore is the name of the only state store the fake sidecar has.
const StateStore = "dispatch-store"

// Sidecar is a fake Dapr sidecar. Its state store versions each key and
// saves like Dapr's Redis store under first-write concurrency: only with
// the key's current ETag, or with none for a key not stored yet; else it
// answers codes.Aborted, as Dapr does for an ETag mismatch.
type Sidecar struct {
	runtimev1.UnimplementedDaprServer

	mu           sync.Mutex
	values       map[string][]byte
	versions     map[string]int
	healthStatus int
	failWith     error
	reads        []string
	saves        []*commonv1.StateItem
	traceParents []string
	// While held, state calls wait for gate to close, and tell held.
	gate chan struct{}
	held chan struct{}
}

// Start serves a fake sidecar until the test ends, and returns it with the
// options that reach it.
func Start(t testing.TB) (*Sidecar, dapr.SidecarOptions) {
	t.Helper()
	s := &Sidecar{values: map[string][]byte{}, versions: map[string]int{}, healthStatus: http.StatusNoContent}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcServer := grpc.NewServer(grpc.UnaryInterceptor(requireToken))
	runtimev1.RegisterDaprServer(grpcServer, s)
	go func() { _ = grpcServer.Serve(ln) }()
	t.Cleanup(grpcServer.Stop)

	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.0/healthz/outbound" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		w.WriteHeader(s.healthStatus)
	}))
	t.Cleanup(health.Close)

	return s, dapr.SidecarOptions{
		APIToken:   APIToken,
		Host:       "127.0.0.1",
		GRPCPort:   ln.Addr().(*net.TCPAddr).Port,
		HTTPPort:   health.Listener.Addr().(*net.TCPAddr).Port,
		StateStore: StateStore,
	}
}

// SetHealth sets the HTTP status the health endpoint answers.
func (s *Sidecar) SetHealth(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.healthStatus = status
}

// FailState makes every state call fail with err; nil heals the store.
func (s *Sidecar) FailState(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = err
}

// Hold makes state calls wait until release is called. held receives a
// value for each call that starts waiting.
func (s *Sidecar) Hold() (held <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate, s.held = make(chan struct{}), make(chan struct{}, 64)
	gate := s.gate
	var once sync.Once
	return s.held, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			close(gate)
			s.gate = nil
		})
	}
}

// Put stores value under key, as another writer would.
func (s *Sidecar) Put(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = value
	s.versions[key]++
}

// Reads returns the key of every GetState call, in order.
func (s *Sidecar) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

// Saves returns every item a SaveState call asked to save, in order.
func (s *Sidecar) Saves() []*commonv1.StateItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*commonv1.StateItem(nil), s.saves...)
}

// TraceParents returns the traceparent metadata of every state call.
func (s *Sidecar) TraceParents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.traceParents...)
}

// GetState implements the Dapr gRPC API.
func (s *Sidecar) GetState(ctx context.Context, req *runtimev1.GetStateRequest) (*runtimev1.GetStateResponse, error) {
	s.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, req.GetKey())
	if err := s.call(ctx, req.GetStoreName()); err != nil {
		return nil, err
	}
	return &runtimev1.GetStateResponse{Data: s.values[req.GetKey()], Etag: s.etag(req.GetKey())}, nil
}

// SaveState implements the Dapr gRPC API.
func (s *Sidecar) SaveState(ctx context.Context, req *runtimev1.SaveStateRequest) (*emptypb.Empty, error) {
	s.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call(ctx, req.GetStoreName()); err != nil {
		return nil, err
	}
	for _, item := range req.GetStates() {
		s.saves = append(s.saves, item)
		etag := item.GetEtag().GetValue()
		if etag == "0" { // Redis's "nothing stored yet"
			etag = ""
		}
		if etag != s.etag(item.GetKey()) {
			return nil, status.Error(codes.Aborted, "failed saving state in state store: possible etag mismatch")
		}
		s.values[item.GetKey()] = item.GetValue()
		s.versions[item.GetKey()]++
	}
	return &emptypb.Empty{}, nil
}

// wait holds a state call while the sidecar is held.
func (s *Sidecar) wait() {
	s.mu.Lock()
	gate, held := s.gate, s.held
	s.mu.Unlock()
	if gate == nil {
		return
	}
	select {
	case held <- struct{}{}:
	default: // no one is counting this many
	}
	<-gate
}

// call records a state call and returns the error it fails with, if any.
func (s *Sidecar) call(ctx context.Context, store string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	s.traceParents = append(s.traceParents, md.Get("traceparent")...)
	if s.failWith != nil {
		return s.failWith
	}
	if store != StateStore {
		return status.Errorf(codes.InvalidArgument, "state store %s is not found", store)
	}
	return nil
}

func (s *Sidecar) etag(key string) string {
	if s.versions[key] == 0 {
		return ""
	}
	return strconv.Itoa(s.versions[key])
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
