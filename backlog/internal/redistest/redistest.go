// Package redistest starts a real redis-server for a test, on a free
// loopback port, the way the end-to-end suite does (test/system_test.go).
// The exporter's figures are Redis's own (XINFO GROUPS), so its tests read
// a real Redis, not a fake one.
package redistest

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server that runs until the test ends.
type Server struct {
	Addr   string        // host:port
	Client *redis.Client // connected to it, for the test's own commands
}

// Start starts redis-server on a free 127.0.0.1 port, in memory only,
// and stops it when the test ends. It fails the test when redis-server is
// not installed: make unit and make test install it first
// (scripts/redis.sh --installed).
func Start(t *testing.T) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not on the PATH: these tests read a real Redis. " +
			"Run them with make unit (scripts/redis.sh --installed installs it), " +
			"or install it: apt-get install redis-server")
	}
	port := FreePort(t)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--dir", t.TempDir(), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	s.Client = redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { s.Client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		err := s.Client.Ping(ctx).Err()
		if err == nil {
			return s
		}
		select {
		case err := <-exited:
			t.Fatalf("redis-server on port %d exited at start: %v", port, err)
		case <-ctx.Done():
			t.Fatalf("redis-server on port %d did not answer PING within 10s: %v", port, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FreePort returns a loopback port that nothing listens on.
func FreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
