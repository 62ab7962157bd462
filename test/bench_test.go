package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	daprclient "github.com/dapr/go-sdk/client"
	daprcommon "github.com/dapr/go-sdk/service/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The benchmark (make bench, bench_full_test.go) and its smoke run
// (TestBenchSmoke, part of make test) share this machinery: a system of
// the end-to-end harness, an open-loop load of trips at fixed rates in
// steps, and per step the figures of the README: offered and completed
// trips/s, lost, order → driver_assigned notification latency, and the CPU
// each process spent per trip. In the same run it measures one Dapr
// pub/sub hop on the same broker, for scale.

// benchSettings say what a run offers. They are printed with the figures.
type benchSettings struct {
	Rates          []int         `json:"ratesPerSecond"`
	Step           time.Duration `json:"-"` // written as stepSeconds
	Pool           int           `json:"driverPool"`
	Ride           time.Duration `json:"-"` // written as rideSeconds
	AssignDeadline time.Duration `json:"-"`
	// Drain bounds how long after a step its last trips may take to
	// complete; a trip not complete by then is lost.
	Drain     time.Duration `json:"-"`
	HopEvents int           `json:"hopEvents"`
	Seed      uint64        `json:"seed"`
	// ProfileDir, when set, receives a CPU profile of every service and
	// sidecar, taken during the middle third of the step at ProfileRate.
	ProfileDir  string `json:"-"`
	ProfileRate int    `json:"-"`
	// Tracing is "on" (every trip traced and exported to a Jaeger of the
	// system's own, as make run does) or "off" (the services keep no trace:
	// OTEL_TRACES_SAMPLER_ARG=0, which the sidecars follow).
	Tracing string `json:"tracing"`
	// Style is who coordinates a trip: choreography (the default),
	// orchestration or workflow (README, "Three styles").
	Style string `json:"style"`
}

// MarshalJSON writes the settings with the step and ride lengths in
// seconds, which a reader of bench.json need not decode as nanoseconds.
func (s benchSettings) MarshalJSON() ([]byte, error) {
	type plain benchSettings // without this method
	return json.Marshal(struct {
		plain
		StepSeconds float64 `json:"stepSeconds"`
		RideSeconds float64 `json:"rideSeconds"`
	}{plain(s), s.Step.Seconds(), s.Ride.Seconds()})
}

// area is where the benchmark's drivers wait and its riders are picked up:
// a box around Prague (the driver service's DRIVER_POOL_AREA).
var area = struct{ minLat, minLon, maxLat, maxLon float64 }{49.98, 14.25, 50.15, 14.60}

// benchReport is everything one run measured; it is written as JSON.
type benchReport struct {
	Date     string        `json:"date"`
	Machine  string        `json:"machine"`
	Settings benchSettings `json:"settings"`
	Steps    []stepResult  `json:"steps"`
	// Hops are one pub/sub hop per transport; the first is the HTTP app
	// channel the services use.
	Hops []hopResult `json:"hops"`
	// Held is the highest offered rate completed in full with zero lost
	// and p99 at most 1 s; HeldRatio is its completed trips/s over the
	// HTTP hop's events/s.
	Held      int     `json:"heldRatePerSecond"`
	HeldRatio float64 `json:"heldTripsPerHopEvent"`
	// Runs holds every run when this report is their median.
	Runs []benchReport `json:"runs,omitempty"`
}

