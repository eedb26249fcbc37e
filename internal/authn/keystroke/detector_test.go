package keystroke

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
)

// crafted is testdata/user.json: a user's enrolment, later genuine entries
// and an impostor's entries, as the API receives them.
type crafted struct {
	Enrolment, Genuine, Impostor []struct {
		Hold   []float64 `json:"hold_ms"`
		Flight []float64 `json:"flight_ms"`
	}
}

// loadUser returns the features of testdata/user.json's three sets.
func loadUser(t *testing.T) (enrolment, genuine, impostor [][]float64) {
	t.Helper()
	data, err := os.ReadFile("testdata/user.json")
	if err != nil {
		t.Fatal(err)
	}
	var c crafted
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	features := func(set []struct {
		Hold   []float64 `json:"hold_ms"`
		Flight []float64 `json:"flight_ms"`
	}) [][]float64 {
		var out [][]float64
		for _, s := range set {
			v, err := NewVector(s.Hold, s.Flight)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v.Features())
		}
		return out
	}
	return features(c.Enrolment), features(c.Genuine), features(c.Impostor)
}

// detectors are the detectors every test runs.
func detectors() []struct {
	name string
	d    Detector
} {
	return []struct {
		name string
		d    Detector
	}{
		{"scaled-manhattan", ScaledManhattan{}},
		{"robust-manhattan", DefaultRobustManhattan()},
		{"robust-manhattan median", RobustManhattan{OutlierMADs: 3, Median: true, ScaleFloor: 0.05, Cap: 4}},
		{"nearest-neighbour", DefaultNearestNeighbour()},
		{"nearest-neighbour k1 no cap", NearestNeighbour{K: 1}},
	}
}

func mustScore(t *testing.T, tpl *Template, x []float64) float64 {
	t.Helper()
	s, err := tpl.Score(x)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		t.Fatalf("score %v, want finite and >= 0", s)
	}
	return s
}

// TestSeparatesCraftedUser: every detector scores every later genuine
// entry of the crafted user below every impostor entry.
func TestSeparatesCraftedUser(t *testing.T) {
	enrolment, genuine, impostor := loadUser(t)
	for _, tc := range detectors() {
		tpl, err := tc.d.Train(enrolment)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		worstGenuine, bestImpostor := 0.0, math.Inf(1)
		for _, x := range genuine {
			worstGenuine = max(worstGenuine, mustScore(t, tpl, x))
		}
		for _, x := range impostor {
			bestImpostor = min(bestImpostor, mustScore(t, tpl, x))
		}
		if worstGenuine >= bestImpostor {
			t.Errorf("%s: a genuine entry scores %.2f, an impostor's %.2f", tc.name, worstGenuine, bestImpostor)
		}
	}
}

// TestShiftRaisesScore: on synthetic enrolments, a sample drawn like the
// enrolment samples scores lower than the same sample shifted by a few
// scales, for each detector.
func TestShiftRaisesScore(t *testing.T) {
	base := []float64{100, 90, 300, 250, 200, 160}
	var enrolment [][]float64
	for i := range 20 {
		s := make([]float64, len(base))
		for j, b := range base {
			s[j] = b + float64((i*7+j*3)%11) - 5 // deterministic spread of ±5
		}
		enrolment = append(enrolment, s)
	}
	typical := []float64{101, 89, 302, 248, 199, 161}
	for _, shift := range []float64{15, -15, 40} {
		shifted := make([]float64, len(typical))
		for j, v := range typical {
			shifted[j] = v + shift
		}
		for _, tc := range detectors() {
			tpl, err := tc.d.Train(enrolment)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if a, b := mustScore(t, tpl, typical), mustScore(t, tpl, shifted); a >= b {
				t.Errorf("%s: typical sample scores %.2f, shifted by %g %.2f", tc.name, a, shift, b)
			}
		}
	}
}

// TestZeroVariance: a feature that never varied while enrolling gives
// finite scores; with a cap it adds at most the cap, and the scale floor
// keeps a small change of it from reaching the cap.
func TestZeroVariance(t *testing.T) {
	enrolment := [][]float64{{100, 50, 0}, {110, 50, 0}, {90, 50, 0}, {105, 50, 0}}
	for _, tc := range detectors() {
		tpl, err := tc.d.Train(enrolment)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, x := range [][]float64{{100, 50, 0}, {100, 51, 0}, {100, 50, 3}, {100, 1e300, -1e300}, {-1e308, 1e308, 1e308}} {
			mustScore(t, tpl, x)
		}
	}
	robust := DefaultRobustManhattan()
	tpl, err := robust.Train(enrolment)
	if err != nil {
		t.Fatal(err)
	}
	centre := mustScore(t, tpl, []float64{100, 50, 0})
	if far := mustScore(t, tpl, []float64{100, 1e6, 1e6}); far-centre > 2*robust.Cap+1e-9 {
		t.Errorf("two constant features far off add %.2f, want at most 2 caps (%g)", far-centre, 2*robust.Cap)
	}
	// 51 against 50: the floor (5% of 50 = 2.5) makes it 0.4, not 1e6.
	if near := mustScore(t, tpl, []float64{100, 51, 0}) - centre; math.Abs(near-0.4) > 1e-9 {
		t.Errorf("1 off a constant feature of 50 adds %.4f, want 0.4", near)
	}
}

