//go:build chaos

package e2e

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestChaos is make chaos (issue 15): the real system (choreography, the
// harness of the end-to-end suite and make bench) under a steady load of
// trips while a seeded fault injector kills, stops, pauses and starves its
// parts at random. At the end it stops injecting, waits until the broker
// is quiet, and judges every trip as the failure suite does (tally):
// completed, lost, duplicated. Settings, all optional:
//
//	CHAOS_TIME    how long trips are ordered and faults injected (10m)
//	CHAOS_SEED    seed of the fault schedule and the pickups (random, printed)
//	CHAOS_RATE    trips ordered per second (10)
//	CHAOS_FAULTS  the fault kinds to draw from: all (the default), covered
//	              (those README "Guarantees" claims), or a comma-separated
//	              list of kinds (chaosKinds)
//	CHAOS_TARGETS the services whose processes faults hit, comma-separated
//	              (all four), for a hunt: CHAOS_TARGETS=notification
//	CHAOS_POOL    drivers in the pool (500); fewer than CHAOS_RATE times the
//	              2 s ride keeps trips waiting for a driver, their events
//	              answered RETRY meanwhile
//
// The same seed, time and kinds give the same schedule of faults: the same
// kinds, targets, signals, lengths and planned start times.
func TestChaos(t *testing.T) {
	cfg := chaosConfigFrom(t, os.Getenv)
	plan := planFaults(cfg, cfg.targets)
	c := &chaos{cfg: cfg, out: os.Stdout, plan: plan}
	c.say("seed %d; %s of %.4g trips/s; faults: %s, on %s; %d planned (replay: make chaos CHAOS_SEED=%d CHAOS_TIME=%s CHAOS_FAULTS=%s CHAOS_TARGETS=%s CHAOS_RATE=%g CHAOS_POOL=%d)",
		cfg.seed, cfg.duration, cfg.rate, strings.Join(cfg.kinds, ","), strings.Join(cfg.targets, ","), len(plan),
		cfg.seed, cfg.duration, strings.Join(cfg.kinds, ","), strings.Join(cfg.targets, ","), cfg.rate, cfg.pool)

	c.sys = startSystem(t, withPersistentRedis(), withDispatch(), withEnv("driver",
		"DRIVER_POOL_SIZE="+strconv.Itoa(cfg.pool),
		fmt.Sprintf("DRIVER_POOL_AREA=%v,%v,%v,%v", area.minLat, area.minLon, area.maxLat, area.maxLon),
		"RIDE_DURATION="+chaosRide.String(),
		"ASSIGN_DEADLINE="+chaosAssignDeadline.String(),
	))
	c.say("system ready (logs in %s); %d drivers, rides of %s, assign deadline %s", c.sys.logDir(), cfg.pool, chaosRide, chaosAssignDeadline)
	// Whatever ends the test early, the faults injected so far are printed.
	defer func() {
		if !c.reported {
			c.printFaults()
		}
	}()

	c.start = time.Now()
	c.load = c.startLoad()
	defer c.load.quit()
	stopWatching := c.watch()
	stopProgress := c.progress()

	c.inject(t)
	c.sleepUntil(t, c.start.Add(cfg.duration))
	c.current.Store(nil)
	c.say("injection over after %d faults; no new orders; waiting for every order to be answered 202", len(c.faults))
	c.load.stopOrdering()
	c.load.wait(chaosAnswerGrace)
	stopProgress()
	stopWatching()
	c.settle(t)
}

// The system the soak runs: a pool big enough (by default), and rides
// short enough, that every trip finds a driver even after an outage of the
// driver service, and a deadline no fault outlasts, so that every trip
// should end driver_assigned.
const (
	chaosPool           = 500
	chaosRide           = 2 * time.Second
	chaosAssignDeadline = 3 * time.Minute
	// chaosAnswerGrace bounds how long after the last order the load
	// generator goes on retrying orders not yet answered 202.
	chaosAnswerGrace = 3 * time.Minute
	// chaosQuietWithin bounds the wait for a quiet broker before judging.
	chaosQuietWithin = 5 * time.Minute
	// chaosWarmup is the load without faults before the first one.
	chaosWarmup = 10 * time.Second
	// chaosDelayed is the latency, order to outcome notification, above
	// which a trip counts as delayed by a fault (undisturbed trips take
	// tens of milliseconds at these rates: README, "How fast").
	chaosDelayed = time.Second
)

// chaosConfig is what a run does; see TestChaos.
type chaosConfig struct {
	duration time.Duration
	seed     uint64
	rate     float64
	kinds    []string
	targets  []string // the services faults hit (Redis and the CPU hog aside)
	pool     int
}

// The kinds of fault. Each takes one target and gives it back: a process
// started again on its ports and ready, a process continued, a competitor
// stopped.
const (
	faultKillService = "kill-service" // SIGKILL a service, start it again
	faultKillSidecar = "kill-sidecar" // SIGKILL a service's daprd, start it again
	faultTermService = "term-service" // SIGTERM a service (graceful stop), start it again
	faultTermSidecar = "term-sidecar" // SIGTERM a daprd (graceful stop), start it again
	// faultTermReplica stops a replica as Kubernetes and Container Apps do
	// (a rolling update, a scale-in): SIGTERM to the service and its daprd
	// at once, then both start again. While the daprd shuts down, its
	// deliveries fail, the app being gone: README "Known limits".
	faultTermReplica = "term-replica"
	faultRedis       = "restart-redis"
	faultPause       = "pause"   // SIGSTOP a service, daprd or Redis past the delivery timeout, then SIGCONT
	faultCPU         = "cpu-hog" // a competing process keeps every core busy
	// faultCrash is no kind to draw: a process of the system that exited
	// by itself, which the injector notes and starts again, and which
	// fails the run.
	faultCrash = "unplanned-exit"
)

// chaosKinds are the kinds a schedule draws from, with their weights, and
// whether README "Guarantees" claims that the fault loses nothing (the
// failure suite's tests of one fault each): CHAOS_FAULTS=covered draws
// from those, as .ci/run does.
var chaosKinds = []struct {
	name    string
	weight  int
	covered bool
}{
	{faultKillService, 3, true},  // TestNotificationKilledMidStreamNotifiesOnce
	{faultKillSidecar, 2, true},  // TestTripSidecarRestartKeepsEveryAcceptedOrder (SIGKILL)
	{faultTermService, 2, true},  // TestConsumerDownLosesNothing, TestGracefulShutdownWithin5s
	{faultTermSidecar, 2, false}, // README "Known limits": it can acknowledge buffered messages undelivered
	{faultTermReplica, 2, false}, // the same, its app gone while it stops
	{faultRedis, 2, true},        // TestBrokerRestartLosesNothing
	{faultPause, 2, false},       // no claim in the README
	{faultCPU, 1, false},         // no claim in the README
}

// chaosConfigFrom reads the settings from the environment.
func chaosConfigFrom(t *testing.T, getenv func(string) string) chaosConfig {
	t.Helper()
	cfg := chaosConfig{duration: 10 * time.Minute, rate: 10, pool: chaosPool}
	if v := getenv("CHAOS_POOL"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 {
			t.Fatalf("CHAOS_POOL=%s: want a number of drivers, at least the 5 named ones", v)
		}
		cfg.pool = n
	}
	if v := getenv("CHAOS_TIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			t.Fatalf("CHAOS_TIME=%s: want a duration of at least 1m, such as 2m or 10m", v)
		}
		cfg.duration = d
	}
	if v := getenv("CHAOS_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || r > 200 {
			t.Fatalf("CHAOS_RATE=%s: want trips per second, more than 0 and at most 200", v)
		}
		cfg.rate = r
	}
	if v := getenv("CHAOS_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CHAOS_SEED=%s: want a number, as a run prints it", v)
		}
		cfg.seed = seed
	} else {
		var b [8]byte
		crand.Read(b[:])
		cfg.seed = binary.BigEndian.Uint64(b[:]) % 1_000_000_000 // short enough to type
	}
	all := append(slices.Clone(services), dispatchService)
	cfg.targets = all
	if v := getenv("CHAOS_TARGETS"); v != "" {
		cfg.targets = nil
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if !slices.Contains(all, name) {
				t.Fatalf("CHAOS_TARGETS: unknown service %q; the services are %s", name, strings.Join(all, ", "))
			}
			if !slices.Contains(cfg.targets, name) {
				cfg.targets = append(cfg.targets, name)
			}
		}
	}
	switch v := getenv("CHAOS_FAULTS"); v {
	case "", "all":
		for _, k := range chaosKinds {
			cfg.kinds = append(cfg.kinds, k.name)
		}
	case "covered":
		for _, k := range chaosKinds {
			if k.covered {
				cfg.kinds = append(cfg.kinds, k.name)
			}
		}
	default:
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if !slices.ContainsFunc(chaosKinds, func(k struct {
				name    string
				weight  int
				covered bool
			}) bool {
				return k.name == name
			}) {
				t.Fatalf("CHAOS_FAULTS: unknown kind %q; the kinds are %s, or all, or covered", name, kindNames())
			}
			if !slices.Contains(cfg.kinds, name) {
				cfg.kinds = append(cfg.kinds, name)
			}
		}
	}
	return cfg
}

