package gateway

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// AutoAttack switches under-attack mode on by itself when the shop is in
// distress or the traffic is far above its usual level, and off again once
// both have been calm for a while. Every second it looks at the second
// just past:
//
//   - the shop's health: the share of answers slower than Latency (the
//     time from a request's arrival to the shop's response headers, queue
//     included) above a tenth, i.e. the 90th percentile above Latency; or
//     the share of errors (the shop's 5xx, the gateway's 502/504 when the
//     shop does not answer, 503 while its health check fails or it is at
//     its concurrency limit) above ErrorRate;
//   - the traffic: requests per second above TrafficFactor times the
//     baseline, the usual rate learned from calm seconds while the mode is
//     off (an exponential average with time constant Learn; it is used
//     once it has a minute of seconds).
//
// A second in which fewer than MinRate requests arrived is calm whatever
// else: a quiet shop with three slow answers is not under attack. The mode
// switches on when at least four fifths of the seconds of the last For
// were in distress, and off when none of the last CoolDown was — by then
// the challenges have kept the flood from the shop, so the shop's health
// says nothing, but a flood still arriving keeps the traffic signal on.
//
// An operator's choice (Gateway.SetAttackMode "on" or "off") overrides the
// switch until they hand it back ("auto").
type AutoAttack struct {
	Latency       time.Duration
	ErrorRate     float64
	TrafficFactor float64
	MinRate       float64
	For           time.Duration
	CoolDown      time.Duration
	Learn         time.Duration
}

// DefaultAutoAttack is the policy's auto_under_attack with nothing set.
var DefaultAutoAttack = AutoAttack{Latency: 2 * time.Second, ErrorRate: 0.2, TrafficFactor: 5, MinRate: 20,
	For: 10 * time.Second, CoolDown: 5 * time.Minute, Learn: time.Hour}

// The modes of under-attack mode: switched by the gateway (auto) or held
// on or off by an operator.
const (
	ModeAuto = "auto"
	ModeOn   = "on"
	ModeOff  = "off"
)

// minBaselineSeconds is how many calm seconds the traffic baseline needs
// before the traffic signal is used.
const minBaselineSeconds = 60

// minAnswers is the fewest answers in a second whose shares of slow and
// failed answers count.
const minAnswers = 10

// AttackState is under-attack mode as an operator sees it.
type AttackState struct {
	// On reports whether every page view is challenged.
	On bool `json:"under_attack"`
	// Mode is auto, on or off (see SetAttackMode).
	Mode string `json:"mode"`
	// Reason says why the mode is as it is.
	Reason string `json:"reason,omitempty"`
	// Since is when it last switched (zero before the first switch).
	Since time.Time `json:"since,omitzero"`
	// Baseline is the learned usual rate in requests per second (0 until
	// learned or without the automatic switch).
	Baseline float64 `json:"baseline_rps"`
}

// sentinel counts what each second brings and switches under-attack mode.
type sentinel struct {
	cfg  AutoAttack
	auto bool // cfg is set: the automatic switch exists

	// Counted by requests, taken and zeroed each tick.
	answers, slow, failed atomic.Int64

	mu    sync.Mutex
	state AttackState
	// The cumulative counts read at the last tick.
	last       time.Time
	lastCounts tickCounts
	samples    int    // calm seconds learned from
	ring       []bool // distress of the last For seconds, oldest first at pos
	pos        int
	calm       int // consecutive calm seconds
}

// tickCounts are the gateway's cumulative counts a tick compares.
type tickCounts struct {
	requests, failed int64
}

// newSentinel returns a sentinel in mode on or off (on: the policy starts
// under attack), or auto when cfg is not nil and on is false.
func newSentinel(cfg *AutoAttack, on bool) *sentinel {
	s := &sentinel{}
	s.state.Mode = ModeOff
	if cfg != nil {
		s.cfg, s.auto = *cfg, true
		s.state.Mode = ModeAuto
		s.ring = make([]bool, max(1, int(cfg.For/time.Second)))
	}
	if on {
		s.state.Mode, s.state.On, s.state.Reason = ModeOn, true, "the policy starts under attack"
	}
	return s
}

// answered counts one answer to a client: took from its arrival to the
// response headers, failed for a 5xx or the gateway's 502/504.
func (s *sentinel) answered(took time.Duration, failed bool) {
	if !s.auto {
		return
	}
	s.answers.Add(1)
	if failed {
		s.failed.Add(1)
	} else if took > s.cfg.Latency {
		s.slow.Add(1)
	}
}

