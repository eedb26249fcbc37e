// Command loadtx is an open-loop HTTP load generator for shopguard's
// decision API (POST /v1/transactions). It fires requests at a constant
// rate whatever the server answers (vegeta's attacker, so a slow server
// cannot slow the generator down and hide its own latency: no coordinated
// omission), with realistic, varied transactions whose ids are unique per
// run, and reports throughput, exact latency percentiles, status codes and
// the actions returned. It refuses any target that is not a loopback
// address, and every run is bounded in duration and request count.
//
//	loadtx -target http://127.0.0.1:8080 -key sg_... -rate 10000 -duration 30s -warmup 5s -out result.json
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Hard bounds: loadtx is a harness for a local server, not a flood tool.
const (
	maxRate     = 100_000
	maxDuration = 10 * time.Minute
	maxWarmup   = 2 * time.Minute
	maxRequests = 20_000_000
)

type options struct {
	target      string
	key         string
	rate        int
	duration    time.Duration
	warmup      time.Duration
	workers     uint64
	maxWorkers  uint64
	connections int
	timeout     time.Duration
	seed        uint64
	customers   int
	simSpan     time.Duration
	maxRequests uint64
	runID       string
	out         string
	serverPID   int
	client      string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.target, "target", "", "base URL of shopguard on loopback, e.g. http://127.0.0.1:8080 (required)")
	fs.StringVar(&o.key, "key", "", "API key (default $LOADTX_KEY)")
	fs.IntVar(&o.rate, "rate", 1000, "requests per second, fired open-loop")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "measured duration (at most 10m)")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up at the same rate before measuring (at most 2m; not in the percentiles)")
	fs.Uint64Var(&o.workers, "workers", 64, "initial number of sending goroutines")
	fs.Uint64Var(&o.maxWorkers, "max-workers", 4096, "cap on sending goroutines (more are started while all are busy, up to this cap)")
	fs.IntVar(&o.connections, "connections", 0, "cap on TCP connections to the server (0: no cap, one per concurrent request)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the customer population and the transaction sequence")
	fs.IntVar(&o.customers, "customers", 50_000, "number of customers in the population")
	fs.DurationVar(&o.simSpan, "sim-span", 30*24*time.Hour, "simulated time the run's transactions are spread over, ending now (0: wall-clock created_at)")
	fs.Uint64Var(&o.maxRequests, "max-requests", 0, "cap on requests in the measured phase (0: rate x duration)")
	fs.StringVar(&o.runID, "run-id", "", "prefix of transaction ids (default: derived from the start time)")
	fs.StringVar(&o.out, "out", "", "write the results as JSON to this file")
	fs.IntVar(&o.serverPID, "server-pid", 0, "pid of the server, to report its CPU use during the measured phase (Linux)")
	fs.StringVar(&o.client, "client", "vegeta", "sender: vegeta (vegeta's attacker over net/http) or raw (lean keep-alive HTTP/1.1 client, same schedule and report)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.key == "" {
		o.key = os.Getenv("LOADTX_KEY")
	}
	var errs []error
	if o.target == "" {
		errs = append(errs, errors.New("-target is required"))
	}
	if o.key == "" {
		errs = append(errs, errors.New("-key (or $LOADTX_KEY) is required"))
	}
	if o.rate < 1 || o.rate > maxRate {
		errs = append(errs, fmt.Errorf("-rate must be 1..%d", maxRate))
	}
	if o.duration <= 0 || o.duration > maxDuration {
		errs = append(errs, fmt.Errorf("-duration must be in (0, %s]", maxDuration))
	}
	if o.warmup < 0 || o.warmup > maxWarmup {
		errs = append(errs, fmt.Errorf("-warmup must be in [0, %s]", maxWarmup))
	}
	if o.workers < 1 || o.maxWorkers < o.workers {
		errs = append(errs, errors.New("need 1 <= -workers <= -max-workers"))
	}
	if o.customers < 1 {
		errs = append(errs, errors.New("-customers must be positive"))
	}
	if o.timeout <= 0 {
		errs = append(errs, errors.New("-timeout must be positive"))
	}
	if o.client != "vegeta" && o.client != "raw" {
		errs = append(errs, errors.New("-client must be vegeta or raw"))
	}
	if o.simSpan < 0 || o.simSpan > 365*24*time.Hour {
		errs = append(errs, errors.New("-sim-span must be 0..8760h"))
	}
	if o.maxRequests == 0 {
		o.maxRequests = uint64(float64(o.rate) * o.duration.Seconds())
	}
	if o.maxRequests > maxRequests {
		errs = append(errs, fmt.Errorf("the measured phase may send at most %d requests", maxRequests))
	}
	if o.runID == "" {
		o.runID = "lt" + strconv.FormatInt(time.Now().UnixMilli(), 36)
	}
	return o, errors.Join(errs...)
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtx:", err)
		os.Exit(2)
	}
	if err := run(o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtx:", err)
		os.Exit(1)
	}
}

