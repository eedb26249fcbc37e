package botscore

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/ml/gbdt"
)

// smallTrainConfig trains quickly: a few hundred sessions, few trees.
func smallTrainConfig(seed uint64) TrainConfig {
	cfg := DefaultTrainConfig()
	cfg.Sim = SimConfig{Seed: seed, Sessions: 500}
	cfg.Params.Trees, cfg.Params.Seed = 25, seed
	return cfg
}

func TestSplitOf(t *testing.T) {
	var n [3]int
	for id := range 100_000 {
		n[SplitOf(1, id)]++
	}
	for s, want := range []float64{0.7, 0.1, 0.2} {
		if got := float64(n[s]) / 100_000; math.Abs(got-want) > 0.01 {
			t.Errorf("split %s holds %.3f of the sessions, want %.2f", Split(s), got, want)
		}
	}
	differ := 0
	for id := range 1000 {
		if SplitOf(1, id) != SplitOf(2, id) {
			differ++
		}
	}
	if differ < 300 {
		t.Errorf("seeds 1 and 2 split only %d of 1000 sessions differently", differ)
	}
}

func TestSampledAndBuckets(t *testing.T) {
	var rows []int
	for i := range 200 {
		if Sampled(i) {
			rows = append(rows, i)
		}
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112, 116, 120, 124, 128, 144, 160, 176, 192}
	if !slices.Equal(rows, want) {
		t.Errorf("sampled %v\nwant    %v", rows, want)
	}
	if !TrainingRow(5, true) || TrainingRow(9, true) || !TrainingRow(9, false) {
		t.Error("TrainingRow: bots' rows are sampled, people's all kept")
	}
	for _, tc := range []struct{ i, want int }{{0, 0}, {7, 7}, {8, 9}, {15, 9}, {16, 10}, {63, 11}, {64, 12}, {1000, 13}, {1 << 20, 13}} {
		if got := positionBucket(tc.i); got != tc.want {
			t.Errorf("positionBucket(%d) = %d, want %d", tc.i, got, tc.want)
		}
	}
}

func TestBalance(t *testing.T) {
	// Bucket 0: 1 bot, 3 people; bucket 12 (64-127): 4 bots, no person.
	d := &gbdt.Dataset{Y: []bool{true, false, false, false, true, true, true, true}}
	balance(d, []int{0, 0, 0, 0, 64, 70, 100, 127})
	want := []float64{2, 2.0 / 3, 2.0 / 3, 2.0 / 3, 1, 1, 1, 1}
	for i := range want {
		if math.Abs(d.Weight[i]-want[i]) > 1e-12 {
			t.Fatalf("weights %v, want %v", d.Weight, want)
		}
	}
}

func TestModelInputCapsRequests(t *testing.T) {
	var f Features
	f[FRequests], f[FRate] = 5000, 3
	if g := ModelInput(f); g[FRequests] != historyLen || g[FRate] != 3 {
		t.Errorf("ModelInput = %v", g)
	}
}

