package text_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/text"
)

// randomModel returns a model over f with weights drawn from rng, so that
// every n-gram moves its score.
func randomModel(f text.Features, rng *rand.Rand) *text.Model {
	bits := f.Bits
	if bits == 0 {
		bits = 20
	}
	m := &text.Model{Features: f, Weights: make([]float32, 1<<bits), Bias: float32(rng.NormFloat64())}
	for i := range m.Weights {
		m.Weights[i] = float32(rng.NormFloat64())
	}
	return m
}

// TestScoreModels checks that scoring several models at once gives each
// the probability it gives alone, on texts with repeated n-grams,
// Unicode, digits and punctuation, for models that share n-grams and
// vector sizes and models that do not (small vectors, where n-grams
// collide, included).
func TestScoreModels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	views := []text.Features{
		{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20},
		{WordMin: 1, WordMax: 2, Bits: 20},
		{CharMin: 3, CharMax: 6, Bits: 20},
		{CharMax: 3, Bits: 6},
		{WordMax: 3, Bits: 6},
		{CharMin: 16, CharMax: 16, WordMin: 16, WordMax: 16, Bits: 8},
		{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2}, // the default size, as the first
	}
	var models []*text.Model
	for _, f := range views {
		models = append(models, randomModel(f, rng))
	}
	texts := []string{"", "a", "Ünïcödé ÇA VA? 123-456 la la la la", "The kettle boils fast, the kettle boils fast!! 24.99 €",
		"click here: https://n0rthwind.shop/x ...", "\u200bzero\u200bwidth \u202eevil", strings.Repeat("spam ", 14000)}
	alphabet := []rune("ab ,.éЖ1")
	for range 200 {
		r := make([]rune, rng.IntN(80))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		texts = append(texts, string(r))
	}
	sets := [][]*text.Model{models, models[:1], models[1:3], {models[2], models[0], models[2]}, models[3:6], {models[6], models[0]}, nil}
	for _, s := range texts {
		for _, set := range sets {
			got := make([]float64, len(set))
			text.ScoreModels(s, set, got)
			for i, m := range set {
				if want := m.ScoreVector(m.Features.Vectorize(s)); math.Abs(got[i]-want) > 1e-12 || math.Abs(m.Score(s)-want) > 1e-12 {
					t.Fatalf("model %+v on %.40q: %v together, %v alone", m.Features, s, got[i], want)
				}
			}
		}
	}
}

// TestVectorizeUnique: n-grams whose hashes share an index are counted
// at that index once, however small the vector.
func TestVectorizeUnique(t *testing.T) {
	for _, bits := range []int{2, 4, 8, 20} {
		f := text.Features{CharMin: 1, CharMax: 4, WordMin: 1, WordMax: 2, Bits: bits}
		v := f.Vectorize("The kettle boils fast, the kettle boils fast!! 24.99 € naïve café")
		seen := map[uint32]bool{}
		var norm float64
		for i, idx := range v.Index {
			if seen[idx] {
				t.Fatalf("bits %d: index %d twice", bits, idx)
			}
			seen[idx] = true
			norm += float64(v.Value[i]) * float64(v.Value[i])
		}
		if len(v.Index) > 1<<bits || math.Abs(norm-1) > 1e-5 {
			t.Errorf("bits %d: %d indices, norm %v", bits, len(v.Index), norm)
		}
	}
}

func BenchmarkScoreModels(b *testing.B) {
	review := "Boils a full litre in about three minutes and the lid closes firmly. The handle stays cool and the cable is long enough " +
		"for our kitchen island. Bought it to replace a ten year old one that cost 29.99 and so far it is quieter, apart from the " +
		"click when it switches off. Arrived in 2 days, well packed."
	rng := rand.New(rand.NewPCG(1, 2))
	spam := text.Features{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20}
	// Spam, abuse and the two views of the fake-review ensemble, as the
	// content analyzer scores a review.
	models := []*text.Model{randomModel(spam, rng), randomModel(spam, rng),
		randomModel(text.Features{WordMin: 1, WordMax: 2, Bits: 20}, rng), randomModel(text.Features{CharMin: 3, CharMax: 6, Bits: 20}, rng)}
	b.Run("one_by_one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, m := range models {
				_ = m.Score(review)
			}
		}
	})
	b.Run("together", func(b *testing.B) {
		b.ReportAllocs()
		out := make([]float64, len(models))
		for b.Loop() {
			text.ScoreModels(review, models, out)
		}
	})
}

// FuzzScoreModels checks, for any text, that scoring models together
// gives each the probability its own vector gives it (the ASCII and the
// Unicode paths of the hashing, repeated n-grams, colliding indices).
func FuzzScoreModels(f *testing.F) {
	for _, s := range []string{"", "a", "The kettle boils fast, the kettle boils fast!! 24.99 €", "\xff\xfe bad utf-8 \x00", "İstanbul ǅ ß ﬁ", "ab ab ab ab ab"} {
		f.Add(s)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	models := []*text.Model{
		randomModel(text.Features{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 12}, rng),
		randomModel(text.Features{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 12}, rng),
		randomModel(text.Features{WordMin: 1, WordMax: 2, Bits: 12}, rng),
		randomModel(text.Features{CharMin: 3, CharMax: 6, Bits: 12}, rng),
		randomModel(text.Features{CharMax: 2, WordMax: 1, Bits: 3}, rng),
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := make([]float64, len(models))
		text.ScoreModels(s, models, got)
		for i, m := range models {
			if want := m.ScoreVector(m.Features.Vectorize(s)); math.Abs(got[i]-want) > 1e-12 {
				t.Fatalf("model %d on %q: %v together, %v alone", i, s, got[i], want)
			}
		}
	})
}
