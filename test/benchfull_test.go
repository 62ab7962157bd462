//go:build bench

package e2e

import (
	"cmp"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBench is make bench: the whole system under an open-loop load of
// trips, rate after rate, and one Dapr pub/sub hop for scale. It prints a
// progress line every two seconds, then the table, and writes bench.json
// and bench.svg into BENCH_OUT. Settings come from the environment, all
// optional:
//
//	BENCH_RATES  trips/s of each step, comma-separated (25,50,100,150,200,250,300)
//	BENCH_STEP   how long each step offers its rate (60s)
//	BENCH_POOL   drivers in the pool, spread over the area (10000)
//	BENCH_RIDE   how long a ride lasts (2s): short enough that every trip finds a driver
//	BENCH_DRAIN  how long after a step its last trips may take (60s)
//	BENCH_HOP    events of the pub/sub hop (20000)
//	BENCH_SEED   seed of the pickups (1)
//	BENCH_RUNS   how many times to run every step on the same system (1); with more,
//	             the table, bench.json and bench.svg give the median of each figure
//	BENCH_OUT    folder for bench.json and bench.svg (../docs/bench)
//	BENCH_TRACING  on: every trip traced and exported to Jaeger, as make run does (on);
//	             off: no trace kept (OTEL_TRACES_SAMPLER_ARG=0); run both to see what tracing costs
//	BENCH_STYLE  who coordinates a trip: choreography (default), orchestration or workflow
//	BENCH_PROFILE  a folder: take a 20 s CPU profile of every service and sidecar
//	             during the step at BENCH_PROFILE_RATE (100) trips/s; profiling costs
//	             CPU itself, so profile in a run of its own
func TestBench(t *testing.T) {
	settings := benchSettings{
		Rates:          envInts(t, "BENCH_RATES", []int{25, 50, 100, 150, 200, 250, 300}),
		Step:           envDuration(t, "BENCH_STEP", 60*time.Second),
		Pool:           envInts(t, "BENCH_POOL", []int{10000})[0],
		Ride:           envDuration(t, "BENCH_RIDE", 2*time.Second),
		AssignDeadline: 60 * time.Second,
		Drain:          envDuration(t, "BENCH_DRAIN", 60*time.Second),
		HopEvents:      envInts(t, "BENCH_HOP", []int{20000})[0],
		Seed:           uint64(envInts(t, "BENCH_SEED", []int{1})[0]),
		ProfileDir:     os.Getenv("BENCH_PROFILE"),
		ProfileRate:    envInts(t, "BENCH_PROFILE_RATE", []int{100})[0],
		Tracing:        cmp.Or(os.Getenv("BENCH_TRACING"), "on"),
		Style:          cmp.Or(os.Getenv("BENCH_STYLE"), styleChoreography),
	}
	out := os.Getenv("BENCH_OUT")
	if out == "" {
		out = "../docs/bench"
	}

	runs := envInts(t, "BENCH_RUNS", []int{1})[0]

	b := startBench(t, settings, os.Stdout)
	var all []benchReport
	for i := range runs {
		if runs > 1 {
			fmt.Printf("bench: run %d of %d\n", i+1, runs)
		}
		r := b.run()
		fmt.Printf("\nbench: %s, %s\n\n%s\n", r.Machine, r.Date, benchTable(r))
		for _, step := range r.Steps {
			if step.Lost > 0 {
				t.Errorf("%d trips/s: %d trips lost", step.Rate, step.Lost)
			}
		}
		all = append(all, r)
	}
	r := medianReport(all)
	if runs > 1 {
		fmt.Printf("\nbench: the median of %d runs\n\n%s\n", runs, benchTable(r))
	}
	if err := writeBenchReport(out, r); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("bench: wrote %s/bench.json and %s/bench.svg\n", out, out)
}

// envInts reads a comma-separated list of positive integers, or def.
func envInts(t *testing.T, name string, def []int) []int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}

// envDuration reads a positive duration such as 30s, or def.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 30s", name, v)
	}
	return d
}
