// Package e2e runs the whole choreography for real, the way it runs in
// production minus the cloud: one Redis, the three service binaries and a
// daprd sidecar for each, all on free loopback ports. The tests drive it
// only through public HTTP, and read the broker where they must prove that
// something was not published.
//
// Run it with `make e2e` (or `make test`), which finds or builds daprd 1.17
// and passes it in DAPRD. It needs redis-server on the PATH.
package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// services are the apps under test, in the order they start. Each runs
// from ../services/<name>; its Dapr app id is its name (docs/conventions.md).
var services = []string{"trip", "driver", "notification"}

// sys is the running system the tests use; TestMain starts and stops it.
var sys *system

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

// runTests starts the system, runs the tests, stops the system (also on
// Ctrl-C), and prints every process's log when something failed.
func runTests(m *testing.M) int {
	s, err := newSystem()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(s.dir)
	stopOnSignal(s)

	start := time.Now()
	if err := s.start(); err != nil {
		s.stop()
		fmt.Fprintf(os.Stderr, "e2e: the system did not start: %v\n", err)
		s.printLogs(os.Stderr)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("e2e: system ready in %s (logs in %s)\n", time.Since(start).Round(time.Millisecond), s.logDir())
	}
	sys = s

	code := m.Run()
	s.stop()
	if code != 0 {
		s.printLogs(os.Stdout)
	}
	return code
}

// stopOnSignal kills the system and exits when the test binary is
// interrupted: the processes run in process groups of their own, which a
// Ctrl-C on the terminal does not reach.
func stopOnSignal(s *system) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "e2e: %s: killing the system\n", sig)
		s.kill()
		os.RemoveAll(s.dir)
		os.Exit(130)
	}()
}

// system is Redis plus, for each service, its binary and its sidecar.
type system struct {
	daprd string // path of the daprd binary
	dir   string // temporary: binaries, components, Redis data, logs

	redisAddr string        // host:port of the test's own Redis
	redis     *redis.Client // for tests that read the broker
	apps      map[string]*app

	mu       sync.Mutex
	procs    []*process // in start order
	stopOnce sync.Once
}

// app is one service and the ports of its sidecar.
type app struct {
	name             string
	port             int // APP_PORT
	daprHTTPPort     int
	daprGRPCPort     int
	metricsPort      int
	internalGRPCPort int
}

// url is the base URL of the service's public HTTP API.
func (a *app) url() string { return "http://127.0.0.1:" + strconv.Itoa(a.port) }

// url returns the URL of path on the named service.
func (s *system) url(service, path string) string { return s.apps[service].url() + path }

func newSystem() (*system, error) {
	daprd := os.Getenv("DAPRD")
	if daprd == "" {
		return nil, errors.New("DAPRD is not set. The end-to-end tests run real Dapr sidecars: " +
			"run them with `make e2e`, which finds or builds daprd 1.17, or set DAPRD=$(../scripts/daprd.sh)")
	}
	if info, err := os.Stat(daprd); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("DAPRD=%s is not an executable file", daprd)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, errors.New("redis-server is not on the PATH; install it (Debian: apt-get install redis-server)")
	}
	dir, err := os.MkdirTemp("", "ride-e2e-")
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"bin", "components", "logs", "redis"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	return &system{daprd: daprd, dir: dir, apps: map[string]*app{}}, nil
}

func (s *system) logDir() string { return filepath.Join(s.dir, "logs") }

