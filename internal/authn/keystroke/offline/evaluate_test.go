package offline

import (
	"errors"
	"math"
	"os"
	"testing"

	"github.com/shopguard/shopguard/internal/authn/keystroke"
)

func TestProtocolValidation(t *testing.T) {
	v, err := KillourhyMaxion(25).Validation()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Protocol{Train: 15, Genuine: 10, ImpostorFrom: 5, Impostors: 5}); v != want {
		t.Errorf("validation of 25: %+v, want %+v", v, want)
	}
	// The validation protocol never reaches past the enrolment repetitions
	// nor into the impostor test repetitions.
	for train := 10; train <= 50; train++ {
		v, err := KillourhyMaxion(train).Validation()
		if err != nil {
			t.Fatalf("train %d: %v", train, err)
		}
		if v.Train+v.Genuine > train || v.ImpostorFrom+v.Impostors > train || v.ImpostorFrom < 5 {
			t.Errorf("train %d: validation %+v leaves the enrolment repetitions", train, v)
		}
	}
	if _, err := KillourhyMaxion(9).Validation(); !errors.Is(err, ErrProtocol) {
		t.Errorf("train 9: %v, want ErrProtocol", err)
	}
}

func TestEvaluateRejects(t *testing.T) {
	subjects, err := LoadDir("testdata/small")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		subjects []Subject
		p        Protocol
	}{
		{"one subject", subjects[:1], KillourhyMaxion(6)},
		{"enrolment of 1", subjects, KillourhyMaxion(1)},
		{"no genuine test left", subjects, KillourhyMaxion(12)},
		{"impostor repetitions beyond the data", subjects, Protocol{Train: 6, ImpostorFrom: 10, Impostors: 5}},
		{"no impostors", subjects, Protocol{Train: 6}},
		{"negative genuine", subjects, Protocol{Train: 6, Genuine: -1, Impostors: 5}},
	} {
		if _, err := Evaluate(tc.subjects, tc.p, Timing, keystroke.ScaledManhattan{}); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v, want ErrProtocol", tc.name, err)
		}
	}
}

// TestEvaluateSmall runs every reported detector on three crafted subjects
// of clearly different rhythms: the results have the protocol's shape and
// low error rates.
func TestEvaluateSmall(t *testing.T) {
	subjects, err := LoadDir("testdata/small")
	if err != nil {
		t.Fatal(err)
	}
	p := KillourhyMaxion(6) // genuine 6, impostors 2 x 5 per subject
	rows, err := Run(subjects, p, []FeatureSet{Timing, AllFeatures}, Detectors())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*len(Detectors()) {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		if len(r.EER) != 3 || len(r.Scores) != 3*(6+10) || len(r.Impostor) != len(r.Scores) {
			t.Errorf("%s %s: %d EERs, %d scores, %d labels", r.Name, r.Features, len(r.EER), len(r.Scores), len(r.Impostor))
		}
		if r.Mean > 0.1 || r.Pooled > 0.2 || math.IsNaN(r.SD) {
			t.Errorf("%s %s: mean EER %.3f (sd %.3f), pooled %.3f; the crafted subjects are far apart", r.Name, r.Features, r.Mean, r.SD, r.Pooled)
		}
	}
}

func TestCompareAndBest(t *testing.T) {
	base := Result{EER: []float64{0.1, 0.2, 0.3}, Mean: 0.2}
	r := Result{EER: []float64{0.05, 0.2, 0.35}, Mean: 0.2}
	if c := Compare(r, base); c != (Comparison{Ratio: 1, Better: 1, Worse: 1}) {
		t.Errorf("Compare = %+v", c)
	}
	if c := Compare(Result{Mean: 0.1}, Result{}); !math.IsInf(c.Ratio, 1) {
		t.Errorf("against a zero baseline: ratio %v, want +Inf", c.Ratio)
	}
	if c := Compare(Result{}, Result{}); c.Ratio != 1 {
		t.Errorf("both zero: ratio %v, want 1", c.Ratio)
	}
	if m, sd := meanSD([]float64{0.1, 0.3}); math.Abs(m-0.2) > 1e-12 || math.Abs(sd-math.Sqrt(0.02)) > 1e-12 {
		t.Errorf("meanSD = %v, %v", m, sd)
	}
	rows := []Row{
		{Candidate{Name: "a"}, AllFeatures, Result{Mean: 0.1}},
		{Candidate{Name: "b"}, Timing, Result{Mean: 0.3}},
		{Candidate{Name: "c"}, Timing, Result{Mean: 0.2}},
	}
	best := Best(rows)
	if best[0].Name != "c" || best[1].Name != "b" || best[2].Name != "a" || rows[0].Name != "a" {
		t.Errorf("Best order %s %s %s", best[0].Name, best[1].Name, best[2].Name)
	}
	grid := map[string]bool{}
	for _, c := range Grid() {
		grid[c.Name] = true
	}
	for _, d := range Detectors() {
		if name := d.Detector.(interface{ String() string }).String(); !grid[name] {
			t.Errorf("reported detector %s (%s) is not in the validation grid", d.Name, name)
		}
	}
}

// defaultMobileData is where the mobile data set lives beside the project
// (see the data README); SHOPGUARD_KEYSTROKE_DATA overrides it.
const defaultMobileData = "/work/shared/data/keystroke/mobile-tie5Roanl-56subjects/data"

// TestMobileDataSet runs the evaluation on the real 56-subject mobile data
// set when it is present and checks the baseline lands where scaled
// Manhattan should (an EER of 3-30%) and that the robust detector meets
// the target (at most 0.8 times the baseline on timing features).
func TestMobileDataSet(t *testing.T) {
	dir := os.Getenv("SHOPGUARD_KEYSTROKE_DATA")
	if dir == "" {
		dir = defaultMobileData
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("mobile keystroke data not found (%v): set SHOPGUARD_KEYSTROKE_DATA to the directory of the "+
			"mobile-tie5Roanl-56subjects CSV files (see docs/keystroke-eval.md) to run this evaluation", err)
	}
	subjects, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 56 {
		t.Fatalf("%d subjects, want 56", len(subjects))
	}
	for _, s := range subjects {
		if len(s.Repetitions) != 51 {
			t.Fatalf("subject %s: %d repetitions, want 51", s.Name, len(s.Repetitions))
		}
	}
	p := KillourhyMaxion(25)
	baseline, err := Evaluate(subjects, p, Timing, keystroke.ScaledManhattan{})
	if err != nil {
		t.Fatal(err)
	}
	robust, err := Evaluate(subjects, p, Timing, keystroke.DefaultRobustManhattan())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{baseline, robust} {
		for i, e := range r.EER {
			if !(e >= 0 && e <= 1) {
				t.Fatalf("subject %d: EER %v", i, e)
			}
		}
	}
	t.Logf("timing features: scaled Manhattan %.2f%% (sd %.2f%%), robust %.2f%% (sd %.2f%%), ratio %.2f",
		100*baseline.Mean, 100*baseline.SD, 100*robust.Mean, 100*robust.SD, robust.Mean/baseline.Mean)
	if baseline.Mean < 0.03 || baseline.Mean > 0.30 {
		t.Errorf("scaled Manhattan mean EER %.2f%%, want 3-30%%", 100*baseline.Mean)
	}
	if c := Compare(robust, baseline); c.Ratio > 0.8 {
		t.Errorf("robust Manhattan mean EER %.2f%% is %.2f times the baseline's, want at most 0.8", 100*robust.Mean, c.Ratio)
	}
}
