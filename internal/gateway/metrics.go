package gateway

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus metrics that are observed per
// request; the counts of Stats are read at scrape time.
type metrics struct {
	upstreamSeconds *prometheus.HistogramVec
	shadow          *prometheus.CounterVec
	challenges      *prometheus.CounterVec
	mismatches      *prometheus.CounterVec
	goodBots        *prometheus.CounterVec
	sheds           *prometheus.CounterVec
	attackSwitches  *prometheus.CounterVec
	protected       *prometheus.CounterVec
	botScores       prometheus.Histogram
	// noRoute: upstreamSeconds' observers of requests outside the
	// policy's routes, by status class, once first used.
	noRoute [10]atomic.Pointer[prometheus.Observer]
}

func newMetrics() *metrics {
	return &metrics{
		upstreamSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "shopguard_gateway_upstream_duration_seconds",
			Help:    "Time from a request's arrival to the shop's response headers, by policy route and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_gateway_shadow_limited_total",
			Help: "Requests a limit in shadow mode would have refused (and let through), by limit.",
		}, []string{"limit"}),
		challenges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_gateway_challenges_total",
			Help: "Challenges by route and outcome: issued (a page served), refused (not a page view, no clearance), loop (too many pages to one address), passed, failed (the last two without a route).",
		}, []string{"route", "outcome"}),
		mismatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_gateway_client_mismatch_total",
			Help: "Requests whose user agent claims a browser its TLS handshake or its headers contradict, by the browser claimed.",
		}, []string{"claimed"}),
		goodBots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_gateway_good_bot_requests_total",
			Help: "Requests claiming a good bot of the policy's catalogue, by bot and whether its networks verified it.",
		}, []string{"bot", "verified"}),
		botScores: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shopguard_gateway_bot_score",
			Help:    "Bot scores of requests (0 a person, 100 a bot), as the model gave them.",
			Buckets: []float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100},
		}),
		protected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_gateway_protected_requests_total",
			Help: "Requests of protected routes (sign-ins, posts) by route and the risk API's action (allow, review, challenge, block), or error (the API did not answer; the request passed), outcome_error and outcome_dropped (a sign-in's outcome not reported).",
		}, []string{"route", "outcome"}),
		attackSwitches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_gateway_under_attack_switches_total",
			Help: "Times under-attack mode switched, by the state it switched to (on, off) and who switched it (auto, operator).",
		}, []string{"to", "by"}),
		sheds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shopguard_gateway_shed_total",
			Help: "Requests answered 503 because the shop was at its concurrency limit and no slot came in time, by the client's class (trusted, cleared, new, doubtful, suspect) and the route's priority.",
		}, []string{"class", "priority"}),
	}
}

// botScore counts a request's bot score.
func (m *metrics) botScore(score int) { m.botScores.Observe(float64(score)) }

// protect counts a protected request's outcome.
func (m *metrics) protect(route, outcome string) { m.protected.WithLabelValues(route, outcome).Inc() }

// attackSwitch counts a switch of under-attack mode.
func (m *metrics) attackSwitch(to, by string) { m.attackSwitches.WithLabelValues(to, by).Inc() }

// shed counts a request turned away at the concurrency limit.
func (m *metrics) shed(class, priority string) { m.sheds.WithLabelValues(class, priority).Inc() }

var (
	admissionLimitDesc = prometheus.NewDesc("shopguard_gateway_admission_limit",
		"Requests allowed in flight to the shop at once, as adapted to its latency.", nil, nil)
	admissionInFlightDesc = prometheus.NewDesc("shopguard_gateway_admission_in_flight",
		"Requests in flight to the shop.", nil, nil)
	admissionWaitingDesc = prometheus.NewDesc("shopguard_gateway_admission_waiting",
		"Requests waiting for a slot.", nil, nil)
	underAttackDesc = prometheus.NewDesc("shopguard_gateway_under_attack",
		"1 while under-attack mode challenges every page view.", nil, nil)
	baselineDesc = prometheus.NewDesc("shopguard_gateway_traffic_baseline_requests_per_second",
		"The usual request rate the automatic under-attack switch has learned (0 until learned).", nil, nil)
)

// goodBot counts a request claiming a good bot.
func (m *metrics) goodBot(name string, verified bool) {
	m.goodBots.WithLabelValues(name, strconv.FormatBool(verified)).Inc()
}

// mismatch counts a request whose user agent its TLS handshake contradicts.
func (m *metrics) mismatch(claimed string) { m.mismatches.WithLabelValues(claimed).Inc() }

// challenge counts a challenge outcome.
func (m *metrics) challenge(route, outcome string) {
	m.challenges.WithLabelValues(route, outcome).Inc()
}