// Report is what loadtx writes with -out.
type Report struct {
	Tool      string         `json:"tool"`
	RunID     string         `json:"run_id"`
	Target    string         `json:"target"`
	StartedAt time.Time      `json:"started_at"`
	EndedAt   time.Time      `json:"ended_at"`
	Config    map[string]any `json:"config"`
	Warmup    *Phase         `json:"warmup,omitempty"`
	Measured  *Phase         `json:"measured"`
	// Acknowledged counts every 200 answer of the run (warm-up included):
	// each one promises a stored event.
	Acknowledged uint64 `json:"acknowledged_total"`
	// SentByKind is the traffic mix actually sent (warm-up included).
	SentByKind map[string]uint64 `json:"sent_by_kind"`
}

// Phase is one constant-rate attack.
type Phase struct {
	Name             string                       `json:"name"`
	Rate             int                          `json:"rate_per_s"`
	DurationS        float64                      `json:"duration_s"`
	Intended         uint64                       `json:"intended_requests"`
	Sent             uint64                       `json:"sent"`
	OK               uint64                       `json:"ok"`
	WallS            float64                      `json:"wall_s"`
	ThroughputPerS   float64                      `json:"throughput_ok_per_s"`
	SendRatePerS     float64                      `json:"send_rate_per_s"`
	SuccessRatio     float64                      `json:"success_ratio"`
	StatusCodes      map[string]uint64            `json:"status_codes"`
	Errors           map[string]uint64            `json:"errors,omitempty"`
	FirstErrorBodies []string                     `json:"first_error_bodies,omitempty"`
	Actions          map[string]uint64            `json:"actions"`
	ActionsByKind    map[string]map[string]uint64 `json:"actions_by_kind"`
	Replayed         uint64                       `json:"replayed"`
	// MaxInFlight is the most requests outstanding at once. When it reaches
	// -max-workers the generator can no longer keep the schedule: the
	// server is overloaded and the offered rate was not delivered.
	MaxInFlight int64 `json:"max_in_flight"`
	// Latency is measured from the moment the request was sent to the end
	// of the response body, over every request (errors included).
	Latency Percentiles `json:"latency_ms"`
	// LatencyFromIntended is measured from the moment the request was
	// scheduled to be sent (start + seq/rate): it also counts any time the
	// generator itself fell behind schedule.
	LatencyFromIntended Percentiles `json:"latency_from_intended_ms"`
	// ScheduleLag is how late requests left compared with the schedule.
	ScheduleLag Percentiles `json:"schedule_lag_ms"`
	// ServerDecision is the latency_us the server reports in each decision
	// (engine time including the durable save, without HTTP).
	ServerDecision Percentiles `json:"server_decision_ms"`
	CPU            *CPUShare   `json:"cpu,omitempty"`
}

var kindNames = []string{kindNormal, kindGuest, kindTakeover, kindCardTesting, kindRing}

func kindCode(k string) uint8 {
	for i, n := range kindNames {
		if n == k {
			return uint8(i + 1)
		}
	}
	return 0
}

// limitPacer stops a constant pacer after max hits.
type limitPacer struct {
	vegeta.ConstantPacer
	max uint64
}

