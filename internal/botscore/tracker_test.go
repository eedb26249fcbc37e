package botscore

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

// step is one request of a scripted client and the status it gets.
type step struct {
	after  time.Duration // since the previous request
	r      Request
	status int
}

func page(path string) Request { return Request{Path: path, Page: true, Referer: true, Cookie: true} }
func asset(path string) Request {
	return Request{Path: path, Static: true, Referer: true, Cookie: true}
}

// play feeds steps to a fresh tracker under one key and returns the
// features as of the last request.
func play(steps []step) Features {
	tr := NewTracker(1000)
	at := t0
	var f Features
	for _, s := range steps {
		at = at.Add(s.after)
		s.r.At = at
		var tk Ticket
		f, tk = tr.Observe("c", s.r)
		if s.status != 0 {
			tr.Answered(tk, s.status)
		}
	}
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 || math.IsNaN(a) && math.IsNaN(b) }

func TestFeatures(t *testing.T) {
	// A person: a page, its assets at once, a pause, another page and its
	// assets; then six seconds later a third page (judged bare only once
	// five seconds have passed, so not yet).
	person := []step{
		{0, page("/"), 200}, {50 * time.Millisecond, asset("/a.css"), 200}, {20 * time.Millisecond, asset("/b.js"), 200},
		{12 * time.Second, page("/p/1"), 200}, {80 * time.Millisecond, asset("/p1.jpg"), 200},
		{6 * time.Second, page("/p/2"), 404}, {100 * time.Millisecond, asset("/p2.jpg"), 0},
	}
	f := play(person)
	want := map[int]float64{
		FRequests: 7, FStatic: 4.0 / 7, FPage: 3.0 / 7, FBarePages: 0, FErrors: 1.0 / 6, FNotFound: 1.0 / 6,
		FNoReferer: 0, FNoCookie: 0, FPathDiversity: 1, FMinGap: 0.02, FMismatch: 0, FPost: 0,
		FRate: 7 / 18.25, FChallenges: 0, FPassed: 0,
	}
	for i, w := range want {
		if !near(f[i], w) {
			t.Errorf("person %s = %v, want %v", FeatureNames[i], f[i], w)
		}
	}

	// A scraper: pages only, one a second, no cookie, no referrer.
	var scraper []step
	for i := range 20 {
		scraper = append(scraper, step{time.Second, Request{Path: fmt.Sprintf("/p/%d", i), Page: true}, 200})
	}
	f = play(scraper)
	if f[FBarePages] != 1 || f[FNoCookie] != 1 || f[FNoReferer] != 1 || f[FPathDiversity] != 1 || f[FGapCV] != 0 || f[FRate] != 20.0/19 {
		t.Errorf("scraper %v", f)
	}

	// A flood: one path, 100 a second.
	var flood []step
	for range 100 {
		flood = append(flood, step{10 * time.Millisecond, Request{Path: "/"}, 200})
	}
	f = play(flood)
	if f[FRequests] != 100 || f[FPathDiversity] != 1.0/historyLen || f[FRate] != 64 || !math.IsNaN(f[FBarePages]) {
		t.Errorf("flood %v", f)
	}

	// Undefined features are NaN for a first request.
	f = play([]step{{0, Request{Path: "/"}, 0}})
	for _, i := range []int{FGapCV, FMinGap, FNoReferer, FNoCookie, FErrors, FNotFound, FBarePages} {
		if !math.IsNaN(f[i]) {
			t.Errorf("first request: %s = %v, want NaN", FeatureNames[i], f[i])
		}
	}
}

func TestTrackerChallengesAndAnswers(t *testing.T) {
	tr := NewTracker(1000)
	_, tk := tr.Observe("c", Request{At: t0, Path: "/login", Post: true})
	tr.Challenge("c", ChallengeIssued)
	tr.Challenge("c", ChallengeIssued)
	tr.Challenge("c", ChallengePassed)
	tr.Answered(tk, 401)
	f, _ := tr.Observe("c", Request{At: t0.Add(time.Second), Path: "/login", Post: true})
	if f[FChallenges] != 2 || f[FPassed] != 1 || f[FErrors] != 1 || f[FPost] != 1 {
		t.Errorf("%v", f)
	}
	// An answer to a request that left the history is ignored.
	for i := range historyLen {
		tr.Observe("c", Request{At: t0.Add(time.Duration(2+i) * time.Second), Path: "/"})
	}
	tr.Answered(tk, 500)
	tr.Answered(Ticket{key: "nobody", n: 1}, 500)
	f, _ = tr.Observe("c", Request{At: t0.Add(time.Hour), Path: "/"})
	if !math.IsNaN(f[FErrors]) {
		t.Errorf("an answer to a request that left the history counted: errors %v", f[FErrors])
	}
	// A client forgotten and seen again is not answered by an old ticket.
	small := NewTracker(1)
	_, old := small.Observe("a", Request{At: t0, Path: "/"})
	for i := range 200 { // enough new keys to evict "a" from its shard
		small.Observe(fmt.Sprint("k", i), Request{At: t0, Path: "/"})
	}
	small.Observe("a", Request{At: t0.Add(time.Second), Path: "/"})
	small.Answered(old, 404)
	if f, _ := small.Observe("a", Request{At: t0.Add(2 * time.Second), Path: "/"}); f[FRequests] != 2 || !math.IsNaN(f[FErrors]) {
		t.Errorf("after eviction: %v requests (want 2, a new client), errors %v (want none answered)", f[FRequests], f[FErrors])
	}
}

