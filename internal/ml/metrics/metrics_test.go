package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestKnownValues(t *testing.T) {
	// Values checked against scikit-learn 1.x (roc_auc_score, average_precision_score).
	tests := []struct {
		name    string
		scores  []float64
		labels  []bool
		auc, ap float64
	}{
		{"perfect", []float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false}, 1, 1},
		{"reversed", []float64{0.1, 0.2, 0.8, 0.9}, []bool{true, true, false, false}, 0, 5.0 / 12},
		{"sklearn doc example", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75, 0.8333333333333333},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false}, 0.5, 0.5},
		{"ties across classes", []float64{0.9, 0.5, 0.5, 0.1}, []bool{true, true, false, false}, 0.875, 0.8333333333333333},
	}
	for _, tc := range tests {
		auc, err := AUC(tc.scores, tc.labels)
		if err != nil || math.Abs(auc-tc.auc) > 1e-12 {
			t.Errorf("%s: AUC = %v, %v; want %v", tc.name, auc, err, tc.auc)
		}
		ap, err := AveragePrecision(tc.scores, tc.labels)
		if err != nil || math.Abs(ap-tc.ap) > 1e-12 {
			t.Errorf("%s: AP = %v, %v; want %v", tc.name, ap, err, tc.ap)
		}
	}
}

// randomScores returns n scores drawn from levels values (many ties) with
// about 30 % positive labels, at least one of each.
func randomScores(rng *rand.Rand, n, levels int) ([]float64, []bool) {
	s := make([]float64, n)
	l := make([]bool, n)
	for i := range s {
		s[i] = float64(rng.IntN(levels))
		l[i] = rng.Float64() < 0.3
	}
	l[0], l[1] = true, false
	return s, l
}

// TestAUCMatchesPairCount checks AUC against its definition on random data.
func TestAUCMatchesPairCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		s, l := randomScores(rng, 50+rng.IntN(100), 10)
		var num, den float64
		for i := range s {
			for j := range s {
				if l[i] && !l[j] {
					den++
					switch {
					case s[i] > s[j]:
						num++
					case s[i] == s[j]:
						num += 0.5
					}
				}
			}
		}
		got, _ := AUC(s, l)
		if math.Abs(got-num/den) > 1e-12 {
			t.Fatalf("AUC = %v, pair count gives %v", got, num/den)
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := AUC([]float64{1, 2}, []bool{true, true}); !errors.Is(err, ErrOneClass) {
		t.Errorf("one class: %v", err)
	}
	if _, err := AveragePrecision([]float64{1}, []bool{true, false}); !errors.Is(err, ErrLength) {
		t.Errorf("length: %v", err)
	}
	if ll, err := LogLoss([]float64{0.5, 0.5}, []bool{true, false}); err != nil || math.Abs(ll-math.Ln2) > 1e-12 {
		t.Errorf("LogLoss = %v, %v", ll, err)
	}
}