func (p limitPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.max {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

type harness struct {
	o        options
	endpoint string
	client   *http.Client
	raw      *rawClient // -client raw; nil in vegeta mode
	gen      *generator
	header   http.Header
	next     atomic.Uint64 // next transaction sequence number
	inFlight atomic.Int64
	maxIn    atomic.Int64
	kinds    []uint8 // traffic kind of each sequence number
	sentKind [6]atomic.Uint64
}

func run(o options, stdout io.Writer) error {
	ctx := context.Background()
	endpoint, base, err := loopbackURL(ctx, o.target)
	if err != nil {
		return err
	}
	warmN := uint64(float64(o.rate) * o.warmup.Seconds())
	total := warmN + o.maxRequests
	h := &harness{o: o, endpoint: endpoint, kinds: make([]uint8, total)}
	h.header = http.Header{"Authorization": {"Bearer " + o.key}, "Content-Type": {"application/json"}}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: loopbackOnly}
	idle := o.connections
	if idle == 0 {
		idle = 10_000
	}
	h.client = &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			Proxy:               nil, // never through a proxy
			DialContext:         dialer.DialContext,
			MaxIdleConns:        idle,
			MaxIdleConnsPerHost: idle,
			MaxConnsPerHost:     o.connections,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	generatorName := "vegeta/v12.12.0 attacker (open loop)"
	if o.client == "raw" {
		conns := int(o.maxWorkers) // one connection per request in flight
		if o.connections > 0 {
			conns = min(conns, o.connections)
		}
		if h.raw, err = newRawClient(ctx, endpoint, o.key, o.timeout, conns); err != nil {
			return err
		}
		defer h.raw.close()
		generatorName = "loadtx raw HTTP/1.1 client (open loop, keep-alive, no pipelining)"
		if os.Getenv("GOMAXPROCS") == "" && o.rate <= rawOneProcMaxRate {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		}
	}
	if err := h.preflight(ctx, base); err != nil {
		return err
	}
	start := time.Now()
	h.gen = newGenerator(o.seed, o.runID, o.customers, start, o.simSpan, total)

	rep := &Report{Tool: "loadtx", RunID: o.runID, Target: endpoint, StartedAt: start.UTC(), Config: map[string]any{
		"rate_per_s": o.rate, "duration_s": o.duration.Seconds(), "warmup_s": o.warmup.Seconds(),
		"workers": o.workers, "max_workers": o.maxWorkers, "connections": o.connections,
		"timeout_s": o.timeout.Seconds(), "seed": o.seed, "customers": o.customers,
		"sim_span_h": o.simSpan.Hours(), "max_requests": o.maxRequests, "generator": generatorName, "client": o.client,
		"loadtx_gomaxprocs": runtime.GOMAXPROCS(0), "loadtx_go": runtime.Version(),
	}}
	fmt.Fprintf(stdout, "loadtx %s: %d req/s to %s, warm-up %s, measured %s (max %d requests), seed %d, %d customers\n",
		o.runID, o.rate, endpoint, o.warmup, o.duration, o.maxRequests, o.seed, o.customers)
	if warmN > 0 {
		rep.Warmup = h.phase("warmup", o.warmup, warmN)
		fmt.Fprintf(stdout, "warm-up: %d sent, %d ok, %.0f ok/s\n", rep.Warmup.Sent, rep.Warmup.OK, rep.Warmup.ThroughputPerS)
		rep.Acknowledged += rep.Warmup.OK
	}
	rep.Measured = h.phase("measured", o.duration, o.maxRequests)
	rep.Acknowledged += rep.Measured.OK
	rep.EndedAt = time.Now().UTC()
	rep.SentByKind = map[string]uint64{}
	for i, n := range kindNames {
		rep.SentByKind[n] = h.sentKind[i+1].Load()
	}
	printSummary(stdout, rep)
	if o.out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.out, append(b, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "results written to %s\n", o.out)
	}
	return nil
}

// preflight checks that the server is ready before any load is sent.
func (h *harness) preflight(ctx context.Context, base string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("server not reachable: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("server not ready: GET /readyz answered %s", resp.Status)
	}
	return nil
}

