// Package telemetry builds shopguard's logger and Prometheus metrics. The
// metrics live in their own registry (no global state) exposed at /metrics.
package telemetry

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shopguard/shopguard/internal/risk"
)

// NewLogger returns a slog logger writing text or JSON ("json") at level to w.
func NewLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Metrics holds shopguard's Prometheus collectors.
type Metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
	decisions       *prometheus.CounterVec
	decisionSeconds *prometheus.HistogramVec
	inflight        prometheus.Gauge
	deliveries      *prometheus.CounterVec
	followed        *prometheus.CounterVec
	followErrors    prometheus.Counter
	followedAt      prometheus.Gauge
}

// NewMetrics returns metrics registered in a fresh registry, with the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		registry: r,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopguard_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_decisions_total",
			Help: "Decisions by event kind and action.",
		}, []string{"kind", "action"}),
		decisionSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopguard_decision_duration_seconds",
			Help:    "Time to assess and durably store one event, by kind.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
		}, []string{"kind"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shopguard_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_webhook_attempts_total",
			Help: "Webhook delivery attempts by result: delivered, retry (failed, will be tried again) or gave_up.",
		}, []string{"result"}),
		followed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_follow_counted_total",
			Help: "Other instances' decisions (what=events) and labels (what=labels) this instance counted from the shared log.",
		}, []string{"what"}),
		followErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shopguard_follow_errors_total",
			Help: "Catch-ups with the shared log that failed (retried); the features miss other instances' decisions meanwhile.",
		}),
		followedAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shopguard_follow_last_success_timestamp_seconds",
			Help: "Unix time of the last successful catch-up with the shared log (0: not following); alert when it lags the clock by more than a few seconds.",
		}),
	}
	r.MustRegister(m.requests, m.requestSeconds, m.decisions, m.decisionSeconds, m.inflight, m.deliveries,
		m.followed, m.followErrors, m.followedAt,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Gauge registers a gauge named name whose value f gives at each scrape.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Registry returns the registry, for components that add their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ObserveDecision counts one decision; it implements engine.Observer.
func (m *Metrics) ObserveDecision(kind risk.EventKind, action risk.Action, latency time.Duration) {
	m.decisions.WithLabelValues(string(kind), string(action)).Inc()
	m.decisionSeconds.WithLabelValues(string(kind)).Observe(latency.Seconds())
}

// ObserveRequest counts one HTTP request. route is the mux pattern ("" for
// unmatched requests, recorded as "unmatched" to bound cardinality).
func (m *Metrics) ObserveRequest(route, method string, code int, latency time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.requestSeconds.WithLabelValues(route).Observe(latency.Seconds())
}

// ObserveDelivery counts one webhook delivery attempt; it implements notify.Observer.
func (m *Metrics) ObserveDelivery(result string) { m.deliveries.WithLabelValues(result).Inc() }

// ObserveCatchUp records one catch-up with the shared log: how many of
// other instances' decisions and labels it counted, or that it failed.
func (m *Metrics) ObserveCatchUp(events, labels int, err error) {
	m.followed.WithLabelValues("events").Add(float64(events))
	m.followed.WithLabelValues("labels").Add(float64(labels))
	if err != nil {
		m.followErrors.Inc()
		return
	}
	m.followedAt.SetToCurrentTime()
}

// InFlight adjusts the in-flight request gauge by delta.
func (m *Metrics) InFlight(delta float64) { m.inflight.Add(delta) }