func kindNames() string {
	var names []string
	for _, k := range chaosKinds {
		names = append(names, k.name)
	}
	return strings.Join(names, ", ")
}

// fault is one fault of the schedule and, once injected, what happened.
type fault struct {
	n    int
	kind string
	// role is the service hit (trip, driver, ...); "" for Redis and the
	// CPU hog. part is service, sidecar, redis or cpu.
	role, part string
	sig        syscall.Signal // of kill-*, term-* and restart-redis
	at         time.Duration  // planned start, from the first order
	hold       time.Duration  // down, paused or busy for this long

	// As injected.
	started time.Time // the signal was sent, the competitor started
	ended   time.Time // the target was back: ready again, continued, the competitor gone
	exit    exit      // how a stopped process ended
	restore time.Duration
	note    string
	// squatters are the listeners found on a stopped service's port
	// while it was down (watchPort).
	squatters []squatter
}

// target names what the fault hits.
func (f *fault) target() string {
	switch f.part {
	case "service":
		return f.role
	case "sidecar":
		return f.role + " sidecar"
	case "replica":
		return f.role + " and its sidecar"
	case "cpu":
		return fmt.Sprintf("%d busy loops", runtime.NumCPU())
	}
	return f.part
}

// describe is the fault in a few words: kind, target, signal, length.
func (f *fault) describe() string {
	switch f.kind {
	case faultPause:
		return fmt.Sprintf("pause %s (SIGSTOP for %s)", f.target(), f.hold.Round(100*time.Millisecond))
	case faultCPU:
		return fmt.Sprintf("cpu-hog %s for %s", f.target(), f.hold.Round(100*time.Millisecond))
	case faultCrash:
		return fmt.Sprintf("unplanned exit of %s", f.target())
	}
	return fmt.Sprintf("%s %s (%s, down %s)", f.kind, f.target(), signalName(f.sig), f.hold.Round(100*time.Millisecond))
}

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// planFaults draws the schedule from the seed alone: the same seed, time
// and kinds give the same faults at the same planned times. The faults
// follow one another with a gap; a CPU hog runs beside the faults after
// it, so that some faults meet a busy machine.
func planFaults(cfg chaosConfig, roles []string) []*fault {
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5eed_c4a0_5000_0001))
	between := func(lo, hi time.Duration) time.Duration {
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	var kinds []string
	for _, k := range chaosKinds {
		if slices.Contains(cfg.kinds, k.name) {
			for range k.weight {
				kinds = append(kinds, k.name)
			}
		}
	}
	// restoreAllowance is what a restart is given before the next fault
	// is planned (a service is ready within about a second).
	const restoreAllowance = 5 * time.Second
	var plan []*fault
	at := chaosWarmup
	for len(kinds) > 0 {
		f := &fault{n: len(plan) + 1, kind: kinds[rng.IntN(len(kinds))], at: at}
		switch f.kind {
		case faultKillService, faultTermService:
			f.role, f.part, f.hold = roles[rng.IntN(len(roles))], "service", between(time.Second, 10*time.Second)
		case faultKillSidecar, faultTermSidecar:
			f.role, f.part, f.hold = roles[rng.IntN(len(roles))], "sidecar", between(time.Second, 10*time.Second)
		case faultTermReplica:
			f.role, f.part, f.hold = roles[rng.IntN(len(roles))], "replica", between(time.Second, 10*time.Second)
		case faultRedis:
			f.part, f.hold = "redis", between(time.Second, 8*time.Second)
			f.sig = []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM}[rng.IntN(2)]
		case faultPause:
			// Past the delivery timeout (components/resiliency.yaml, 10 s)
			// and the processing timeout (components/pubsub.yaml, 10 s).
			f.hold = between(11*time.Second, 20*time.Second)
			if i := rng.IntN(2*len(roles) + 1); i == 2*len(roles) {
				f.part = "redis"
			} else {
				f.role, f.part = roles[i/2], []string{"service", "sidecar"}[i%2]
			}
		case faultCPU:
			f.part, f.hold = "cpu", between(15*time.Second, 40*time.Second)
		}
		switch f.kind {
		case faultKillService, faultKillSidecar:
			f.sig = syscall.SIGKILL
		case faultTermService, faultTermSidecar, faultTermReplica:
			f.sig = syscall.SIGTERM
		}
		busyFor := f.hold + restoreAllowance
		if f.kind == faultCPU {
			busyFor = time.Second // the next fault meets the busy machine
		}
		if at+f.hold+restoreAllowance > cfg.duration {
			break
		}
		plan = append(plan, f)
		at += busyFor + between(3*time.Second, 12*time.Second)
	}
	return plan
}