// phase runs one constant-rate attack of at most n requests over d.
func (h *harness) phase(name string, d time.Duration, n uint64) *Phase {
	o := h.o
	p := &Phase{Name: name, Rate: o.rate, DurationS: d.Seconds(), Intended: n,
		StatusCodes: map[string]uint64{}, Errors: map[string]uint64{}, Actions: map[string]uint64{},
		ActionsByKind: map[string]map[string]uint64{}}
	interval := time.Duration(time.Second.Nanoseconds() / int64(o.rate))
	s := &phaseStats{h: h, p: p,
		lat: make([]int64, 0, n), fromIntended: make([]int64, 0, n), lag: make([]int64, 0, n), server: make([]int64, 0, n)}
	var atk *vegeta.Attacker
	if h.raw == nil {
		atk = vegeta.NewAttacker(vegeta.Client(h.client), vegeta.Workers(o.workers), vegeta.MaxWorkers(o.maxWorkers),
			vegeta.MaxBody(64<<10))
	}
	cpu0 := readCPU(o.serverPID)
	began := time.Now()
	h.maxIn.Store(0)
	if h.raw != nil {
		h.raw.run(rawSchedule{began: began, interval: interval, n: n, until: d + time.Second,
			maxInFlight: int(o.maxWorkers), next: h.take,
			record: func(r outcome) { s.add(r.intended, r.sent, r.latency, r.code, r.err, r.body) }})
	} else {
		pacer := limitPacer{ConstantPacer: vegeta.ConstantPacer{Freq: o.rate, Per: time.Second}, max: n}
		for res := range atk.Attack(h.targeter(), pacer, d+time.Second, name) {
			intended := began.Add(time.Duration(res.Seq+1) * interval)
			s.add(intended, res.Timestamp, res.Latency, int(res.Code), res.Error, res.Body)
		}
	}
	wall := time.Since(began)
	p.MaxInFlight = h.maxIn.Load()
	cpu1 := readCPU(o.serverPID)
	share := cpuShare(cpu0, cpu1, runtime.NumCPU())
	p.CPU = &share
	p.WallS = round3(wall.Seconds())
	p.ThroughputPerS = round3(float64(p.OK) / wall.Seconds())
	p.SendRatePerS = round3(float64(p.Sent) / min(wall, d).Seconds())
	if p.Sent > 0 {
		p.SuccessRatio = round6(float64(p.OK) / float64(p.Sent))
	}
	p.Latency = percentiles(s.lat, 1e6)
	p.LatencyFromIntended = percentiles(s.fromIntended, 1e6)
	p.ScheduleLag = percentiles(s.lag, 1e6)
	p.ServerDecision = percentiles(s.server, 1e3)
	return p
}

// phaseStats gathers the results of one phase, whichever client sent them.
// add is not safe for concurrent use.
type phaseStats struct {
	h                              *harness
	p                              *Phase
	lat, fromIntended, lag, server []int64
}

// add records one answered (or failed) request: intended is when the
// schedule wanted it sent, sent when it was sent, latency the time from sent
// to the end of the response body, code the HTTP status (0 for a transport
// error), errText the error ("" when none), body the first 64 KiB of the
// response body (not retained).
func (s *phaseStats) add(intended, sent time.Time, latency time.Duration, code int, errText string, body []byte) {
	h, p := s.h, s.p
	h.inFlight.Add(-1)
	p.Sent++
	s.lat = append(s.lat, int64(latency))
	s.lag = append(s.lag, max(0, int64(sent.Sub(intended))))
	s.fromIntended = append(s.fromIntended, max(int64(latency), int64(sent.Add(latency).Sub(intended))))
	p.StatusCodes[strconv.Itoa(code)]++
	if code == http.StatusOK {
		p.OK++
		action, us, replayed := actionOf(body)
		p.Actions[action]++
		if replayed {
			p.Replayed++
		}
		s.server = append(s.server, us)
		kind := "unknown"
		if seq, ok := h.seqOf(body); ok {
			kind = kindNames[h.kinds[seq]-1]
		}
		byKind := p.ActionsByKind[kind]
		if byKind == nil {
			byKind = map[string]uint64{}
			p.ActionsByKind[kind] = byKind
		}
		byKind[action]++
		return
	}
	e := errText
	if len(e) > 120 {
		e = e[:120]
	}
	if _, seen := p.Errors[e]; seen || len(p.Errors) < 20 {
		p.Errors[e]++
	} else {
		p.Errors["(other)"]++
	}
	if len(p.FirstErrorBodies) < 3 && len(body) > 0 {
		p.FirstErrorBodies = append(p.FirstErrorBodies, string(truncate(body, 300)))
	}
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
func round6(v float64) float64 { return float64(int64(v*1e6+0.5)) / 1e6 }

// targeter hands out the next transaction of the run's sequence.
func (h *harness) targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		body, ok := h.take()
		if !ok {
			return vegeta.ErrNoTargets
		}
		t.Method, t.URL, t.Body, t.Header = http.MethodPost, h.endpoint, body, h.header
		return nil
	}
}