func TestTrainIsReproducible(t *testing.T) {
	var files [][]byte
	for _, threads := range []int{1, 2, 1} {
		cfg := smallTrainConfig(3)
		cfg.Params.Threads = threads
		m, rep, err := Train(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.TrainRows == 0 || rep.ValidRows == 0 || rep.Trees == 0 || rep.Sessions[SplitTest] != 0 {
			t.Fatalf("report %+v", rep)
		}
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	for i := 1; i < len(files); i++ {
		if !bytes.Equal(files[0], files[i]) {
			t.Fatalf("run %d made another model file (%d bytes against %d)", i, len(files[i]), len(files[0]))
		}
	}
	cfg := smallTrainConfig(4)
	m, _, err := Train(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := m.MarshalBinary(); bytes.Equal(b, files[0]) {
		t.Error("another seed made the same model")
	}
}

func TestModelRoundTrip(t *testing.T) {
	m, _, err := Train(context.Background(), smallTrainConfig(5))
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := LoadModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Version() != m.Version() || m.Version() != modelVersion(b) || len(m.Version()) != len("botscore-")+12 {
		t.Errorf("versions %q and %q", m.Version(), m2.Version())
	}
	tr := NewTracker(1000)
	n := 0
	for _, s := range Simulate(SimConfig{Seed: 6, Sessions: 40}) {
		Replay(tr, &s, func(_ int, f Features) {
			if a, b := m.Score(f), m2.Score(f); a != b || a < 0 || a > 100 {
				t.Fatalf("scores %d and %d for %v", a, b, f)
			}
			n++
		})
	}
	if n < 1000 {
		t.Fatalf("only %d requests scored", n)
	}
}

func TestLoadModelRefuses(t *testing.T) {
	other := &gbdt.Dataset{Features: []string{"a", "b"}}
	for i := range 40 {
		other.X = append(other.X, float64(i), float64(i%3))
		other.Y = append(other.Y, i%2 == 0)
	}
	om, err := gbdt.Train(context.Background(), gbdt.Params{Trees: 2, MinDataInLeaf: 1}, other, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherFile, _ := om.MarshalBinary()
	good := defaultModelFile
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"other features", otherFile},
		{"truncated", good[:len(good)/2]},
		{"flipped byte", append(slices.Clone(good[:100]), append([]byte{good[100] ^ 1}, good[101:]...)...)},
	} {
		if _, err := LoadModel(tc.data); !errors.Is(err, ErrModel) {
			t.Errorf("%s: got %v, want ErrModel", tc.name, err)
		}
	}
}

// session builds a hand-written request sequence.
type session struct {
	now time.Time
	ev  []Event
}

func (s *session) req(afterSec float64, r Request, status int) {
	s.now = s.now.Add(time.Duration(afterSec * float64(time.Second)))
	r.At = s.now
	s.ev = append(s.ev, Event{Request: r, Status: status})
}

// page is a browser's page view with n assets in the next moments.
func (s *session) page(afterSec float64, path string, referer, cookie bool, n int) {
	s.req(afterSec, Request{Path: path, Page: true, Referer: referer, Cookie: cookie}, 200)
	for i := range n {
		s.req(0.08+0.02*float64(i%4), Request{Path: fmt.Sprintf("%s/asset%d.webp", path, i), Static: true, Referer: true, Cookie: true}, 200)
	}
}

// scores replays a hand-written session and returns the score of each
// request.
func scores(m Scorer, ev []Event) []int {
	var out []int
	s := Session{Key: "192.0.2.1", Events: ev}
	Replay(NewTracker(64), &s, func(_ int, f Features) { out = append(out, m.Score(f)) })
	return out
}

// TestDefaultModel checks the built-in model on hand-written sessions:
// a flood and a scraper score high within a few requests, a typical
// shopper stays low throughout.
func TestDefaultModel(t *testing.T) {
	m := DefaultModel()
	if m.Version() != modelVersion(defaultModelFile) || m.Trees() < 50 {
		t.Fatalf("built-in model %s, %d trees", m.Version(), m.Trees())
	}
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

	flood := &session{now: start}
	for range 100 {
		flood.req(0.05, Request{Path: "/", Page: true}, 200) // 20 a second, no assets, no cookie
	}
	fs := scores(m, flood.ev)
	if got := slices.Min(fs[9:]); got < 90 {
		t.Errorf("flood: lowest score from the 10th request on %d, want >= 90 (scores %v)", got, fs)
	}

	scraper := &session{now: start}
	for i := range 60 {
		scraper.req(1.5, Request{Path: fmt.Sprintf("/p/%d", 1000+i), Page: true}, 200)
	}
	ss := scores(m, scraper.ev)
	if got := slices.Min(ss[9:]); got < 90 {
		t.Errorf("scraper: lowest score from the 10th request on %d, want >= 90 (scores %v)", got, ss)
	}

	shopper := &session{now: start}
	shopper.page(0, "/", true, false, 14) // from a search engine
	shopper.page(22, "/c/3", true, true, 16)
	shopper.page(41, "/p/2991", true, true, 7)
	shopper.req(35, Request{Path: "/cart/add", Post: true, Referer: true, Cookie: true}, 200)
	shopper.page(12, "/p/2995", true, true, 6)
	shopper.page(48, "/cart", true, true, 2)
	shopper.page(30, "/checkout", true, true, 2)
	shopper.req(95, Request{Path: "/checkout/pay", Post: true, Referer: true, Cookie: true}, 303)
	shopper.page(0.5, "/order/1", true, true, 1)
	hs := scores(m, shopper.ev)
	if got := slices.Max(hs); got >= 30 {
		t.Errorf("shopper: highest score %d, want < 30 (scores %v)", got, hs)
	}
	t.Logf("flood: %v\nscraper: %v\nshopper: %v", fs[:12], ss[:12], hs)
}

// TestDefaultModelIsReproducible retrains the built-in model with its
// settings and compares the files byte for byte: it fails when the
// simulator, the tracker or the training changed without 'shopguard train
// traffic --out internal/botscore/model.gbdt'. It takes half a minute on
// two cores, so it runs only with SHOPGUARD_TEST_DEFAULT_MODEL=1.
func TestDefaultModelIsReproducible(t *testing.T) {
	if os.Getenv("SHOPGUARD_TEST_DEFAULT_MODEL") != "1" {
		t.Skip("set SHOPGUARD_TEST_DEFAULT_MODEL=1 to retrain the built-in model (30 s)")
	}
	m, _, err := Train(context.Background(), DefaultTrainConfig())
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, defaultModelFile) {
		t.Fatalf("the default settings train %s (%d bytes), the built-in model is %s (%d bytes)", m.Version(), len(b), modelVersion(defaultModelFile), len(defaultModelFile))
	}
}

func TestScoreDoesNotAllocate(t *testing.T) {
	m := DefaultModel()
	var f Features
	for i := range f {
		f[i] = math.NaN()
	}
	f[FRequests], f[FRate] = 1, 1
	if n := testing.AllocsPerRun(100, func() { m.Score(f) }); n != 0 {
		t.Errorf("Score allocates %v times", n)
	}
}

// constant scores every client alike.
type constant int

func (c constant) Score(Features) int { return int(c) }

func TestEvaluateMeasures(t *testing.T) {
	ev, err := Evaluate(context.Background(), EvalConfig{Sim: SimConfig{Seed: 2, Sessions: 600},
		Scorers: []NamedScorer{{"none", constant(0)}, {"all", constant(100)}, {"rule", RuleBaseline{MaxRate: 30, MaxBarePages: 0.9}}}})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Sessions != ev.HumanSessions+ev.BotSessions || ev.Sessions < 90 || ev.Rows == 0 || ev.Requests < ev.Rows {
		t.Fatalf("counts %+v", ev)
	}
	none, all, rule := ev.Results[0], ev.Results[1], ev.Results[2]
	for i, th := range ev.Thresholds {
		if n := none.At[i]; n.HumanFPR != 0 || n.BotRecall != 0 || !math.IsNaN(n.MedianCatch) || n.Recall != 0 {
			t.Errorf("none@%d: %+v", th, n)
		}
		a := all.At[i]
		if a.HumanFPR != 1 || a.BotRecall != 1 || a.MedianCatch != 1 || a.Recall != 1 {
			t.Errorf("all@%d: %+v", th, a)
		}
		sessions := 0
		for _, p := range a.Personas {
			sessions += p.Sessions
			if p.Sessions > 0 && p.Flagged != p.Sessions {
				t.Errorf("all@%d: persona %s %d of %d flagged", th, p.Persona, p.Flagged, p.Sessions)
			}
		}
		if sessions != ev.Sessions {
			t.Errorf("personas hold %d sessions of %d", sessions, ev.Sessions)
		}
	}
	if none.AUC != 0.5 || all.AUC != 0.5 {
		t.Errorf("constant scores: AUC %v and %v, want 0.5", none.AUC, all.AUC)
	}
	if r := rule.At[0]; r.HumanFPR <= 0 || r.HumanFPR >= 1 || r.BotRecall <= r.HumanFPR {
		t.Errorf("rule: people flagged %v, bots caught %v", r.HumanFPR, r.BotRecall)
	}
}

func TestTuneRule(t *testing.T) {
	r, err := TuneRule(context.Background(), SimConfig{Seed: 2, Sessions: 400})
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRate < 1 || r.MaxRate > 80 || r.MaxBarePages < 0.3 {
		t.Errorf("tuned %s, outside the grid", r)
	}
	var f Features
	f[FRate], f[FBarePages] = r.MaxRate+1, math.NaN()
	if r.Score(f) != 100 {
		t.Errorf("%s: rate %v does not fire", r, f[FRate])
	}
	f[FRate] = 0
	if r.Score(f) != 0 {
		t.Errorf("%s: fires without a reason", r)
	}
}

// TestExportSplitsSessions reads the exported CSV back: every session is
// in one split only, the train and valid rows are Train's, and every test
// request is there.
func TestExportSplitsSessions(t *testing.T) {
	sim := SimConfig{Seed: 9, Sessions: 400}
	var buf bytes.Buffer
	ev, err := Evaluate(context.Background(), EvalConfig{Sim: sim, Scorers: []NamedScorer{{"rule", RuleBaseline{MaxRate: 5, MaxBarePages: 0.8}}}, Export: &buf})
	if err != nil {
		t.Fatal(err)
	}
	_, rep, err := Train(context.Background(), TrainConfig{Sim: sim, Params: smallTrainConfig(9).Params})
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&buf)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{"split", "session", "persona", "label", "request", "sampled"}, FeatureNames[:]...), "score_rule")
	if !slices.Equal(head, want) {
		t.Fatalf("header %q, want %q", head, want)
	}
	splitOf := map[string]string{}
	rows := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := splitOf[rec[1]]; ok && s != rec[0] {
			t.Fatalf("session %s in splits %s and %s", rec[1], s, rec[0])
		}
		splitOf[rec[1]] = rec[0]
		rows[rec[0]]++
		id, _ := strconv.Atoi(rec[1])
		if got := SplitOf(sim.Seed, id).String(); got != rec[0] {
			t.Fatalf("session %d exported as %s, is %s", id, rec[0], got)
		}
	}
	if rows["train"] != rep.TrainRows || rows["valid"] != rep.ValidRows || rows["test"] != ev.Requests {
		t.Errorf("exported rows %v; Train used %d and %d, Evaluate scored %d requests", rows, rep.TrainRows, rep.ValidRows, ev.Requests)
	}
}