// TestOutlierFilter: one wild enrolment value widens scaled Manhattan's
// scale but not the robust detector's.
func TestOutlierFilter(t *testing.T) {
	enrolment := [][]float64{{100}, {102}, {98}, {101}, {99}, {100}, {5000}}
	sm, err := ScaledManhattan{}.Train(enrolment)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := RobustManhattan{OutlierMADs: 3}.Train(enrolment)
	if err != nil {
		t.Fatal(err)
	}
	if rm.Centre[0] != 100 || rm.Scale[0] != 1 {
		t.Errorf("robust template: centre %g, scale %g, want 100 and 1 (the outlier dropped)", rm.Centre[0], rm.Scale[0])
	}
	if sm.Scale[0] < 1000 {
		t.Errorf("scaled Manhattan scale %g: the outlier should widen it", sm.Scale[0])
	}
	med, err := RobustManhattan{OutlierMADs: 3, Median: true}.Train(enrolment)
	if err != nil {
		t.Fatal(err)
	}
	if med.Centre[0] != 100 || med.Scale[0] != 1 {
		t.Errorf("median template: centre %g, scale %g, want 100 and 1", med.Centre[0], med.Scale[0])
	}
}

func TestTrainRejects(t *testing.T) {
	tests := []struct {
		name      string
		enrolment [][]float64
	}{
		{"no samples", nil},
		{"one sample", [][]float64{{1, 2}}},
		{"mismatched lengths", [][]float64{{1, 2}, {1, 2, 3}}},
		{"empty samples", [][]float64{{}, {}}},
		{"NaN", [][]float64{{1, 2}, {1, math.NaN()}}},
		{"infinity", [][]float64{{1, 2}, {math.Inf(1), 2}}},
		{"too many features", [][]float64{make([]float64, MaxFeatures+1), make([]float64, MaxFeatures+1)}},
		{"too many samples", make([][]float64, MaxEnrolment+1)},
	}
	for _, tc := range tests {
		for _, d := range detectors() {
			if _, err := d.d.Train(tc.enrolment); !errors.Is(err, ErrEnrolment) {
				t.Errorf("%s, %s: error %v, want ErrEnrolment", tc.name, d.name, err)
			}
		}
	}
	ok := [][]float64{{1, 2}, {2, 3}}
	for _, d := range []Detector{
		RobustManhattan{Cap: -1}, RobustManhattan{OutlierMADs: math.NaN()}, RobustManhattan{ScaleFloor: math.Inf(1)},
		NearestNeighbour{K: 0}, NearestNeighbour{K: MaxEnrolment + 1}, NearestNeighbour{K: 1, Cap: -2},
	} {
		if _, err := d.Train(ok); !errors.Is(err, ErrConfig) {
			t.Errorf("%v: error %v, want ErrConfig", d, err)
		}
	}
}

// TestTrainOverflow: finite values whose mean deviation overflows are
// rejected by the mean-based detectors; the median-based one copes.
func TestTrainOverflow(t *testing.T) {
	enrolment := [][]float64{{math.MaxFloat64}, {-math.MaxFloat64}}
	for _, d := range []Detector{ScaledManhattan{}, DefaultRobustManhattan(), DefaultNearestNeighbour()} {
		if _, err := d.Train(enrolment); !errors.Is(err, ErrEnrolment) {
			t.Errorf("%v: error %v, want ErrEnrolment", d, err)
		}
	}
	tpl, err := RobustManhattan{Median: true}.Train(enrolment)
	if err != nil {
		t.Fatal(err)
	}
	mustScore(t, tpl, []float64{math.MaxFloat64})
	mustScore(t, tpl, []float64{0})
}

func TestScoreRejects(t *testing.T) {
	for _, d := range detectors() {
		tpl, err := d.d.Train([][]float64{{1, 2}, {2, 3}, {3, 5}})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range [][]float64{nil, {1}, {1, 2, 3}, {1, math.NaN()}, {math.Inf(-1), 1}} {
			if s, err := tpl.Score(x); !errors.Is(err, ErrSample) {
				t.Errorf("%s: Score(%v) = %v, %v, want ErrSample", d.name, x, s, err)
			}
		}
	}
	var nilTemplate *Template
	if _, err := nilTemplate.Score([]float64{1}); !errors.Is(err, ErrTemplate) {
		t.Errorf("nil template: %v, want ErrTemplate", err)
	}
	if _, err := (&Template{Version: 1, Kind: KindManhattan, Centre: []float64{1}, Scale: []float64{0}}).Score([]float64{1}); !errors.Is(err, ErrTemplate) {
		t.Errorf("zero scale: %v, want ErrTemplate", err)
	}
}

// TestNearestNeighbourK: with K 1 a sample equal to an enrolment sample
// scores 0; K larger than the enrolment uses all samples.
func TestNearestNeighbourK(t *testing.T) {
	enrolment := [][]float64{{0, 0}, {10, 10}, {20, 20}}
	tpl, err := NearestNeighbour{K: 1}.Train(enrolment)
	if err != nil {
		t.Fatal(err)
	}
	if s := mustScore(t, tpl, []float64{10, 10}); s != 0 {
		t.Errorf("K 1, an enrolment sample: score %v, want 0", s)
	}
	all, err := NearestNeighbour{K: 10}.Train(enrolment)
	if err != nil {
		t.Fatal(err)
	}
	if all.K != 3 {
		t.Errorf("K 10 on 3 samples: template K %d, want 3", all.K)
	}
	// Scales: mean absolute deviation 20/3 per feature; distances from
	// (10, 10): 2*10/(20/3) = 3, 0, 3; mean 2.
	if s := mustScore(t, all, []float64{10, 10}); math.Abs(s-2) > 1e-12 {
		t.Errorf("K 3: score %v, want 2", s)
	}
}