// take builds the next transaction of the run's sequence and counts it as
// in flight; false when the sequence is exhausted.
func (h *harness) take() ([]byte, bool) {
	seq := h.next.Add(1) - 1
	if seq >= uint64(len(h.kinds)) {
		return nil, false
	}
	body, kind := h.gen.Build(seq)
	k := kindCode(kind)
	h.kinds[seq] = k
	h.sentKind[k].Add(1)
	for n := h.inFlight.Add(1); ; {
		m := h.maxIn.Load()
		if n <= m || h.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	return body, true
}

// seqOf finds the sequence number in the decision's external_id.
func (h *harness) seqOf(body []byte) (uint64, bool) {
	prefix := []byte(`"external_id":"` + h.o.runID + "-")
	i := bytes.Index(body, prefix)
	if i < 0 {
		return 0, false
	}
	rest := body[i+len(prefix):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return 0, false
	}
	seq, err := strconv.ParseUint(string(rest[:j]), 10, 64)
	if err != nil || seq >= uint64(len(h.kinds)) || h.kinds[seq] == 0 {
		return 0, false
	}
	return seq, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func printSummary(w io.Writer, r *Report) {
	p := r.Measured
	fmt.Fprintf(w, "\n== measured phase: %d req/s for %.0fs ==\n", p.Rate, p.DurationS)
	fmt.Fprintf(w, "requests sent      %d of %d intended (send rate %.0f/s, max %d in flight)\n", p.Sent, p.Intended, p.SendRatePerS, p.MaxInFlight)
	if p.Sent < p.Intended {
		fmt.Fprintf(w, "WARNING: the offered rate was not delivered: the server fell behind and the generator reached its\n"+
			"         in-flight cap (-max-workers %d); see 'from intended' and 'schedule lag'\n", r.Config["max_workers"])
	}
	fmt.Fprintf(w, "throughput         %.0f ok/s over %.2fs wall\n", p.ThroughputPerS, p.WallS)
	fmt.Fprintf(w, "success ratio      %.4f%%\n", 100*p.SuccessRatio)
	var codes []string
	for _, k := range sortedKeys(p.StatusCodes) {
		codes = append(codes, fmt.Sprintf("%s:%d", k, p.StatusCodes[k]))
	}
	fmt.Fprintf(w, "status codes       %s\n", strings.Join(codes, " "))
	pr := func(name string, q Percentiles) {
		fmt.Fprintf(w, "%-18s p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n", name, q.P50, q.P90, q.P99, q.P999, q.Max)
	}
	pr("latency", p.Latency)
	pr("from intended", p.LatencyFromIntended)
	pr("schedule lag", p.ScheduleLag)
	pr("server decision", p.ServerDecision)
	var acts []string
	for _, k := range sortedKeys(p.Actions) {
		acts = append(acts, fmt.Sprintf("%s:%d (%.2f%%)", k, p.Actions[k], 100*float64(p.Actions[k])/float64(max(1, p.OK))))
	}
	fmt.Fprintf(w, "actions            %s\n", strings.Join(acts, " "))
	for _, kind := range sortedKeys(p.ActionsByKind) {
		var parts []string
		for _, a := range sortedKeys(p.ActionsByKind[kind]) {
			parts = append(parts, fmt.Sprintf("%s:%d", a, p.ActionsByKind[kind][a]))
		}
		fmt.Fprintf(w, "  %-16s %s\n", kind, strings.Join(parts, " "))
	}
	if p.Replayed > 0 {
		fmt.Fprintf(w, "WARNING: %d replayed decisions (repeated ids)\n", p.Replayed)
	}
	for _, e := range sortedKeys(p.Errors) {
		fmt.Fprintf(w, "error              %dx %s\n", p.Errors[e], e)
	}
	if c := p.CPU; c != nil {
		line := fmt.Sprintf("cpu (cores of %d)   generator %.2f", c.NumCPU, c.GeneratorCores)
		if c.ServerCores != nil {
			line += fmt.Sprintf("  server %.2f", *c.ServerCores)
		}
		if c.MachineCores != nil {
			line += fmt.Sprintf("  machine busy %.2f", *c.MachineCores)
		}
		if c.OtherCores != nil {
			line += fmt.Sprintf("  other %.2f", *c.OtherCores)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "acknowledged total %d (warm-up included)\n", r.Acknowledged)
}
