package streams

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/ride-choreography/backlog/internal/redistest"
)

var topics = []string{"trip-created", "driver-assigned", "driver-not-found"}

// read returns what a Reader of topics reads from the server, failing the
// test on an error.
func read(t *testing.T, s *redistest.Server, topics ...string) []Group {
	t.Helper()
	r := NewReader(s.Addr, "", topics)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	groups, err := r.Groups(ctx)
	if err != nil {
		t.Fatalf("Groups() error = %v", err)
	}
	return groups
}

// fixture runs Redis commands, failing the test on an error.
type fixture struct {
	t      *testing.T
	client *redis.Client
}

func (f fixture) group(stream, group string) {
	f.t.Helper()
	// As Dapr's Redis pub/sub subscribes: the group starts at the stream's
	// beginning, and the stream is made if it does not exist.
	if err := f.client.XGroupCreateMkStream(context.Background(), stream, group, "0").Err(); err != nil {
		f.t.Fatalf("XGROUP CREATE %s %s: %v", stream, group, err)
	}
}

func (f fixture) add(stream string, n int) []string {
	f.t.Helper()
	var ids []string
	for range n {
		id, err := f.client.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: map[string]any{"data": "{}"}}).Result()
		if err != nil {
			f.t.Fatalf("XADD %s: %v", stream, err)
		}
		ids = append(ids, id)
	}
	return ids
}

func (f fixture) readGroup(stream, group string, n int) []string {
	f.t.Helper()
	got, err := f.client.XReadGroup(context.Background(), &redis.XReadGroupArgs{
		Group: group, Consumer: group, Streams: []string{stream, ">"}, Count: int64(n), Block: -1,
	}).Result()
	if err != nil {
		f.t.Fatalf("XREADGROUP %s %s: %v", stream, group, err)
	}
	var ids []string
	for _, m := range got[0].Messages {
		ids = append(ids, m.ID)
	}
	if len(ids) != n {
		f.t.Fatalf("XREADGROUP %s %s COUNT %d read %d entries", stream, group, n, len(ids))
	}
	return ids
}

func (f fixture) ack(stream, group string, ids ...string) {
	f.t.Helper()
	if n, err := f.client.XAck(context.Background(), stream, group, ids...).Result(); err != nil || n != int64(len(ids)) {
		f.t.Fatalf("XACK %s %s %v = %d, %v", stream, group, ids, n, err)
	}
}