// chaos is one soak run.
type chaos struct {
	cfg   chaosConfig
	sys   *system
	out   io.Writer
	plan  []*fault
	start time.Time // the first order
	load  *chaosLoad

	mu      sync.Mutex
	faults  []*fault // injected, in order (the plan's, and unplanned exits)
	current atomic.Pointer[fault]
	hogs    sync.WaitGroup // CPU hogs still running
	// reported: settle printed the report, the faults with it.
	reported bool
}

// say prints a line stamped with the time since the first order.
func (c *chaos) say(format string, args ...any) {
	stamp := "chaos:"
	if !c.start.IsZero() {
		stamp = fmt.Sprintf("chaos: %s +%s", time.Now().UTC().Format("15:04:05.000"), offset(time.Since(c.start)))
	}
	fmt.Fprintf(c.out, stamp+" "+format+"\n", args...)
}

// offset prints a time since the start as 1m02.3s.
func offset(d time.Duration) string {
	d = d.Round(100 * time.Millisecond)
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dm%04.1fs", int(d.Minutes()), (d % time.Minute).Seconds())
}

// inject runs the schedule, one fault after the other at its planned time
// (later when the one before took longer to give its target back),
// starting again any process that exited by itself meanwhile.
func (c *chaos) inject(t *testing.T) {
	for _, f := range c.plan {
		c.sleepUntil(t, c.start.Add(f.at))
		c.mu.Lock()
		c.faults = append(c.faults, f)
		c.mu.Unlock()
		c.current.Store(f)
		c.run(t, f)
		c.current.Store(nil)
	}
}

