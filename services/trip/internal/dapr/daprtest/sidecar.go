// Package daprtest runs a fake Dapr sidecar for the trip service's tests:
// the gRPC state and publish calls the service makes, backed by memory with
// the first-write semantics of Dapr's Redis state store, and the HTTP
// health endpoint.
package daprtest

import (
	"context"
	"google.golang.org/grpc/metadata"
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
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/ride-choreography/services/trip/internal/dapr"
)

// StateStore is the name of the only state store the fake sidecar has.
const StateStore = "trip-store"

// Published is one event the sidecar was asked to publish.
type Published struct {
	PubsubName  string
	Topic       string
	Data        []byte
	ContentType string
}

// Sidecar is a fake Dapr sidecar. Its state store saves the way daprd does
// with the Redis state store: each key's ETag is its version, 1, 2, 3, ...;
// a key not stored yet takes any write; a stored key takes a write with
// its current ETag, or with "0" or none when it was never written with
// first-write concurrency. A write it refuses is codes.Aborted when it
// carried an ETag (an ETag mismatch), else codes.Internal.
type Sidecar struct {
	runtimev1.UnimplementedDaprServer

	mu           sync.Mutex
	state        map[string]entry
	healthStatus int
	stateErr     error
	publishErr   error
	reads        []string
	saves        []*commonv1.StateItem
	published    []Published
	// While held, calls wait to answer until gate closes, and tell held.
	gate chan struct{}
	held chan struct{}
}

type entry struct {
	value      []byte
	version    int
	firstWrite bool
}

// Start serves a fake sidecar until the test ends, and returns it with the
// options that reach it.
func Start(t testing.TB) (*Sidecar, dapr.SidecarOptions) {
	t.Helper()
	s := &Sidecar{state: map[string]entry{}, healthStatus: http.StatusNoContent}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake sidecar: %v", err)
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

// FailState makes every state call fail with err, without effect; nil
// heals the store.
func (s *Sidecar) FailState(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stateErr = err
}

// FailPublish makes every publish fail with err, without effect; nil heals
// the broker.
func (s *Sidecar) FailPublish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishErr = err
}

// Hold makes calls answer only once release is called, or once their
// caller gives up: each call is carried out, and its answer held, as when
// an answer is slow or lost. held receives a value for each call held.
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

// Put stores value under key as another replica of the service would:
// with first-write concurrency, over whatever was there.
func (s *Sidecar) Put(key string, value []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.state[key]
	s.state[key] = entry{value: value, version: e.version + 1, firstWrite: true}
}

// Value returns the value stored under key, its ETag, and whether there is
// one.
func (s *Sidecar) Value(key string) (value []byte, etag string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.state[key]
	if !ok {
		return nil, "", false
	}
	return e.value, strconv.Itoa(e.version), true
}

// Reads returns the key of every GetState call, in order.
func (s *Sidecar) Reads() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reads...)
}

// Saves returns every item a SaveState call asked to save, in order,
// refused ones included.
func (s *Sidecar) Saves() []*commonv1.StateItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*commonv1.StateItem(nil), s.saves...)
}

// Published returns every event published, in order.
func (s *Sidecar) Published() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Published(nil), s.published...)
}

// GetState implements the Dapr gRPC API.
func (s *Sidecar) GetState(ctx context.Context, req *runtimev1.GetStateRequest) (*runtimev1.GetStateResponse, error) {
	resp, err := s.getState(req)
	return resp, s.answer(ctx, err)
}

func (s *Sidecar) getState(req *runtimev1.GetStateRequest) (*runtimev1.GetStateResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads = append(s.reads, req.GetKey())
	if err := s.checkState(req.GetStoreName()); err != nil {
		return nil, err
	}
	e, ok := s.state[req.GetKey()]
	if !ok {
		return &runtimev1.GetStateResponse{}, nil
	}
	return &runtimev1.GetStateResponse{Data: e.value, Etag: strconv.Itoa(e.version)}, nil
}

// SaveState implements the Dapr gRPC API.
func (s *Sidecar) SaveState(ctx context.Context, req *runtimev1.SaveStateRequest) (*emptypb.Empty, error) {
	return s.answerEmpty(ctx, s.saveState(req))
}

func (s *Sidecar) saveState(req *runtimev1.SaveStateRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves = append(s.saves, req.GetStates()...)
	if err := s.checkState(req.GetStoreName()); err != nil {
		return err
	}
	for _, item := range req.GetStates() {
		firstWrite := item.GetOptions().GetConcurrency() == commonv1.StateOptions_CONCURRENCY_FIRST_WRITE
		hasETag := item.GetEtag().GetValue() != ""
		version := "0" // what the Redis store checks when given no ETag
		if firstWrite && hasETag {
			if _, err := strconv.Atoi(item.GetEtag().GetValue()); err != nil {
				return status.Errorf(codes.InvalidArgument, "failed saving state in state store %s: invalid etag value", StateStore)
			}
			version = item.GetEtag().GetValue()
		}
		current, exists := s.state[item.GetKey()]
		if exists && version != strconv.Itoa(current.version) && (current.firstWrite || version != "0") {
			if hasETag {
				return status.Errorf(codes.Aborted, "failed saving state in state store %s: possible etag mismatch", StateStore)
			}
			return status.Errorf(codes.Internal, "failed saving state in state store %s: failed to set key %s", StateStore, item.GetKey())
		}
		s.state[item.GetKey()] = entry{value: item.GetValue(), version: current.version + 1, firstWrite: current.firstWrite || firstWrite}
	}
	return nil
}

// PublishEvent implements the Dapr gRPC API.
func (s *Sidecar) PublishEvent(ctx context.Context, req *runtimev1.PublishEventRequest) (*emptypb.Empty, error) {
	return s.answerEmpty(ctx, s.publish(req))
}

func (s *Sidecar) publish(req *runtimev1.PublishEventRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.publishErr != nil {
		return s.publishErr
	}
	s.published = append(s.published, Published{
		PubsubName:  req.GetPubsubName(),
		Topic:       req.GetTopic(),
		Data:        req.GetData(),
		ContentType: req.GetDataContentType(),
	})
	return nil
}

// checkState returns the error a state call on store fails with, if any.
func (s *Sidecar) checkState(store string) error {
	if s.stateErr != nil {
		return s.stateErr
	}
	if store != StateStore {
		return status.Errorf(codes.InvalidArgument, "state store %s is not found", store)
	}
	return nil
}

// answerEmpty answers a call whose only result is err, as answer does.
func (s *Sidecar) answerEmpty(ctx context.Context, err error) (*emptypb.Empty, error) {
	if err != nil {
		return nil, s.answer(ctx, err)
	}
	return &emptypb.Empty{}, s.answer(ctx, nil)
}

// answer returns err once the call may answer: at once, or, while the
// sidecar is held, on release or when the caller gives up.
func (s *Sidecar) answer(ctx context.Context, err error) error {
	s.mu.Lock()
	gate, held := s.gate, s.held
	s.mu.Unlock()
	if gate == nil {
		return err
	}
	select {
	case held <- struct{}{}:
	default: // no one is counting this many
	}
	select {
	case <-gate:
		return err
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
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
