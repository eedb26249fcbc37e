package text

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// View is one way of reading texts: the n-grams they are hashed into and
// how a model over them trains.
type View struct {
	Features Features
	Config   TrainConfig
}

// Blend is a model made of views: the probability it gives a text is the
// weighted mean of its views' models' probabilities. Weights are
// normalised to sum to 1; a Blend of one view is that view's model.
type Blend struct {
	Views   []View
	Weights []float64
}

// ErrBadBlend means a Blend has no views, a weight per view missing, or a
// negative, non-finite or all-zero weight.
var ErrBadBlend = errors.New("text: a blend needs views and one non-negative weight per view, not all zero")

// normalised returns b's weights scaled to sum to 1, or ErrBadBlend.
func (b Blend) normalised() ([]float64, error) {
	if len(b.Views) == 0 || len(b.Weights) != len(b.Views) {
		return nil, ErrBadBlend
	}
	var sum float64
	for _, w := range b.Weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, ErrBadBlend
		}
		sum += w
	}
	if sum == 0 {
		return nil, ErrBadBlend
	}
	out := make([]float64, len(b.Weights))
	for i, w := range b.Weights {
		out[i] = w / sum
	}
	return out, nil
}

// Ensemble is a trained Blend: one model per view and their weights
// (summing to 1).
type Ensemble struct {
	Models  []*Model
	Weights []float64
}

// Score returns the probability that t is positive: the weighted mean of
// the models' probabilities.
func (e *Ensemble) Score(t string) float64 {
	var room [4]float64
	probs := append(room[:0], make([]float64, len(e.Models))...)
	ScoreModels(t, e.Models, probs)
	var s float64
	for i, p := range probs {
		s += e.Weights[i] * p
	}
	return s
}

// TrainBlend trains a model for each of b's views on texts and their
// labels (true: positive).
func TrainBlend(b Blend, texts []string, labels []bool) (*Ensemble, error) {
	w, err := b.normalised()
	if err != nil {
		return nil, err
	}
	e := &Ensemble{Weights: w}
	for _, v := range b.Views {
		m, err := Train(v.Features, texts, labels, v.Config)
		if err != nil {
			return nil, err
		}
		e.Models = append(e.Models, m)
	}
	return e, nil
}

// BlendResult is the outcome of cross-validating a blend, or of choosing
// among blends by nested cross-validation.
type BlendResult struct {
	// Folds holds each fold's confusion (threshold 0.5); Pooled all of
	// them.
	Folds  []Confusion
	Pooled Confusion
	// Scores holds each text's probability of being positive, given by
	// the model of the fold that held it out.
	Scores []float64
	// Chosen (nested only) holds, per outer fold, the index of the
	// candidate chosen, and Inner that candidate's accuracy over the
	// inner folds.
	Chosen []int
	Inner  []float64
}

// Folded is a labelled corpus split into folds the caller gives (a
// corpus's own folds, or those of Folds), for cross-validating blends. It
// hashes each text once per Features and trains each view once per set
// of training folds however many blends share it, up to its workers
// trainings at a time; results do not depend on the number of workers.
// Its methods are safe for one caller at a time.
type Folded struct {
	texts   []string
	labels  []bool
	fold    []int
	k       int
	workers int

	vecs   map[Features][]Vector
	scores map[trainKey][]float64
}

// trainKey names one trained model: a view trained without the texts of
// folds out1 and out2 (-1: none), scored on those texts.
type trainKey struct {
	view       View
	out1, out2 int
}

// key names the model of v trained without folds a and b (-1: none). The
// model without folds 1 and 3 is the one without 3 and 1: in nested
// cross-validation it scores fold 3 for outer fold 1 and fold 1 for outer
// fold 3, trained once.
func key(v View, a, b int) trainKey {
	if b >= 0 && b < a {
		a, b = b, a
	}
	return trainKey{v, a, b}
}