// sleepUntil waits until deadline, starting again any process of the
// system that exited by itself.
func (c *chaos) sleepUntil(t *testing.T, deadline time.Time) {
	for {
		c.reviveCrashed(t)
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		time.Sleep(min(left, 500*time.Millisecond))
	}
}

// run injects one fault and gives its target back.
func (c *chaos) run(t *testing.T, f *fault) {
	s := c.sys
	lateBy := time.Since(c.start.Add(f.at))
	late := ""
	if lateBy > time.Second {
		late = fmt.Sprintf(" (%s after its planned time)", lateBy.Round(100*time.Millisecond))
	}
	c.say("fault #%d: %s%s", f.n, f.describe(), late)
	f.started = time.Now()
	switch f.kind {
	case faultKillService, faultTermService, faultKillSidecar, faultTermSidecar:
		a := s.app(f.role)
		if f.part == "service" {
			f.exit = s.stopService(t, a, f.sig)
			stop := make(chan struct{})
			squatters := watchPort(a.port, stop)
			c.sleepUntil(t, f.started.Add(f.hold))
			close(stop)
			c.noteSquatters(f, <-squatters)
		} else {
			f.exit = s.stopSidecar(t, a, f.sig)
			c.sleepUntil(t, f.started.Add(f.hold))
		}
		back := time.Now()
		s.startApp(t, a)
		f.ended = time.Now()
		f.restore = f.ended.Sub(back)
		f.note = fmt.Sprintf("ended %s after the signal (%s)", f.exit.after.Round(time.Millisecond), f.exit.state)
	case faultTermReplica:
		a := s.app(f.role)
		var wg sync.WaitGroup
		var svc exit
		wg.Go(func() { svc = s.stopService(t, a, f.sig) })
		f.exit = s.stopSidecar(t, a, f.sig)
		wg.Wait()
		stop := make(chan struct{})
		squatters := watchPort(a.port, stop)
		c.sleepUntil(t, f.started.Add(f.hold))
		close(stop)
		c.noteSquatters(f, <-squatters)
		back := time.Now()
		s.startApp(t, a)
		f.ended = time.Now()
		f.restore = f.ended.Sub(back)
		f.note = fmt.Sprintf("the service ended %s after the signal (%s), the sidecar %s after it (%s)",
			svc.after.Round(time.Millisecond), svc.state, f.exit.after.Round(time.Millisecond), f.exit.state)
	case faultRedis:
		f.exit = s.stopRedis(t, f.sig)
		c.sleepUntil(t, f.started.Add(f.hold))
		back := time.Now()
		s.restartRedis(t)
		f.ended = time.Now()
		f.restore = f.ended.Sub(back)
		f.note = fmt.Sprintf("ended %s after the signal (%s)", f.exit.after.Round(time.Millisecond), f.exit.state)
	case faultPause:
		p := c.process(f)
		if p == nil {
			t.Fatalf("fault #%d: %s is not running", f.n, f.target())
		}
		p.signal(syscall.SIGSTOP, 0)
		if err := waitStopped(p.cmd.Process.Pid, 5*time.Second); err != nil {
			t.Fatalf("fault #%d: %v", f.n, err)
		}
		time.Sleep(time.Until(f.started.Add(f.hold)))
		p.signal(syscall.SIGCONT, 0)
		f.ended = time.Now()
	case faultCPU:
		// One busy loop per core, in one process group, as a neighbour
		// on a shared machine would be.
		loops := strings.Repeat("(while :; do :; done) & ", runtime.NumCPU())
		p, err := s.spawn("cpu-hog", nil, "/bin/sh", "-c", loops+"wait")
		if err != nil {
			t.Fatalf("fault #%d: %v", f.n, err)
		}
		c.hogs.Go(func() {
			time.Sleep(f.hold)
			p.signal(syscall.SIGKILL, 5*time.Second)
			c.mu.Lock()
			f.ended = time.Now()
			c.mu.Unlock()
			c.say("fault #%d over: the busy loops ended after %s", f.n, time.Since(f.started).Round(100*time.Millisecond))
		})
		return
	}
	c.say("fault #%d over: %s back after %s%s", f.n, f.target(), f.ended.Sub(f.started).Round(100*time.Millisecond), restoreNote(f))
}