// tick looks at the time since the last tick, given the gateway's
// cumulative counts c (requests arrived; requests refused for the shop's
// sake: health, concurrency), and reports whether the mode switched, and
// to what. The first tick only takes the counts.
func (s *sentinel) tick(now time.Time, c tickCounts) (switched bool, st AttackState) {
	answers, slow, failed := s.answers.Swap(0), s.slow.Swap(0), s.failed.Swap(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	prev, last := s.lastCounts, s.last
	s.lastCounts, s.last = c, now
	if !s.auto || last.IsZero() || !now.After(last) {
		return false, s.state
	}
	secs := now.Sub(last).Seconds()
	rate := float64(c.requests-prev.requests) / secs
	failed += c.failed - prev.failed
	answers += c.failed - prev.failed
	why := s.distress(rate, answers, slow, failed)
	s.ring[s.pos] = why != ""
	s.pos = (s.pos + 1) % len(s.ring)
	if why == "" {
		s.calm++
		if !s.state.On {
			s.learn(rate)
		}
	} else {
		s.calm = 0
	}
	if s.state.Mode != ModeAuto {
		return false, s.state
	}
	switch {
	case !s.state.On && why != "" && s.distressed():
		s.state.On, s.state.Reason, s.state.Since = true, why, now
		return true, s.state
	case s.state.On && float64(s.calm) >= s.cfg.CoolDown.Seconds():
		s.state.On, s.state.Since = false, now
		s.state.Reason = fmt.Sprintf("calm for %v", s.cfg.CoolDown)
		return true, s.state
	}
	return false, s.state
}

// distress returns why a second with rate requests per second and these
// answers was one of distress ("" when it was calm).
func (s *sentinel) distress(rate float64, answers, slow, failed int64) string {
	if rate < s.cfg.MinRate {
		return ""
	}
	if answers >= minAnswers {
		if share := float64(failed) / float64(answers); s.cfg.ErrorRate > 0 && share > s.cfg.ErrorRate {
			return fmt.Sprintf("%.0f%% of the shop's answers were errors", 100*share)
		}
		if share := float64(slow) / float64(answers); s.cfg.Latency > 0 && share > 0.1 {
			return fmt.Sprintf("%.0f%% of the shop's answers took longer than %v", 100*share, s.cfg.Latency)
		}
	}
	if b := s.state.Baseline; s.cfg.TrafficFactor > 0 && s.samples >= minBaselineSeconds && rate > s.cfg.TrafficFactor*b {
		return fmt.Sprintf("%.0f requests/s, %.1f× the usual %.1f/s", rate, rate/math.Max(b, 1e-9), b)
	}
	return ""
}

// distressed reports whether four fifths of the window were in distress.
func (s *sentinel) distressed() bool {
	n := 0
	for _, d := range s.ring {
		if d {
			n++
		}
	}
	return 5*n >= 4*len(s.ring)
}

// learn moves the baseline towards a calm second's rate: the plain mean of
// the first seconds, then an exponential average over cfg.Learn.
func (s *sentinel) learn(rate float64) {
	s.samples++
	alpha := math.Max(1/float64(s.samples), 1/math.Max(s.cfg.Learn.Seconds(), 1))
	s.state.Baseline += alpha * (rate - s.state.Baseline)
}

// setMode sets the mode; on is what it means for On in mode auto (kept
// as it is). It returns the state and whether On changed.
func (s *sentinel) setMode(mode string, now time.Time) (AttackState, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	was := s.state.On
	switch mode {
	case ModeOn:
		s.state.On, s.state.Reason = true, "switched on by an operator"
	case ModeOff:
		s.state.On, s.state.Reason = false, "switched off by an operator"
	case ModeAuto:
		if !s.auto {
			return s.state, false, fmt.Errorf("mode auto needs auto_under_attack in the gateway's policy")
		}
		s.state.Reason = "handed back to the automatic switch"
		s.calm = 0 // what was on stays on for a cool-down at least
	default:
		return s.state, false, fmt.Errorf("mode %q is not auto, on or off", mode)
	}
	s.state.Mode = mode
	if s.state.On != was {
		s.state.Since = now
	}
	return s.state, s.state.On != was, nil
}

// snapshot returns the state.
func (s *sentinel) snapshot() AttackState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// watch ticks every second until ctx ends, switching g's mode.
func (g *Gateway) watch(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	g.sentinel.tick(time.Now(), g.tickCounts())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if switched, st := g.sentinel.tick(now, g.tickCounts()); switched {
				g.applyAttackState(st, "auto")
			}
		}
	}
}

// tickCounts returns the counts a sentinel tick compares.
func (g *Gateway) tickCounts() tickCounts {
	return tickCounts{requests: g.stats.Requests.Load(), failed: g.stats.UpstreamDown.Load() + g.stats.Shed.Load()}
}

// applyAttackState makes under-attack mode st.On, switched by by (auto or
// operator), and logs and counts the switch.
func (g *Gateway) applyAttackState(st AttackState, by string) {
	g.underAttack.Store(st.On)
	g.autoAttack.Store(st.On && st.Mode == ModeAuto)
	to := ModeOff
	if st.On {
		to = ModeOn
	}
	g.metrics.attackSwitch(to, by)
	g.log.Warn("under-attack mode", "on", st.On, "by", by, "reason", st.Reason)
	if st.On && len(g.cfg.ChallengeSecret) == 0 {
		g.warnNoSecret()
	}
}
