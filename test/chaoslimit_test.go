//go:build chaos

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestChaosGracefulSidecarStopAcknowledgesUndelivered is the smallest
// reproduction of the loss make chaos names after a graceful stop of a
// sidecar (README "Known limits", docs/chaos.md): Redis, one daprd 1.17.5
// and an app of the test's own that answers RETRY to every event, as the
// driver service does while no driver is free. With events in flight the
// daprd is sent SIGTERM, and more events are published while it shuts
// down. Dapr marks the subscription closed, then waits for the deliveries
// in flight; meanwhile the Redis component goes on reading the stream,
// hands each message to the closed subscription, which fails it ("subscription
// is closed"), and acknowledges the failed message (components-contrib
// 1.17.3, pubsub/redis.processMessage). The app answered SUCCESS to none,
// so every message acknowledged is lost to it.
//
// The test asserts that the loss happens: when it fails, Dapr no longer
// loses these messages, and README "Known limits" and docs/chaos.md must
// say so.
func TestChaosGracefulSidecarStopAcknowledgesUndelivered(t *testing.T) {
	const topic, appID = "shutdown-probe", "shutdown-probe"
	s := startRedisOnly(t)

	var mu sync.Mutex
	delivered := map[string]int{} // event id -> deliveries, all answered RETRY
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"pubsubname":"pubsub","topic":%q,"route":"/probe"}]`, topic)
	})
	mux.HandleFunc("POST /probe", func(w http.ResponseWriter, r *http.Request) {
		var e struct{ ID string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &e)
		mu.Lock()
		delivered[e.ID]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"RETRY"}`)
	})
	ports, err := freePorts(4)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{name: appID, instance: appID, port: serveApp(t, mux),
		daprHTTPPort: ports[0], daprGRPCPort: ports[1], metricsPort: ports[2], internalGRPCPort: ports[3]}
	if err := s.startSidecar(a); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.poll(ctx, "the sidecar to be ready", func(ctx context.Context) error {
		return httpOK(ctx, a.daprURL()+"/v1.0/healthz")
	}); err != nil {
		t.Fatal(err)
	}

	publish := func(id string) string {
		data, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "e2e", "type": "probe",
			"datacontenttype": "application/json", "topic": topic, "pubsubname": "pubsub", "data": map[string]string{"id": id}})
		entry, err := s.redis.XAdd(ctx, &redis.XAddArgs{Stream: topic, Values: map[string]any{"data": data}}).Result()
		if err != nil {
			t.Fatalf("XADD %s: %v", topic, err)
		}
		return entry
	}
	seen := func(ids []string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, id := range ids {
			if delivered[id] > 0 {
				n++
			}
		}
		return n
	}
	// The subscription starts once the sidecar has asked the app; publish
	// until a first event is delivered.
	var before []string
	eventually(t, 30*time.Second, "a first delivery", func() (bool, string) {
		before = append(before, "before-"+strconv.Itoa(len(before)))
		publish(before[len(before)-1])
		time.Sleep(200 * time.Millisecond)
		return seen(before) > 0, "none yet"
	})
	for len(before) < 20 {
		before = append(before, "before-"+strconv.Itoa(len(before)))
		publish(before[len(before)-1])
	}
	eventually(t, 30*time.Second, "every event in flight", func() (bool, string) {
		n := seen(before)
		return n == len(before), fmt.Sprintf("%d of %d delivered", n, len(before))
	})

	// SIGTERM, and an event every 100 ms while the sidecar shuts down.
	stopped := make(chan exit, 1)
	go func() { stopped <- a.sidecar.signal(syscall.SIGTERM, stopGrace) }()
	var during []string
	var e exit
publishing:
	for {
		select {
		case e = <-stopped:
			break publishing
		case <-time.After(100 * time.Millisecond):
			during = append(during, "during-"+strconv.Itoa(len(during)))
			publish(during[len(during)-1])
		}
	}

	// What the group holds now: a message read but not acknowledged is
	// pending; one read and acknowledged left the group for good.
	groups, err := s.redis.XInfoGroups(ctx, topic).Result()
	if err != nil || len(groups) != 1 || groups[0].Name != appID {
		t.Fatalf("XINFO GROUPS %s: %v %+v; want the group %s", topic, err, groups, appID)
	}
	pendingIDs := map[string]bool{}
	pending, err := s.redis.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: topic, Group: appID, Start: "-", End: "+", Count: 10000}).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pending {
		pendingIDs[p.ID] = true
	}
	entries, err := s.redis.XRange(ctx, topic, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	lastRead := groups[0].LastDeliveredID
	var lostBefore, lostDuring, keptBefore, keptDuring, unread int
	var lostIDs []string
	for _, entry := range entries {
		var ce struct{ ID string }
		raw, _ := entry.Values["data"].(string)
		json.Unmarshal([]byte(raw), &ce)
		read := compareEntryIDs(entry.ID, lastRead) <= 0
		acknowledged := read && !pendingIDs[entry.ID]
		inFlight := slices.Contains(before, ce.ID)
		switch {
		case !read:
			unread++
		case acknowledged && inFlight:
			lostBefore++
			lostIDs = append(lostIDs, ce.ID)
		case acknowledged:
			lostDuring++
			lostIDs = append(lostIDs, ce.ID)
		case inFlight:
			keptBefore++
		default:
			keptDuring++
		}
	}
	log, _ := os.ReadFile(a.sidecar.log)
	closed := strings.Count(string(log), "subscription is closed")
	report(t, "daprd ended %s after SIGTERM (%s); of %d events in flight (answered RETRY), %d acknowledged undelivered, %d kept pending; "+
		"of %d published while it shut down, %d acknowledged undelivered, %d kept pending, %d not read; %d \"subscription is closed\" in its log",
		e.after.Round(time.Millisecond), e.state, len(before), lostBefore, keptBefore, len(during), lostDuring, keptDuring, unread, closed)
	if lostBefore+lostDuring == 0 {
		t.Errorf("no message was acknowledged undelivered: Dapr no longer loses messages when its sidecar stops gracefully; update README \"Known limits\" and docs/chaos.md")
	} else {
		t.Logf("lost: %s", strings.Join(lostIDs, ", "))
	}
}

// startRedisOnly starts a system of Redis alone, for a test that brings
// its own sidecars and apps.
func startRedisOnly(t *testing.T) *system {
	t.Helper()
	s, err := newSystem(strings.ReplaceAll(t.Name(), "/", "_"))
	if err != nil {
		t.Fatal(err)
	}
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	s.redisPort = ports[0]
	s.redisAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.redisPort))
	s.redisPassword = newToken()
	s.redis = redis.NewClient(&redis.Options{Addr: s.redisAddr, Password: s.redisPassword})
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			s.logTails(t, 40)
		}
	})
	if err := s.startRedis(); err != nil {
		t.Fatal(err)
	}
	return s
}

// compareEntryIDs orders two Redis stream entry ids ("ms-seq").
func compareEntryIDs(a, b string) int {
	parse := func(id string) (uint64, uint64) {
		ms, seq, _ := strings.Cut(id, "-")
		m, _ := strconv.ParseUint(ms, 10, 64)
		n, _ := strconv.ParseUint(seq, 10, 64)
		return m, n
	}
	am, an := parse(a)
	bm, bn := parse(b)
	switch {
	case am != bm:
		if am < bm {
			return -1
		}
		return 1
	case an != bn:
		if an < bn {
			return -1
		}
		return 1
	}
	return 0
}
