package botscore

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSimulateIsRepeatable(t *testing.T) {
	cfg := SimConfig{Seed: 7, Sessions: 300}
	a, b := Simulate(cfg), Simulate(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same config made different sessions")
	}
	for _, id := range []int{0, 17, 299} {
		if s := SimulateSession(cfg, id); !reflect.DeepEqual(s, a[id]) {
			t.Errorf("SimulateSession(%d) differs from Simulate's", id)
		}
	}
	cfg.Seed = 8
	if c := Simulate(cfg); reflect.DeepEqual(a, c) {
		t.Error("another seed made the same sessions")
	}
}

func TestSimulateSessions(t *testing.T) {
	cfg := SimConfig{Seed: 1, Sessions: 3000}
	sessions := Simulate(cfg)
	keys := map[string]bool{}
	personas := map[string]int{}
	bots := 0
	for _, s := range sessions {
		if keys[s.Key] {
			t.Fatalf("key %s used twice", s.Key)
		}
		keys[s.Key] = true
		personas[s.Persona]++
		if s.Bot {
			bots++
		}
		if s.Bot != strings.HasPrefix(s.Persona, "bot_") {
			t.Errorf("session %d: persona %s labelled bot=%v", s.ID, s.Persona, s.Bot)
		}
		if s.Requests() == 0 {
			t.Errorf("session %d (%s) has no requests", s.ID, s.Persona)
		}
		for i := 1; i < len(s.Events); i++ {
			if s.Events[i].Request.At.Before(s.Events[i-1].Request.At) {
				t.Fatalf("session %d (%s): event %d goes back in time", s.ID, s.Persona, i)
			}
		}
		if s.Events[0].Request.At.Before(cfg.withDefaults().Start) {
			t.Errorf("session %d starts before the simulation", s.ID)
		}
	}
	for _, bot := range []bool{false, true} {
		for _, p := range PersonaNames(bot) {
			if personas[p] < 30 {
				t.Errorf("persona %s: %d sessions of 3000", p, personas[p])
			}
		}
	}
	if share := float64(bots) / float64(len(sessions)); math.Abs(share-DefaultBotShare) > 0.03 {
		t.Errorf("bot share %.3f, want about %v", share, DefaultBotShare)
	}
}

// finalFeatures replays sessions and returns, per persona, the features at
// each session's last request.
func finalFeatures(sessions []Session) map[string][]Features {
	tr := NewTracker(2 * len(sessions))
	out := map[string][]Features{}
	for i := range sessions {
		s := &sessions[i]
		var last Features
		Replay(tr, s, func(_ int, f Features) { last = f })
		out[s.Persona] = append(out[s.Persona], last)
	}
	return out
}

