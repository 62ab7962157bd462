// Package e2e runs the whole choreography for real, the way it runs in
// production minus the cloud: one Redis, the three service binaries and a
// daprd sidecar for each, all on free loopback ports. The tests drive it
// only through public HTTP, and read the broker where they must prove that
// something was not published.
//
// The choreography tests share one system, started by the first of them
// that asks for it (shared) and stopped by TestMain. The failure tests
// (failure_test.go) stop, kill and restart parts of a system, so each of
// them starts a fresh system of its own with startSystem, one after the
// other, and nothing they break reaches another test.
//
// Run it with `make e2e` (or `make test`), which finds or builds daprd 1.17
// and passes it in DAPRD. It needs redis-server on the PATH.
package e2e

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// services are the apps under test, in the order they start. Each runs
// from ../services/<name>; its Dapr app id is its name (docs/conventions.md).
var services = []string{"trip", "driver", "notification"}

// dispatchService is the service added beside the three without changing
// them (README, "Adding a service"): a system runs it too withDispatch, in
// the choreography, whose events it reads.
const dispatchService = "dispatch"

// withDispatch runs the dispatch service and its sidecar too, when the
// system's style is the choreography (the other styles publish no events
// for it to read).
func withDispatch() option {
	return func(s *settings) { s.dispatch = true }
}

// roles are the services the system runs: services, and the dispatch
// service withDispatch in the choreography.
func (s *system) roles() []string {
	if s.settings.dispatch && s.settings.style == styleChoreography {
		return append(slices.Clone(services), dispatchService)
	}
	return services
}

// The system the choreography tests share: started once by shared, on
// first use, so a run of other tests only (make test-brokers, -run) starts
// none; stopped by TestMain.
var sharedSys struct {
	once sync.Once
	sys  *system
	err  error
}

// shared returns the shared system, starting it on first use.
func shared(t *testing.T) *system {
	t.Helper()
	sharedSys.once.Do(func() {
		start := time.Now()
		var s *system
		var err error
		// As startSystem: a port taken between choosing and binding it
		// (another program on a shared machine) is chosen again.
		for attempt := 1; ; attempt++ {
			name := "shared"
			if attempt > 1 {
				name = fmt.Sprintf("shared_attempt%d", attempt)
			}
			if s, err = newSystem(name, withDispatch()); err == nil {
				err = s.start()
			}
			if err == nil || s == nil || attempt == startAttempts || !s.portWasTaken() {
				break
			}
			s.stop()
		}
		sharedSys.sys, sharedSys.err = s, err
		if err == nil && testing.Verbose() {
			fmt.Printf("e2e: shared system ready in %s (logs in %s)\n", time.Since(start).Round(time.Millisecond), s.logDir())
		}
	})
	if sharedSys.err != nil {
		t.Fatalf("the shared system did not start: %v", sharedSys.err)
	}
	return sharedSys.sys
}

