package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// second is what one second brings a sentinel: requests arrived, answers
// (of which slow and failed), and requests refused for the shop's sake.
type second struct {
	rate, answers, slow, failed, refused int64
}

// phase is a run of identical seconds.
type phase struct {
	n int
	s second
}

// runSeconds feeds the phases to s one second at a time and returns the
// seconds (counted from 1) at which it switched and to what, and the
// reason of the last switch on.
func runSeconds(s *sentinel, phases []phase) (switches []string, onReason string) {
	var c tickCounts
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	s.tick(now, c)
	sec := 0
	for _, p := range phases {
		for range p.n {
			sec++
			for range p.s.answers - p.s.slow - p.s.failed {
				s.answered(time.Millisecond, false)
			}
			for range p.s.slow {
				s.answered(time.Hour, false)
			}
			for range p.s.failed {
				s.answered(time.Millisecond, true)
			}
			c.requests += p.s.rate
			c.failed += p.s.refused
			now = now.Add(time.Second)
			if switched, st := s.tick(now, c); switched {
				switches = append(switches, fmt.Sprintf("%d:%v", sec, st.On))
				if st.On {
					onReason = st.Reason
				}
			}
		}
	}
	return switches, onReason
}

func TestSentinelSwitches(t *testing.T) {
	cfg := AutoAttack{Latency: 500 * time.Millisecond, ErrorRate: 0.2, TrafficFactor: 5, MinRate: 20,
		For: 10 * time.Second, CoolDown: 30 * time.Second, Learn: time.Hour}
	calm := second{rate: 50, answers: 50}
	flood := second{rate: 400, answers: 60}
	tests := []struct {
		name   string
		phases []phase
		want   string // switches, "second:on"
		reason string // of the last switch on
	}{
		{"a flood 8x the learned rate: on after 8 of 10 seconds, off 30 calm seconds after it ends",
			[]phase{{120, calm}, {60, flood}, {40, calm}}, "128:true 210:false", "400 requests/s, 8.0× the usual 50.0/s"},
		{"a burst shorter than four fifths of the window: nothing",
			[]phase{{120, calm}, {7, flood}, {30, calm}}, "", ""},
		{"traffic before the baseline has a minute: not a signal",
			[]phase{{30, calm}, {30, flood}}, "", ""},
		{"a slow shop: on without a baseline",
			[]phase{{20, second{rate: 100, answers: 100, slow: 20}}}, "8:true", "20% of the shop's answers took longer than 500ms"},
		{"a tenth slow is not yet a p90 above the latency",
			[]phase{{20, second{rate: 100, answers: 100, slow: 10}}}, "", ""},
		{"5xx answers",
			[]phase{{20, second{rate: 100, answers: 100, failed: 30}}}, "8:true", "30% of the shop's answers were errors"},
		{"requests refused for the shop (sheds, health) count as errors",
			[]phase{{20, second{rate: 100, answers: 50, refused: 50}}}, "8:true", "50% of the shop's answers were errors"},
		{"below min_rate nothing counts",
			[]phase{{30, second{rate: 10, answers: 10, failed: 10}}}, "", ""},
		{"too few answers to judge their shares",
			[]phase{{30, second{rate: 30, answers: 5, failed: 5}}}, "", ""},
		{"distress interrupted by calm seconds still switches at four fifths",
			[]phase{{4, second{rate: 100, answers: 100, failed: 50}}, {1, second{rate: 100, answers: 100}},
				{4, second{rate: 100, answers: 100, failed: 50}}}, "9:true", "50% of the shop's answers were errors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			switches, reason := runSeconds(newSentinel(&cfg, false), tc.phases)
			if got := strings.Join(switches, " "); got != tc.want {
				t.Fatalf("switches %q, want %q", got, tc.want)
			}
			if reason != tc.reason {
				t.Errorf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
}

// The reason of a switch on names the signal; the baseline learns only
// from calm seconds, so a flood does not become the usual.
func TestSentinelReasonAndBaseline(t *testing.T) {
	cfg := DefaultAutoAttack
	s := newSentinel(&cfg, false)
	var reason string
	var c tickCounts
	now := time.Unix(0, 0)
	s.tick(now, c)
	for i := range 400 {
		rate := int64(40)
		if i >= 100 {
			rate = 1000
		}
		c.requests += rate
		now = now.Add(time.Second)
		if switched, st := s.tick(now, c); switched && st.On {
			reason = st.Reason
		}
	}
	if want := "1000 requests/s, 25.0× the usual 40.0/s"; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
	if st := s.snapshot(); !st.On || st.Baseline != 40 {
		t.Errorf("after 300 s of flood: %+v, want on with the baseline still 40", st)
	}
}

// An operator's on or off holds whatever the signals say, until auto hands
// the switch back.
func TestSentinelOverride(t *testing.T) {
	cfg := AutoAttack{Latency: time.Second, ErrorRate: 0.2, MinRate: 1, For: 2 * time.Second, CoolDown: 10 * time.Second, Learn: time.Hour}
	bad := phase{5, second{rate: 100, answers: 100, failed: 100}}
	good := phase{5, second{rate: 100, answers: 100}}
	at := time.Unix(1, 0)

	s := newSentinel(&cfg, false)
	if _, _, err := s.setMode(ModeOff, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := runSeconds(s, []phase{bad}); len(got) != 0 || s.snapshot().On {
		t.Fatalf("held off, distress switched it: %v", got)
	}
	st, changed, err := s.setMode(ModeOn, at)
	if err != nil || !changed || !st.On || st.Mode != ModeOn {
		t.Fatalf("setMode(on) = %+v %v %v", st, changed, err)
	}
	if got, _ := runSeconds(s, []phase{good, good, good}); len(got) != 0 || !s.snapshot().On {
		t.Fatalf("held on, calm switched it: %v", got)
	}
	if st, changed, err = s.setMode(ModeAuto, at); err != nil || changed || !st.On {
		t.Fatalf("setMode(auto) = %+v %v %v, want it left on", st, changed, err)
	}
	// Handed back while on: off after a full cool-down.
	if got, _ := runSeconds(s, []phase{good, good, good}); strings.Join(got, " ") != "10:false" {
		t.Fatalf("auto again: switches %q, want off after the 10 s cool-down", got)
	}
	if _, _, err := s.setMode("maybe", at); err == nil {
		t.Error("setMode(maybe) accepted")
	}
	manual := newSentinel(nil, true)
	if st := manual.snapshot(); !st.On || st.Mode != ModeOn {
		t.Errorf("policy under_attack: %+v", st)
	}
	if _, _, err := manual.setMode(ModeAuto, at); err == nil {
		t.Error("auto accepted without auto_under_attack")
	}
	if got, _ := runSeconds(manual, []phase{good}); len(got) != 0 || !manual.snapshot().On {
		t.Errorf("no automatic switch configured, yet it switched: %v", got)
	}
}

// End to end: a shop that slows down under load switches the gateway into
// under-attack mode within seconds, and page views are then challenged.
func TestAutoUnderAttackSlowShop(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few seconds")
	}
	p, err := ReadPolicy(strings.NewReader(`
auto_under_attack: {latency: 20ms, min_rate: 5, for: 1s, cool_down: 10s}
`))
	if err != nil {
		t.Fatal(err)
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(50 * time.Millisecond)
		w.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: time.Second}
	uln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = up.Serve(uln) }()
	defer up.Close()
	g, base := startGateway(t, "http://"+uln.Addr().String(), func(c *Config) {
		c.Policy = p
		c.ChallengeSecret = []byte(strings.Repeat("s", 32))
	})
	if st := g.AttackState(); st.On || st.Mode != ModeAuto {
		t.Fatalf("at start: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil && !g.UnderAttack() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	st := g.AttackState()
	if !st.On || !strings.Contains(st.Reason, "took longer than 20ms") {
		t.Fatalf("after a slow shop: %+v", st)
	}
	if code, _ := get(t, nil, pageRequest(t, "GET", base+"/")); code != http.StatusForbidden {
		t.Errorf("a page view under attack: %d, want the challenge (403)", code)
	}
}

func TestAutoAttackPolicy(t *testing.T) {
	for _, tc := range []struct{ policy, want string }{
		{"auto_under_attack: {latency: 1ms}", `auto_under_attack.latency: "1ms", must be a duration from 10ms to 1m0s`},
		{"auto_under_attack: {for: soon}", `auto_under_attack.for: "soon"`},
		{"auto_under_attack: {cool_down: 1s}", `auto_under_attack.cool_down: "1s"`},
		{"auto_under_attack: {learn: 9999h}", `auto_under_attack.learn: "9999h"`},
		{"auto_under_attack: {error_rate: 1.5}", "auto_under_attack.error_rate: 1.5, must be a share from 0 (not watched) to 1"},
		{"auto_under_attack: {traffic_factor: 1.1}", "auto_under_attack.traffic_factor: 1.1, must be 0 (not watched) or from 1.5 to 1000"},
		{"auto_under_attack: {min_rate: -1}", "auto_under_attack.min_rate: -1"},
		{"auto_under_attack: {sensitivity: high}", "field sensitivity not found"},
	} {
		if _, err := ReadPolicy(strings.NewReader(tc.policy)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("policy %q: %v, want %q", tc.policy, err, tc.want)
		}
	}
	p, err := ReadPolicy(strings.NewReader("auto_under_attack: {}"))
	if err != nil || p.AutoAttack == nil || *p.AutoAttack != DefaultAutoAttack {
		t.Fatalf("defaults: %+v, %v", p.AutoAttack, err)
	}
	p, err = ReadPolicy(strings.NewReader("auto_under_attack: {traffic_factor: 0, error_rate: 0.5, for: 30s}"))
	want := DefaultAutoAttack
	want.TrafficFactor, want.ErrorRate, want.For = 0, 0.5, 30*time.Second
	if err != nil || *p.AutoAttack != want {
		t.Fatalf("set: %+v, %v", p.AutoAttack, err)
	}
	if p, err := ReadPolicy(strings.NewReader("under_attack: true")); err != nil || p.AutoAttack != nil {
		t.Fatalf("without the block: %+v, %v", p.AutoAttack, err)
	}
}

// The admin endpoint sets the mode and reports the state; auto needs the
// policy's automatic switch.
func TestAttackModeAdmin(t *testing.T) {
	for _, tc := range []struct {
		policy      string
		form        url.Values
		code        int
		contains    string
		underAttack bool
	}{
		{"auto_under_attack: {}", url.Values{"mode": {"on"}}, 200, `"mode":"on","reason":"switched on by an operator"`, true},
		{"auto_under_attack: {}", url.Values{"mode": {"auto"}}, 200, `{"under_attack":false,"mode":"auto"`, false},
		{"auto_under_attack: {}", url.Values{"on": {"false"}}, 200, `"mode":"off"`, false},
		{"auto_under_attack: {}", url.Values{"mode": {"panic"}}, 400, `"field":"mode","message":"mode must be auto, on or off`, false},
		{"under_attack: false", url.Values{"mode": {"auto"}}, 400, `"field":"mode","message":"mode auto needs auto_under_attack`, false},
		{"under_attack: false", url.Values{"on": {"yes please"}}, 400, `"field":"on"`, false},
	} {
		p, err := ReadPolicy(strings.NewReader(tc.policy))
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig()
		cfg.Upstream, cfg.Policy = &url.URL{Scheme: "http", Host: "127.0.0.1:1"}, p
		g, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/under-attack", strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		g.AdminHandler(http.NotFoundHandler()).ServeHTTP(rec, req)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.contains) || g.UnderAttack() != tc.underAttack {
			t.Errorf("%s, POST %v: %d %s (under attack %v), want %d with %s", tc.policy, tc.form, rec.Code, rec.Body, g.UnderAttack(), tc.code, tc.contains)
		}
	}
}