// shadowRefused counts a request a shadow limit would have refused.
func (m *metrics) shadowRefused(limit string) { m.shadow.WithLabelValues(limit).Inc() }

// observe records a proxied request's upstream time.
func (m *metrics) observe(st *requestState, status int, took time.Duration) {
	class := min(max(status/100, 0), 9) // statuses are 100–999
	if st.limited.route != nil {
		m.upstreamSeconds.WithLabelValues(st.limited.route.Name, statusClasses[class]).Observe(took.Seconds())
		return
	}
	o := m.noRoute[class].Load() // the common case, without the label lookup
	if o == nil {
		obs := m.upstreamSeconds.WithLabelValues("none", statusClasses[class])
		o = &obs
		m.noRoute[class].Store(o)
	}
	(*o).Observe(took.Seconds())
}

// statusClasses are the code labels of the status classes.
var statusClasses = [10]string{"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// The descriptions of the metrics read from Stats at scrape time.
var (
	requestsDesc = prometheus.NewDesc("shopguard_gateway_requests_total",
		"Requests by what the gateway did: proxied, too_large (413), too_slow (408), upstream_down (503 while the health check fails), upstream_error (502/504) or rate_limited (429).",
		[]string{"outcome"}, nil)
	droppedDesc = prometheus.NewDesc("shopguard_gateway_connections_dropped_total",
		"Connections closed at once because their address had gateway.max_conns_per_ip open.", nil, nil)
	upDesc = prometheus.NewDesc("shopguard_gateway_upstream_up",
		"1 while the shop passes its health check (or has none), else 0.", nil, nil)
	keysDesc = prometheus.NewDesc("shopguard_gateway_limit_keys",
		"Client keys the rate limits hold.", nil, nil)
	sharedDegradedDesc = prometheus.NewDesc("shopguard_gateway_shared_limits_degraded",
		"1 while the shared rate limits (Redis) are unreachable and this gateway's own buckets answer.", nil, nil)
)

// Collector returns the gateway's metrics, for a Prometheus registry.
func (g *Gateway) Collector() prometheus.Collector { return (*collector)(g) }

// collector is a Gateway seen as a prometheus.Collector.
type collector Gateway

// Describe sends the metrics' descriptions.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- requestsDesc
	ch <- droppedDesc
	ch <- upDesc
	ch <- keysDesc
	c.metrics.upstreamSeconds.Describe(ch)
	c.metrics.shadow.Describe(ch)
	c.metrics.challenges.Describe(ch)
	c.metrics.mismatches.Describe(ch)
	c.metrics.goodBots.Describe(ch)
	c.metrics.sheds.Describe(ch)
	c.metrics.attackSwitches.Describe(ch)
	c.metrics.protected.Describe(ch)
	c.metrics.botScores.Describe(ch)
	ch <- baselineDesc
	ch <- admissionLimitDesc
	ch <- admissionInFlightDesc
	ch <- admissionWaitingDesc
	ch <- underAttackDesc
}

// Collect sends the metrics' values.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	g := (*Gateway)(c)
	s := g.Snapshot()
	for _, o := range []struct {
		name string
		n    int64
	}{{"proxied", s.Proxied}, {"too_large", s.TooLarge}, {"too_slow", s.TooSlow}, {"upstream_down", s.UpstreamDown},
		{"upstream_error", s.UpstreamErrors}, {"rate_limited", s.RateLimited}, {"shed", s.Shed}} {
		ch <- prometheus.MustNewConstMetric(requestsDesc, prometheus.CounterValue, float64(o.n), o.name)
	}
	ch <- prometheus.MustNewConstMetric(droppedDesc, prometheus.CounterValue, float64(s.ConnsDropped))
	up := 0.0
	if g.Healthy() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up)
	keys := 0
	if g.limits != nil {
		keys = g.limits.lim.Len()
	}
	ch <- prometheus.MustNewConstMetric(keysDesc, prometheus.GaugeValue, float64(keys))
	if d, ok := g.sharedDegraded(); ok {
		ch <- prometheus.MustNewConstMetric(sharedDegradedDesc, prometheus.GaugeValue, d)
	}
	c.metrics.upstreamSeconds.Collect(ch)
	c.metrics.shadow.Collect(ch)
	c.metrics.challenges.Collect(ch)
	c.metrics.mismatches.Collect(ch)
	c.metrics.goodBots.Collect(ch)
	c.metrics.sheds.Collect(ch)
	c.metrics.attackSwitches.Collect(ch)
	c.metrics.protected.Collect(ch)
	c.metrics.botScores.Collect(ch)
	attack := 0.0
	if g.UnderAttack() {
		attack = 1
	}
	ch <- prometheus.MustNewConstMetric(underAttackDesc, prometheus.GaugeValue, attack)
	ch <- prometheus.MustNewConstMetric(baselineDesc, prometheus.GaugeValue, g.AttackState().Baseline)
	if g.admit != nil {
		limit, inFlight, waiting := g.admit.state()
		ch <- prometheus.MustNewConstMetric(admissionLimitDesc, prometheus.GaugeValue, float64(limit))
		ch <- prometheus.MustNewConstMetric(admissionInFlightDesc, prometheus.GaugeValue, float64(inFlight))
		ch <- prometheus.MustNewConstMetric(admissionWaitingDesc, prometheus.GaugeValue, float64(waiting))
	}
}

