package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// trace is a trip's trace as Jaeger answers it, cut down: the order, its
// publish through the trip sidecar, and the driver's handling, whose
// spans arrive out of order.
func exampleTrace() Trace {
	child := func(id string) []Reference { return []Reference{{RefType: "CHILD_OF", TraceID: "t1", SpanID: id}} }
	return Trace{
		TraceID: "t1",
		Processes: map[string]Process{
			"p1": {ServiceName: "trip"}, "p2": {ServiceName: "driver"},
		},
		Spans: []Span{
			{SpanID: "d1", OperationName: "trip-created process", References: child("s2"), StartTime: 1_005_000, Duration: 3_000, ProcessID: "p2",
				Tags: []Tag{{Key: "outcome", Value: "SUCCESS"}}},
			{SpanID: "s1", OperationName: "POST /trips", StartTime: 1_000_000, Duration: 4_000, ProcessID: "p1"},
			{SpanID: "s3", OperationName: "state insert trip", References: child("s1"), StartTime: 1_003_000, Duration: 500, ProcessID: "p1",
				Tags: []Tag{{Key: "otel.status_code", Value: "ERROR"}, {Key: "otel.status_description", Value: "write state: unavailable"}}},
			{SpanID: "s2", OperationName: "trip-created publish", References: child("s1"), StartTime: 1_001_000, Duration: 1_500, ProcessID: "p1"},
			{SpanID: "x1", OperationName: "orphan", References: child("gone"), StartTime: 1_009_000, Duration: 100, ProcessID: "p2"},
		},
	}
}

func TestWaterfallIsInCausalOrder(t *testing.T) {
	var got []string
	for _, s := range Waterfall(exampleTrace()) {
		got = append(got, strings.Repeat(">", s.Depth)+s.Span.OperationName+" "+s.Service+" "+s.Status)
	}
	want := []string{
		"POST /trips trip ok",
		">trip-created publish trip ok",
		">>trip-created process driver ok",
		">state insert trip trip error: write state: unavailable",
		"orphan driver ok",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("waterfall (-want +got):\n%s", diff)
	}
}

func TestRender(t *testing.T) {
	var out bytes.Buffer
	if err := Render(&out, exampleTrace()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if lines[0] != "trace t1: 5 spans from 2 services in 9.1ms" {
		t.Errorf("heading %q", lines[0])
	}
	if fields := strings.Fields(lines[4]); len(fields) < 6 || fields[0] != "driver" || fields[4] != "+5.0ms" || fields[5] != "3.0ms" || fields[6] != "ok" {
		t.Errorf("the driver's line reads %q, want service, operation with outcome, +5.0ms, 3.0ms, ok", lines[4])
	}
	if !strings.Contains(lines[4], "trip-created process [SUCCESS]") {
		t.Errorf("the driver's line %q does not show the event's outcome", lines[4])
	}
}