// noteSquatters records and prints every listener found on a service's
// port while it was down: its sidecar may have delivered to it.
func (c *chaos) noteSquatters(f *fault, found []squatter) {
	for _, sq := range found {
		c.say("fault #%d: while %s was down, %s, %s after the fault started", f.n, f.role, sq, sq.at.Sub(f.started).Round(time.Millisecond))
		c.mu.Lock()
		f.squatters = append(f.squatters, sq)
		c.mu.Unlock()
	}
}

func restoreNote(f *fault) string {
	if f.restore == 0 {
		return ""
	}
	return fmt.Sprintf(" (ready %s after its restart; %s)", f.restore.Round(10*time.Millisecond), f.note)
}

// process returns the process a pause hits, or nil when it is not running.
func (c *chaos) process(f *fault) *process {
	s := c.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f.part {
	case "redis":
		return s.redisP
	case "service":
		return s.apps[f.role][0].service
	case "sidecar":
		return s.apps[f.role][0].sidecar
	}
	return nil
}

// reviveCrashed starts again every process of the system that exited
// although no fault stopped it, as an orchestrator would, and records the
// exit as a fault of its own: the run then fails.
func (c *chaos) reviveCrashed(t *testing.T) {
	s := c.sys
	type crashed struct {
		f *fault
		a *app
		p *process
	}
	var found []crashed
	s.mu.Lock()
	dead := func(p *process) bool {
		if p == nil || p.stopping.Load() {
			return false
		}
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	for _, role := range s.roles() {
		for _, a := range s.apps[role] {
			if dead(a.service) {
				found = append(found, crashed{&fault{kind: faultCrash, role: role, part: "service"}, a, a.service})
				a.service = nil
			}
			if dead(a.sidecar) {
				found = append(found, crashed{&fault{kind: faultCrash, role: role, part: "sidecar"}, a, a.sidecar})
				a.sidecar = nil
			}
		}
	}
	if dead(s.redisP) {
		found = append(found, crashed{&fault{kind: faultCrash, part: "redis"}, nil, s.redisP})
		s.redisP = nil
	}
	s.mu.Unlock()
	for _, cr := range found {
		f := cr.f
		cr.p.stopping.Store(true) // noted: the harness no longer takes it for a failure to start
		f.started = cr.p.exitedAt
		f.note = fmt.Sprintf("exited by itself: %v (log: %s)", cr.p.err, cr.p.log)
		c.mu.Lock()
		f.n = len(c.faults) + 1
		c.faults = append(c.faults, f)
		c.mu.Unlock()
		c.say("UNPLANNED: %s %s; starting it again", f.target(), f.note)
		back := time.Now()
		if cr.a != nil {
			s.startApp(t, cr.a)
		} else {
			s.restartRedis(t)
		}
		f.ended = time.Now()
		f.restore = f.ended.Sub(back)
	}
}

// chaosOrder is one order of the load: one rider, one Idempotency-Key,
// sent again until it is answered 202.
type chaosOrder struct {
	n       int
	riderID string
	key     string
	pickup  point

	// Written by the order's goroutine, read by others under chaosLoad.mu.
	firstSent  time.Time
	acceptedAt time.Time
	tripID     string
	last       attempt // the latest answer
	attempts   int

	// Written by the watcher (chaos.watch) and the final look.
	receivedAt, outcomeAt time.Time
	outcome               string // driver_assigned or no_driver
}

// attempt is one POST /trips of an order and its answer.
type attempt struct {
	order          int // chaosOrder.n
	sent, answered time.Time
	status         int // 0: no answer
	tripID         string
	problem        bool
	unknown        bool // 503 order-outcome-unknown
	retryAfter     time.Duration
	answer         string
}

func (a attempt) accepted() bool { return a.status == http.StatusAccepted && a.tripID != "" }

// outcomeOf names how an attempt ended, for the counts.
func (a attempt) outcomeOf() string {
	switch {
	case a.accepted():
		return "202"
	case a.status == 0:
		return "no answer"
	case a.unknown:
		return "503 outcome unknown"
	case a.status >= 500:
		return "5xx"
	}
	return strconv.Itoa(a.status)
}

// chaosLoad orders trips at a steady rate, open loop: each order at its
// time, whether or not earlier ones were answered; each order is sent
// again with its Idempotency-Key until answered 202, as a client would.
type chaosLoad struct {
	c      *chaos
	client *http.Client
	rng    *rand.Rand

	stopOnce, quitOnce sync.Once
	stop, quitting     chan struct{}
	sending            chan struct{} // closed when no more orders will be started
	wg                 sync.WaitGroup

	ordered, accepted, failed atomic.Int64

	mu       sync.Mutex
	orders   []*chaosOrder
	attempts []attempt
}

// chaosMaxWaiting bounds the orders waiting for their 202 at once.
const chaosMaxWaiting = 2000

func (c *chaos) startLoad() *chaosLoad {
	l := &chaosLoad{c: c,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &riderTransport{
			next:       &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
			tripRiders: map[string]string{},
		}},
		rng:  rand.New(rand.NewPCG(c.cfg.seed^0x10ad, c.cfg.seed)),
		stop: make(chan struct{}), quitting: make(chan struct{}), sending: make(chan struct{}),
	}
	waiting := make(chan struct{}, chaosMaxWaiting)
	go func() {
		defer close(l.sending)
		every := time.Duration(float64(time.Second) / c.cfg.rate)
		for i := 0; ; i++ {
			at := c.start.Add(time.Duration(i) * every)
			select {
			case <-l.stop:
				return
			case <-time.After(time.Until(at)):
			}
			select {
			case <-l.stop:
				return
			case waiting <- struct{}{}:
			}
			o := &chaosOrder{n: i, riderID: newID("chaos"), key: newToken(),
				pickup: point{area.minLat + l.rng.Float64()*(area.maxLat-area.minLat), area.minLon + l.rng.Float64()*(area.maxLon-area.minLon)}}
			l.mu.Lock()
			l.orders = append(l.orders, o)
			l.mu.Unlock()
			l.ordered.Add(1)
			l.wg.Go(func() {
				defer func() { <-waiting }()
				l.place(o)
			})
		}
	}()
	return l
}

