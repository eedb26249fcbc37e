package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestEER(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		want   float64
	}{
		{"perfect", []float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false}, 0},
		{"reversed", []float64{0.1, 0.2, 0.8, 0.9}, []bool{true, true, false, false}, 1},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false}, 0.5},
		// Negatives 1, 2, 3; positives 2.5, 4, 5: at threshold 3 one
		// negative of three is flagged and one positive of three missed.
		{"crossing at a threshold", []float64{1, 2, 3, 2.5, 4, 5}, []bool{false, false, false, true, true, true}, 1.0 / 3},
		// Negatives 1, 2; positives 2, 3: the tie at 2 is one step from
		// (FPR 0, FNR 0.5) to (0.5, 0); the rates meet half way, at 0.25.
		{"crossing inside a tie", []float64{1, 2, 2, 3}, []bool{false, false, true, true}, 0.25},
		// Negatives 0, 1, 2, 3; positives 2.5, 10: at threshold 3 the
		// FPR is 1/4 and the FNR 1/2; at 2.5 the FPR is still 1/4 and the
		// FNR 0, so the rates meet at 1/4.
		{"unequal classes", []float64{0, 1, 2, 3, 2.5, 10}, []bool{false, false, false, false, true, true}, 0.25},
		// Negatives 1..5, positive 3.5: at 4 the FPR is 2/5 and the FNR 1;
		// at 3.5 the FPR is 2/5 and the FNR 0: they meet at 2/5.
		{"one positive", []float64{1, 2, 3, 4, 5, 3.5}, []bool{false, false, false, false, false, true}, 0.4},
	}
	for _, tc := range tests {
		got, err := EER(tc.scores, tc.labels)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: EER = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEERErrors(t *testing.T) {
	if _, err := EER(nil, nil); !errors.Is(err, ErrLength) {
		t.Errorf("empty: %v, want ErrLength", err)
	}
	if _, err := EER([]float64{1, 2}, []bool{true}); !errors.Is(err, ErrLength) {
		t.Errorf("mismatched: %v, want ErrLength", err)
	}
	if _, err := EER([]float64{1, 2}, []bool{true, true}); !errors.Is(err, ErrOneClass) {
		t.Errorf("one class: %v, want ErrOneClass", err)
	}
	if _, err := EER([]float64{1, math.NaN()}, []bool{true, false}); err == nil {
		t.Error("NaN score accepted")
	}
	if got := EERFromROC(nil); got != 1 {
		t.Errorf("EERFromROC(nil) = %v, want 1", got)
	}
}

// TestEERProperties checks, on random scores, that the EER is at most the
// larger of FPR and FNR at any threshold, that
// it does not change when the scores are transformed monotonically, and
// that swapping the classes while negating the scores keeps it.
func TestEERProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 200 {
		n := 2 + rng.IntN(40)
		scores := make([]float64, n)
		labels := make([]bool, n)
		for i := range scores {
			labels[i] = i%2 == 0 || rng.IntN(3) == 0
			scores[i] = float64(rng.IntN(12)) // ties on purpose
			if labels[i] {
				scores[i] += float64(rng.IntN(6))
			}
		}
		labels[1] = false
		eer, err := EER(scores, labels)
		if err != nil {
			t.Fatal(err)
		}
		// Brute force: at every threshold (flag score >= th) the larger
		// of FPR and FNR is at least the EER.
		var pos, neg float64
		for _, l := range labels {
			if l {
				pos++
			} else {
				neg++
			}
		}
		best := math.Inf(1)
		for _, th := range append(scores, math.Inf(1)) {
			var fp, fn float64
			for i, s := range scores {
				if s >= th && !labels[i] {
					fp++
				}
				if s < th && labels[i] {
					fn++
				}
			}
			best = min(best, max(fp/neg, fn/pos))
		}
		if eer > best+1e-12 {
			t.Errorf("trial %d: EER %v above the best max(FPR, FNR) %v of any threshold", trial, eer, best)
		}
		exp := make([]float64, n)
		neg2 := make([]float64, n)
		flip := make([]bool, n)
		for i, s := range scores {
			exp[i] = math.Exp(s / 3)
			neg2[i] = -s
			flip[i] = !labels[i]
		}
		if e2, _ := EER(exp, labels); math.Abs(e2-eer) > 1e-12 {
			t.Errorf("trial %d: EER %v after a monotone transform, %v before", trial, e2, eer)
		}
		if e3, _ := EER(neg2, flip); math.Abs(e3-eer) > 1e-12 {
			t.Errorf("trial %d: EER %v with classes swapped and scores negated, %v before", trial, e3, eer)
		}
	}
}