// tinyModelFile returns a small model file of the tracker's features.
func tinyModelFile(tb testing.TB) []byte {
	d := &gbdt.Dataset{Features: FeatureNames[:]}
	for i := range 60 {
		var f Features
		f[FRate], f[FBarePages] = float64(i%7), math.NaN()
		d.X = append(d.X, f[:]...)
		d.Y = append(d.Y, i%7 > 3)
	}
	m, err := gbdt.Train(context.Background(), gbdt.Params{Trees: 3, MaxLeaves: 4, MinDataInLeaf: 5}, d, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func FuzzLoadModel(f *testing.F) {
	tiny := tinyModelFile(f)
	if _, err := LoadModel(tiny); err != nil {
		f.Fatal(err)
	}
	f.Add(tiny)
	f.Add(tiny[:64])
	f.Add(defaultModelFile[:200])
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadModel(data)
		if err != nil {
			if !errors.Is(err, ErrModel) {
				t.Fatalf("error %v does not wrap ErrModel", err)
			}
			return
		}
		var x Features
		for i := range x {
			x[i] = math.NaN()
		}
		if s := m.Score(x); s < 0 || s > 100 {
			t.Fatalf("score %d", s)
		}
	})
}

func BenchmarkScore(b *testing.B) {
	m := DefaultModel()
	tr := NewTracker(64)
	s := SimulateSession(SimConfig{Seed: 1}, 0)
	var rows []Features
	Replay(tr, &s, func(_ int, f Features) { rows = append(rows, f) })
	for i := 0; b.Loop(); i++ {
		m.Score(rows[i%len(rows)])
	}
}
