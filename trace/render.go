package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Step is one line of a waterfall: a span, its depth in the trace's tree,
// and when it started after the trace's first span.
type Step struct {
	Span     Span
	Service  string
	Depth    int
	Offset   time.Duration
	Duration time.Duration
	Status   string
}

// Waterfall orders the trace's spans in causal order: each span after its
// parent, siblings by start time; a span whose parent is not in the trace
// (not exported, or sampled out) is a root.
func Waterfall(t Trace) []Step {
	byID := make(map[string]bool, len(t.Spans))
	for _, s := range t.Spans {
		byID[s.SpanID] = true
	}
	children := map[string][]Span{}
	var roots []Span
	for _, s := range t.Spans {
		if p := parentOf(s); p != "" && byID[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	byStart := func(a, b Span) int {
		return cmp.Or(cmp.Compare(a.StartTime, b.StartTime), cmp.Compare(a.SpanID, b.SpanID))
	}
	start := first(t)
	var steps []Step
	var walk func(spans []Span, depth int)
	walk = func(spans []Span, depth int) {
		slices.SortFunc(spans, byStart)
		for _, s := range spans {
			steps = append(steps, Step{
				Span:     s,
				Service:  t.Processes[s.ProcessID].ServiceName,
				Depth:    depth,
				Offset:   time.Duration(s.StartTime-start) * time.Microsecond,
				Duration: time.Duration(s.Duration) * time.Microsecond,
				Status:   status(s),
			})
			walk(children[s.SpanID], depth+1)
		}
	}
	walk(roots, 0)
	return steps
}

// parentOf returns the id of the span's parent, or "".
func parentOf(s Span) string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// status is "error" for a span that failed (OpenTelemetry status Error, or
// Jaeger's error tag), with its message when there is one, else "ok".
func status(s Span) string {
	failed, message := false, ""
	for _, tag := range s.Tags {
		switch tag.Key {
		case "otel.status_code":
			failed = failed || fmt.Sprint(tag.Value) == "ERROR"
		case "error":
			failed = failed || fmt.Sprint(tag.Value) == "true"
		case "otel.status_description":
			message = fmt.Sprint(tag.Value)
		}
	}
	switch {
	case !failed:
		return "ok"
	case message != "":
		if r := []rune(message); len(r) > maxMessage {
			message = string(r[:maxMessage]) + "…"
		}
		return "error: " + message
	}
	return "error"
}

// maxMessage is how much of a failed span's message a line shows.
const maxMessage = 60

// tag returns the value of the span's tag key, or "".
func tag(s Span, key string) string {
	for _, t := range s.Tags {
		if t.Key == key {
			return fmt.Sprint(t.Value)
		}
	}
	return ""
}

// Render writes the trace as a waterfall table.
func Render(w io.Writer, t Trace) error {
	steps := Waterfall(t)
	services := map[string]bool{}
	var end time.Duration
	for _, s := range steps {
		services[s.Service] = true
		end = max(end, s.Offset+s.Duration)
	}
	fmt.Fprintf(w, "trace %s: %d spans from %d services in %s\n", t.TraceID, len(steps), len(services), round(end))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tOPERATION\tSTART\tDURATION\tSTATUS")
	for _, s := range steps {
		op := strings.Repeat("  ", s.Depth) + s.Span.OperationName
		if outcome := tag(s.Span, "outcome"); outcome != "" {
			op += " [" + outcome + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t+%s\t%s\t%s\n", s.Service, op, round(s.Offset), round(s.Duration), s.Status)
	}
	return tw.Flush()
}

// round shows a duration to the tenth of a millisecond.
func round(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