// place sends the order until it is answered 202, with backoff (0.5 s,
// doubling up to 5 s, or what Retry-After says), until the load quits or
// chaosAnswerGrace after the last order. A 4xx other than 429 is a
// mistake of the system's or the test's, not retried.
func (l *chaosLoad) place(o *chaosOrder) {
	backoff := 500 * time.Millisecond
	for {
		a := l.send(o)
		l.mu.Lock()
		if o.attempts == 0 {
			o.firstSent = a.sent
		}
		o.attempts++
		o.last = a
		if a.accepted() {
			o.acceptedAt, o.tripID = a.answered, a.tripID
		}
		l.attempts = append(l.attempts, a)
		l.mu.Unlock()
		if a.accepted() {
			l.accepted.Add(1)
			return
		}
		l.failed.Add(1)
		if a.status >= 400 && a.status < 500 && a.status != http.StatusTooManyRequests {
			return
		}
		wait := max(backoff, a.retryAfter)
		backoff = min(2*backoff, 5*time.Second)
		select {
		case <-l.quitting:
			return
		case <-time.After(wait):
		}
	}
}

// send sends one POST /trips of the order.
func (l *chaosLoad) send(o *chaosOrder) attempt {
	a := attempt{order: o.n, sent: time.Now()}
	req, err := http.NewRequest(http.MethodPost, l.c.sys.url("trip", "/trips"), strings.NewReader(orderBody(o.riderID, o.pickup)))
	if err != nil {
		a.answer = err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", o.key)
	resp, err := l.client.Do(req)
	if err != nil {
		a.answered, a.answer = time.Now(), err.Error()
		return a
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	a.answered = time.Now()
	if err != nil { // cut off mid-answer: no answer
		a.answer = "reading the answer: " + err.Error()
		return a
	}
	a.status = resp.StatusCode
	a.answer = fmt.Sprintf("%s %s", resp.Status, bytes.TrimSpace(body))
	a.problem = response{header: resp.Header}.mediaType() == "application/problem+json"
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		a.retryAfter = time.Duration(secs) * time.Second
	}
	var p problemView
	a.unknown = a.problem && json.Unmarshal(body, &p) == nil && p.Type == problemOutcomeUnknown
	var trip tripView
	if a.status == http.StatusAccepted && json.Unmarshal(body, &trip) == nil && isUUID(trip.TripID) {
		a.tripID = trip.TripID
	}
	return a
}

// stopOrdering starts no more orders; those started go on until answered.
func (l *chaosLoad) stopOrdering() {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.sending
}

// quit makes every order stop retrying.
func (l *chaosLoad) quit() {
	l.stopOrdering()
	l.quitOnce.Do(func() { close(l.quitting) })
}

// wait waits until every order is answered 202 or given up, at most
// grace; then every order still retrying gives up.
func (l *chaosLoad) wait(grace time.Duration) {
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		l.quit()
		<-done
	}
}