// NewFolded checks a corpus and its folds (0..k-1, k >= 2, every fold
// used) and returns it ready for cross-validation with up to workers
// trainings at a time (0 or less: GOMAXPROCS).
func NewFolded(texts []string, labels []bool, fold []int, workers int) (*Folded, error) {
	if len(texts) != len(labels) || len(texts) != len(fold) {
		return nil, fmt.Errorf("text: %d texts, %d labels, %d folds", len(texts), len(labels), len(fold))
	}
	k := 0
	for i, f := range fold {
		if f < 0 {
			return nil, fmt.Errorf("text: text %d in fold %d", i, f)
		}
		k = max(k, f+1)
	}
	used := make([]bool, k)
	for _, f := range fold {
		used[f] = true
	}
	for f, u := range used {
		if !u {
			return nil, fmt.Errorf("text: fold %d holds no text", f)
		}
	}
	if k < 2 {
		return nil, fmt.Errorf("text: %d folds; at least 2", k)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Folded{texts: texts, labels: labels, fold: fold, k: k, workers: workers,
		vecs: map[Features][]Vector{}, scores: map[trainKey][]float64{}}, nil
}

// K returns the number of folds.
func (c *Folded) K() int { return c.k }

// CrossValidate trains b on all folds but one and scores that one, for
// each fold in turn.
func (c *Folded) CrossValidate(b Blend) (BlendResult, error) {
	w, err := b.normalised()
	if err != nil {
		return BlendResult{}, err
	}
	var keys []trainKey
	for f := range c.k {
		for _, v := range b.Views {
			keys = append(keys, key(v, f, -1))
		}
	}
	if err := c.train(keys); err != nil {
		return BlendResult{}, err
	}
	res := BlendResult{Scores: make([]float64, len(c.texts))}
	for f := range c.k {
		var conf Confusion
		for i := range c.texts {
			if c.fold[i] == f {
				res.Scores[i] = c.blendScore(b, w, f, -1, i)
				conf.Add(res.Scores[i] >= 0.5, c.labels[i])
			}
		}
		res.Folds = append(res.Folds, conf)
		res.Pooled.Merge(conf)
	}
	return res, nil
}

// Nested estimates honestly the accuracy of choosing among candidates:
// for each outer fold, every candidate is measured by leave-one-fold-out
// over the other folds only (an inner fold's texts are scored by models
// trained on the remaining k-2 folds), the candidate of best inner
// accuracy (the first on ties) is trained on all k-1 folds, and the outer
// fold is scored with it. The outer fold never takes part in the choice.
// It needs at least 3 folds.
func (c *Folded) Nested(cands []Blend) (BlendResult, error) {
	if c.k < 3 {
		return BlendResult{}, fmt.Errorf("text: nested cross-validation needs 3 folds or more, not %d", c.k)
	}
	if len(cands) == 0 {
		return BlendResult{}, errors.New("text: no candidates to choose from")
	}
	ws := make([][]float64, len(cands))
	var keys []trainKey
	for ci, b := range cands {
		w, err := b.normalised()
		if err != nil {
			return BlendResult{}, fmt.Errorf("candidate %d: %w", ci, err)
		}
		ws[ci] = w
		for f := range c.k {
			for g := range c.k {
				if g != f {
					for _, v := range b.Views {
						keys = append(keys, key(v, f, g))
					}
				}
			}
		}
	}
	if err := c.train(keys); err != nil {
		return BlendResult{}, err
	}
	res := BlendResult{Scores: make([]float64, len(c.texts))}
	keys = keys[:0]
	for f := range c.k {
		best, bestAcc := 0, -1.0
		for ci, b := range cands {
			var conf Confusion
			for i := range c.texts {
				if g := c.fold[i]; g != f {
					conf.Add(c.blendScore(b, ws[ci], f, g, i) >= 0.5, c.labels[i])
				}
			}
			if acc := conf.Accuracy(); acc > bestAcc {
				best, bestAcc = ci, acc
			}
		}
		res.Chosen, res.Inner = append(res.Chosen, best), append(res.Inner, bestAcc)
		for _, v := range cands[best].Views {
			keys = append(keys, key(v, f, -1))
		}
	}
	if err := c.train(keys); err != nil {
		return BlendResult{}, err
	}
	for f, ci := range res.Chosen {
		var conf Confusion
		for i := range c.texts {
			if c.fold[i] == f {
				res.Scores[i] = c.blendScore(cands[ci], ws[ci], f, -1, i)
				conf.Add(res.Scores[i] >= 0.5, c.labels[i])
			}
		}
		res.Folds = append(res.Folds, conf)
		res.Pooled.Merge(conf)
	}
	return res, nil
}

// blendScore is b's probability for text i by the models trained without
// folds out1 and out2 (all trained already).
func (c *Folded) blendScore(b Blend, w []float64, out1, out2, i int) float64 {
	var s float64
	for vi, v := range b.Views {
		s += w[vi] * c.scores[key(v, out1, out2)][i]
	}
	return s
}

// train trains the models of keys not trained yet, up to c.workers at a
// time, and keeps their scores of the texts they held out.
func (c *Folded) train(keys []trainKey) error {
	var todo []trainKey
	seen := map[trainKey]bool{}
	for _, k := range keys {
		if _, done := c.scores[k]; !done && !seen[k] {
			seen[k] = true
			todo = append(todo, k)
		}
	}
	for _, k := range todo {
		if _, ok := c.vecs[k.view.Features]; !ok {
			vs := make([]Vector, len(c.texts))
			for i, t := range c.texts {
				vs[i] = k.view.Features.Vectorize(t)
			}
			c.vecs[k.view.Features] = vs
		}
	}
	results := make([][]float64, len(todo))
	errs := make([]error, len(todo))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(c.workers, len(todo)) {
		wg.Go(func() {
			for j := range jobs {
				results[j], errs[j] = c.trainOne(todo[j])
			}
		})
	}
	for j := range todo {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	for j, k := range todo {
		if errs[j] != nil {
			return errs[j]
		}
		c.scores[k] = results[j]
	}
	return nil
}

// trainOne trains k's model and scores the texts it held out (the others'
// scores stay 0).
func (c *Folded) trainOne(k trainKey) ([]float64, error) {
	vs := c.vecs[k.view.Features]
	var tv []Vector
	var tl []bool
	var pos int
	for i, f := range c.fold {
		if f != k.out1 && f != k.out2 {
			tv, tl = append(tv, vs[i]), append(tl, c.labels[i])
			if c.labels[i] {
				pos++
			}
		}
	}
	if pos == 0 || pos == len(tl) {
		if k.out2 < 0 {
			return nil, fmt.Errorf("text: training without fold %d: %w", k.out1+1, ErrNoData)
		}
		return nil, fmt.Errorf("text: training without folds %d and %d: %w", k.out1+1, k.out2+1, ErrNoData)
	}
	m := TrainVectors(k.view.Features, tv, tl, k.view.Config)
	out := make([]float64, len(vs))
	for i, f := range c.fold {
		if f == k.out1 || f == k.out2 {
			out[i] = m.ScoreVector(vs[i])
		}
	}
	return out, nil
}
