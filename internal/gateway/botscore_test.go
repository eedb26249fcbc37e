package gateway

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/botscore"
)

// countScorer scores a client by how many requests it made: 0 up to n,
// 100 after. The gateway's wiring is under test here, not a model.
type countScorer struct{ n float64 }

func (s countScorer) Score(f botscore.Features) int {
	if f[botscore.FRequests] > s.n {
		return 100
	}
	return 0
}

func TestBotScore(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "score=%q", r.Header.Get(HeaderBotScore))
	}))
	defer up.Close()
	for _, tc := range []struct {
		name, policy string
		want         []string // the answers to 5 page views
	}{
		{"challenged past the threshold", "bot_score: {challenge_above: 90}",
			[]string{`200 score="0"`, `200 score="0"`, `200 score="0"`, "403", "403"}},
		{"shadow: scored and told, not challenged", "bot_score: {challenge_above: 90, shadow: true}",
			[]string{`200 score="0"`, `200 score="0"`, `200 score="0"`, `200 score="100"`, `200 score="100"`}},
		{"a route that is never challenged", "bot_score: {challenge_above: 90}\nroutes:\n  - {name: api, path: /*, challenge: never, priority: high}",
			[]string{`200 score="0"`, `200 score="0"`, `200 score="0"`, `200 score="100"`, `200 score="100"`}},
		{"no threshold", "bot_score: {low_priority_above: 50}",
			[]string{`200 score="0"`, `200 score="0"`, `200 score="0"`, `200 score="100"`, `200 score="100"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadPolicy(strings.NewReader(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			g, base := startGateway(t, up.URL, func(c *Config) {
				c.Policy, c.MaxLimitKeys, c.BotModel = p, 100, countScorer{n: 3}
				c.ChallengeSecret = []byte(strings.Repeat("b", 32))
			})
			var got []string
			for range 5 {
				req := pageRequest(t, "GET", base+"/shop")
				req.Header.Set(HeaderBotScore, "0") // a client's claim, never believed
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					got = append(got, fmt.Sprintf("%d %s", resp.StatusCode, b))
				} else {
					got = append(got, fmt.Sprint(resp.StatusCode))
				}
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("answers %q, want %q", got, tc.want)
			}
			if g.bots.Len() != 1 {
				t.Errorf("%d clients tracked, want 1", g.bots.Len())
			}
		})
	}
	if _, err := ReadPolicy(strings.NewReader("bot_score: {challenge_above: 101}")); err == nil || !strings.Contains(err.Error(), "bot_score.challenge_above: 101") {
		t.Errorf("a score above 100: %v", err)
	}
}

func TestBotRequest(t *testing.T) {
	for _, tc := range []struct {
		method, path, accept, cookie, referer string
		want                                  botscore.Request
	}{
		{"GET", "/p/1", "text/html", "a=b", "https://x/", botscore.Request{Path: "/p/1", Page: true, Cookie: true, Referer: true}},
		{"GET", "/static/app.JS", "*/*", "", "", botscore.Request{Path: "/static/app.JS", Static: true}},
		{"POST", "/login.css", "text/html", "", "", botscore.Request{Path: "/login.css", Post: true}},
		{"GET", "/api/cart.json", "application/json", "", "", botscore.Request{Path: "/api/cart.json"}},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		r.Header.Set("Accept", tc.accept)
		if tc.cookie != "" {
			r.Header.Set("Cookie", tc.cookie)
		}
		if tc.referer != "" {
			r.Header.Set("Referer", tc.referer)
		}
		if got := botRequest(r, tc.want.At, false); got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestTunedChallenge(t *testing.T) {
	pow := &Route{Name: "r", Challenge: ChallengePoW, ChallengeBits: 14}
	wait := &Route{Name: "w", Challenge: ChallengeWait}
	hard := &Route{Name: "h", Challenge: ChallengePoW, ChallengeBits: 23}
	for _, tc := range []struct {
		ch       *Route
		score    int
		mismatch string
		want     int
	}{
		{pow, -1, "", 14}, {pow, 89, "", 14}, {pow, 90, "", 16}, {pow, 97, "", 16}, {pow, 98, "", 17},
		{pow, -1, "claims chrome", 16}, {pow, 90, "claims chrome", 17}, {hard, 99, "", 24}, {wait, 99, "x", 0},
	} {
		got := tunedChallenge(tc.ch, &requestState{botScore: tc.score, mismatch: tc.mismatch})
		if got.ChallengeBits != tc.want || got.Name != tc.ch.Name {
			t.Errorf("%s, score %d, mismatch %q: %d bits, want %d", tc.ch.Name, tc.score, tc.mismatch, got.ChallengeBits, tc.want)
		}
	}
	if pow.ChallengeBits != 14 {
		t.Error("the route itself was changed")
	}
}

// Under attack, a client with a customer's history (a low bot score over
// trusted_after requests) shops on unchallenged; everyone else, and
// everyone when the score is in shadow mode, is challenged. When the
// gateway switched the mode on itself, only clients the score doubts are.
func TestUnderAttackSparesTrusted(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	for _, tc := range []struct {
		name, policy string
		auto         bool    // switched on by the gateway, not held on
		botAfter     float64 // the scorer's 100 after this many requests (0 before)
		want         string  // the answers to 6 page views
	}{
		{"trusted after 3", "under_attack: true\nadmission: {max_concurrency: 8, trusted_after: 3}", false, 100, "403 403 200 200 200 200"},
		{"trusted after 5 by default", "under_attack: true", false, 100, "403 403 403 403 200 200"},
		{"shadow", "under_attack: true\nbot_score: {shadow: true}", false, 100, "403 403 403 403 403 403"},
		{"a score too high", "under_attack: true\nadmission: {max_concurrency: 8, trusted_below: 0}", false, 100, "403 403 403 403 403 403"},
		{"auto: nothing known against a new client", "", true, 100, "200 200 200 200 200 200"},
		{"auto: doubted from its third request", "", true, 2, "200 200 403 403 403 403"},
		{"auto, shadow: everyone challenged", "bot_score: {shadow: true}", true, 100, "403 403 403 403 403 403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadPolicy(strings.NewReader(tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			g, base := startGateway(t, up.URL, func(c *Config) {
				c.Policy, c.MaxLimitKeys, c.BotModel = p, 100, countScorer{n: tc.botAfter}
				c.ChallengeSecret = []byte(strings.Repeat("t", 32))
			})
			if tc.auto {
				g.applyAttackState(AttackState{On: true, Mode: ModeAuto, Reason: "test"}, "auto")
			}
			var got []string
			for range 6 {
				code, _ := get(t, nil, pageRequest(t, "GET", base+"/shop"))
				got = append(got, fmt.Sprint(code))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("answers %s, want %s", strings.Join(got, " "), tc.want)
			}
		})
	}
}