// What every system runs, found and built once by TestMain.
var (
	daprd   string // path of the daprd binary
	binDir  string // the service binaries, one per service
	workDir string // temporary: binaries, and one folder per system
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

// runTests builds the services, runs the tests, stops the shared system if
// one started (also on Ctrl-C), and prints its logs when something failed.
// The logs of every system stay on disk then.
func runTests(m *testing.M) int {
	if err := prepare(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	stopOnSignal()

	code := m.Run()
	if !contractSummary(os.Stdout) && code == 0 {
		code = 1
	}
	if code == 0 {
		if err := writeStyleTable(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			code = 1
		}
	}
	if s := sharedSys.sys; s != nil {
		s.stop()
		if code != 0 {
			s.printLogs(os.Stdout)
		}
	}
	if code != 0 {
		fmt.Printf("e2e: the logs of every system are kept in %s\n", workDir)
	} else {
		os.RemoveAll(workDir)
	}
	return code
}

// prepare checks for daprd and redis-server and builds the services;
// a run of static tests only (staticOnly) needs none of them.
func prepare() error {
	if staticOnly() {
		return nil
	}
	daprd = os.Getenv("DAPRD")
	if daprd == "" {
		return errors.New("DAPRD is not set. The end-to-end tests run real Dapr sidecars: " +
			"run them with `make e2e`, which finds or builds daprd 1.17, or set DAPRD=$(../scripts/daprd.sh)")
	}
	if info, err := os.Stat(daprd); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("DAPRD=%s is not an executable file", daprd)
	}
	if b, err := os.ReadFile(daprd); err != nil || !bytes.Contains(b, []byte("components-contrib/nameresolution/sqlite")) {
		return fmt.Errorf("DAPRD=%s has no SQLite name resolver, which gives each system of the tests its own service "+
			"invocation (with mDNS an app of another system may answer); use the project's build: unset DAPRD and run `make e2e`", daprd)
	}
	switch style := os.Getenv("E2E_STYLE"); style {
	case "", styleChoreography:
	case styleOrchestration, styleWorkflow:
		// Not every test holds in another style: the Makefile's
		// STYLE_SUITE_<style> names those that do, and why the rest do not.
		if run := flag.Lookup("test.run"); run == nil || run.Value.String() == "" {
			return fmt.Errorf("E2E_STYLE=%s runs only the tests that hold in that style; run them with `make e2e STYLE=%s`, which selects them (-run)", style, style)
		}
		defaultStyle = style
	default:
		return fmt.Errorf("E2E_STYLE=%s: the styles are %s (the default), %s and %s", style, styleChoreography, styleOrchestration, styleWorkflow)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		return errors.New("redis-server is not on the PATH; install it (Debian: apt-get install redis-server)")
	}
	dir, err := os.MkdirTemp("", "ride-e2e-")
	if err != nil {
		return err
	}
	workDir, binDir = dir, filepath.Join(dir, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		return err
	}
	if err := prepareIssuerKey(dir); err != nil {
		return fmt.Errorf("the issuer's key: %w", err)
	}
	return buildServices()
}

// buildServices builds each service's binary, the backlog exporter's
// (../backlog, for withBacklogExporter) and make trace's (../trace), the way a container build does:
// from its own folder, as its own module (GOWORK=off).
func buildServices() error {
	dirs := map[string]string{ // binary -> module folder
		backlogExporter: filepath.Join("..", "backlog"),
		traceTool:       filepath.Join("..", "trace"),
		devIssuer:       filepath.Join("..", "devissuer"),
	}
	for _, name := range coordinators {
		dirs[name] = filepath.Join("..", "services", name)
	}
	for _, name := range append(slices.Clone(services), dispatchService) {
		dirs[name] = filepath.Join("..", "services", name)
	}
	errs := make([]error, 0, len(dirs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, dir := range dirs {
		wg.Go(func() {
			cmd := exec.Command("go", "build", "-buildvcs=false", "-o", filepath.Join(binDir, name), ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("build %s: %w\n%s", name, err, out))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// live are the systems running now, for stopOnSignal.
var live struct {
	sync.Mutex
	systems map[*system]bool
}

// stopOnSignal kills every system and exits when the test binary is
// interrupted: the processes run in process groups of their own, which a
// Ctrl-C on the terminal does not reach.
func stopOnSignal() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "e2e: %s: killing the systems\n", sig)
		live.Lock()
		for s := range live.systems {
			s.kill()
		}
		live.Unlock()
		os.RemoveAll(workDir)
		os.Exit(130)
	}()
}

// option changes how a system is set up.
type option func(*settings)

type settings struct {
	env             map[string][]string // service name -> extra KEY=VALUE for its binary
	replicas        map[string]int      // service name -> how many (default 1)
	persistentRedis bool
	pubsub          string   // a component file to use as pubsub.yaml, "" for components/pubsub.yaml
	sidecarEnv      []string // extra KEY=VALUE for every sidecar, read by the pubsub component (envRef)
	broker          func(*system) ([]string, error)
	profiling       bool
	backlog         bool   // run the backlog exporter
	tracing         bool   // run Jaeger, and export every span to it
	dispatch        bool   // run the dispatch service too, in the choreography
	style           string // styleChoreography, styleOrchestration or styleWorkflow; defaultStyle unless withStyle
}

// withEnv adds KEY=VALUE settings to a service's environment, for
// example withEnv("driver", "RIDE_DURATION=1s").
func withEnv(service string, kv ...string) option {
	return func(s *settings) { s.env[service] = append(s.env[service], kv...) }
}

// withReplicas runs n copies of a service: the same Dapr app id, each
// with a sidecar and ports of its own, as a scaled-out deployment.
func withReplicas(service string, n int) option {
	return func(s *settings) { s.replicas[service] = n }
}

// withPersistentRedis makes Redis log every write to its append-only file
// before answering (appendonly yes, appendfsync always), so that a Redis
// killed and started again has everything it acknowledged.
func withPersistentRedis() option {
	return func(s *settings) { s.persistentRedis = true }
}

// withPubsub makes the sidecars load file (a path under ../components, such
// as "brokers/rabbitmq.yaml", or an absolute path) in place of components/pubsub.yaml, exactly as
// `make run BROKER=` does, with env (the broker's address, which the file
// reads through envRef) in their environment. Redis stays the state store.
func withPubsub(file string, env ...string) option {
	return func(s *settings) {
		s.pubsub = file
		s.sidecarEnv = append(s.sidecarEnv, env...)
	}
}

// withProfiling makes every service and sidecar serve Go's runtime
// profiles (net/http/pprof) on a loopback port of its own (app.pprofPort,
// app.profilePort): the services through PPROF_ADDR, the sidecars with
// --enable-profiling.
func withProfiling() option {
	return func(s *settings) { s.profiling = true }
}

// withBroker starts a broker for the system, after Redis and before the
// sidecars, with start, which returns the sidecars' extra environment (the
// broker's address). What start spawns is stopped with the system.
func withBroker(start func(*system) ([]string, error)) option {
	return func(s *settings) { s.broker = start }
}

// withBacklogExporter runs the backlog exporter (../backlog) beside the
// services, against the system's Redis, as make run does; system.backlogURL
// is where it serves its metrics.
func withBacklogExporter() option {
	return func(s *settings) { s.backlog = true }
}

// backlogExporter is the backlog exporter's binary, and its process's name.
const backlogExporter = "backlog"

// system is Redis plus, for each service, its binaries and their sidecars.
type system struct {
	name     string
	dir      string // logs, components and Redis data
	settings settings

	redisPort int
	redisAddr string // host:port of the system's own Redis
	// redisPassword is the password the system's Redis requires, new for
	// each system: the components read it from the secret store (the
	// sidecars' REDIS_PASSWORD), so a component that took it from anywhere
	// else would fail to start.
	redisPassword string
	redis         *redis.Client // for tests that read the broker
	apps          map[string][]*app

	backlogPort int // the backlog exporter's, with withBacklogExporter
	issuerPort  int // the development issuer's, whose tokens the services take
	jaeger      jaegerPorts
	// controlPlane are the addresses of Dapr's placement and scheduler, in
	// the workflow style; empty otherwise, which leaves actors, workflows
	// and jobs off in every sidecar.
	controlPlane struct{ placement, scheduler string }
	otlpEnv      []string // with withTracing: where services and sidecars export spans

	mu       sync.Mutex
	procs    []*process // every process started, in start order
	redisP   *process   // the Redis running now, nil while it is stopped
	atStop   []func()   // run when the system stops, after its processes
	stopOnce sync.Once
}

// onStop runs f when the system stops, after every process has ended:
// for what is not a process of the system's, such as an in-process broker.
func (s *system) onStop(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.atStop = append(s.atStop, f)
}

// app is one replica of a service and the ports of its sidecar.
type app struct {
	name             string // the service's role in the tests: trip, driver, notification
	binary           string // the program that plays it: the service, or in another style its coordinator
	appID            string // its Dapr app id: the binary's name
	instance         string // names the replica's processes and logs: trip, driver, driver-2, ...
	env              []string
	port             int // APP_PORT
	daprHTTPPort     int
	daprGRPCPort     int
	metricsPort      int
	internalGRPCPort int
	pprofPort        int // the service's profiles, with withProfiling
	profilePort      int // the sidecar's profiles, with withProfiling
	// appToken is the token the sidecar sends the app (APP_API_TOKEN),
	// daprToken the one it requires of whoever calls it (DAPR_API_TOKEN),
	// as make run sets them: new for each replica. "" for none.
	appToken, daprToken string

	service, sidecar *process // running now; nil while stopped (guarded by system.mu)
	// held keeps the service's port while the service is stopped
	// (holdPort; guarded by system.mu).
	held net.Listener
}

// daprAppID is the app's Dapr app id: its binary's name, or for an app of
// the tests' own (the bench's, a stranger's) its name.
func (a *app) daprAppID() string { return cmp.Or(a.appID, a.name) }

// callSidecar sends a request to the app's sidecar with the token it
// requires, as the app does.
func (a *app) callSidecar(method, url, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.daprToken != "" {
		req.Header.Set("dapr-api-token", a.daprToken)
	}
	return client.Do(req)
}

// tokenEnv is the tokens of the app and its sidecar, as both read them
// from their environment.
func (a *app) tokenEnv() []string {
	var env []string
	if a.appToken != "" {
		env = append(env, "APP_API_TOKEN="+a.appToken)
	}
	if a.daprToken != "" {
		env = append(env, "DAPR_API_TOKEN="+a.daprToken)
	}
	return env
}

// newToken returns a random token of 32 hex digits.
func newToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// url is the base URL of the service's public HTTP API.
func (a *app) url() string { return "http://127.0.0.1:" + strconv.Itoa(a.port) }

// daprURL is the base URL of the sidecar's HTTP API.
func (a *app) daprURL() string { return "http://127.0.0.1:" + strconv.Itoa(a.daprHTTPPort) }

// app returns the first replica of the named service.
func (s *system) app(service string) *app { return s.apps[service][0] }

// url returns the URL of path on the named service.
func (s *system) url(service, path string) string { return s.app(service).url() + path }

// newSystem prepares a system in a folder of its own under workDir.
func newSystem(name string, opts ...option) (*system, error) {
	st := settings{env: map[string][]string{}, replicas: map[string]int{}, style: defaultStyle}
	for _, o := range opts {
		o(&st)
	}
	dir := filepath.Join(workDir, name)
	for _, sub := range []string{"logs", "redis"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	s := &system{name: name, dir: dir, settings: st, apps: map[string][]*app{}}
	live.Lock()
	if live.systems == nil {
		live.systems = map[*system]bool{}
	}
	live.systems[s] = true
	live.Unlock()
	return s, nil
}

// startSystem starts a fresh system for one test, with the given options,
// and stops it when the test ends. A test that fails gets the end of every
// process's log, and the whole logs stay on disk.
//
// The system's ports are chosen free, then bound by the processes it
// starts; on a shared machine another process can take one in between.
// A start that fails only that way ("address already in use" in a log) is
// made again on new ports, at most startAttempts times in all.
func startSystem(t *testing.T, opts ...option) *system {
	t.Helper()
	begin := time.Now()
	name := strings.ReplaceAll(t.Name(), "/", "_")
	for attempt := 1; ; attempt++ {
		s, err := newSystem(name, opts...)
		if err != nil {
			t.Fatal(err)
		}
		err = s.start()
		if err == nil {
			t.Cleanup(func() {
				s.stop()
				if t.Failed() {
					s.logTails(t, 40)
				}
			})
			t.Logf("system ready in %s (logs in %s)", time.Since(begin).Round(time.Millisecond), s.logDir())
			return s
		}
		s.stop()
		if attempt == startAttempts || !s.portWasTaken() {
			s.logTails(t, 40)
			t.Fatalf("the system did not start: %v", err)
		}
		t.Logf("attempt %d: a port chosen for the system was taken before it was bound (%q in %s); starting again on new ports", attempt, portTaken, s.logDir())
		name = fmt.Sprintf("%s_attempt%d", strings.ReplaceAll(t.Name(), "/", "_"), attempt+1)
	}
}

// startAttempts bounds how often startSystem starts a system whose port
// was taken; portTaken is how a process's log says so.
const (
	startAttempts = 3
	portTaken     = "address already in use"
	// daprdPortTaken is how daprd 1.17 says it when its HTTP API's port
	// was taken: it logs the bind error only at debug level.
	daprdPortTaken = "could not listen on any endpoint"
)

// logsContain reports whether any log of the system holds text.
// portWasTaken reports whether a process of the system could not bind a
// port it was given.
func (s *system) portWasTaken() bool {
	return s.logsContain(portTaken) || s.logsContain(daprdPortTaken)
}

func (s *system) logsContain(text string) bool {
	files, _ := filepath.Glob(filepath.Join(s.logDir(), "*"))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(text)) {
			return true
		}
	}
	return false
}

func (s *system) logDir() string { return filepath.Join(s.dir, "logs") }

// start starts Redis, the services and their sidecars, and waits until
// every one of them is ready.
func (s *system) start() error {
	n := 3 // Redis, the backlog exporter, the issuer
	for _, name := range s.roles() {
		n += 5 * s.replicaCount(name)
	}
	ports, err := freePorts(n)
	if err != nil {
		return err
	}
	s.redisPort, s.backlogPort, s.issuerPort, ports = ports[0], ports[1], ports[2], ports[3:]
	s.redisAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.redisPort))
	s.redisPassword = newToken()
	s.redis = redis.NewClient(&redis.Options{Addr: s.redisAddr, Password: s.redisPassword})
	if err := s.startRedis(); err != nil {
		return err
	}
	if err := s.startIssuer(); err != nil {
		return err
	}
	if s.settings.broker != nil {
		env, err := s.settings.broker(s)
		if err != nil {
			return fmt.Errorf("start the broker: %w", err)
		}
		s.settings.sidecarEnv = append(s.settings.sidecarEnv, env...)
	}
	if s.settings.backlog {
		if err := s.startBacklogExporter(); err != nil {
			return err
		}
	}
	if s.settings.tracing {
		if err := s.startJaeger(); err != nil {
			return err
		}
	}
	if s.settings.style == styleWorkflow {
		if err := s.startControlPlane(); err != nil {
			return err
		}
	}
	for _, name := range s.roles() {
		for i := range s.replicaCount(name) {
			instance := name
			if i > 0 {
				instance = fmt.Sprintf("%s-%d", name, i+1)
			}
			p := ports[:5]
			ports = ports[5:]
			binary := s.binaryFor(name)
			if binary != name {
				instance = strings.Replace(instance, name, binary, 1)
			}
			a := &app{name: name, binary: binary, appID: binary, instance: instance, env: s.settings.env[name],
				port: p[0], daprHTTPPort: p[1], daprGRPCPort: p[2], metricsPort: p[3], internalGRPCPort: p[4],
				appToken: newToken(), daprToken: newToken()}
			s.apps[name] = append(s.apps[name], a)
			if err := s.startService(a); err != nil {
				return err
			}
			if err := s.startSidecar(a); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for _, name := range s.roles() {
		for _, a := range s.apps[name] {
			if err := s.waitReady(ctx, a); err != nil {
				return err
			}
		}
	}
	if s.settings.backlog {
		return s.poll(ctx, "the backlog exporter to answer", func(ctx context.Context) error {
			return httpOK(ctx, s.backlogURL()+"/healthz")
		})
	}
	return nil
}

// startBacklogExporter starts the backlog exporter on the system's Redis,
// watching the default topics.
func (s *system) startBacklogExporter() error {
	_, err := s.spawn(backlogExporter, append(inheritedEnv(),
		"APP_HOST=127.0.0.1",
		"APP_PORT="+strconv.Itoa(s.backlogPort),
		"REDIS_HOST="+s.redisAddr,
		"REDIS_PASSWORD="+s.redisPassword,
	), filepath.Join(binDir, backlogExporter))
	return err
}

// backlogURL is the base URL of the backlog exporter.
func (s *system) backlogURL() string { return "http://127.0.0.1:" + strconv.Itoa(s.backlogPort) }

func (s *system) replicaCount(service string) int {
	return max(1, s.settings.replicas[service])
}

// startRedis starts the system's Redis on its port and waits until it
// answers. Without persistence it keeps everything in memory; with it,
// every write is in the append-only file before Redis answers. A Redis
// started again finds the data of the one before in the same folder. It
// requires the system's password, which it reads from a file of its own
// (the command line would show it to every user of the machine).
func (s *system) startRedis() error {
	conf := filepath.Join(s.dir, "redis.conf")
	if err := os.WriteFile(conf, []byte("requirepass "+s.redisPassword+"\n"), 0o600); err != nil {
		return err
	}
	args := []string{conf, "--bind", "127.0.0.1", "--port", strconv.Itoa(s.redisPort), "--dir", filepath.Join(s.dir, "redis"), "--save", ""}
	if s.settings.persistentRedis {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	p, err := s.spawn("redis", nil, "redis-server", args...)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.redisP = p
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return s.poll(ctx, "redis to answer PING", func(ctx context.Context) error {
		return s.redis.Ping(ctx).Err()
	})
}

// startService starts a service's binary with its configuration in the
// environment, as docs/conventions.md names it, plus the system's own
// settings for it.
func (s *system) startService(a *app) error {
	s.releasePort(a)
	env := append(inheritedEnv(),
		"APP_HOST=127.0.0.1",
		"APP_PORT="+strconv.Itoa(a.port),
		"DAPR_HOST=127.0.0.1",
		"DAPR_HTTP_PORT="+strconv.Itoa(a.daprHTTPPort),
		"DAPR_GRPC_PORT="+strconv.Itoa(a.daprGRPCPort),
		"SIDECAR_WAIT=60s",
	)
	env = append(env, s.otlpEnv...)
	env = append(env, a.tokenEnv()...)
	env = append(env, s.authEnv()...)
	env = append(env, a.env...)
	if s.settings.profiling {
		if a.pprofPort == 0 {
			ports, err := freePorts(1)
			if err != nil {
				return err
			}
			a.pprofPort = ports[0]
		}
		env = append(env, "PPROF_ADDR=127.0.0.1:"+strconv.Itoa(a.pprofPort))
	}
	servePublic(hostPort(a.url()), cmp.Or(a.binary, a.name))
	p, err := s.spawn(a.instance, env, filepath.Join(binDir, cmp.Or(a.binary, a.name)))
	if err != nil {
		return err
	}
	s.mu.Lock()
	a.service = p
	s.mu.Unlock()
	return nil
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
			"STATESTORE_NAME", "SIDECAR_WAIT", "SHUTDOWN_TIMEOUT", "ASSIGN_DEADLINE", "RIDE_DURATION", "REDIS_HOST",
			"DRIVER_POOL_SIZE", "DRIVER_POOL_AREA", "PPROF_ADDR", "REDIS_PASSWORD", "RABBITMQ_USERNAME", "RABBITMQ_PASSWORD", "BACKLOG_TOPICS",
			"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_SAMPLER_ARG",
			"AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL", "ISSUER_URL", "ISSUER_AUDIENCE", "ISSUER_KEY_FILE", "ISSUER_TOKEN_TTL",
			"MAX_PICKUP_KM", "MAX_STREAMS_PER_RIDER", "ORDER_BURST", "ORDERS_PER_MINUTE", "MAX_STREAMS_PER_DISPATCHER", "COOKIE_SECURE":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startSidecar starts the service's daprd in standalone mode; a replica
// with no port has no app for the sidecar to call (it only publishes, or
// its app subscribes by streaming). Without
// placement and scheduler addresses daprd 1.17 runs with actors, workflows
// and jobs disabled and waits for neither.
func (s *system) startSidecar(a *app) error {
	components, err := s.components()
	if err != nil {
		return err
	}
	config, err := s.daprConfig(components)
	if err != nil {
		return err
	}
	// The components read the address from the environment (envRef) and
	// the password from the secret store, which is the environment too
	// (components/secretstore.yaml).
	env := append(inheritedEnv(), "REDIS_HOST="+s.redisAddr, "REDIS_PASSWORD="+s.redisPassword)
	env = append(env, a.tokenEnv()...)
	env = append(env, s.settings.sidecarEnv...)
	env = append(env, s.otlpEnv...)
	var appFlags []string
	if a.port != 0 {
		// The app's protocol and how many deliveries at once, as dapr.yaml
		// says: one, since Dapr 1.17.5's HTTP app channel can take a failed
		// call for a success when two run at once (README "Known limits",
		// daprrace_test.go). DAPRD_APP_MAX_CONCURRENCY=-1 (daprd's default,
		// no limit) measures what that costs.
		tmpl, err := runTemplateFile()
		if err != nil {
			return err
		}
		appFlags = []string{"--app-port", strconv.Itoa(a.port), "--app-protocol", tmpl.Common.AppProtocol,
			"--app-max-concurrency", cmp.Or(os.Getenv("DAPRD_APP_MAX_CONCURRENCY"), strconv.Itoa(tmpl.Common.AppMaxConcurrency))}
	}
	if s.settings.profiling {
		if a.profilePort == 0 {
			ports, err := freePorts(1)
			if err != nil {
				return err
			}
			a.profilePort = ports[0]
		}
		appFlags = append(appFlags, "--enable-profiling", "--profile-port", strconv.Itoa(a.profilePort))
	}
	if s.controlPlane.placement != "" {
		appFlags = append(appFlags, "--placement-host-address", s.controlPlane.placement, "--scheduler-host-address", s.controlPlane.scheduler)
	}
	p, err := s.spawn(a.instance+"-dapr", env, daprd, append(appFlags,
		"--app-id", a.daprAppID(),
		"--dapr-http-port", strconv.Itoa(a.daprHTTPPort),
		"--dapr-grpc-port", strconv.Itoa(a.daprGRPCPort),
		"--metrics-port", strconv.Itoa(a.metricsPort),
		"--dapr-internal-grpc-port", strconv.Itoa(a.internalGRPCPort),
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-internal-grpc-listen-address", "127.0.0.1",
		"--metrics-listen-address", "127.0.0.1",
		"--resources-path", components,
		"--config", config,
		// DAPRD_LOG_LEVEL=debug for a hunt: daprd logs some outcomes of a
		// delivery only at debug (an app's 2xx without a status it can
		// read, which it takes for SUCCESS).
		"--log-level", cmp.Or(os.Getenv("DAPRD_LOG_LEVEL"), "info"),
	)...)
	if err != nil {
		return err
	}
	s.mu.Lock()
	a.sidecar = p
	s.mu.Unlock()
	return nil
}

// components returns the folder of component files the sidecars load: the
// repository's own, which read the Redis address from REDIS_HOST (envRef),
// pointed at this system's Redis. With withPubsub, a folder of the system's
// own that holds the same files, unchanged, but for pubsub.yaml, which is
// the chosen broker file: daprd loads every file of a folder, and no two
// may define the component named pubsub.
func (s *system) components() (string, error) {
	repo, err := filepath.Abs(filepath.Join("..", "components"))
	if err != nil || s.settings.pubsub == "" {
		return repo, err
	}
	dir := filepath.Join(s.dir, "components")
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files, err := filepath.Glob(filepath.Join(repo, "*.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range files {
		name, from := filepath.Base(f), f
		if name == "pubsub.yaml" {
			from = s.settings.pubsub
			if !filepath.IsAbs(from) {
				from = filepath.Join(repo, from)
			}
		}
		b, err := os.ReadFile(from)
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// waitReady waits until the replica's sidecar answers /v1.0/healthz and
// the service /readyz, or a process exits, or ctx ends.
func (s *system) waitReady(ctx context.Context, a *app) error {
	probes := []struct{ what, url string }{
		{a.instance + " sidecar", a.daprURL() + "/v1.0/healthz"},
		{a.instance, a.url() + "/readyz"},
	}
	for _, p := range probes {
		err := s.poll(ctx, p.what+" to be ready", func(ctx context.Context) error {
			return httpOK(ctx, p.url)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// poll calls check until it returns nil, failing early when one of the
// system's processes has exited without being stopped, and at ctx's
// deadline.
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

// probeClient asks whether the system's processes are ready; what a
// service answers is checked against contracts/openapi.yaml like every
// other answer.
var probeClient = &http.Client{Transport: checked(http.DefaultTransport)}

// httpOK GETs url and reports an error unless the answer is 2xx.
func httpOK(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
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
	name     string
	cmd      *exec.Cmd
	log      string
	done     chan struct{} // closed when the process has exited
	err      error         // why it exited; read after done is closed
	exitedAt time.Time     // read after done is closed
	stopping atomic.Bool   // the test stops it on purpose: its exit is no failure
	infra    bool          // a broker or store: stopped after the sidecars
}

// spawn starts a program in a process group of its own, with stdout and
// stderr appended to logs/<name>.log (a process started again writes after
// its predecessor). On Linux the process is also killed when the test
// binary dies (a panic, a timeout), so nothing outlives the tests.
func (s *system) spawn(name string, env []string, bin string, args ...string) (*process, error) {
	log := filepath.Join(s.logDir(), name+".log")
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "===== e2e: %s starts %s =====\n", time.Now().Format(time.RFC3339Nano), name)
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = processGroup()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		p.exitedAt = time.Now()
		f.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	return p, nil
}

// exited returns a process that has exited although nobody stopped it, or
// nil.
func (s *system) exited() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		select {
		case <-p.done:
			if !p.stopping.Load() {
				return p
			}
		default:
		}
	}
	return nil
}

// exit is how a process ended after a signal.
type exit struct {
	code  int           // exit status; -1 when a signal ended it
	after time.Duration // from the signal to the end of the process
	state string        // as the operating system reports it
}

// signal sends sig to the process's group and waits up to grace for it to
// end; past grace it kills the group. It reports how the process ended.
// SIGSTOP and SIGCONT are sent without waiting.
func (p *process) signal(sig syscall.Signal, grace time.Duration) exit {
	pgid := p.cmd.Process.Pid
	if sig != syscall.SIGSTOP && sig != syscall.SIGCONT {
		p.stopping.Store(true)
	}
	sent := time.Now()
	_ = syscall.Kill(-pgid, sig)
	if sig == syscall.SIGSTOP || sig == syscall.SIGCONT {
		return exit{}
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		fmt.Fprintf(os.Stderr, "e2e: %s did not stop within %s of %s; killing it\n", p.name, grace, sig)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // whatever is left of the group
	_ = syscall.Kill(-pgid, syscall.SIGCONT) // a stopped group cannot die otherwise
	<-p.done
	return exit{code: p.cmd.ProcessState.ExitCode(), after: p.exitedAt.Sub(sent), state: p.cmd.ProcessState.String()}
}

// stopGrace is how long a stop waits after SIGTERM before it kills.
const stopGrace = 10 * time.Second

// stopService ends a replica's service binary with sig (SIGTERM: let it
// shut down; SIGKILL: a crash) and reports how it ended. Its sidecar stays.
func (s *system) stopService(t *testing.T, a *app, sig syscall.Signal) exit {
	t.Helper()
	e := s.stopReplicaProcess(t, &a.service, a.instance, sig)
	s.holdPort(t, a)
	return e
}

// holdPort keeps a stopped service's port until the service starts again:
// it listens there and closes every connection at once, which the sidecar
// takes as it takes a refused one, an error to retry. Without it another
// program on the machine may bind the port meanwhile (a test server, a
// process of another system: they all pick free ports from the same
// range), and the sidecar hands that program the events it retries; one
// that answers 200 acknowledges an event that never reached the service.
// Seen here: TestDriverDown30sWhileTripsAreOrdered lost a trip-created
// that its sidecar "recovered" 14 s before the driver service came back,
// while a CI run on the same machine started servers of its own.
func (s *system) holdPort(t *testing.T, a *app) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.port)))
	if err != nil {
		// Taken already: the stopped service's port went to another
		// program at once, and the events retried may reach it.
		t.Logf("%s: cannot hold port %d while it is stopped: %v", a.instance, a.port, err)
		return
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if tcp, ok := c.(*net.TCPConn); ok {
				_ = tcp.SetLinger(0) // reset, as a refused connection is
			}
			c.Close()
		}
	}()
	s.mu.Lock()
	a.held = ln
	s.mu.Unlock()
	s.onStop(func() { ln.Close() })
}

// releasePort gives back the port holdPort kept, for the service to bind.
func (s *system) releasePort(a *app) {
	s.mu.Lock()
	ln := a.held
	a.held = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

// stopSidecar ends a replica's daprd with sig. Its service stays.
func (s *system) stopSidecar(t *testing.T, a *app, sig syscall.Signal) exit {
	t.Helper()
	return s.stopReplicaProcess(t, &a.sidecar, a.instance+" sidecar", sig)
}

// stopReplicaProcess ends the process in slot (a replica's service or
// sidecar) with sig and marks it stopped.
func (s *system) stopReplicaProcess(t *testing.T, slot **process, name string, sig syscall.Signal) exit {
	t.Helper()
	s.mu.Lock()
	p := *slot
	*slot = nil
	s.mu.Unlock()
	if p == nil {
		t.Fatalf("stop %s: it is not running", name)
	}
	e := p.signal(sig, stopGrace)
	t.Logf("%s: %s, ended after %s: %s", name, sig, e.after.Round(time.Millisecond), e.state)
	return e
}

// startApp starts whatever of a replica is stopped, its service and its
// sidecar, on the ports it had, and waits until both are ready.
func (s *system) startApp(t *testing.T, a *app) {
	t.Helper()
	s.mu.Lock()
	service, sidecar := a.service == nil, a.sidecar == nil
	s.mu.Unlock()
	if service {
		if err := s.startService(a); err != nil {
			t.Fatal(err)
		}
	}
	if sidecar {
		if err := s.startSidecar(a); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.waitReady(ctx, a); err != nil {
		t.Fatal(err)
	}
}

// freezeSidecar stops a replica's daprd with SIGSTOP: it keeps its
// connections but answers nothing, so a call into it hangs. The returned
// function (also run at the end of the test) lets it go on.
func (s *system) freezeSidecar(t *testing.T, a *app) (thaw func()) {
	t.Helper()
	s.mu.Lock()
	p := a.sidecar
	s.mu.Unlock()
	if p == nil {
		t.Fatalf("freeze the sidecar of %s: it is not running", a.instance)
	}
	p.signal(syscall.SIGSTOP, 0)
	// kill(2) returns once the signal is sent, not once every thread has
	// stopped: a call sent at once could still be served.
	if err := waitStopped(p.cmd.Process.Pid, 5*time.Second); err != nil {
		t.Fatalf("freeze the sidecar of %s: %v", a.instance, err)
	}
	var once sync.Once
	thaw = func() { once.Do(func() { p.signal(syscall.SIGCONT, 0) }) }
	t.Cleanup(thaw)
	return thaw
}

// waitStopped waits until every thread of process pid is stopped by a
// signal (state T in /proc/<pid>/task/<tid>/stat).
func waitStopped(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		running, err := runningThreads(pid)
		if err != nil {
			return err
		}
		if running == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d: %d threads still not stopped after %s", pid, running, limit)
		}
		time.Sleep(time.Millisecond)
	}
}

// runningThreads counts the threads of process pid not stopped by a
// signal.
func runningThreads(pid int) (int, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("process %d: no threads to read (%v)", pid, err)
	}
	running := 0
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // the thread ended
		}
		// The state follows the command name, which is in parentheses
		// and may hold spaces.
		rest := b[bytes.LastIndexByte(b, ')')+1:]
		if f := bytes.Fields(rest); len(f) == 0 || f[0][0] != 'T' {
			running++
		}
	}
	return running, nil
}

// stopRedis ends the system's Redis with sig; the data stays in its folder.
func (s *system) stopRedis(t *testing.T, sig syscall.Signal) exit {
	t.Helper()
	s.mu.Lock()
	p := s.redisP
	s.redisP = nil
	s.mu.Unlock()
	if p == nil {
		t.Fatal("stop redis: it is not running")
	}
	e := p.signal(sig, stopGrace)
	t.Logf("redis: %s, ended after %s: %s", sig, e.after.Round(time.Millisecond), e.state)
	return e
}

// restartRedis starts the system's Redis again, on the same port and from
// the same folder.
func (s *system) restartRedis(t *testing.T) {
	t.Helper()
	if err := s.startRedis(); err != nil {
		t.Fatal(err)
	}
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
			case p.name == "redis" || p.infra:
				rest = append(rest, p)
			default:
				services = append(services, p)
			}
		}
		for _, group := range [][]*process{services, sidecars, rest} {
			var wg sync.WaitGroup
			for _, p := range group {
				select {
				case <-p.done:
					continue
				default:
				}
				wg.Go(func() {
					_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGCONT) // in case a test froze it
					p.signal(syscall.SIGTERM, stopGrace)
				})
			}
			wg.Wait()
		}
		s.mu.Lock()
		atStop := s.atStop
		s.mu.Unlock()
		for _, f := range atStop {
			f()
		}
		for _, replicas := range s.apps {
			for _, a := range replicas {
				unservePublic(hostPort(a.url()))
			}
		}
		if s.issuerPort != 0 {
			unservePublic(hostPort(s.issuerURL()))
		}
		if s.redis != nil {
			s.redis.Close()
		}
		live.Lock()
		delete(live.systems, s)
		live.Unlock()
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

