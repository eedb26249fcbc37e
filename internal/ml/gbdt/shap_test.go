package gbdt

import (
	"context"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// condExpect is E[tree(x) | x_S] under the path-dependent rule TreeSHAP
// uses: features in S follow x, the others split by cover.
func condExpect(t *Tree, x []float64, in func(f int) bool, i int) float64 {
	n := t.Nodes[i]
	if n.Left == 0 {
		return n.Threshold
	}
	l, r := int(n.Left), int(n.Left)+1
	f := n.feature()
	if in(f) {
		v := x[f]
		switch {
		case v <= n.Threshold:
			return condExpect(t, x, in, l)
		case v > n.Threshold:
			return condExpect(t, x, in, r)
		case n.Feature < 0:
			return condExpect(t, x, in, l)
		}
		return condExpect(t, x, in, r)
	}
	return (t.Cover[l]*condExpect(t, x, in, l) + t.Cover[r]*condExpect(t, x, in, r)) / t.Cover[i]
}

// bruteShapley computes Shapley values from their definition over all
// subsets of the features.
func bruteShapley(m *Model, x []float64) []float64 {
	nf := len(m.Features)
	phi := make([]float64, nf)
	fact := func(n int) float64 { return math.Gamma(float64(n) + 1) }
	for f := range nf {
		for s := uint(0); s < 1<<nf; s++ {
			if s&(1<<f) != 0 {
				continue
			}
			size := bits.OnesCount(s)
			w := fact(size) * fact(nf-size-1) / fact(nf)
			var with, without float64
			for i := range m.Trees {
				t := &m.Trees[i]
				with += condExpect(t, x, func(g int) bool { return g == f || s&(1<<g) != 0 }, 0)
				without += condExpect(t, x, func(g int) bool { return s&(1<<g) != 0 }, 0)
			}
			phi[f] += w * (with - without)
		}
	}
	return phi
}

func TestTreeSHAPIsExact(t *testing.T) {
	train, valid := synth(6000, 21), synth(2000, 22)
	m, err := Train(context.Background(), Params{Trees: 25, MaxLeaves: 12, MaxDepth: 6, Seed: 3}, train, valid, nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for range 30 {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		if rng.Float64() < 0.4 {
			x[3] = math.NaN()
		}
		phi, bias := m.Contributions(x)
		sum := bias
		for _, v := range phi {
			sum += v
		}
		if raw := m.Raw(x); math.Abs(sum-raw) > 1e-9 {
			t.Fatalf("contributions sum to %.12f, raw score is %.12f", sum, raw)
		}
		want := bruteShapley(m, x)
		for f := range phi {
			if math.Abs(phi[f]-want[f]) > 1e-9 {
				t.Fatalf("x=%v feature %d: TreeSHAP %.12f, Shapley by definition %.12f", x, f, phi[f], want[f])
			}
		}
		if phi[2] != 0 && math.Abs(phi[2]) > 0.2 {
			t.Errorf("the noise feature got a large contribution %.3f", phi[2])
		}
	}
}
