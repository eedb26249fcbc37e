package text_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/text"
)

// TestVectorizeViews checks that hashing once for several views gives
// each view exactly the vector Vectorize gives it, on texts with
// repeated n-grams, Unicode, digits and punctuation.
func TestVectorizeViews(t *testing.T) {
	views := []text.Features{
		{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20},
		{WordMin: 1, WordMax: 2, Bits: 20},
		{CharMin: 3, CharMax: 6, Bits: 20},
		{CharMax: 3, Bits: 12},
		{WordMax: 3, Bits: 16},
	}
	texts := []string{"", "a", "Ünïcödé ÇA VA? 123-456 la la la la", "The kettle boils fast, the kettle boils fast!! 24.99 €",
		"click here: https://n0rthwind.shop/x ...", "\u200bzero\u200bwidth \u202eevil"}
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("ab ,.éЖ1")
	for range 200 {
		r := make([]rune, rng.IntN(80))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		texts = append(texts, string(r))
	}
	for _, s := range texts {
		for _, set := range [][]text.Features{views, views[:1], views[1:3], {views[2], views[0]}} {
			got := text.VectorizeViews(s, set)
			for i, f := range set {
				want := f.Vectorize(s)
				if !slices.Equal(got[i].Index, want.Index) || !slices.Equal(got[i].Value, want.Value) {
					t.Fatalf("view %+v of %q: VectorizeViews differs from Vectorize", f, s)
				}
			}
		}
	}
	if len(text.VectorizeViews("x", nil)) != 0 {
		t.Error("no views, yet vectors")
	}
}

func BenchmarkVectorizeViews(b *testing.B) {
	review := "Boils a full litre in about three minutes and the lid closes firmly. The handle stays cool and the cable is long enough " +
		"for our kitchen island. Bought it to replace a ten year old one that cost 29.99 and so far it is quieter, apart from the " +
		"click when it switches off. Arrived in 2 days, well packed."
	views := []text.Features{{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20}, {WordMin: 1, WordMax: 2, Bits: 20}, {CharMin: 3, CharMax: 6, Bits: 20}}
	b.Run("one_by_one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range views {
				_ = f.Vectorize(review)
			}
		}
	})
	b.Run("shared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = text.VectorizeViews(review, views)
		}
	})
}
