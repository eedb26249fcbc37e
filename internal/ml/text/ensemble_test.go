package text_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/text"
)

// foldedCorpus makes n labelled texts in k folds (round robin): positives say
// "refund", negatives "delivery"; every seventh text swaps its cue word
// (a rule no n-gram sees) so that no model is perfect, and each text gets
// filler words.
func foldedCorpus(n, k int) ([]string, []bool, []int) {
	fillers := []string{"the room was", "we stayed", "staff at", "a nice view of", "breakfast with"}
	var texts []string
	var labels []bool
	var fold []int
	for i := range n {
		pos := i%2 == 0
		cue := "delivery"
		if pos != (i%7 == 0) { // the noisy ones
			cue = "refund"
		}
		texts = append(texts, fmt.Sprintf("%s %s %s number %d", fillers[(i/10)%5], cue, fillers[(i/30)%5], i))
		labels = append(labels, pos)
		fold = append(fold, (i/2)%k)
	}
	return texts, labels, fold
}

var (
	words = text.View{Features: text.Features{WordMin: 1, WordMax: 1, Bits: 16}, Config: text.TrainConfig{Epochs: 20, Seed: 1}}
	chars = text.View{Features: text.Features{CharMin: 3, CharMax: 4, Bits: 16}, Config: text.TrainConfig{Epochs: 20, L2: 1e-4, Seed: 2}}
)

func TestBlendWeights(t *testing.T) {
	texts, labels, _ := foldedCorpus(40, 5)
	tests := []struct {
		name    string
		blend   text.Blend
		weights []float64
		err     error
	}{
		{"one view", text.Blend{Views: []text.View{words}, Weights: []float64{2}}, []float64{1}, nil},
		{"normalised", text.Blend{Views: []text.View{words, chars}, Weights: []float64{1, 3}}, []float64{0.25, 0.75}, nil},
		{"zero weight kept", text.Blend{Views: []text.View{words, chars}, Weights: []float64{0, 1}}, []float64{0, 1}, nil},
		{"no views", text.Blend{}, nil, text.ErrBadBlend},
		{"weight missing", text.Blend{Views: []text.View{words, chars}, Weights: []float64{1}}, nil, text.ErrBadBlend},
		{"negative", text.Blend{Views: []text.View{words, chars}, Weights: []float64{-1, 2}}, nil, text.ErrBadBlend},
		{"all zero", text.Blend{Views: []text.View{words}, Weights: []float64{0}}, nil, text.ErrBadBlend},
		{"NaN", text.Blend{Views: []text.View{words}, Weights: []float64{math.NaN()}}, nil, text.ErrBadBlend},
	}
	for _, tt := range tests {
		e, err := text.TrainBlend(tt.blend, texts, labels)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err == nil && !reflect.DeepEqual(e.Weights, tt.weights) {
			t.Errorf("%s: weights %v, want %v", tt.name, e.Weights, tt.weights)
		}
	}
	if _, err := text.TrainBlend(text.Blend{Views: []text.View{words}, Weights: []float64{1}}, texts, make([]bool, len(texts))); !errors.Is(err, text.ErrNoData) {
		t.Errorf("one class: %v", err)
	}
}

