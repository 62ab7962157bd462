// Package streams reads how many events wait for each subscriber on Redis
// Streams, the way KEDA's redis-streams scaler does: Dapr's Redis pub/sub
// keeps each topic as a stream of that name and each subscribing app as a
// consumer group named after its app id (its consumerID), and XINFO GROUPS
// tells, per group, the entries not delivered yet (lag) and those delivered
// but not acknowledged (pending). It is the only package that imports the
// Redis client.
package streams

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// UnknownLag is a Group's Lag when Redis cannot count the entries not yet
// delivered: entries were deleted (XDEL) after the group's last delivered
// one, and XINFO GROUPS answers null.
const UnknownLag = -1

// Group is what waits for one subscriber on one topic.
type Group struct {
	Topic string // the stream, named after the topic
	App   string // the consumer group, named after the subscribing app id
	// Lag counts the stream's entries not yet delivered to the group;
	// UnknownLag when Redis cannot tell.
	Lag int64
	// Pending counts the entries delivered to the group's consumers and
	// not acknowledged yet: handed to a sidecar, not yet handled.
	Pending int64
}

// Reader reads the consumer groups of a fixed list of topics.
type Reader struct {
	client *redis.Client
	topics []string
}

// NewReader returns a Reader of topics on the Redis at addr (host:port),
// with password when it is not empty. It connects on the first read.
func NewReader(addr, password string, topics []string) *Reader {
	quietClient.Do(func() { redis.SetLogger(discard{}) })
	return &Reader{
		client: redis.NewClient(&redis.Options{
			Addr:     addr,
			Password: password,
			// A scrape asks again every few seconds: one retry, for a pooled
			// connection that a Redis restart closed, and one dial, so that
			// a Redis that is down is reported at once.
			MaxRetries:    1,
			DialerRetries: 1,
		}),
		topics: topics,
	}
}

// quietClient silences the Redis client's own log once: Groups returns
// every error, and the caller logs it once, as JSON.
var quietClient sync.Once

// discard is a Redis client logger that writes nothing.
type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

// Close closes the connections to Redis.
func (r *Reader) Close() error { return r.client.Close() }

// minMajorVersion is the first Redis whose XINFO GROUPS reports lag.
const minMajorVersion = 7

// Groups returns every consumer group of the topics, topic by topic in the
// order they were given, the groups of a topic by name. A topic with no
// stream yet (nobody published or subscribed) has no groups. It reads all
// topics in one round trip, so the figures are of one moment.
func (r *Reader) Groups(ctx context.Context) ([]Group, error) {
	pipe := r.client.Pipeline()
	info := pipe.Info(ctx, "server")
	replies := make([]*redis.XInfoGroupsCmd, len(r.topics))
	for i, topic := range r.topics {
		replies[i] = pipe.XInfoGroups(ctx, topic)
	}
	// Exec's error is the first failed command's, which each command also
	// carries, or a failure to connect (a wrong password), which none does.
	_, execErr := pipe.Exec(ctx)

	if err := info.Err(); err != nil {
		return nil, fmt.Errorf("read redis version: %w", err)
	}
	var groups []Group
	for i, reply := range replies {
		found, err := reply.Result()
		if isNoSuchKey(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("XINFO GROUPS %s: %w", r.topics[i], err)
		}
		for _, g := range found {
			groups = append(groups, Group{Topic: r.topics[i], App: g.Name, Lag: g.Lag, Pending: g.Pending})
		}
	}
	if execErr != nil && !isNoSuchKey(execErr) {
		return nil, fmt.Errorf("read consumer groups: %w", execErr)
	}
	if err := checkVersion(info.Val()); err != nil {
		return nil, err
	}
	return groups, nil
}

// isNoSuchKey reports whether err is XINFO's answer for a stream that does
// not exist.
func isNoSuchKey(err error) bool {
	var redisErr redis.Error
	return errors.As(err, &redisErr) && strings.Contains(redisErr.Error(), "no such key")
}

// checkVersion reads redis_version from INFO server and refuses a Redis
// older than 7, whose XINFO GROUPS has no lag: the client would read it as
// 0, a backlog that always looks empty.
func checkVersion(info string) error {
	for line := range strings.Lines(info) {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:")
		if !ok {
			continue
		}
		major, _, _ := strings.Cut(v, ".")
		n, err := strconv.Atoi(major)
		if err != nil {
			return fmt.Errorf("read redis version %q: %w", v, err)
		}
		if n < minMajorVersion {
			return fmt.Errorf("redis %s reports no consumer group lag: the backlog exporter needs Redis %d or later", v, minMajorVersion)
		}
		return nil
	}
	return errors.New("INFO server names no redis_version")
}
