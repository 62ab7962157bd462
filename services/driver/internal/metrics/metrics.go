// Package metrics counts what the service does, for Prometheus: the events
// it answered, the dead letters it stored and the assignments it recorded,
// served with the Go runtime's and the process's own metrics on
// GET /metrics. It is the only package that imports the Prometheus client.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the service's metrics in a registry of its own (never
// Prometheus's global one), so that every instance, a test's included,
// starts from zero.
type Metrics struct {
	registry          *prometheus.Registry
	eventsHandled     *prometheus.CounterVec
	deadLetters       *prometheus.CounterVec
	assignments       *prometheus.CounterVec
	assignmentSeconds prometheus.Histogram
}

// New returns the service's metrics, all at zero, with the Go runtime and
// process collectors registered beside them.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		eventsHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ride_events_handled_total",
			Help: "Event deliveries answered, by subscribed topic and outcome (SUCCESS, RETRY or DROP).",
		}, []string{"topic", "outcome"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ride_dead_letters_total",
			Help: "Dead letters newly stored, by the topic the event was first delivered on.",
		}, []string{"topic"}),
		assignments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ride_assignments_total",
			Help: "Trips whose outcome was recorded, by outcome (driver_assigned or no_driver); once per trip.",
		}, []string{"outcome"}),
		assignmentSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ride_assignment_seconds",
			Help:    "Time from a trip's requestedAt to the moment its outcome was recorded.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14), // 5 ms .. ~41 s
		}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.eventsHandled,
		m.deadLetters,
		m.assignments,
		m.assignmentSeconds,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// EventHandled counts an event delivered on topic and answered with
// outcome (SUCCESS, RETRY or DROP).
func (m *Metrics) EventHandled(topic, outcome string) {
	m.eventsHandled.WithLabelValues(topic, outcome).Inc()
}

// DeadLetterStored counts a dead letter newly stored, first delivered on
// topic.
func (m *Metrics) DeadLetterStored(topic string) {
	m.deadLetters.WithLabelValues(topic).Inc()
}

// AssignmentRecorded counts a trip whose outcome (driver_assigned or
// no_driver) was recorded, waited after the trip was requested. A negative
// wait (the order's requestedAt came from a clock ahead of this one) is
// observed as 0.
func (m *Metrics) AssignmentRecorded(outcome string, waited time.Duration) {
	m.assignments.WithLabelValues(outcome).Inc()
	m.assignmentSeconds.Observe(max(waited, 0).Seconds())
}
