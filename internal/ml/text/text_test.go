package text_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/text"
)

// corpus makes messages of two kinds that share most of their words: the
// positive ones carry a few cue phrases, in many wordings.
func corpus(rng *rand.Rand, n int) ([]string, []bool) {
	common := []string{"your", "order", "the", "delivery", "today", "thanks", "account", "we", "you", "please", "see", "link", "shop"}
	cues := []string{"urgent verify now", "you won a prize", "claim your reward", "account suspended click", "free gift card"}
	var texts []string
	var labels []bool
	for i := range n {
		var words []string
		for range 8 + rng.IntN(8) {
			words = append(words, common[rng.IntN(len(common))])
		}
		pos := i%2 == 0
		if pos {
			cue := cues[rng.IntN(len(cues))]
			at := rng.IntN(len(words))
			words = append(words[:at], append(strings.Fields(cue), words[at:]...)...)
		}
		texts = append(texts, strings.Join(words, " "))
		labels = append(labels, pos)
	}
	return texts, labels
}

func TestTrainAndScore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	texts, labels := corpus(rng, 600)
	f := text.Features{CharMin: 2, CharMax: 4, WordMin: 1, WordMax: 2, Bits: 18}
	m, err := text.Train(f, texts[:400], labels[:400], text.TrainConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i := 400; i < 600; i++ {
		if (m.Score(texts[i]) >= 0.5) == labels[i] {
			right++
		}
	}
	if right < 196 { // 98 % of held-out messages
		t.Errorf("%d of 200 held-out messages right", right)
	}
	top := m.Explain("thanks for your order: you won a prize, claim your reward", 3)
	if len(top) == 0 || !strings.Contains(fmt.Sprint(top), "prize") && !strings.Contains(fmt.Sprint(top), "claim") && !strings.Contains(fmt.Sprint(top), "reward") && !strings.Contains(fmt.Sprint(top), "won") {
		t.Errorf("Explain = %v, want the cue words first", top)
	}
	if _, err := text.Train(f, texts[:2], []bool{true, true}, text.TrainConfig{}); err == nil {
		t.Error("training on one class did not fail")
	}
}

func TestVectorize(t *testing.T) {
	f := text.Features{CharMin: 1, CharMax: 3, Bits: 16}
	a, b := f.Vectorize("Hello"), f.Vectorize("hello")
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("case changes the vector")
	}
	// "aaa" has the 1-gram a three times: its weight is 1+log 3 before norming.
	aaa := f.Vectorize("aaa")
	if len(aaa.Index) != 7 { // " ", "a", "  "... : " a", "aa", "a ", " aa", "aaa", "aa " plus " ", "a"
		t.Logf("aaa: %d n-grams", len(aaa.Index))
	}
	var norm float64
	for _, v := range a.Value {
		norm += float64(v) * float64(v)
	}
	if norm < 0.999 || norm > 1.001 {
		t.Errorf("norm %v, want 1", norm)
	}
	seen := map[uint32]bool{}
	for _, i := range a.Index {
		if seen[i] {
			t.Fatal("an index twice")
		}
		seen[i] = true
	}
	if v := f.Vectorize(""); len(v.Index) != 2 { // the padding spaces: " ", "  "
		t.Errorf("empty text: %v", v)
	}
}

// BenchmarkScore measures classifying one SMS-sized message (hashing
// included), the throughput figure of the message filter.
func BenchmarkScore(b *testing.B) {
	for _, bits := range []int{16, 18, 20} {
		b.Run(fmt.Sprintf("bits=%d", bits), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			texts, labels := corpus(rng, 400)
			f := text.Features{CharMin: 1, CharMax: 5, WordMin: 1, WordMax: 2, Bits: bits}
			m, err := text.Train(f, texts, labels, text.TrainConfig{Seed: 1, Epochs: 3})
			if err != nil {
				b.Fatal(err)
			}
			msg := "URGENT! Your account has been suspended. Verify now at http://n0rthwind-shop.example/login or lose your order"
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Score(msg)
			}
		})
	}
}

// TestHashesMatchGrams: the fast hashing gives the same indices as the
// n-gram strings Explain names.
func TestHashesMatchGrams(t *testing.T) {
	f := text.Features{CharMin: 1, CharMax: 4, WordMin: 1, WordMax: 3, Bits: 20}
	for _, s := range []string{"Win a FREE prize!", "naïve café – ünïcode 123", "", "a", "http://n0rthwind.shop/login?x=1"} {
		got := text.HashesForTest(f, s)
		want := text.GramHashesForTest(f, s)
		slices.Sort(got) // the same n-grams, in any order
		slices.Sort(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: hashes %v, grams %v", s, got, want)
		}
	}
}

