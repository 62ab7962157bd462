// Command trace prints one trip's trace as a waterfall, read from a Jaeger
// query API: every span of the trace (the services' and their sidecars'),
// in causal order, with its service, operation, start offset from the
// trace's first span, duration and status. It is what `make trace
// TRIP=<id>` runs, for a machine where Jaeger's web UI is not at hand.
//
//	trace -trip 0b7e4d52-7a4f-4d8e-9c1a-2f6b8e3d9a10 [-query http://127.0.0.1:16686] [-services trip,orchestrator,workflow]
//
// It finds the trace by the tripId attribute that the services put on
// their spans. A trip whose order was sent twice (an Idempotency-Key
// replay) has a trace per request; each is printed.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("trace", flag.ContinueOnError)
	flags.SetOutput(stderr)
	tripID := flags.String("trip", "", "the trip's id (required)")
	query := flags.String("query", "http://127.0.0.1:16686", "the Jaeger query API")
	services := flags.String("services", "trip,orchestrator,workflow", "comma-separated services, one of which has a span of the trip (the coordinator of each style)")
	wait := flags.Duration("wait", 5*time.Second, "how long to wait for the trace to arrive")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *tripID == "" {
		fmt.Fprintln(stderr, "trace: -trip is required: the id of a trip, as POST /trips answered it")
		return 2
	}
	client := &Client{BaseURL: *query}
	traces, err := client.FindTrip(ctx, strings.Split(*services, ","), *tripID, *wait)
	if err != nil {
		fmt.Fprintf(stderr, "trace: %v\n", err)
		return 1
	}
	for i, t := range traces {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := Render(stdout, t); err != nil {
			fmt.Fprintf(stderr, "trace: %v\n", err)
			return 1
		}
	}
	return 0
}