// TestEnsembleScore: an ensemble's score is the weighted mean of its
// models' probabilities, each model the one Train makes.
func TestEnsembleScore(t *testing.T) {
	texts, labels, _ := foldedCorpus(60, 5)
	e, err := text.TrainBlend(text.Blend{Views: []text.View{words, chars}, Weights: []float64{1, 3}}, texts, labels)
	if err != nil {
		t.Fatal(err)
	}
	mw, _ := text.Train(words.Features, texts, labels, words.Config)
	mc, _ := text.Train(chars.Features, texts, labels, chars.Config)
	for _, s := range []string{"please refund me", "delivery was late", "", texts[3]} {
		want := 0.25*mw.Score(s) + 0.75*mc.Score(s)
		if got := e.Score(s); math.Abs(got-want) > 1e-12 {
			t.Errorf("Score(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestNewFolded(t *testing.T) {
	texts, labels, fold := foldedCorpus(20, 5)
	tests := []struct {
		name   string
		labels []bool
		fold   []int
		err    string
	}{
		{"good", labels, fold, ""},
		{"lengths", labels[:19], fold, "20 texts, 19 labels, 20 folds"},
		{"negative fold", labels, append([]int{-1}, fold[1:]...), "in fold -1"},
		{"empty fold", labels, func() []int {
			f := append([]int(nil), fold...)
			for i := range f {
				if f[i] == 2 {
					f[i] = 4
				}
			}
			return f
		}(), "fold 2 holds no text"},
		{"one fold", labels, make([]int, 20), "1 folds"},
	}
	for _, tt := range tests {
		c, err := text.NewFolded(texts, tt.labels, tt.fold, 2)
		switch {
		case tt.err == "" && (err != nil || c.K() != 5):
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		}
	}
}

// TestFoldedCrossValidate: each text is scored by the blend trained on
// the other folds, exactly as TrainBlend would train it, whatever the
// number of workers.
func TestFoldedCrossValidate(t *testing.T) {
	texts, labels, fold := foldedCorpus(60, 3)
	blend := text.Blend{Views: []text.View{words, chars}, Weights: []float64{1, 1}}
	var results []text.BlendResult
	for _, workers := range []int{1, 4} {
		c, err := text.NewFolded(texts, labels, fold, workers)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.CrossValidate(blend)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	if !reflect.DeepEqual(results[0], results[1]) {
		t.Fatalf("1 and 4 workers differ:\n%+v\n%+v", results[0], results[1])
	}
	res := results[0]
	var pooled text.Confusion
	for f := range 3 {
		var tt []string
		var tl []bool
		for i := range texts {
			if fold[i] != f {
				tt, tl = append(tt, texts[i]), append(tl, labels[i])
			}
		}
		e, err := text.TrainBlend(blend, tt, tl)
		if err != nil {
			t.Fatal(err)
		}
		var c text.Confusion
		for i := range texts {
			if fold[i] == f {
				want := e.Score(texts[i])
				if math.Abs(res.Scores[i]-want) > 1e-9 {
					t.Fatalf("text %d: score %v, want %v", i, res.Scores[i], want)
				}
				c.Add(want >= 0.5, labels[i])
			}
		}
		if res.Folds[f] != c {
			t.Errorf("fold %d: %+v, want %+v", f, res.Folds[f], c)
		}
		pooled.Merge(c)
	}
	if res.Pooled != pooled || res.Chosen != nil {
		t.Errorf("pooled %+v, want %+v; chosen %v", res.Pooled, pooled, res.Chosen)
	}
	if acc := res.Pooled.Accuracy(); acc < 0.7 || acc > 0.95 {
		t.Errorf("accuracy %.3f: the corpus's noise should keep it between 0.7 and 0.95", acc)
	}
}

// TestFoldedNested: the choice follows the inner folds' accuracy and the
// outer folds are scored by the chosen candidate's models, the ones plain
// cross-validation of that candidate gives.
func TestFoldedNested(t *testing.T) {
	texts, labels, fold := foldedCorpus(200, 5)
	// A candidate that calls nearly everything positive (positives
	// weigh a thousand times more in its training) and a good one.
	biased := text.View{Features: words.Features, Config: text.TrainConfig{Epochs: 1, PositiveWeight: 1000, Seed: 3}}
	cands := []text.Blend{
		{Views: []text.View{biased}, Weights: []float64{1}},
		{Views: []text.View{words, chars}, Weights: []float64{1, 1}},
	}
	c, err := text.NewFolded(texts, labels, fold, 2)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Nested(cands)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := c.CrossValidate(cands[1])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Chosen, []int{1, 1, 1, 1, 1}) || res.Pooled != plain.Pooled || !reflect.DeepEqual(res.Scores, plain.Scores) {
		t.Fatalf("nested chose %v (inner %v), pooled %+v; plain %+v", res.Chosen, res.Inner, res.Pooled, plain.Pooled)
	}
	// Ties go to the first candidate.
	if tie, err := c.Nested([]text.Blend{cands[1], cands[1]}); err != nil || !reflect.DeepEqual(tie.Chosen, []int{0, 0, 0, 0, 0}) {
		t.Errorf("tie: chose %v, %v", tie.Chosen, err)
	}
	// The inner accuracy of fold 0's choice, computed by hand: each inner
	// fold scored by the blend trained on the three other folds.
	var conf text.Confusion
	for g := 1; g < 5; g++ {
		var tt []string
		var tl []bool
		for i := range texts {
			if fold[i] != 0 && fold[i] != g {
				tt, tl = append(tt, texts[i]), append(tl, labels[i])
			}
		}
		e, err := text.TrainBlend(cands[1], tt, tl)
		if err != nil {
			t.Fatal(err)
		}
		for i := range texts {
			if fold[i] == g {
				conf.Add(e.Score(texts[i]) >= 0.5, labels[i])
			}
		}
	}
	if res.Inner[0] != conf.Accuracy() {
		t.Errorf("inner accuracy of fold 1: %v, want %v", res.Inner[0], conf.Accuracy())
	}

	two, _ := text.NewFolded(texts[:40], labels[:40], make([]int, 40), 2)
	if two != nil {
		t.Fatal("one fold accepted")
	}
	f2 := make([]int, 40)
	for i := range f2 {
		f2[i] = i % 2
	}
	two, err = text.NewFolded(texts[:40], labels[:40], f2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := two.Nested(cands); err == nil || !strings.Contains(err.Error(), "3 folds") {
		t.Errorf("nested with 2 folds: %v", err)
	}
	if _, err := c.Nested(nil); err == nil {
		t.Error("nested without candidates")
	}
	if _, err := c.Nested([]text.Blend{{}}); !errors.Is(err, text.ErrBadBlend) {
		t.Errorf("bad candidate: %v", err)
	}
}

// TestFoldedOneClassFold: a training part with one class is an error that
// names the folds left out.
func TestFoldedOneClassFold(t *testing.T) {
	texts, labels, _ := foldedCorpus(30, 3)
	fold := make([]int, len(texts))
	for i := range fold {
		switch {
		case labels[i]:
			fold[i] = 0 // every positive in fold 0
		default:
			fold[i] = 1 + (i/2)%4
		}
	}
	c, err := text.NewFolded(texts, labels, fold, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CrossValidate(text.Blend{Views: []text.View{words}, Weights: []float64{1}}); !errors.Is(err, text.ErrNoData) ||
		!strings.Contains(err.Error(), "without fold 1") {
		t.Errorf("CrossValidate: %v", err)
	}
}
