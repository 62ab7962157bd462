// Package metrics counts what the service does, for Prometheus. It is the
// only package that imports the Prometheus client; the others count through
// small interfaces of their own, which *Metrics implements.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts the orders accepted (what became of each is in its
// workflow's state and history),
// in a registry of its own (never the global default one), so that every
// Metrics starts from zero and tests can run services side by side.
type Metrics struct {
	registry     *prometheus.Registry
	tripsOrdered prometheus.Counter
}

// New returns a Metrics counting from zero, which also serves the Go
// runtime and process metrics. A labelled series appears when first counted.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		tripsOrdered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ride_trips_ordered_total",
			Help: "Orders accepted (POST /trips answered 202 for a new trip; replays not counted).",
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.tripsOrdered,
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
