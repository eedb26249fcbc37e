package main

import (
	"strings"
	"testing"
	"time"
)

func TestMitigatedFrom(t *testing.T) {
	tests := []struct {
		name          string
		sent, arrived []int64
		first, last   int
		want          int
	}{
		{name: "blocked from the start", sent: []int64{0, 500, 500, 500}, arrived: []int64{0, 0, 0, 0}, first: 1, last: 4, want: 1},
		{name: "burst, then blocked", sent: []int64{0, 500, 500, 500}, arrived: []int64{0, 200, 10, 0}, first: 1, last: 4, want: 2},
		{name: "never blocked", sent: []int64{0, 500, 500, 500}, arrived: []int64{0, 500, 480, 490}, first: 1, last: 4, want: -1},
		{name: "blocked, then let through again", sent: []int64{0, 500, 500, 500}, arrived: []int64{0, 0, 0, 300}, first: 1, last: 4, want: -1},
		{name: "one straggler is not a leak", sent: []int64{0, 5, 5}, arrived: []int64{0, 1, 1}, first: 1, last: 3, want: 1},
		{name: "the shop's counts end early", sent: []int64{0, 500, 500, 500}, arrived: []int64{0, 300}, first: 1, last: 4, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mitigatedFrom(tt.sent, tt.arrived, tt.first, tt.last); got != tt.want {
				t.Errorf("mitigatedFrom = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{name: "none", sorted: nil, p: 50, want: 0},
		{name: "one", sorted: ms(7), p: 99, want: 7 * time.Millisecond},
		{name: "median of four is the second", sorted: ms(1, 2, 3, 4), p: 50, want: 2 * time.Millisecond},
		{name: "p99 of 100", sorted: ms(hundred...), p: 99, want: 99 * time.Millisecond},
		{name: "p100", sorted: ms(hundred...), p: 100, want: 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSummarizeWindow(t *testing.T) {
	cfg := runConfig{targetName: "t", scenario: scenFlood, pre: 2 * time.Second, attack: 2 * time.Second, post: time.Second}
	rec := &recorder{start: time.Now(), sessions: 4, challengedSessions: 1, records: []legitRecord{
		{kind: kindPage, at: time.Second, latency: 10 * time.Millisecond, ok: true},                             // before: not in the window
		{kind: kindPage, at: 2 * time.Second, latency: 30 * time.Millisecond, ok: true},                         // in
		{kind: kindCheckout, at: 3 * time.Second, latency: 50 * time.Millisecond, ok: true},                     // in
		{kind: kindPage, at: 3500 * time.Millisecond, latency: time.Second, failure: "proxy 503"},               // in, failed
		{kind: kindPage, at: 3900 * time.Millisecond, latency: time.Second, unfinished: true, failure: "error"}, // in, cut off: a failure
		{kind: kindPage, at: 4500 * time.Millisecond, latency: time.Millisecond, unfinished: true},              // after: dropped
	}}
	st := newAttackStats(rec.start, bucket)
	st.Sent, st.SentBuckets = 400, []int64{0, 0, 0, 0, 100, 100, 100, 100}
	shop := shopCounts{Arrived: map[string]int64{"attack": 120}, Buckets: map[string][]int64{"attack": {0, 0, 0, 0, 100, 20, 0, 0}}}
	s := summarize(cfg, rec, st, shop)
	w := s.Legit.Window
	if w.Requests != 4 || w.OK != 2 || w.Unfinished != 1 || w.P50MS != 30 || w.P99MS != 50 {
		t.Errorf("window = %+v", w)
	}
	if f := s.Legit.Failures; len(f) != 2 || f["page proxy 503"] != 1 || f["page error"] != 1 {
		t.Errorf("failures = %v", f)
	}
	if s.Legit.All.Requests != 5 || s.Legit.CheckoutsOK != 1 || s.Legit.CheckoutsTried != 1 {
		t.Errorf("all = %+v, checkouts %d/%d", s.Legit.All, s.Legit.CheckoutsOK, s.Legit.CheckoutsTried)
	}
	if len(s.Legit.Seconds) != 5 || s.Legit.Seconds[3].Requests != 3 {
		t.Errorf("seconds = %+v", s.Legit.Seconds)
	}
	if s.Attack.Reached != 120 || s.Attack.ReachedShare != 0.3 || s.Attack.MitigatedAfterS != 1 {
		t.Errorf("attack = reached %d, share %v, mitigated after %v s", s.Attack.Reached, s.Attack.ReachedShare, s.Attack.MitigatedAfterS)
	}
}

func TestRecovery(t *testing.T) {
	good := latencyFigures{Requests: 100, OK: 100, P90MS: 25}
	slow := latencyFigures{Requests: 100, OK: 100, P90MS: 500}
	failing := latencyFigures{Requests: 100, OK: 90, P90MS: 25}
	base := &summary{Scenario: scenBaseline, Legit: legitSummary{Window: latencyFigures{Requests: 100, OK: 100, P90MS: 12, P99MS: 20}}}
	run := func(secs ...latencyFigures) *summary {
		return &summary{Scenario: scenFlood, PreS: 1, AttackS: 2, PostS: 3, Legit: legitSummary{Seconds: secs}}
	}
	tests := []struct {
		name string
		s    *summary
		want string
	}{
		{name: "no impact", s: run(good, good, good, good, good, good), want: "–"},
		{name: "recovers at once", s: run(good, slow, failing, good, good, good), want: "0"},
		{name: "recovers after two seconds", s: run(good, slow, slow, slow, failing, good), want: "2"},
		{name: "never within the run", s: run(good, slow, slow, slow, slow, slow), want: ">3"},
		{name: "relapses", s: run(good, slow, slow, good, good, slow), want: ">3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recovery(tt.s, base); got != tt.want {
				t.Errorf("recovery = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteReport(t *testing.T) {
	mk := func(target, scenario string, ok, p99 float64, challenged int) *summary {
		s := &summary{Target: target, Scenario: scenario, PreS: 1, AttackS: 1, PostS: 1}
		s.Legit.Window = latencyFigures{Requests: 1000, OK: int64(ok * 1000), P50MS: 20, P99MS: p99}
		s.Legit.Sessions, s.Legit.ChallengedSessions = 100, challenged
		s.Attack.Counts = &attackStats{Sent: 100}
		return s
	}
	shed := mk("direct", scenFlood, 0.5, 900, 0)
	shed.Shop.Counts.Flagged = map[string]int64{"legit": 3}
	shed.Legit.Failures = map[string]int64{"page proxy 503": 400, "static error": 50, "login shop 500": 40, "page error": 10}
	var b strings.Builder
	writeReport(&b, []*summary{
		mk("direct", scenBaseline, 1, 40, 0), shed,
		mk("guard", scenFlood, 0.995, 70, 0), mk("guard", scenBaseline, 1, 40, 1),
	})
	out := b.String()
	for _, want := range []string{
		"Warning: direct marked 3 of the customers' requests in flood",
		"| baseline | direct |", "| flood | guard | 99.50 |", "| page proxy 503 ×400, static error ×50, login shop 500 ×40 |\n",
		"- **direct**: flood: 50.0 ok (not met), p99 22.50× (not met); customers challenged 0.0 of 200 sessions (met)",
		"- **guard**: flood: 99.50 ok (met), p99 1.75× (met); customers challenged 0.5 of 200 sessions (met)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "| baseline | direct |") > strings.Index(out, "| flood | direct |") {
		t.Errorf("baseline not first:\n%s", out)
	}
}
