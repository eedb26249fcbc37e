package gbdt

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/metrics"
)

// synth makes a dataset with a known structure: the label depends on an
// interaction (XOR of the signs of f0 and f1), f2 is noise, f3 is missing
// for 30% of rows and being missing itself raises the chance of a positive.
func synth(n int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := &Dataset{Features: []string{"f0", "f1", "noise", "sometimes_missing"}}
	for range n {
		a, b := rng.NormFloat64(), rng.NormFloat64()
		c := rng.NormFloat64()
		m := rng.NormFloat64()
		logit := -1.0
		if (a > 0) != (b > 0) {
			logit += 3
		}
		if rng.Float64() < 0.3 {
			m = math.NaN()
			logit += 1.5
		}
		d.X = append(d.X, a, b, c, m)
		d.Y = append(d.Y, rng.Float64() < sigmoid(logit))
	}
	return d
}

func auc(t *testing.T, m *Model, d *Dataset) float64 {
	t.Helper()
	nf := len(d.Features)
	s := make([]float64, d.Rows())
	for r := range s {
		s[r] = m.Raw(d.X[r*nf : (r+1)*nf])
	}
	a, err := metrics.AUC(s, d.Y)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bayesAUC is the AUC of the true probabilities: the best any model can do.
func bayesAUC(t *testing.T, d *Dataset) float64 {
	nf := len(d.Features)
	s := make([]float64, d.Rows())
	for r := range s {
		x := d.X[r*nf : (r+1)*nf]
		logit := -1.0
		if (x[0] > 0) != (x[1] > 0) {
			logit += 3
		}
		if math.IsNaN(x[3]) {
			logit += 1.5
		}
		s[r] = logit
	}
	a, _ := metrics.AUC(s, d.Y)
	return a
}

func TestLearnsInteractionAndMissingValues(t *testing.T) {
	train, valid, test := synth(20000, 1), synth(5000, 2), synth(10000, 3)
	m, err := Train(context.Background(), Params{Trees: 200, EarlyStopping: 20}, train, valid, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, best := auc(t, m, test), bayesAUC(t, test)
	t.Logf("test AUC %.4f, Bayes %.4f, %d trees", got, best, len(m.Trees))
	if got < best-0.01 {
		t.Errorf("test AUC %.4f is more than 0.01 below the best possible %.4f", got, best)
	}
	// The interaction alone: a model must separate the XOR quadrants.
	quad := func(a, b float64) float64 { return m.Probability([]float64{a, b, 0, 0}) }
	if !(quad(1, -1) > quad(1, 1)+0.3 && quad(-1, 1) > quad(-1, -1)+0.3) {
		t.Errorf("the XOR interaction was not learned: p(+,-)=%.2f p(+,+)=%.2f p(-,+)=%.2f p(-,-)=%.2f",
			quad(1, -1), quad(1, 1), quad(-1, 1), quad(-1, -1))
	}
	// Missing values learned a direction: missing raises the score.
	with := m.Probability([]float64{1, 1, 0, 0.5})
	without := m.Probability([]float64{1, 1, 0, math.NaN()})
	if !(without > with+0.1) {
		t.Errorf("missing f3 gives %.3f, present %.3f; want missing clearly higher", without, with)
	}
	// Calibrated probabilities: the mean prediction matches the base rate.
	nf := len(test.Features)
	var sumP, pos float64
	for r := range test.Rows() {
		sumP += m.Probability(test.X[r*nf : (r+1)*nf])
		if test.Y[r] {
			pos++
		}
	}
	if rate, mean := pos/float64(test.Rows()), sumP/float64(test.Rows()); math.Abs(rate-mean) > 0.02 {
		t.Errorf("mean probability %.3f, positive rate %.3f", mean, rate)
	}
}

func TestStopsEarly(t *testing.T) {
	// Pure noise: validation loss stops improving almost at once.
	rng := rand.New(rand.NewPCG(5, 5))
	mk := func(n int) *Dataset {
		d := &Dataset{Features: []string{"a", "b"}}
		for range n {
			d.X = append(d.X, rng.NormFloat64(), rng.NormFloat64())
			d.Y = append(d.Y, rng.Float64() < 0.3)
		}
		return d
	}
	var trained int
	m, err := Train(context.Background(), Params{Trees: 500, EarlyStopping: 10, LearningRate: 0.3}, mk(5000), mk(2000),
		func(p Progress) { trained = p.Tree })
	if err != nil {
		t.Fatal(err)
	}
	if trained >= 100 || len(m.Trees) > trained-10 {
		t.Errorf("trained %d trees and kept %d on noise; want an early stop keeping the best", trained, len(m.Trees))
	}
}

func TestDeterministic(t *testing.T) {
	train, valid := synth(8000, 11), synth(2000, 12)
	p := Params{Trees: 40, Subsample: 0.7, ColSample: 0.75, Seed: 42, Threads: 2}
	a, err := Train(context.Background(), p, train, valid, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Threads = 1
	b, err := Train(context.Background(), p, train, valid, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{0.3, -0.2, 1, math.NaN()}
	if a.Raw(x) != b.Raw(x) || len(a.Trees) != len(b.Trees) {
		t.Errorf("same seed, different models: %v vs %v", a.Raw(x), b.Raw(x))
	}
	p.Seed = 43
	c, _ := Train(context.Background(), p, train, valid, nil)
	if c.Raw(x) == a.Raw(x) {
		t.Error("another seed gave the same model")
	}
}

func TestRefusesBadInput(t *testing.T) {
	few := &Dataset{Features: []string{"a"}}
	for i := range 100 {
		few.X = append(few.X, float64(i))
		few.Y = append(few.Y, i < 3)
	}
	if _, err := Train(context.Background(), Params{}, few, nil, nil); !errors.Is(err, ErrTooFewPositives) {
		t.Errorf("3 positives: %v, want ErrTooFewPositives", err)
	}
	bad := &Dataset{Features: []string{"a", "b"}, X: []float64{1, 2, 3}, Y: []bool{true, false}}
	if _, err := Train(context.Background(), Params{}, bad, nil, nil); err == nil {
		t.Error("ragged dataset accepted")
	}
	inf := &Dataset{Features: []string{"a"}, X: []float64{math.Inf(1)}, Y: []bool{true}}
	if err := inf.Validate(); err == nil {
		t.Error("infinite value accepted")
	}
	if err := (Params{Trees: 10, LearningRate: 2, MaxLeaves: 31, MinDataInLeaf: 1, Subsample: 1, ColSample: 1, Bins: 255}).Validate(); err == nil {
		t.Error("learning rate 2 accepted")
	}
}