// start builds the services, then starts Redis, the services and their
// sidecars, and waits until every one of them is ready.
func (s *system) start() error {
	if err := s.buildServices(); err != nil {
		return err
	}
	ports, err := freePorts(1 + 5*len(services))
	if err != nil {
		return err
	}
	if err := s.startRedis(ports[0]); err != nil {
		return err
	}
	if err := s.writeComponents(); err != nil {
		return err
	}
	for i, name := range services {
		p := ports[1+5*i:]
		a := &app{name: name, port: p[0], daprHTTPPort: p[1], daprGRPCPort: p[2], metricsPort: p[3], internalGRPCPort: p[4]}
		s.apps[name] = a
		if err := s.startService(a); err != nil {
			return err
		}
		if err := s.startSidecar(a); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return s.waitReady(ctx)
}

// buildServices builds each service's binary the way a container build
// does: from its own folder, as its own module (GOWORK=off).
func (s *system) buildServices() error {
	errs := make([]error, len(services))
	var wg sync.WaitGroup
	for i, name := range services {
		wg.Go(func() {
			cmd := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(s.dir, "bin", name), ".")
			cmd.Dir = filepath.Join("..", "services", name)
			cmd.Env = append(os.Environ(), "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("build %s: %w\n%s", name, err, out)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startRedis starts a Redis of the test's own, without persistence, and
// waits until it answers.
func (s *system) startRedis(port int) error {
	s.redisAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	_, err := s.spawn("redis", "", nil, "redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", filepath.Join(s.dir, "redis"))
	if err != nil {
		return err
	}
	s.redis = redis.NewClient(&redis.Options{Addr: s.redisAddr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.poll(ctx, "redis to answer PING", func(ctx context.Context) error {
		return s.redis.Ping(ctx).Err()
	})
}

// writeComponents copies ../components for the sidecars, pointing them at
// the test's Redis. The components read the address from REDIS_HOST
// (envRef), which startSidecar sets; files that still name localhost:6379
// are rewritten.
func (s *system) writeComponents() error {
	files, err := filepath.Glob(filepath.Join("..", "components", "*.yaml"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("no component files in ../components")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		b = []byte(strings.ReplaceAll(string(b), "localhost:6379", s.redisAddr))
		if err := os.WriteFile(filepath.Join(s.dir, "components", filepath.Base(f)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startService starts a service's binary with its configuration in the
// environment, as docs/conventions.md names it.
func (s *system) startService(a *app) error {
	env := append(inheritedEnv(),
		"APP_HOST=127.0.0.1",
		"APP_PORT="+strconv.Itoa(a.port),
		"DAPR_HOST=127.0.0.1",
		"DAPR_HTTP_PORT="+strconv.Itoa(a.daprHTTPPort),
		"DAPR_GRPC_PORT="+strconv.Itoa(a.daprGRPCPort),
		"SIDECAR_WAIT=60s",
	)
	_, err := s.spawn(a.name, "", env, filepath.Join(s.dir, "bin", a.name))
	return err
}

// inheritedEnv is the test's environment without the variables that
// configure a service or the components (docs/conventions.md), so that a
// developer's shell cannot change the system under test. LOG_LEVEL passes.
func inheritedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "APP_HOST", "APP_PORT", "DAPR_HOST", "DAPR_HTTP_PORT", "DAPR_GRPC_PORT", "PUBSUB_NAME",
			"STATESTORE_NAME", "SIDECAR_WAIT", "SHUTDOWN_TIMEOUT", "ASSIGN_DEADLINE", "REDIS_HOST":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startSidecar starts the service's daprd in standalone mode. Without
// placement and scheduler addresses daprd 1.17 runs with actors, workflows
// and jobs disabled and waits for neither.
func (s *system) startSidecar(a *app) error {
	components := filepath.Join(s.dir, "components")
	env := append(inheritedEnv(), "REDIS_HOST="+s.redisAddr)
	_, err := s.spawn(a.name+"-dapr", "", env, s.daprd,
		"--app-id", a.name,
		"--app-port", strconv.Itoa(a.port),
		"--app-protocol", "http",
		"--dapr-http-port", strconv.Itoa(a.daprHTTPPort),
		"--dapr-grpc-port", strconv.Itoa(a.daprGRPCPort),
		"--metrics-port", strconv.Itoa(a.metricsPort),
		"--dapr-internal-grpc-port", strconv.Itoa(a.internalGRPCPort),
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--metrics-listen-address", "127.0.0.1",
		"--resources-path", components,
		"--config", filepath.Join(components, "config.yaml"),
		"--log-level", "info",
	)
	return err
}

// waitReady waits until every sidecar answers /v1.0/healthz and every
// service /readyz, or a process exits, or ctx ends.
func (s *system) waitReady(ctx context.Context) error {
	for _, name := range services {
		a := s.apps[name]
		probes := []struct{ what, url string }{
			{name + " sidecar", fmt.Sprintf("http://127.0.0.1:%d/v1.0/healthz", a.daprHTTPPort)},
			{name, a.url() + "/readyz"},
		}
		for _, p := range probes {
			err := s.poll(ctx, p.what+" to be ready", func(ctx context.Context) error {
				return httpOK(ctx, p.url)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// poll calls check until it returns nil, failing early when one of the
// system's processes has exited, and at ctx's deadline.
func (s *system) poll(ctx context.Context, what string, check func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		if p := s.exited(); p != nil {
			return fmt.Errorf("waiting for %s: %s exited: %v (log: %s)", what, p.name, p.err, p.log)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w; last error: %v", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// httpOK GETs url and reports an error unless the answer is 2xx.
func httpOK(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen, so none repeats
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is a program the system started, with its output in a log file.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // why it exited; read after done is closed
}

// spawn starts a program in a process group of its own, with stdout and
// stderr in logs/<name>.log. On Linux the process is also killed when the
// test binary dies (a panic, a timeout), so nothing outlives the tests.
func (s *system) spawn(name, dir string, env []string, bin string, args ...string) (*process, error) {
	log := filepath.Join(s.logDir(), name+".log")
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = processGroup()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// exited returns a process that has exited, or nil.
func (s *system) exited() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		select {
		case <-p.done:
			return p
		default:
		}
	}
	return nil
}

// stop stops the services first, then the sidecars, then Redis, each with
// SIGTERM and a grace period, then SIGKILL for its whole process group.
func (s *system) stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		procs := s.procs
		s.mu.Unlock()
		var services, sidecars, rest []*process
		for _, p := range procs {
			switch {
			case strings.HasSuffix(p.name, "-dapr"):
				sidecars = append(sidecars, p)
			case p.name == "redis":
				rest = append(rest, p)
			default:
				services = append(services, p)
			}
		}
		for _, group := range [][]*process{services, sidecars, rest} {
			var wg sync.WaitGroup
			for _, p := range group {
				wg.Go(func() { p.stop(10 * time.Second) })
			}
			wg.Wait()
		}
		if s.redis != nil {
			s.redis.Close()
		}
	})
}

// kill kills every process group at once, without waiting.
func (s *system) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

func (p *process) stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		fmt.Fprintf(os.Stderr, "e2e: %s did not stop within %s of SIGTERM; killing it\n", p.name, grace)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // whatever is left of the group
	<-p.done
}

// printLogs writes every process's log, in start order.
func (s *system) printLogs(w io.Writer) {
	s.mu.Lock()
	procs := s.procs
	s.mu.Unlock()
	for _, p := range procs {
		fmt.Fprintf(w, "\n===== %s log (%s) =====\n", p.name, p.log)
		b, err := os.ReadFile(p.log)
		if err != nil {
			fmt.Fprintf(w, "(cannot read: %v)\n", err)
			continue
		}
		w.Write(b)
	}
	fmt.Fprintln(w, "===== end of logs =====")
}