// medianOf returns the median of feature k over fs (NaNs left out).
func medianOf(fs []Features, k int) float64 {
	var v []float64
	for _, f := range fs {
		if !math.IsNaN(f[k]) {
			v = append(v, f[k])
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// TestPersonasBehave checks that each persona does what it stands for, as
// the tracker sees it at the end of its sessions (medians over them).
func TestPersonasBehave(t *testing.T) {
	final := finalFeatures(Simulate(SimConfig{Seed: 3, Sessions: 3000}))
	human := func(k int) float64 { return medianOf(final["human_new"], k) }
	for _, tc := range []struct {
		persona string
		feature int
		check   func(got float64) bool
		want    string
	}{
		{"bot_flood", FRate, func(v float64) bool { return v > 5*human(FRate) }, "rate > 5x human_new's"},
		{"bot_flood", FStatic, func(v float64) bool { return v == 0 }, "no assets"},
		{"bot_flood", FPathDiversity, func(v float64) bool { return v < 0.1 }, "few paths"},
		{"bot_scraper", FPathDiversity, func(v float64) bool { return v > 0.9 }, "many paths"},
		{"bot_scraper", FStatic, func(v float64) bool { return v == 0 }, "no assets"},
		{"bot_scraper_slow", FRate, func(v float64) bool { return v < 0.25 }, "under a request per 4 s"},
		{"bot_scraper_slow", FBarePages, func(v float64) bool { return v > 0.8 }, "bare pages"},
		{"bot_headless", FStatic, func(v float64) bool { return v > 0.2 }, "assets"},
		{"bot_headless", FPathDiversity, func(v float64) bool { return v > 0.7 }, "many paths"},
		{"bot_stuffer", FErrors, func(v float64) bool { return v > 0.7 }, "mostly 401"},
		{"bot_stuffer", FPost, func(v float64) bool { return v >= 0.5 }, "posts"},
		{"bot_card_tester", FErrors, func(v float64) bool { return v > 0.7 }, "mostly 402"},
		{"bot_scanner", FNotFound, func(v float64) bool { return v > 0.7 }, "mostly 404"},
		{"bot_api", FPage, func(v float64) bool { return v == 0 }, "no page views"},
		{"bot_api", FStatic, func(v float64) bool { return v == 0 }, "no assets"},
		{"bot_mismatch", FMismatch, func(v float64) bool { return v == 1 }, "mismatched"},
		{"bot_imitator", FNoCookie, func(v float64) bool { return v < 0.1 }, "cookies kept"},
		{"human_new", FStatic, func(v float64) bool { return v > 0.5 }, "mostly assets"},
		{"human_new", FRate, func(v float64) bool { return v < 3 }, "under 3 requests a second"},
		{"human_new", FErrors, func(v float64) bool { return v < 0.05 }, "few errors"},
		{"human_new", FMismatch, func(v float64) bool { return v == 0 }, "matching"},
		{"human_cached", FStatic, func(v float64) bool { return v < human(FStatic) }, "fewer assets than human_new"},
		{"human_mobile", FRate, func(v float64) bool { return v < human(FRate) }, "slower than human_new"},
		{"human_skimmer", FRate, func(v float64) bool { return v > 2*human(FRate) }, "over twice human_new's pace"},
		{"human_skimmer", FMinGap, func(v float64) bool { return v < 0.01 }, "assets in bursts, milliseconds apart"},
		{"human_nat", FRequests, func(v float64) bool { return v > 2*human(FRequests) }, "more requests than one person"},
		{"human_challenged", FPassed, func(v float64) bool { return v == 1 }, "a challenge passed"},
		{"human_app", FPage, func(v float64) bool { return v == 0 }, "no page views"},
	} {
		got := medianOf(final[tc.persona], tc.feature)
		if !tc.check(got) {
			t.Errorf("%s: median %s %.4g, want %s", tc.persona, FeatureNames[tc.feature], got, tc.want)
		}
	}
}

func TestChallengedVisitors(t *testing.T) {
	sessions := Simulate(SimConfig{Seed: 4, Sessions: 2000})
	var seen int
	for _, s := range sessions {
		if s.Persona != "human_challenged" {
			continue
		}
		seen++
		// The first request is a page view the gateway answers with a
		// challenge; a person passes it and gets the page.
		ev := s.Events
		if ev[0].Kind != EventRequest || !ev[0].Request.Page || ev[0].Status != 0 || ev[1].Kind != EventChallengeIssued {
			t.Fatalf("session %d does not start with a challenged page view: %+v", s.ID, ev[:2])
		}
		if len(ev) > 2 && (ev[2].Kind != EventChallengePassed || ev[3].Kind != EventRequest || ev[3].Request.Path != ev[0].Request.Path ||
			ev[3].Status != 200 || !ev[3].Request.Cookie) {
			t.Fatalf("session %d: after the challenge %+v", s.ID, ev[2:4])
		}
	}
	if seen < 50 {
		t.Fatalf("only %d challenged sessions", seen)
	}
}

func BenchmarkSimulateSession(b *testing.B) {
	cfg := SimConfig{Seed: 1}
	for i := 0; b.Loop(); i++ {
		SimulateSession(cfg, i)
	}
}
