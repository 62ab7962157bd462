// Package metrics counts what the service does, for Prometheus. It is the
// only package that imports the Prometheus client; the others count through
// small interfaces of their own, which *Metrics implements.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts orders, their outcomes and the trips given up,
// in a registry of its own (never the global default one), so that every
// Metrics starts from zero and tests can run services side by side.
type Metrics struct {
	registry          *prometheus.Registry
	tripsAbandoned    *prometheus.CounterVec
	tripsOrdered      prometheus.Counter
	tripsAssigned     prometheus.Counter
	tripsNoDriver     prometheus.Counter
	assignmentSeconds prometheus.Histogram
}

// New returns a Metrics counting from zero, which also serves the Go
// runtime and process metrics. A labelled series appears when first counted.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		tripsAbandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ride_trips_abandoned_total",
			Help: "Trips whose flow gave up on a step after its retries, by step: the rider hears nothing more.",
		}, []string{"step"}),
		tripsOrdered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ride_trips_ordered_total",
			Help: "Orders accepted (POST /trips answered 202 for a new trip; replays not counted).",
		}),
		tripsAssigned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ride_trips_assigned_total",
			Help: "Trips whose status changed to driver_assigned.",
		}),
		tripsNoDriver: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ride_trips_no_driver_total",
			Help: "Trips whose status changed to no_driver.",
		}),
		assignmentSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ride_trip_assignment_seconds",
			Help:    "Time from a trip's order (requestedAt) to its driver's assignment (assignedAt), for each trip assigned.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14), // 5 ms .. ~41 s
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.tripsAbandoned,
		m.tripsOrdered,
		m.tripsAssigned,
		m.tripsNoDriver,
		m.assignmentSeconds,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// TripOrdered counts an order accepted.
func (m *Metrics) TripOrdered() {
	m.tripsOrdered.Inc()
}

// TripAssigned counts a trip that got its driver waited after it was
// ordered. A negative wait (the clocks of two hosts disagree) counts as
// none.
func (m *Metrics) TripAssigned(waited time.Duration) {
	m.tripsAssigned.Inc()
	m.assignmentSeconds.Observe(max(waited, 0).Seconds())
}

// TripNoDriver counts a trip for which no driver was found.
func (m *Metrics) TripNoDriver() {
	m.tripsNoDriver.Inc()
}

// TripAbandoned counts a trip whose flow gave up on step.
func (m *Metrics) TripAbandoned(step string) {
	m.tripsAbandoned.WithLabelValues(step).Inc()
}