// An attacker with a million addresses does not grow the tracker past its
// bound, and clients seen lately survive the churn.
func TestTrackerBounded(t *testing.T) {
	tr := NewTracker(64 * 50)
	for i := range 200_000 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		tr.Observe(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), Request{At: at, Path: "/"})
		if i%1000 == 0 {
			tr.Observe("regular", Request{At: at, Path: "/"})
		}
	}
	if n := tr.Len(); n > 64*50 {
		t.Errorf("%d clients tracked, bound %d", n, 64*50)
	}
	f, _ := tr.Observe("regular", Request{At: t0.Add(200 * time.Second), Path: "/"})
	if f[FRequests] < 100 {
		t.Errorf("a client seen every second was forgotten: %v requests remembered", f[FRequests])
	}
}

func TestTrackerConcurrent(t *testing.T) {
	tr := NewTracker(1000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				_, tk := tr.Observe(fmt.Sprint("k", (g*7+i)%50), Request{At: t0.Add(time.Duration(i) * time.Millisecond), Path: "/x"})
				tr.Answered(tk, 200)
				if i%100 == 0 {
					tr.Challenge(fmt.Sprint("k", i%50), ChallengeIssued)
				}
			}
		})
	}
	wg.Wait()
	if tr.Len() != 50 {
		t.Errorf("%d clients, want 50", tr.Len())
	}
}

// countingScorer scores a client by its requests and counts its calls.
type countingScorer struct{ calls int }

func (s *countingScorer) Score(f Features) int {
	s.calls++
	return int(f[FRequests])
}

// A busy client is scored on each of its first requests, then at most
// once per maxAge, and again at once after a challenge.
func TestObserveScore(t *testing.T) {
	tr := NewTracker(10)
	sc := &countingScorer{}
	at := t0
	observe := func(gap time.Duration) (score, seen int) {
		at = at.Add(gap)
		score, seen, tk := tr.ObserveScore("c", Request{At: at, Path: "/p", Page: true}, sc, time.Second)
		tr.Answered(tk, 200)
		return score, seen
	}
	for i := 1; i <= alwaysScored; i++ {
		if score, seen := observe(time.Millisecond); score != i || seen != i {
			t.Fatalf("request %d: score %d, seen %d; want both %d", i, score, seen, i)
		}
	}
	for range 100 { // within the second: the last score
		if score, _ := observe(time.Millisecond); score != alwaysScored {
			t.Fatalf("a busy client within maxAge: score %d, want the cached %d", score, alwaysScored)
		}
	}
	if sc.calls != alwaysScored {
		t.Fatalf("model called %d times, want %d", sc.calls, alwaysScored)
	}
	if score, seen := observe(time.Second); score != seen || seen != alwaysScored+101 {
		t.Fatalf("after maxAge: score %d, seen %d; want a fresh score of %d", score, seen, alwaysScored+101)
	}
	tr.Challenge("c", ChallengeIssued)
	if score, seen := observe(time.Millisecond); score != seen {
		t.Fatalf("after a challenge: score %d, want a fresh score of %d", score, seen)
	}
	if score, _ := observe(time.Millisecond); score != alwaysScored+102 {
		t.Fatalf("then cached again: score %d, want %d", score, alwaysScored+102)
	}
}

func BenchmarkObserve(b *testing.B) {
	tr := NewTracker(100_000)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprint("192.0.2.", i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, tk := tr.Observe(keys[i%len(keys)], Request{At: t0.Add(time.Duration(i) * time.Millisecond), Path: "/p/1", Page: true})
		tr.Answered(tk, 200)
	}
}

// BenchmarkObserveScoreBusy is one busy client (a flood, a load test)
// through ObserveScore with the built-in model: scored once a second.
func BenchmarkObserveScoreBusy(b *testing.B) {
	benchmarkObserveScore(b, time.Second)
}

// BenchmarkObserveScoreEvery is the same client scored on every request.
func BenchmarkObserveScoreEvery(b *testing.B) {
	benchmarkObserveScore(b, 0)
}

func benchmarkObserveScore(b *testing.B, maxAge time.Duration) {
	tr := NewTracker(1000)
	m := DefaultModel()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, _, tk := tr.ObserveScore("192.0.2.1", Request{At: t0.Add(time.Duration(i) * 50 * time.Microsecond), Path: "/p/1", Page: true}, m, maxAge)
		tr.Answered(tk, 200)
	}
}
