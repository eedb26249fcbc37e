package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestCompiledMatchesWalk checks the compiled layout against walking the
// trees node by node, on rows with missing values (both missing
// directions occur in synth's models), infinities and values equal to
// split thresholds.
func TestCompiledMatchesWalk(t *testing.T) {
	train := synth(5000, 3)
	for _, p := range []Params{
		{Trees: 50, Seed: 1},
		{Trees: 37, MaxLeaves: 63, MaxDepth: 12, Seed: 2}, // not a multiple of four
		{Trees: 3, MaxLeaves: 2, Seed: 3},
	} {
		m, err := Train(context.Background(), p, train, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.fast == nil {
			t.Fatal("Train did not compile the model")
		}
		// Values at every threshold, plus specials.
		var specials []float64
		for _, tr := range m.Trees {
			for _, n := range tr.Nodes {
				if n.Left != 0 {
					specials = append(specials, n.Threshold, math.Nextafter(n.Threshold, math.Inf(1)))
				}
			}
		}
		specials = append(specials, math.NaN(), math.Inf(1), math.Inf(-1), 0)
		rng := rand.New(rand.NewPCG(9, 9))
		x := make([]float64, len(train.Features))
		for range 5000 {
			for j := range x {
				if rng.IntN(3) == 0 {
					x[j] = specials[rng.IntN(len(specials))]
				} else {
					x[j] = rng.NormFloat64() * 2
				}
			}
			want := m.Base
			for i := range m.Trees {
				want += m.Trees[i].predict(x)
			}
			if got := m.Raw(x); math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
				t.Fatalf("params %+v, row %v: compiled %v, walk %v", p, x, got, want)
			}
		}
	}
}