// snapshot returns the orders and attempts so far.
func (l *chaosLoad) snapshot() ([]*chaosOrder, []attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.orders), slices.Clone(l.attempts)
}

// watch follows the accepted trips while the load runs: every second it
// reads the notifications of each trip accepted at least a second ago and
// not yet told its outcome, for the progress lines and the latencies.
// A fault that makes the notification service slow cuts a round short.
func (c *chaos) watch() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	look := &http.Client{Timeout: 3 * time.Second, Transport: c.load.client.Transport}
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-time.After(time.Second):
			}
			c.lookAll(look, time.Now().Add(-time.Second), 5)
		}
	}()
	return func() { close(quit); <-done }
}

// lookAll reads the notifications of every trip accepted before since
// whose outcome is not known yet, four at a time, giving up the round
// after failures answers in a row fail (0: never).
func (c *chaos) lookAll(look *http.Client, since time.Time, failures int) {
	orders, _ := c.load.snapshot()
	var todo []*chaosOrder
	c.load.mu.Lock()
	for _, o := range orders {
		if o.tripID != "" && o.acceptedAt.Before(since) && o.outcomeAt.IsZero() {
			todo = append(todo, o)
		}
	}
	c.load.mu.Unlock()
	var next atomic.Int64
	var failedInARow atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(todo)); i = next.Add(1) - 1 {
				if failures > 0 && failedInARow.Load() >= int64(failures) {
					return
				}
				if c.look(look, todo[i]) {
					failedInARow.Store(0)
				} else {
					failedInARow.Add(1)
				}
			}
		})
	}
	wg.Wait()
}

// look reads one rider's notifications and notes when the trip's were
// sent; it reports whether the notification service answered.
func (c *chaos) look(look *http.Client, o *chaosOrder) bool {
	resp, err := look.Get(c.sys.url("notification", "/riders/"+o.riderID+"/notifications"))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var h historyView
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&h) != nil {
		return false
	}
	c.load.mu.Lock()
	defer c.load.mu.Unlock()
	for _, n := range h.Notifications {
		if n.TripID != o.tripID {
			continue
		}
		switch n.Kind {
		case "trip_received":
			if o.receivedAt.IsZero() {
				o.receivedAt = n.SentAt
			}
		case "driver_assigned", "no_driver":
			if o.outcomeAt.IsZero() {
				o.outcomeAt, o.outcome = n.SentAt, n.Kind
			}
		}
	}
	return true
}

