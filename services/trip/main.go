// Command trip is the Trip API: riders order trips here. It stores each trip
// and announces it on topic trip-created, then keeps the trip's status
// current from the driver service's driver-assigned and driver-not-found
// events. It talks to other services only through its Dapr sidecar.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == healthcheckArg {
		os.Exit(healthcheck(os.Getenv, os.Stderr)) // the image's HEALTHCHECK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr); err != nil {
		stop()
		os.Exit(1)
	}
}