// serveUnderAttack reports under-attack mode's state (GET, an
// AttackState) or sets its mode (POST with mode=auto, on or off, or
// on=true or false for on or off, in the query or a form) and reports the
// state.
func (g *Gateway) serveUnderAttack(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	st := g.AttackState()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<10)
		field, mode := "mode", r.FormValue("mode")
		if mode == "" {
			field = "on"
			switch on, err := strconv.ParseBool(r.FormValue("on")); {
			case err != nil:
				mode = "?"
			case on:
				mode = ModeOn
			default:
				mode = ModeOff
			}
		}
		var err error
		if st, err = g.SetAttackMode(mode); err != nil {
			msg := "mode must be auto, on or off (or on=true or false)"
			if mode == ModeAuto {
				msg = "mode auto needs auto_under_attack in the gateway's policy"
			}
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "invalid_field", "field": field, "message": msg}})
			return
		}
	}
	_ = json.NewEncoder(w).Encode(st)
}

// Status is the gateway at a glance, for operators and the dashboard
// (GET /status on the admin address).
type Status struct {
	Healthy bool          `json:"healthy"`
	Attack  AttackState   `json:"attack"`
	Stats   StatsSnapshot `json:"stats"`
	// Admission is the concurrency limit's state (nil without one).
	Admission *AdmissionState `json:"admission,omitempty"`
	// LimitKeys and BotClients are the client keys the rate limits and
	// the bot score hold.
	LimitKeys  int `json:"limit_keys"`
	BotClients int `json:"bot_clients"`
	// SharedLimitsDegraded: the shared rate limits are unreachable and
	// this gateway's own buckets answer (false without shared limits).
	SharedLimitsDegraded bool `json:"shared_limits_degraded,omitempty"`
	// TopClients are the clients the gateway refused, challenged, blocked
	// or shed most, with why.
	TopClients []Offender `json:"top_clients"`
}

// AdmissionState is the concurrency limit at a moment.
type AdmissionState struct {
	Limit    int `json:"limit"`
	InFlight int `json:"in_flight"`
	Waiting  int `json:"waiting"`
}

// Status returns the gateway's status, with the n clients it acted on
// most.
func (g *Gateway) Status(n int) Status {
	s := Status{Healthy: g.Healthy(), Attack: g.AttackState(), Stats: g.Snapshot(), TopClients: g.decisions.topOffenders(n)}
	if g.admit != nil {
		l, f, w := g.admit.state()
		s.Admission = &AdmissionState{Limit: l, InFlight: f, Waiting: w}
	}
	if g.limits != nil {
		s.LimitKeys = g.limits.lim.Len()
	}
	if d, ok := g.sharedDegraded(); ok {
		s.SharedLimitsDegraded = d == 1
	}
	if g.bots != nil {
		s.BotClients = g.bots.Len()
	}
	return s
}

// AdminHandler serves the gateway's operator endpoints, for an address
// only operators reach (gateway.admin_addr): /metrics served by metrics
// (a Prometheus handler of a registry holding Collector), /status (a
// Status with the top 20 clients), /under-attack and /healthz, 200 while
// the shop passes its health check and 503 while it does not.
func (g *Gateway) AdminHandler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(g.Status(20))
	})
	mux.HandleFunc("GET /under-attack", g.serveUnderAttack)
	mux.HandleFunc("POST /under-attack", g.serveUnderAttack)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !g.Healthy() {
			refuse(w, http.StatusServiceUnavailable, "upstream down", 0)
			return
		}
		refuse(w, http.StatusOK, "ok", 0)
	})
	return mux
}

// sharedDegraded returns 1 while shared rate limits are degraded, 0 while
// they answer; ok is false without shared limits.
func (g *Gateway) sharedDegraded() (v float64, ok bool) {
	d, ok := g.cfg.SharedLimits.(interface{ Degraded() bool })
	if !ok {
		return 0, false
	}
	if d.Degraded() {
		return 1, true
	}
	return 0, true
}