// progress prints a line every 10 s: orders, answers, completed trips,
// the broker's backlog, and the fault going on.
func (c *chaos) progress() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			orders, _ := c.load.snapshot()
			completed := 0
			c.load.mu.Lock()
			for _, o := range orders {
				if !o.outcomeAt.IsZero() {
					completed++
				}
			}
			c.load.mu.Unlock()
			now := "no fault"
			if f := c.current.Load(); f != nil {
				now = fmt.Sprintf("fault #%d %s, %s in", f.n, f.describe(), time.Since(f.started).Round(100*time.Millisecond))
			}
			ordered, accepted := c.load.ordered.Load(), c.load.accepted.Load()
			c.say("ordered %d, answered 202 %d (waiting %d), failed POSTs %d (sent again), completed %d; broker backlog %s; %s",
				ordered, accepted, ordered-accepted, c.load.failed.Load(), completed, c.brokerBacklog(), now)
		}
	}()
	return func() { close(quit); <-done }
}

// brokerBacklog is how many messages the consumer groups have not been
// handed yet, and how many they hold unacknowledged. It counts the entries
// after each group's last delivered one (at most chaosBacklogCount): the
// lag XINFO GROUPS estimates is wrong after Redis restarts from its
// append-only file.
func (c *chaos) brokerBacklog() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var behind, pending int64
	for _, topic := range chaosTopics {
		groups, err := c.sys.redis.XInfoGroups(ctx, topic).Result()
		if err != nil {
			if strings.Contains(err.Error(), "no such key") {
				continue
			}
			return "unreadable (" + err.Error() + ")"
		}
		for _, g := range groups {
			pending += g.Pending
			n, err := c.sys.redis.XRangeN(ctx, topic, "("+g.LastDeliveredID, "+", chaosBacklogCount).Result()
			if err != nil {
				return "unreadable (" + err.Error() + ")"
			}
			behind += int64(len(n))
		}
	}
	return fmt.Sprintf("%d not handed out, %d unacknowledged", behind, pending)
}

// chaosBacklogCount bounds what brokerBacklog counts per consumer group.
const chaosBacklogCount = 5000

// The schedule is the seed's alone: the same seed, time and kinds plan the
// same faults, another seed others; every fault ends within the time, and
// a pause outlasts the delivery timeout.
func TestChaosScheduleIsSeeded(t *testing.T) {
	cfg := chaosConfigFrom(t, func(name string) string {
		return map[string]string{"CHAOS_TIME": "10m", "CHAOS_SEED": "42"}[name]
	})
	roles := cfg.targets
	describe := func(plan []*fault) []string {
		var out []string
		for _, f := range plan {
			out = append(out, fmt.Sprintf("%s at %s", f.describe(), f.at))
		}
		return out
	}
	first, again := describe(planFaults(cfg, roles)), describe(planFaults(cfg, roles))
	if !slices.Equal(first, again) {
		t.Errorf("seed 42 planned\n%s\nthen\n%s", strings.Join(first, "\n"), strings.Join(again, "\n"))
	}
	other := cfg
	other.seed = 43
	if slices.Equal(first, describe(planFaults(other, roles))) {
		t.Errorf("seeds 42 and 43 planned the same faults")
	}
	if len(first) < 10 {
		t.Errorf("10 minutes planned %d faults, want at least 10:\n%s", len(first), strings.Join(first, "\n"))
	}
	kinds := map[string]bool{}
	for _, f := range planFaults(cfg, roles) {
		kinds[f.kind] = true
		if f.at+f.hold > cfg.duration {
			t.Errorf("fault %s at %s ends after the run's %s", f.describe(), f.at, cfg.duration)
		}
		if f.kind == faultPause && f.hold <= 10*time.Second {
			t.Errorf("%s: a pause must outlast the 10 s delivery timeout", f.describe())
		}
	}
	if len(kinds) < 5 {
		t.Errorf("10 minutes planned only the kinds %v", kinds)
	}
	notification := chaosConfigFrom(t, func(name string) string {
		return map[string]string{"CHAOS_TARGETS": "notification", "CHAOS_SEED": "1"}[name]
	})
	for _, f := range planFaults(notification, notification.targets) {
		if f.role != "" && f.role != "notification" {
			t.Errorf("CHAOS_TARGETS=notification planned %s", f.describe())
		}
	}
	covered := chaosConfigFrom(t, func(name string) string { return map[string]string{"CHAOS_FAULTS": "covered", "CHAOS_SEED": "1"}[name] })
	for _, f := range planFaults(covered, roles) {
		if f.kind == faultTermSidecar || f.kind == faultTermReplica || f.kind == faultPause || f.kind == faultCPU {
			t.Errorf("CHAOS_FAULTS=covered planned %s, which README \"Guarantees\" does not claim", f.describe())
		}
	}
}
