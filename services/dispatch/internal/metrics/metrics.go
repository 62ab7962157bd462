// Package metrics counts what the service does, for Prometheus: the events
// it answered, the dead letters it kept and the trips it put on the board,
// served at GET /metrics beside the Go runtime's and the process's own. It
// is the only package that imports the Prometheus client.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics counts what the service does. It keeps its own registry, never
// Prometheus's global one, so each Metrics serves only its own counts (two
// services in one test process do not mix theirs).
type Metrics struct {
	registry      *prometheus.Registry
	eventsHandled *prometheus.CounterVec
	deadLetters   *prometheus.CounterVec
	tripsRecorded *prometheus.CounterVec
}

// New returns a Metrics with every count at zero.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		eventsHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ride_events_handled_total",
			Help: "Events delivered by the sidecar and answered, by subscribed topic and outcome (SUCCESS, RETRY, DROP).",
		}, []string{"topic", "outcome"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ride_dead_letters_total",
			Help: "Dead letters newly stored, by the topic the event was first delivered on.",
		}, []string{"topic"}),
		tripsRecorded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ride_dispatch_trips_recorded_total",
			Help: "Trips put on the dispatchers' board, by status (waiting, assigned, not_found).",
		}, []string{"status"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.eventsHandled,
		m.deadLetters,
		m.tripsRecorded,
	)
	return m
}

// Handler serves the counts in Prometheus's text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// EventHandled counts an event delivered on topic and answered with
// outcome: SUCCESS, RETRY or DROP.
func (m *Metrics) EventHandled(topic, outcome string) {
	m.eventsHandled.WithLabelValues(topic, outcome).Inc()
}

// DeadLetterStored counts a dead letter stored for the first time; topic is
// the one its event was first delivered on.
func (m *Metrics) DeadLetterStored(topic string) {
	m.deadLetters.WithLabelValues(topic).Inc()
}

// TripRecorded counts a trip put on the board as status.
func (m *Metrics) TripRecorded(status string) {
	m.tripsRecorded.WithLabelValues(status).Inc()
}