// medianReport returns the report whose every figure is the median of
// that figure over runs of the same settings (the middle run's for an odd
// count, the upper middle's otherwise), with the runs themselves; one run
// is returned as it is.
func medianReport(runs []benchReport) benchReport {
	if len(runs) == 1 {
		return runs[0]
	}
	median := func(get func(benchReport) float64) float64 {
		vs := make([]float64, len(runs))
		for i, r := range runs {
			vs[i] = get(r)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	cpu := func(get func(benchReport) map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for name := range get(runs[0]) {
			out[name] = median(func(r benchReport) float64 { return get(r)[name] })
		}
		return out
	}
	m := runs[0]
	m.Steps = slices.Clone(m.Steps)
	for i := range m.Steps {
		step := func(r benchReport) stepResult { return r.Steps[i] }
		s := &m.Steps[i]
		s.OfferedPerS = median(func(r benchReport) float64 { return step(r).OfferedPerS })
		s.CompletedPerS = median(func(r benchReport) float64 { return step(r).CompletedPerS })
		s.P50Ms = median(func(r benchReport) float64 { return step(r).P50Ms })
		s.P95Ms = median(func(r benchReport) float64 { return step(r).P95Ms })
		s.P99Ms = median(func(r benchReport) float64 { return step(r).P99Ms })
		s.MaxMs = median(func(r benchReport) float64 { return step(r).MaxMs })
		s.SendLagMaxMs = median(func(r benchReport) float64 { return step(r).SendLagMaxMs })
		s.CPUMsPerTrip = cpu(func(r benchReport) map[string]float64 { return step(r).CPUMsPerTrip })
		// Counts add up over the runs: a trip lost in any run shows.
		s.Sent, s.Accepted, s.Refused, s.Completed, s.NoDriver, s.Lost = 0, 0, 0, 0, 0, 0
		for _, r := range runs {
			o := r.Steps[i]
			s.Sent += o.Sent
			s.Accepted += o.Accepted
			s.Refused += o.Refused
			s.Completed += o.Completed
			s.NoDriver += o.NoDriver
			s.Lost += o.Lost
		}
	}
	m.Hops = slices.Clone(m.Hops)
	for i := range m.Hops {
		h := &m.Hops[i]
		h.EventsPerS = median(func(r benchReport) float64 { return r.Hops[i].EventsPerS })
		h.CPUMsPerEvent = cpu(func(r benchReport) map[string]float64 { return r.Hops[i].CPUMsPerEvent })
	}
	m.Held, m.HeldRatio = heldRate(m.Steps, m.Hops)
	m.Runs = runs
	return m
}

// heldRate is the highest rate held (see stepResult.held) and its
// completed trips/s over the HTTP hop's events/s.
func heldRate(steps []stepResult, hops []hopResult) (int, float64) {
	var rate int
	var ratio float64
	for _, step := range steps {
		if step.held() && step.Rate > rate {
			rate = step.Rate
			if len(hops) > 0 && hops[0].EventsPerS > 0 {
				ratio = step.CompletedPerS / hops[0].EventsPerS
			}
		}
	}
	return rate, ratio
}

// stepResult is one rate's figures.
type stepResult struct {
	Rate        int     `json:"ratePerSecond"`
	Sent        int     `json:"sent"`
	Accepted    int     `json:"accepted"`
	Refused     int     `json:"refused"`
	Completed   int     `json:"completed"`
	NoDriver    int     `json:"noDriver"`
	Lost        int     `json:"lost"`
	OfferedPerS float64 `json:"offeredPerSecond"`
	// CompletedPerS is completed trips over the time from the first order
	// to the last driver_assigned notification.
	CompletedPerS float64 `json:"completedPerSecond"`
	// Latency from sending POST /trips to the rider's driver_assigned
	// notification, as the notification service stamped it (sentAt).
	P50Ms float64 `json:"p50Ms"`
	P95Ms float64 `json:"p95Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
	// CPUMsPerTrip is the CPU time (user and system, from /proc) each
	// process spent from the step's first order until the system was quiet
	// again, over the trips completed; "all" is their sum.
	CPUMsPerTrip map[string]float64 `json:"cpuMsPerTrip"`
	// SendLagMaxMs is how late the load generator sent its latest order
	// compared with the schedule: a large lag means the generator, not the
	// system, limited the rate.
	SendLagMaxMs float64 `json:"sendLagMaxMs"`
}

// held reports whether the step kept up: every accepted trip completed,
// none lost, the rate offered completed, and p99 at most 1 s.
func (r stepResult) held() bool {
	return r.Lost == 0 && r.Refused == 0 && r.NoDriver == 0 && r.Completed == r.Sent && r.P99Ms <= 1000 && r.CompletedPerS >= 0.95*r.OfferedPerS
}

// hopResult is one Dapr pub/sub hop: events published through one
// sidecar, delivered through another to an app that only counts them.
type hopResult struct {
	Transport     string             `json:"transport"`
	Events        int                `json:"events"`
	EventsPerS    float64            `json:"eventsPerSecond"`
	CPUMsPerEvent map[string]float64 `json:"cpuMsPerEvent"`
}

// bench runs steps against one system.
type bench struct {
	t        *testing.T
	sys      *system
	settings benchSettings
	out      io.Writer // progress and the table
	rng      *rand.Rand
	load     *http.Client
	idleCPU  float64 // ticks per second of the whole system at rest
}

// benchClient sends the load: enough connections that the generator never
// queues behind a slow answer.
func benchClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		// Each rider's request with its rider's token (riders), each
		// answer checked against contracts/openapi.yaml.
		Transport: &riderTransport{
			next:       checked(&http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}),
			tripRiders: map[string]string{},
		},
	}
}

// startBench starts a system set up for the benchmark: Redis persisting
// every write before it answers (as make run starts it), a driver pool of
// settings.Pool drivers spread over the area, and rides short enough that
// every trip finds a driver.
func startBench(t *testing.T, settings benchSettings, out io.Writer) *bench {
	t.Helper()
	opts := []option{withPersistentRedis()}
	if settings.ProfileDir != "" {
		opts = append(opts, withProfiling())
	}
	opts = append(opts, withStyle(cmp.Or(settings.Style, styleChoreography)))
	switch settings.Tracing {
	case "on":
		opts = append(opts, withTracing())
	case "off":
		for _, name := range services {
			opts = append(opts, withEnv(name, "OTEL_TRACES_SAMPLER_ARG=0"))
		}
	default:
		t.Fatalf("bench tracing %q: want on or off", settings.Tracing)
	}
	sys := startSystem(t, append(opts,
		withEnv("driver",
			"DRIVER_POOL_SIZE="+strconv.Itoa(settings.Pool),
			fmt.Sprintf("DRIVER_POOL_AREA=%v,%v,%v,%v", area.minLat, area.minLon, area.maxLat, area.maxLon),
			"RIDE_DURATION="+settings.Ride.String(),
			"ASSIGN_DEADLINE="+settings.AssignDeadline.String(),
		))...,
	)
	b := &bench{t: t, sys: sys, settings: settings, out: out,
		rng: rand.New(rand.NewPCG(settings.Seed, settings.Seed^0x9e3779b97f4a7c15)), load: benchClient()}
	b.idleCPU = b.restingCPU()
	fmt.Fprintf(out, "bench: system ready; at rest it uses %.1f%% of a core\n", b.idleCPU)
	return b
}

// run measures every step, then the hop, and returns the report.
func (b *bench) run() benchReport {
	s := b.settings
	fmt.Fprintf(b.out, "bench: style %s; rates %v trips/s, %s each; %d drivers, rides of %s, assign deadline %s; seed %d; tracing %s\n",
		cmp.Or(s.Style, styleChoreography), s.Rates, s.Step, s.Pool, s.Ride, s.AssignDeadline, s.Seed, s.Tracing)
	r := benchReport{Date: time.Now().UTC().Format(time.RFC3339), Machine: machine(), Settings: s}
	for i, rate := range s.Rates {
		fmt.Fprintf(b.out, "bench: step %d/%d: %d trips/s for %s\n", i+1, len(s.Rates), rate, s.Step)
		step := b.step(rate)
		r.Steps = append(r.Steps, step)
		fmt.Fprintf(b.out, "bench: step %d/%d: %s\n", i+1, len(s.Rates), step.summary())
	}
	r.Hops = b.hops(s.HopEvents)
	r.Held, r.HeldRatio = heldRate(r.Steps, r.Hops)
	return r
}

// benchOrder is one order of a step and what became of it.
type benchOrder struct {
	riderID    string
	sentAt     time.Time
	lag        time.Duration // sentAt behind the schedule
	status     int
	tripID     string
	received   bool      // the rider has trip_received for the trip
	assignedAt time.Time // the driver_assigned notification's sentAt
	noDriver   bool
}

func (o *benchOrder) done() bool { return o.received && (!o.assignedAt.IsZero() || o.noDriver) }

// step offers rate trips a second for the step's time, open loop: each
// order is sent at its time whether or not earlier ones were answered.
func (b *bench) step(rate int) stepResult {
	n := int(math.Round(float64(rate) * b.settings.Step.Seconds()))
	orders := make([]benchOrder, n)
	for i := range orders {
		orders[i].riderID = newID("bench")
	}
	pickups := make([]point, n)
	for i := range pickups {
		pickups[i] = point{area.minLat + b.rng.Float64()*(area.maxLat-area.minLat), area.minLon + b.rng.Float64()*(area.maxLon-area.minLon)}
	}

	if b.settings.ProfileDir != "" && rate == b.settings.ProfileRate {
		profiled := b.profile(b.settings.Step/6, max(time.Second, b.settings.Step/3))
		defer func() { <-profiled }()
	}
	cpuBefore := b.cpu()
	var answered, accepted atomic.Int64
	stopProgress := b.progress(n, &answered, &accepted)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range orders {
		at := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		time.Sleep(time.Until(at))
		wg.Go(func() {
			o := &orders[i]
			o.sentAt = time.Now()
			o.lag = o.sentAt.Sub(at)
			o.status, o.tripID = b.order(o.riderID, pickups[i])
			answered.Add(1)
			if o.tripID != "" {
				accepted.Add(1)
			}
		})
	}
	wg.Wait()
	sendTime := time.Since(start)
	b.awaitQuiet(b.settings.Drain)
	cpuAfter := b.cpu()
	stopProgress()
	b.collect(orders, time.Now().Add(b.settings.Drain))
	return b.figures(rate, orders, sendTime, start, cpuBefore, cpuAfter)
}

// profile waits, then takes a CPU profile of the given length of every
// service and sidecar at once into the settings' ProfileDir, as
// <instance>.pprof and <instance>-dapr.pprof. The channel closes when all
// are written.
func (b *bench) profile(after, length time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(after)
		if err := os.MkdirAll(b.settings.ProfileDir, 0o755); err != nil {
			b.t.Errorf("profiles: %v", err)
			return
		}
		var wg sync.WaitGroup
		for _, name := range services {
			for _, a := range b.sys.apps[name] {
				for file, port := range map[string]int{a.instance: a.pprofPort, a.instance + "-dapr": a.profilePort} {
					wg.Go(func() {
						url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, int(length.Seconds()))
						c := http.Client{Timeout: length + 10*time.Second}
						resp, err := c.Get(url)
						if err != nil {
							b.t.Errorf("profile of %s: %v", file, err)
							return
						}
						defer resp.Body.Close()
						raw, err := io.ReadAll(resp.Body)
						if err == nil && resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("%s: %s", resp.Status, raw)
						}
						if err == nil {
							err = os.WriteFile(filepath.Join(b.settings.ProfileDir, file+".pprof"), raw, 0o644)
						}
						if err != nil {
							b.t.Errorf("profile of %s: %v", file, err)
						}
					})
				}
			}
		}
		wg.Wait()
		fmt.Fprintf(b.out, "bench: CPU profiles of %s at %d trips/s in %s (go tool pprof -top FILE)\n", length, b.settings.ProfileRate, b.settings.ProfileDir)
	}()
	return done
}

// order sends one POST /trips and returns the status and the trip id.
func (b *bench) order(riderID string, pickup point) (int, string) {
	req, err := http.NewRequestWithContext(withTest(context.Background(), b.t), http.MethodPost, b.sys.url("trip", "/trips"), strings.NewReader(orderBody(riderID, pickup)))
	if err != nil {
		return 0, ""
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.load.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var trip tripView
	if resp.StatusCode != http.StatusAccepted || json.NewDecoder(resp.Body).Decode(&trip) != nil || !isUUID(trip.TripID) {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, trip.TripID
}

// progress prints a line every two seconds while a step sends: orders
// answered and accepted so far, and how busy the system is.
func (b *bench) progress(n int, answered, accepted *atomic.Int64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		last, lastAt := b.cpu(), time.Now()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				now, at := b.cpu(), time.Now()
				busy := float64(now.total()-last.total()) / at.Sub(lastAt).Seconds()
				last, lastAt = now, at
				fmt.Fprintf(b.out, "bench:   answered %d/%d, accepted %d, system busy %.0f%% of a core\n",
					answered.Load(), n, accepted.Load(), busy)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// collect reads each accepted order's rider's notifications until every
// one is done or deadline passes.
func (b *bench) collect(orders []benchOrder, deadline time.Time) {
	for {
		var pending []*benchOrder
		for i := range orders {
			if o := &orders[i]; o.tripID != "" && !o.done() {
				pending = append(pending, o)
			}
		}
		if len(pending) == 0 || time.Now().After(deadline) {
			return
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(len(pending)); i = next.Add(1) - 1 {
					b.look(pending[i])
				}
			})
		}
		wg.Wait()
		time.Sleep(250 * time.Millisecond)
	}
}

// look reads the order's rider's notifications and records what they say
// about its trip.
func (b *bench) look(o *benchOrder) {
	req, err := http.NewRequestWithContext(withTest(context.Background(), b.t), http.MethodGet, b.sys.url("notification", "/riders/"+o.riderID+"/notifications"), nil)
	if err != nil {
		return
	}
	resp, err := b.load.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	var h historyView
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&h) != nil {
		return
	}
	for _, n := range h.Notifications {
		if n.TripID != o.tripID {
			continue
		}
		switch n.Kind {
		case "trip_received":
			o.received = true
		case "driver_assigned":
			o.assignedAt = n.SentAt
		case "no_driver":
			o.noDriver = true
		}
	}
}

// figures turns a step's orders and CPU readings into its result.
func (b *bench) figures(rate int, orders []benchOrder, sendTime time.Duration, start time.Time, before, after cpuReading) stepResult {
	r := stepResult{Rate: rate, Sent: len(orders), OfferedPerS: float64(len(orders)) / sendTime.Seconds()}
	var latencies []float64
	var last time.Time
	for _, o := range orders {
		r.SendLagMaxMs = max(r.SendLagMaxMs, ms(o.lag))
		switch {
		case o.tripID == "":
			r.Refused++
			continue
		case o.noDriver:
			r.NoDriver++
		case o.done():
			r.Completed++
			latencies = append(latencies, ms(o.assignedAt.Sub(o.sentAt)))
			if o.assignedAt.After(last) {
				last = o.assignedAt
			}
		default:
			r.Lost++
		}
		r.Accepted++
	}
	if r.Completed > 0 {
		r.CompletedPerS = float64(r.Completed) / last.Sub(start).Seconds()
	}
	slices.Sort(latencies)
	r.P50Ms, r.P95Ms, r.P99Ms = percentile(latencies, 50), percentile(latencies, 95), percentile(latencies, 99)
	if len(latencies) > 0 {
		r.MaxMs = latencies[len(latencies)-1]
	}
	r.CPUMsPerTrip = after.msPer(before, r.Completed)
	return r
}

// summary is a step's result on one line.
func (r stepResult) summary() string {
	return fmt.Sprintf("offered %.1f/s, completed %.1f/s (%d of %d, lost %d, refused %d, no driver %d); "+
		"order → driver_assigned p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms; %.2f ms CPU per trip",
		r.OfferedPerS, r.CompletedPerS, r.Completed, r.Sent, r.Lost, r.Refused, r.NoDriver,
		r.P50Ms, r.P95Ms, r.P99Ms, r.MaxMs, r.CPUMsPerTrip["all"])
}

// percentile is the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchProcess is a process whose CPU the benchmark counts.
type benchProcess struct {
	name string // trip, trip-dapr, ..., redis
	pid  int
}

// processes are the system's services (the coordinator of another style
// under its role's name, trip), their sidecars, Redis, and Dapr's
// placement and scheduler in the workflow style: "all processes" of the
// figures. The load generator (this test) is not one.
func (b *bench) processes() []benchProcess {
	s := b.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []benchProcess
	for _, name := range services {
		for _, a := range s.apps[name] {
			label := a.name + strings.TrimPrefix(a.instance, cmp.Or(a.binary, a.name)) // trip, driver-2, ...
			if a.service != nil {
				ps = append(ps, benchProcess{label, a.service.cmd.Process.Pid})
			}
			if a.sidecar != nil {
				ps = append(ps, benchProcess{label + "-dapr", a.sidecar.cmd.Process.Pid})
			}
		}
	}
	if s.redisP != nil {
		ps = append(ps, benchProcess{"redis", s.redisP.cmd.Process.Pid})
	}
	for _, p := range s.procs {
		if p.name != "placement" && p.name != "scheduler" {
			continue
		}
		select {
		case <-p.done:
		default:
			ps = append(ps, benchProcess{p.name, p.cmd.Process.Pid})
		}
	}
	return ps
}

// cpuReading is the CPU ticks (1/100 s, Linux's USER_HZ) each process has
// used so far.
type cpuReading map[string]int64

func (c cpuReading) total() int64 {
	var sum int64
	for _, v := range c {
		sum += v
	}
	return sum
}

// msPer returns the CPU milliseconds per unit each process spent since
// before, and their sum as "all".
func (c cpuReading) msPer(before cpuReading, units int) map[string]float64 {
	out := map[string]float64{}
	if units == 0 {
		return out
	}
	var all int64
	for name, ticks := range c {
		used := ticks - before[name]
		all += used
		out[name] = float64(used*10) / float64(units)
	}
	out["all"] = float64(all*10) / float64(units)
	return out
}

func (b *bench) cpu() cpuReading {
	return readCPU(b.processes())
}

func readCPU(ps []benchProcess) cpuReading {
	c := cpuReading{}
	for _, p := range ps {
		ticks, err := cpuTicks(p.pid)
		if err != nil {
			continue
		}
		c[p.name] = ticks
	}
	return c
}

// cpuTicks reads the user and system time of a process from
// /proc/<pid>/stat, in ticks of 1/100 s.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'.
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	fields := strings.Fields(string(b[end+1:]))
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return utime + stime, nil
}

// restingCPU measures how busy the whole system is when nothing happens,
// in percent of a core.
func (b *bench) restingCPU() float64 {
	time.Sleep(time.Second)
	before, at := b.cpu(), time.Now()
	time.Sleep(2 * time.Second)
	return float64(b.cpu().total()-before.total()) / time.Since(at).Seconds()
}

// awaitQuiet waits until the system is back at rest: for one second, no
// busier than at rest plus 5 % of a core; or until timeout.
func (b *bench) awaitQuiet(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	var window []int64
	for time.Now().Before(deadline) {
		window = append(window, b.cpu().total())
		if len(window) > 5 {
			window = window[1:]
		}
		if len(window) == 5 && float64(window[4]-window[0]) <= b.idleCPU+5 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// The transports a hop is measured on: how the subscriber's sidecar hands
// events to its app.
const (
	// transportHTTP is the HTTP app channel the services use today: the
	// sidecar asks GET /dapr/subscribe and POSTs each event to its route.
	transportHTTP = "http"
	// transportStreaming is the SDK's gRPC streaming subscription: the app
	// opens a stream to its sidecar and answers each event on it.
	transportStreaming = "grpc-streaming"
)

// hops measures one Dapr pub/sub hop per transport.
func (b *bench) hops(n int) []hopResult {
	var out []hopResult
	for _, transport := range []string{transportHTTP, transportStreaming} {
		r := b.hop(transport, n)
		fmt.Fprintf(b.out, "bench: one pub/sub hop (%s): %.0f events/s, %.3f ms of CPU per event\n", transport, r.EventsPerS, r.CPUMsPerEvent["all"])
		out = append(out, r)
	}
	return out
}

// hop measures one Dapr pub/sub hop on the system's broker: n events
// published with the Go SDK (gRPC, 32 at a time) through a sidecar of
// their own, delivered through another to an app in this process that
// only counts them, by the given transport.
func (b *bench) hop(transport string, n int) hopResult {
	t := b.t
	t.Helper()
	topic := "bench-hop-" + transport
	var delivered atomic.Int64
	var lastAt atomic.Int64 // UnixNano of the latest delivery
	count := func() {
		delivered.Add(1)
		lastAt.Store(time.Now().UnixNano())
	}
	ports, err := freePorts(8)
	if err != nil {
		t.Fatal(err)
	}
	sub := &app{name: "bench-hop-sub-" + transport, instance: "bench-hop-sub-" + transport,
		daprHTTPPort: ports[0], daprGRPCPort: ports[1], metricsPort: ports[2], internalGRPCPort: ports[3]}
	pub := &app{name: "bench-hop-pub-" + transport, instance: "bench-hop-pub-" + transport,
		daprHTTPPort: ports[4], daprGRPCPort: ports[5], metricsPort: ports[6], internalGRPCPort: ports[7]}
	if transport == transportHTTP {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `[{"pubsubname":"pubsub","topic":%q,"route":"/hop"}]`, topic)
		})
		mux.HandleFunc("POST /hop", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			count()
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"SUCCESS"}`)
		})
		sub.port = serveApp(t, mux)
	}
	for _, a := range []*app{sub, pub} {
		if err := b.sys.startSidecar(a); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, a := range []*app{pub, sub} {
			b.sys.stopSidecar(t, a, syscall.SIGTERM)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, a := range []*app{sub, pub} {
		if err := b.sys.poll(ctx, a.instance+" sidecar to be ready", func(ctx context.Context) error {
			return httpOK(ctx, a.daprURL()+"/v1.0/healthz")
		}); err != nil {
			t.Fatal(err)
		}
	}
	pubClient := sidecarClient(t, pub)
	if transport == transportStreaming {
		subClient := sidecarClient(t, sub)
		stop, err := subClient.SubscribeWithHandler(ctx, daprclient.SubscriptionOptions{PubsubName: "pubsub", Topic: topic},
			func(*daprcommon.TopicEvent) daprcommon.SubscriptionResponseStatus {
				count()
				return daprcommon.SubscriptionResponseStatusSuccess
			})
		if err != nil {
			t.Fatalf("hop: subscribe: %v", err)
		}
		defer stop()
	}
	publish := func() error {
		return pubClient.PublishEvent(context.Background(), "pubsub", topic, []byte(`{"n":1}`),
			daprclient.PublishEventWithContentType("application/json"))
	}
	// Warm up until the subscription delivers.
	if err := b.sys.poll(ctx, "the hop's subscription to deliver", func(context.Context) error {
		if err := publish(); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
		if delivered.Load() == 0 {
			return errors.New("nothing delivered yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	procs := []benchProcess{
		{"publisher-dapr", pub.sidecar.cmd.Process.Pid},
		{"subscriber-dapr", sub.sidecar.cmd.Process.Pid},
		{"redis", b.sys.redisP.cmd.Process.Pid},
	}
	base := delivered.Load()
	before := readCPU(procs)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := publish(); err != nil {
					t.Errorf("hop: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for delivered.Load()-base < int64(n) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	after := readCPU(procs)
	got := int(delivered.Load() - base)
	if got < n {
		t.Errorf("hop (%s): %d of %d events delivered within 60 s", transport, got, n)
	}
	elapsed := time.Unix(0, lastAt.Load()).Sub(start)
	return hopResult{Transport: transport, Events: got, EventsPerS: float64(got) / elapsed.Seconds(), CPUMsPerEvent: after.msPer(before, got)}
}

// sidecarClient is a Dapr SDK client of the replica's sidecar, over gRPC,
// closed when the test ends.
func sidecarClient(t *testing.T, a *app) daprclient.Client {
	t.Helper()
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(a.daprGRPCPort), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("connect to the sidecar of %s: %v", a.instance, err)
	}
	c := daprclient.NewClientWithConnection(conn)
	t.Cleanup(c.Close)
	return c
}

// serveApp serves h on a free loopback port until the test ends, and
// returns the port.
func serveApp(t *testing.T, h http.Handler) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestBenchSmoke runs the benchmark for a few seconds so that it cannot
// rot: two short steps and a small hop, on a small pool. It checks that
// the figures are whole and consistent (every trip counted, none lost,
// latencies and CPU measured) and that the report renders, not how fast
// anything is: timing belongs to make bench.
func TestBenchSmoke(t *testing.T) {
	settings := benchSettings{
		Rates: []int{5, 20}, Step: 3 * time.Second, Pool: 50, Ride: time.Second, AssignDeadline: 20 * time.Second,
		Drain: 30 * time.Second, HopEvents: 300, Seed: 1, ProfileDir: t.TempDir(), ProfileRate: 20, Tracing: "on",
	}
	var progress bytes.Buffer
	b := startBench(t, settings, &progress)
	r := b.run()
	t.Logf("progress:\n%s", progress.String())

	for _, step := range r.Steps {
		want := int(float64(step.Rate) * settings.Step.Seconds())
		if step.Sent != want || step.Accepted != want || step.Completed != want || step.Lost != 0 || step.NoDriver != 0 {
			t.Errorf("step %d/s: %s; want all %d sent, accepted and completed", step.Rate, step.summary(), want)
		}
		if !(0 < step.P50Ms && step.P50Ms <= step.P95Ms && step.P95Ms <= step.P99Ms && step.P99Ms <= step.MaxMs) {
			t.Errorf("step %d/s: latencies p50 %v, p95 %v, p99 %v, max %v are not ordered and positive", step.Rate, step.P50Ms, step.P95Ms, step.P99Ms, step.MaxMs)
		}
		for _, p := range b.processes() {
			if _, ok := step.CPUMsPerTrip[p.name]; !ok {
				t.Errorf("step %d/s: no CPU figure for %s", step.Rate, p.name)
			}
		}
		if step.CPUMsPerTrip["all"] <= 0 {
			t.Errorf("step %d/s: CPU per trip %v, want it measured", step.Rate, step.CPUMsPerTrip["all"])
		}
	}
	if len(r.Hops) != 2 {
		t.Fatalf("hops: %+v; want one per transport", r.Hops)
	}
	for _, hop := range r.Hops {
		if hop.Events != settings.HopEvents || hop.EventsPerS <= 0 || hop.CPUMsPerEvent["all"] <= 0 {
			t.Errorf("hop: %+v; want %d events delivered and measured", hop, settings.HopEvents)
		}
	}

	for _, p := range b.processes() {
		if p.name == "redis" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(settings.ProfileDir, p.name+".pprof"))
		if err != nil || len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b { // a profile is gzipped protobuf
			t.Errorf("CPU profile of %s: %v, %d bytes; want a gzipped profile", p.name, err, len(raw))
		}
	}

	dir := t.TempDir()
	if err := writeBenchReport(dir, r); err != nil {
		t.Fatal(err)
	}
	var back benchReport
	raw, err := os.ReadFile(dir + "/bench.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Steps) != len(settings.Rates) || len(back.Hops) != len(r.Hops) {
		t.Errorf("bench.json does not hold the run: %v\n%s", err, raw)
	}
	if !bytes.Contains(raw, []byte(`"stepSeconds": 3,`)) || !bytes.Contains(raw, []byte(`"rideSeconds": 1`)) {
		t.Errorf("bench.json does not give the step and ride lengths in seconds:\n%s", raw)
	}
	checkChart(t, dir+"/bench.svg", r)
	table := benchTable(r)
	for _, want := range []string{"| 5 |", "| 20 |", "hop"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table has no %q:\n%s", want, table)
		}
	}
}

// The median of several runs takes each figure's median and adds up the
// counts, so that a trip lost in one run is never hidden by the others.
func TestMedianReport(t *testing.T) {
	run := func(p50, completedPerS float64, lost int, cpu float64) benchReport {
		return benchReport{
			Steps: []stepResult{{Rate: 100, Sent: 10, Accepted: 10, Completed: 10 - lost, Lost: lost, OfferedPerS: 100,
				CompletedPerS: completedPerS, P50Ms: p50, P95Ms: p50, P99Ms: p50, MaxMs: p50,
				CPUMsPerTrip: map[string]float64{"all": cpu, "trip": cpu / 2}}},
			Hops: []hopResult{{Transport: transportHTTP, Events: 5, EventsPerS: cpu * 100, CPUMsPerEvent: map[string]float64{"all": cpu}}},
		}
	}
	m := medianReport([]benchReport{run(30, 99, 0, 8), run(10, 100, 0, 6), run(20, 98, 1, 7)})
	s := m.Steps[0]
	if s.P50Ms != 20 || s.CompletedPerS != 99 || s.CPUMsPerTrip["all"] != 7 || s.CPUMsPerTrip["trip"] != 3.5 || m.Hops[0].EventsPerS != 700 {
		t.Errorf("median step %+v, hop %+v; want p50 20, 99/s, CPU 7 (trip 3.5), hop 700/s", s, m.Hops[0])
	}
	if s.Sent != 30 || s.Completed != 29 || s.Lost != 1 || m.Held != 0 || len(m.Runs) != 3 {
		t.Errorf("median counts: sent %d, completed %d, lost %d, held %d, runs %d; want 30, 29, 1, none held, 3", s.Sent, s.Completed, s.Lost, m.Held, len(m.Runs))
	}
	if one := run(10, 100, 0, 6); medianReport([]benchReport{one}).Steps[0].P50Ms != 10 {
		t.Error("the median of one run is not that run")
	}
}
