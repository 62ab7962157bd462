// Package metrics serves the backlog of every subscription as Prometheus
// gauges, read from the broker at scrape time, with the Go runtime's and
// the process's own metrics, on GET /metrics. It is the only package that
// imports the Prometheus client.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/ride-choreography/backlog/internal/streams"
)

// Groups reads the consumer groups of the topics watched, and what waits
// for each of them.
type Groups interface {
	Groups(ctx context.Context) ([]streams.Group, error)
}

// Metrics holds the exporter's metrics in a registry of its own (never
// Prometheus's global one).
type Metrics struct {
	registry *prometheus.Registry
}

// New returns the exporter's metrics: each scrape reads groups, giving it
// at most timeout, and logs a failed read to logger.
func New(logger zerolog.Logger, groups Groups, timeout time.Duration) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBacklogCollector(logger, groups, timeout),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// backlogCollector reads the broker on every scrape, so that the figures
// are the broker's at that moment, never a copy that could be stale.
type backlogCollector struct {
	logger  zerolog.Logger
	groups  Groups
	timeout time.Duration
	lag     *prometheus.Desc
	pending *prometheus.Desc
	up      *prometheus.Desc
}

func newBacklogCollector(logger zerolog.Logger, groups Groups, timeout time.Duration) *backlogCollector {
	labels := []string{"topic", "app"}
	return &backlogCollector{
		logger:  logger,
		groups:  groups,
		timeout: timeout,
		lag: prometheus.NewDesc("ride_backlog_lag",
			"Events on the topic not yet delivered to the app's subscription (the Redis consumer group's lag).",
			labels, nil),
		pending: prometheus.NewDesc("ride_backlog_pending",
			"Events delivered to the app's subscription and not acknowledged yet (the Redis consumer group's pending entries).",
			labels, nil),
		up: prometheus.NewDesc("ride_backlog_up",
			"1 when this scrape read the broker, 0 when it could not (then no ride_backlog_lag or ride_backlog_pending series are served).",
			nil, nil),
	}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lag
	ch <- c.pending
	ch <- c.up
}

// Collect reads every group. When the broker cannot be read it serves
// ride_backlog_up 0 and no backlog at all: a series left out is a gap on a
// graph, where a stale or partial figure could pass for an empty queue.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	groups, err := c.groups.Groups(ctx)
	if err != nil {
		c.logger.Error().Err(err).Msg("backlog not read")
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	for _, g := range groups {
		if g.Lag == streams.UnknownLag {
			c.logger.Warn().Str("topic", g.Topic).Str("app", g.App).
				Msg("lag unknown: entries were deleted from the stream ahead of the group")
		} else {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(g.Lag), g.Topic, g.App)
		}
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(g.Pending), g.Topic, g.App)
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
}
