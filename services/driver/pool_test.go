package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ride-choreography/services/driver/internal/app"
	"github.com/ride-choreography/services/driver/internal/dapr/daprtest"
	"github.com/ride-choreography/services/driver/internal/driver"
	"github.com/ride-choreography/services/driver/internal/testkit"
)

func TestRunWithTenThousandDrivers(t *testing.T) {
	fake := daprtest.Start(t, "driver-store")
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	stop, done := startRun(t, sidecarEnv(port, fake, map[string]string{"DRIVER_POOL_SIZE": "10000"}), io.Discard)
	waitReady(t, base)

	// Seeding read the empty store and wrote the pool, 500 drivers a call
	// (besides the readiness probes' GetState).
	seeding := fake.Calls()
	if seeding.GetBulkState != 20 || seeding.KeysRead-seeding.GetState != 10_000 || seeding.SaveState != 20 || seeding.KeysWritten != 10_000 {
		t.Errorf("seeding made calls %+v, want 20 reads and 20 writes of 500 drivers", seeding)
	}

	if got := <-deliverExample(t, base); got != `{"status":"SUCCESS"}` {
		t.Fatalf("delivery answered %s, want SUCCESS", got)
	}
	// One read of the trip's outcome and reservation with the eight
	// drivers nearest the pickup; writes of the reservation, the driver
	// and the outcome; the publish.
	want := daprtest.Calls{GetBulkState: 1, KeysRead: 2 + 8, SaveState: 3, KeysWritten: 3, PublishEvent: 1}
	if diff := cmp.Diff(want, fake.Calls()); diff != "" {
		t.Errorf("sidecar calls for one assignment mismatch (-want +got):\n%s", diff)
	}

	for query, wantDrivers := range map[string]int{"": 10_000, "?offset=9990&limit=20": 10} {
		status, body := get(base + "/drivers" + query)
		var list struct {
			Drivers []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"drivers"`
		}
		if err := json.Unmarshal([]byte(body), &list); status != http.StatusOK || err != nil {
			t.Fatalf("GET /drivers%s = %d, %v", query, status, err)
		}
		if len(list.Drivers) != wantDrivers {
			t.Errorf("GET /drivers%s listed %d drivers, want %d", query, len(list.Drivers), wantDrivers)
		}
	}

	stop()
	awaitReturn(t, done, "stop")
}

func TestRunRestartFreesNobody(t *testing.T) {
	// A second start over the same store reads the pool and writes nothing.
	fake := daprtest.Start(t, "driver-store")
	for start := range 2 {
		port := freePort(t)
		stop, done := startRun(t, sidecarEnv(port, fake, map[string]string{"DRIVER_POOL_SIZE": "1200"}), io.Discard)
		waitReady(t, "http://127.0.0.1:"+port)
		calls := fake.Calls()
		if start == 1 && (calls.SaveState != 0 || calls.GetBulkState != 3) {
			t.Errorf("second start made calls %+v, want 3 reads of the pool and no writes", calls)
		}
		stop()
		awaitReturn(t, done, "stop")
	}
}

// startingStore is a Store whose first reads fail, as a state store that
// is still starting does.
type startingStore struct {
	*testkit.Store
	failures atomic.Int32 // reads still to fail
}

func (s *startingStore) Drivers(ctx context.Context, ids []string) ([]app.StoredDriver, error) {
	if s.failures.Add(-1) >= 0 {
		return nil, errors.New("state store starting")
	}
	return s.Store.Drivers(ctx, ids)
}

// newPoolService returns the service over store with the default pool.
func newPoolService(store app.Store) *app.Service {
	return app.NewService(store, &testkit.Publisher{}, &testkit.Metrics{}, driver.DefaultPool(),
		app.Timing{AssignDeadline: time.Minute, RideDuration: time.Minute}, time.Now)
}

func TestSeedPoolTriesAgainUntilItSucceeds(t *testing.T) {
	store := &startingStore{Store: testkit.NewStore()}
	store.failures.Store(2)
	service := newPoolService(store)
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()

	if err := seedPool(ctx, service); err != nil {
		t.Fatalf("seedPool() error = %v, want nil", err)
	}
	if left := store.failures.Load(); left >= 0 {
		t.Errorf("seedPool() returned with %d failures left, want it to have tried until the store answered", left+1)
	}
	if drivers, err := service.Drivers(ctx, app.Page{}); err != nil || len(drivers) != 5 {
		t.Errorf("after seedPool(), Drivers() = %d drivers, %v; want the 5 of the pool", len(drivers), err)
	}
}

func TestSeedPoolGivesUpWhenItsContextEnds(t *testing.T) {
	store := testkit.NewStore()
	store.Err = errors.New("connection refused")
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()

	err := seedPool(ctx, newPoolService(store))

	if ctx.Err() == nil {
		t.Errorf("seedPool() returned %v before its context ended", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last error: seed pool: ") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("seedPool() error = %v, want the deadline and the last failure", err)
	}
}