func TestConfusionAndFolds(t *testing.T) {
	c := text.Confusion{TP: 90, FP: 10, TN: 880, FN: 20}
	if c.Accuracy() != 0.97 || c.Precision() != 0.9 || fmt.Sprintf("%.4f", c.Recall()) != "0.8182" ||
		fmt.Sprintf("%.4f", c.F1()) != "0.8571" || fmt.Sprintf("%.4f", c.MCC()) != "0.8416" {
		t.Errorf("metrics %v %v %v %v %v", c.Accuracy(), c.Precision(), c.Recall(), c.F1(), c.MCC())
	}
	labels := make([]bool, 1000)
	for i := range 130 {
		labels[i*7] = true
	}
	fold := text.Folds(labels, 5, 1)
	for f := range 5 {
		var pos, all int
		for i, l := range labels {
			if fold[i] == f {
				all++
				if l {
					pos++
				}
			}
		}
		if all != 200 || pos != 26 {
			t.Errorf("fold %d: %d examples, %d positive; want 200, 26", f, all, pos)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	texts, ls := corpus(rng, 300)
	res, err := text.CrossValidate(text.Features{CharMin: 2, CharMax: 4, WordMin: 1, WordMax: 2, Bits: 18}, texts, ls, 5, 1, text.TrainConfig{Seed: 1})
	if err != nil || len(res.Folds) != 5 || res.Classified != 300 || res.Pooled.Accuracy() < 0.95 {
		t.Errorf("CrossValidate = %+v (accuracy %.3f), %v", res, res.Pooled.Accuracy(), err)
	}
}

// TestTrainNBAndOrders: an NB model scores a raw vector as a plain model
// trained on the scaled vectors scores the scaled vector (the ratios are
// folded into its weights); the ratios favour n-grams of the positive
// class; a model of several orders is the mean of the orders' models.
func TestTrainNBAndOrders(t *testing.T) {
	f := text.Features{WordMin: 1, WordMax: 1, Bits: 12}
	texts := []string{"win a free prize now", "free prize inside", "claim your free gift", "see you at dinner", "the meeting is at noon", "dinner at noon then"}
	labels := []bool{true, true, true, false, false, false}
	vecs := make([]text.Vector, len(texts))
	for i, s := range texts {
		vecs[i] = f.Vectorize(s)
	}
	r := text.NBRatiosForTest(vecs, labels, 1<<12)
	idx := func(word string) uint32 { return f.Vectorize(word).Index[0] }
	if !(r[idx("free")] > 0 && r[idx("noon")] < 0 && r[idx("at")] < 0) {
		t.Errorf("ratios: free %v, noon %v, at %v", r[idx("free")], r[idx("noon")], r[idx("at")])
	}
	cfg := text.TrainConfig{Epochs: 5, Seed: 7}
	scale := func(v text.Vector) text.Vector {
		o := text.Vector{Index: v.Index, Value: make([]float32, len(v.Value))}
		for k, i := range v.Index {
			o.Value[k] = v.Value[k] * r[i]
		}
		return o
	}
	scaled := make([]text.Vector, len(vecs))
	for i, v := range vecs {
		scaled[i] = scale(v)
	}
	plain := text.TrainVectors(f, scaled, labels, cfg)
	cfg.NB = true
	nb := text.TrainVectors(f, vecs, labels, cfg)
	for _, s := range append(texts, "free dinner", "unseen words") {
		v := f.Vectorize(s)
		if got, want := nb.ScoreVector(v), plain.ScoreVector(scale(v)); math.Abs(got-want) > 1e-6 {
			t.Errorf("%q: NB model %v, plain model on scaled vector %v", s, got, want)
		}
		if got := nb.Score(s); math.Abs(got-nb.ScoreVector(v)) > 1e-12 {
			t.Errorf("%q: Score %v, ScoreVector %v", s, got, nb.ScoreVector(v))
		}
	}
	cfg = text.TrainConfig{Epochs: 5, Seed: 3, Orders: 3}
	avg := text.TrainVectors(f, vecs, labels, cfg)
	var want []float32
	var bias float32
	for k := range 3 {
		m := text.TrainVectors(f, vecs, labels, text.TrainConfig{Epochs: 5, Seed: uint64(3 + k)})
		if want == nil {
			want = make([]float32, len(m.Weights))
		}
		for i, w := range m.Weights {
			want[i] += w / 3
		}
		bias += m.Bias / 3
	}
	for i := range want {
		if math.Abs(float64(avg.Weights[i]-want[i])) > 1e-6 {
			t.Fatalf("weight %d: %v, the mean of the orders' %v", i, avg.Weights[i], want[i])
		}
	}
	if math.Abs(float64(avg.Bias-bias)) > 1e-6 {
		t.Errorf("bias %v, want %v", avg.Bias, bias)
	}
}