func TestGroupsCountLagAndPending(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f fixture)
		want  []Group
	}{
		{
			name:  "no streams yet",
			setup: func(fixture) {},
			want:  nil,
		},
		{
			name: "subscribed, nothing published",
			setup: func(f fixture) {
				f.group("trip-created", "driver")
				f.group("trip-created", "notification")
			},
			want: []Group{
				{Topic: "trip-created", App: "driver"},
				{Topic: "trip-created", App: "notification"},
			},
		},
		{
			name: "published while nobody read",
			setup: func(f fixture) {
				f.group("trip-created", "driver")
				f.add("trip-created", 5)
			},
			want: []Group{{Topic: "trip-created", App: "driver", Lag: 5}},
		},
		{
			name: "a group that was away from the start",
			setup: func(f fixture) {
				f.add("trip-created", 4)
				f.group("trip-created", "driver")
				f.add("trip-created", 3)
			},
			want: []Group{{Topic: "trip-created", App: "driver", Lag: 7}},
		},
		{
			name: "read, some acknowledged, each group apart",
			setup: func(f fixture) {
				f.group("trip-created", "driver")
				f.group("trip-created", "notification")
				f.group("trip-created", "trip")
				f.add("trip-created", 5)
				ids := f.readGroup("trip-created", "driver", 3)
				f.ack("trip-created", "driver", ids[0], ids[2])
				f.readGroup("trip-created", "notification", 5)
				f.ack("trip-created", "trip", f.readGroup("trip-created", "trip", 5)...)
			},
			want: []Group{
				{Topic: "trip-created", App: "driver", Lag: 2, Pending: 1},
				{Topic: "trip-created", App: "notification", Lag: 0, Pending: 5},
				{Topic: "trip-created", App: "trip", Lag: 0, Pending: 0},
			},
		},
		{
			name: "every topic, in the order given",
			setup: func(f fixture) {
				f.group("driver-not-found", "trip")
				f.group("driver-assigned", "trip")
				f.group("driver-assigned", "notification")
				f.group("trip-created", "driver")
				f.add("driver-not-found", 1)
				f.add("driver-assigned", 2)
				f.readGroup("driver-assigned", "trip", 1)
			},
			want: []Group{
				{Topic: "trip-created", App: "driver"},
				{Topic: "driver-assigned", App: "notification", Lag: 2},
				{Topic: "driver-assigned", App: "trip", Lag: 1, Pending: 1},
				{Topic: "driver-not-found", App: "trip", Lag: 1},
			},
		},
		{
			name: "a stream with no groups",
			setup: func(f fixture) {
				f.add("trip-created", 2)
			},
			want: nil,
		},
		{
			name: "a stream that is not one of the topics",
			setup: func(f fixture) {
				f.group("trip-dead-letters", "trip")
				f.add("trip-dead-letters", 2)
			},
			want: nil,
		},
		{
			name: "an entry deleted ahead of the group: Redis cannot count the lag",
			setup: func(f fixture) {
				f.group("trip-created", "driver")
				ids := f.add("trip-created", 3)
				if err := f.client.XDel(context.Background(), "trip-created", ids[1]).Err(); err != nil {
					f.t.Fatal(err)
				}
			},
			want: []Group{{Topic: "trip-created", App: "driver", Lag: UnknownLag}},
		},
		{
			name: "an entry deleted behind the group: the lag is counted again",
			setup: func(f fixture) {
				f.group("trip-created", "driver")
				ids := f.add("trip-created", 3)
				f.ack("trip-created", "driver", f.readGroup("trip-created", "driver", 2)...)
				if err := f.client.XDel(context.Background(), "trip-created", ids[0]).Err(); err != nil {
					f.t.Fatal(err)
				}
			},
			want: []Group{{Topic: "trip-created", App: "driver", Lag: 1}},
		},
	}
	s := redistest.Start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Client.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			tt.setup(fixture{t: t, client: s.Client})

			got := read(t, s, topics...)

			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Groups() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupsFailsWhenRedisCannotBeRead(t *testing.T) {
	s := redistest.Start(t)
	if err := s.Client.Set(context.Background(), "driver-assigned", "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	down := redistest.FreePort(t)
	protected := redistest.Start(t)
	if err := protected.Client.ConfigSet(context.Background(), "requirepass", "secret").Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		addr     string
		password string
		want     string // in the error
	}{
		{name: "nothing listens", addr: "127.0.0.1:" + strconv.Itoa(down), want: "connection refused"},
		{name: "a key of a topic's name is not a stream", addr: s.Addr, want: "XINFO GROUPS driver-assigned: WRONGTYPE"},
		{name: "no password", addr: protected.Addr, want: "NOAUTH"},
		{name: "wrong password", addr: protected.Addr, password: "guess", want: "WRONGPASS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.addr, tt.password, topics)
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			groups, err := r.Groups(ctx)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Groups() = %v, %v; want an error with %q", groups, err, tt.want)
			}
		})
	}
}

func TestGroupsWithPassword(t *testing.T) {
	s := redistest.Start(t)
	f := fixture{t: t, client: s.Client}
	f.group("trip-created", "driver")
	f.add("trip-created", 2)
	if err := s.Client.ConfigSet(context.Background(), "requirepass", "secret").Err(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(s.Addr, "secret", topics)
	defer r.Close()

	got, err := r.Groups(context.Background())

	if err != nil {
		t.Fatalf("Groups() error = %v", err)
	}
	if diff := cmp.Diff([]Group{{Topic: "trip-created", App: "driver", Lag: 2}}, got); diff != "" {
		t.Errorf("Groups() mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		info string
		ok   bool
	}{
		{info: "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n", ok: true},
		{info: "# Server\r\nredis_version:8.2.1\r\n", ok: true},
		{info: "# Server\r\nredis_version:6.2.14\r\n", ok: false},
		{info: "# Server\r\nredis_version:5.0.7\r\n", ok: false},
		{info: "# Server\r\nredis_version:x\r\n", ok: false},
		{info: "# Server\r\n", ok: false},
	}
	for _, tt := range tests {
		err := checkVersion(tt.info)
		if (err == nil) != tt.ok {
			t.Errorf("checkVersion(%q) = %v, want ok %v", tt.info, err, tt.ok)
		}
	}
}