// logFiles returns each process's log once, in start order.
func (s *system) logFiles() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var logs []string
	for _, p := range s.procs {
		if !seen[p.log] {
			seen[p.log] = true
			logs = append(logs, p.log)
		}
	}
	return logs
}

// printLogs writes every process's log, in start order.
func (s *system) printLogs(w io.Writer) {
	for _, log := range s.logFiles() {
		fmt.Fprintf(w, "\n===== %s =====\n", log)
		b, err := os.ReadFile(log)
		if err != nil {
			fmt.Fprintf(w, "(cannot read: %v)\n", err)
			continue
		}
		w.Write(b)
	}
	fmt.Fprintln(w, "===== end of logs =====")
}

// logTails logs the last n lines of every process's log; the whole logs
// stay in the system's folder.
func (s *system) logTails(t *testing.T, n int) {
	t.Helper()
	for _, log := range s.logFiles() {
		b, err := os.ReadFile(log)
		if err != nil {
			t.Logf("%s: %v", log, err)
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		t.Logf("last %d lines of %s:\n%s", len(lines), log, strings.Join(lines, "\n"))
	}
}

// The styles a system can run (README, "Three styles"): the same public
// interface, played by other programs.
const (
	// styleChoreography is the services talking through events.
	styleChoreography = "choreography"
	// styleOrchestration is services/orchestrator in the trip service's
	// place, calling the driver and notification services' steps.
	styleOrchestration = "orchestration"
	// styleWorkflow is services/workflow in the trip service's place: a
	// Dapr Workflow whose activities call the same steps, with Dapr's
	// placement and scheduler beside the sidecars.
	styleWorkflow = "workflow"
)

// defaultStyle is the style of every system not started withStyle: the
// choreography, or E2E_STYLE's (make e2e STYLE=orchestration), which runs
// the scenarios that hold in another style (the Makefile's STYLE_SUITE_*)
// against it.
var defaultStyle = styleChoreography

// coordinators are the programs that play the trip service's part in the
// other styles; buildServices builds them.
var coordinators = []string{"orchestrator", "workflow"}

// withStyle runs the system in style: styleOrchestration runs the
// orchestrator (its own Dapr app id, the Trip API on the trip role's port)
// instead of the trip service; the driver and notification services run
// as they are, their steps called instead of their events delivered.
func withStyle(style string) option {
	return func(s *settings) { s.style = style }
}

// binaryFor returns the program that plays role in the system's style.
func (s *system) binaryFor(role string) string {
	if role != "trip" {
		return role
	}
	switch s.settings.style {
	case styleOrchestration:
		return "orchestrator"
	case styleWorkflow:
		return "workflow"
	}
	return role
}

// daprConfig returns the Configuration file the system's sidecars load:
// the repository's components/config.yaml (in components, the folder they
// load), with the SQLite name resolver on a file of the system's own, so
// that a service invocation reaches this system's app of that id and never
// one of another system running at the same time (mDNS, the default, sees
// them all). Written once per system.
func (s *system) daprConfig(components string) (string, error) {
	path := filepath.Join(s.dir, "dapr-config.yaml")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	base, err := os.ReadFile(filepath.Join(components, "config.yaml"))
	if err != nil {
		return "", err
	}
	if !bytes.Contains(base, []byte("\nspec:\n")) || bytes.Contains(base, []byte("nameResolution")) {
		return "", fmt.Errorf("components/config.yaml changed shape: the harness appends spec.nameResolution to it")
	}
	resolver := fmt.Sprintf("  nameResolution:\n    component: sqlite\n    configuration:\n      connectionString: %q\n",
		filepath.Join(s.dir, "nameresolution.db"))
	config := append(bytes.TrimRight(base, "\n"), '\n')
	// spec is the file's last top-level key, so its children end the file.
	if err := os.WriteFile(path, append(config, resolver...), 0o644); err != nil {
		return "", err
	}
	return path, nil
}
