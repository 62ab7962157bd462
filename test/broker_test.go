package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Dapr's Redis pub/sub keeps each topic as a Redis stream of that name, one
// entry per message, the CloudEvent in the entry's "data" field; each
// subscribing app id is a consumer group of the stream.

// brokerEvent is one message of a topic as the broker holds it.
type brokerEvent struct {
	entryID string          // the Redis stream entry
	raw     json.RawMessage // the CloudEvent, as Dapr stored it
	ID      string          `json:"id"`
	Data    json.RawMessage `json:"data"`
}

// decodeData decodes the event's data into v. Data may also be a JSON
// string holding the object (docs/conventions.md).
func (e brokerEvent) decodeData(v any) error {
	data := e.Data
	var s string
	if json.Unmarshal(data, &s) == nil {
		data = []byte(s)
	}
	return json.Unmarshal(data, v)
}

// topicEvents returns every message of topic on the broker, oldest first.
func (s *system) topicEvents(t *testing.T, topic string) []brokerEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := s.redis.XRange(ctx, topic, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE %s: %v", topic, err)
	}
	events := make([]brokerEvent, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["data"].(string)
		e := brokerEvent{entryID: m.ID, raw: json.RawMessage(raw)}
		if err := json.Unmarshal(e.raw, &e); err != nil {
			t.Fatalf("%s entry %s is not a CloudEvent: %v: %q", topic, m.ID, err, raw)
		}
		events = append(events, e)
	}
	return events
}

// awaitQuiet waits until the broker has nothing left to deliver: in every
// stream, every consumer group has been handed every entry and has
// acknowledged all it was handed. Handlers publish before they acknowledge,
// and POST /trips publishes its event before it answers, so
// once the test's requests are answered, a quiet broker means that nothing
// more will happen. It reports an error naming the backlog when timeout
// passes first, and returns whether the broker became quiet.
func (s *system) awaitQuiet(t *testing.T, timeout time.Duration) bool {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last []string // the last backlog seen
	var lastErr error // the last failure to read it
	for {
		backlog, err := s.backlog(ctx)
		if err == nil && len(backlog) == 0 {
			t.Logf("broker quiet after %s", time.Since(start).Round(time.Millisecond))
			return true
		}
		if err != nil {
			lastErr = err
		} else {
			last = backlog
		}
		select {
		case <-ctx.Done():
			t.Errorf("the broker did not become quiet within %s; last backlog: %s; last error reading it: %v",
				timeout, strings.Join(last, "; "), lastErr)
			return false
		case <-tick.C:
		}
	}
}

// backlog describes every consumer group that has entries it was not handed
// yet or has not acknowledged.
func (s *system) backlog(ctx context.Context) ([]string, error) {
	var streams []string
	var cursor uint64
	for {
		keys, next, err := s.redis.ScanType(ctx, cursor, "*", 100, "stream").Result()
		if err != nil {
			return nil, err
		}
		streams = append(streams, keys...)
		if cursor = next; cursor == 0 {
			break
		}
	}
	slices.Sort(streams)
	var backlog []string
	for _, stream := range streams {
		info, err := s.redis.XInfoStream(ctx, stream).Result()
		if err != nil {
			return nil, err
		}
		groups, err := s.redis.XInfoGroups(ctx, stream).Result()
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			if g.Pending > 0 || g.LastDeliveredID != info.LastGeneratedID {
				backlog = append(backlog, fmt.Sprintf("%s/%s: %d pending, last handed out %s of %s",
					stream, g.Name, g.Pending, g.LastDeliveredID, info.LastGeneratedID))
			}
		}
	}
	return backlog, nil
}

// pending counts the messages the broker has handed to an app id's
// sidecar and that it has not acknowledged yet: the app's work in flight.
func (s *system) pending(t *testing.T, appID string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n int64
	iter := s.redis.ScanType(ctx, 0, "*", 100, "stream").Iterator()
	for iter.Next(ctx) {
		groups, err := s.redis.XInfoGroups(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatalf("XINFO GROUPS %s: %v", iter.Val(), err)
		}
		for _, g := range groups {
			if g.Name == appID {
				n += g.Pending
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN streams: %v", err)
	}
	return n
}

// publish publishes a CloudEvent on topic through a replica's sidecar, as
// an app would. With Content-Type application/cloudevents+json daprd keeps
// the event as it is, its id included.
func (s *system) publish(t *testing.T, a *app, topic string, cloudEvent []byte) {
	t.Helper()
	url := a.daprURL() + "/v1.0/publish/pubsub/" + topic
	resp, err := a.callSidecar(http.MethodPost, url, "application/cloudevents+json", bytes.NewReader(cloudEvent))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST %s: want 204, got %s %s", url, resp.Status, body)
	}
}

// storedTrips returns the riderId of every trip the trip service holds, by
// trip id. It reads the trip service's state store in Redis (keys
// "trip||trip-<id>"): a trip stored but never announced leaves no other
// trace.
func (s *system) storedTrips(t *testing.T) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	trips := map[string]string{}
	iter := s.redis.Scan(ctx, 0, "trip||trip-*", 200).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		data, err := s.redis.HGet(ctx, key, "data").Result()
		if err != nil {
			t.Fatalf("HGET %s data: %v", key, err)
		}
		var stored struct {
			RiderID string `json:"riderId"`
		}
		if err := json.Unmarshal([]byte(data), &stored); err != nil {
			t.Fatalf("%s: %v: %q", key, err, data)
		}
		trips[strings.TrimPrefix(key, "trip||trip-")] = stored.RiderID
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN trip||trip-*: %v", err)
	}
	return trips
}

// deliveries returns how often a replica's sidecar handed its app an event
// on route (for example /events/trip-created), from the sidecar's metrics.
func deliveries(t *testing.T, a *app, route string) int {
	t.Helper()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", a.metricsPort)
	r := do(t, http.MethodGet, url, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %s", url, r)
	}
	total := 0
	for line := range strings.Lines(string(r.body)) {
		if !strings.HasPrefix(line, "dapr_http_client_completed_count{") || !strings.Contains(line, `path="`+route+`"`) {
			continue
		}
		var n float64
		fields := strings.Fields(line)
		if _, err := fmt.Sscan(fields[len(fields)-1], &n); err != nil {
			t.Fatalf("%s: cannot read %q: %v", url, line, err)
		}
		total += int(n)
	}
	return total
}

// cloudEvent is a CloudEvent as a test publishes it.
func cloudEvent(t *testing.T, id, topic string, data any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"specversion":     "1.0",
		"id":              id,
		"source":          "e2e",
		"type":            "com.dapr.event.sent",
		"datacontenttype": "application/json",
		"topic":           topic,
		"pubsubname":      "pubsub",
		"data":            data,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newUUID returns a random UUID (version 4) in its canonical form.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
