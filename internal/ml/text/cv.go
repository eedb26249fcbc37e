package text

import (
	"fmt"
	"math"
	"time"
)

// Confusion counts a binary classifier's outcomes (positive: spam,
// phishing).
type Confusion struct {
	TP, FP, TN, FN int
}

// Add counts one prediction.
func (c *Confusion) Add(predicted, actual bool) {
	switch {
	case predicted && actual:
		c.TP++
	case predicted:
		c.FP++
	case actual:
		c.FN++
	default:
		c.TN++
	}
}

// Merge adds o's counts to c (pooling folds).
func (c *Confusion) Merge(o Confusion) {
	c.TP, c.FP, c.TN, c.FN = c.TP+o.TP, c.FP+o.FP, c.TN+o.TN, c.FN+o.FN
}

// Accuracy is the share of right predictions.
func (c Confusion) Accuracy() float64 {
	return ratio(c.TP+c.TN, c.TP+c.TN+c.FP+c.FN)
}

// Precision is the share of predicted positives that are positive.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is the share of positives predicted positive.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// MCC is Matthews' correlation coefficient (-1..1; 0 for chance).
func (c Confusion) MCC() float64 {
	tp, fp, tn, fn := float64(c.TP), float64(c.FP), float64(c.TN), float64(c.FN)
	d := math.Sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
	if d == 0 {
		return 0
	}
	return (tp*tn - fp*fn) / d
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// CVResult is a cross-validation's outcome.
type CVResult struct {
	// Folds holds each fold's confusion; Pooled all of them.
	Folds  []Confusion
	Pooled Confusion
	// TrainTime and ClassifyTime are the time spent training and
	// classifying (hashing included), over all folds; Classified counts
	// the texts classified.
	TrainTime    time.Duration
	ClassifyTime time.Duration
	Classified   int
	// Scores holds each example's probability of being positive, given
	// by the model of the fold that held it out (for ROC and PR curves).
	Scores []float64
}

// Folds assigns each example to one of k folds, stratified: each class
// is dealt round-robin in a seeded shuffle, so every fold holds about the
// same share of positives.
func Folds(labels []bool, k int, seed uint64) []int {
	fold := make([]int, len(labels))
	for _, class := range []bool{true, false} {
		var idx []int
		for i, l := range labels {
			if l == class {
				idx = append(idx, i)
			}
		}
		rng := seed*2862933555777941757 + 3037000493
		for i := len(idx) - 1; i > 0; i-- {
			rng = rng*6364136223846793005 + 1442695040888963407
			j := int((rng >> 33) % uint64(i+1))
			idx[i], idx[j] = idx[j], idx[i]
		}
		for n, i := range idx {
			fold[i] = n % k
		}
	}
	return fold
}

// CrossValidate trains on k-1 folds and classifies the k-th (threshold
// 0.5), for each fold in turn.
func CrossValidate(f Features, texts []string, labels []bool, k int, seed uint64, cfg TrainConfig) (CVResult, error) {
	if k < 2 {
		return CVResult{}, fmt.Errorf("text: %d folds; at least 2", k)
	}
	fold := Folds(labels, k, seed)
	res := CVResult{Scores: make([]float64, len(texts))}
	for fi := range k {
		var trainT []string
		var trainL []bool
		var testIdx []int
		for i := range texts {
			if fold[i] == fi {
				testIdx = append(testIdx, i)
			} else {
				trainT, trainL = append(trainT, texts[i]), append(trainL, labels[i])
			}
		}
		start := time.Now()
		m, err := Train(f, trainT, trainL, cfg)
		if err != nil {
			return CVResult{}, fmt.Errorf("text: fold %d: %w", fi+1, err)
		}
		res.TrainTime += time.Since(start)
		var c Confusion
		start = time.Now()
		for _, i := range testIdx {
			res.Scores[i] = m.Score(texts[i])
		}
		res.ClassifyTime += time.Since(start)
		for _, i := range testIdx {
			c.Add(res.Scores[i] >= 0.5, labels[i])
		}
		res.Classified += len(testIdx)
		res.Folds = append(res.Folds, c)
		res.Pooled.Merge(c)
	}
	return res, nil
}

// NestedResult is a nested cross-validation's outcome: the outer folds'
// results, and the settings each outer fold chose on its training part.
type NestedResult struct {
	CVResult
	Chosen []TrainConfig
}

// CrossValidateNested estimates the accuracy of choosing training
// settings from grid honestly: for each of the k outer folds, every
// setting is measured by inner-fold cross-validation on the other folds
// only, the one of best inner accuracy (the first on ties) is trained on
// them, and the outer fold is classified with it. The test fold never
// takes part in the choice.
func CrossValidateNested(f Features, texts []string, labels []bool, k, inner int, seed uint64, grid []TrainConfig) (NestedResult, error) {
	if k < 2 || inner < 2 {
		return NestedResult{}, fmt.Errorf("text: %d outer and %d inner folds; at least 2 each", k, inner)
	}
	if len(grid) == 0 {
		return NestedResult{}, fmt.Errorf("text: no settings to choose from")
	}
	vecs := make([]Vector, len(texts))
	for i, t := range texts {
		vecs[i] = f.Vectorize(t)
	}
	fold := Folds(labels, k, seed)
	var res NestedResult
	for fi := range k {
		var trainV []Vector
		var trainL []bool
		for i := range vecs {
			if fold[i] != fi {
				trainV, trainL = append(trainV, vecs[i]), append(trainL, labels[i])
			}
		}
		innerFold := Folds(trainL, inner, seed+uint64(fi)+1)
		best, bestAcc := 0, -1.0
		for gi, cfg := range grid {
			var c Confusion
			for ii := range inner {
				var tv []Vector
				var tl []bool
				for i := range trainV {
					if innerFold[i] != ii {
						tv, tl = append(tv, trainV[i]), append(tl, trainL[i])
					}
				}
				m := TrainVectors(f, tv, tl, cfg)
				for i := range trainV {
					if innerFold[i] == ii {
						c.Add(m.ScoreVector(trainV[i]) >= 0.5, trainL[i])
					}
				}
			}
			if acc := c.Accuracy(); acc > bestAcc {
				best, bestAcc = gi, acc
			}
		}
		start := time.Now()
		m := TrainVectors(f, trainV, trainL, grid[best])
		res.TrainTime += time.Since(start)
		res.Chosen = append(res.Chosen, grid[best])
		var c Confusion
		start = time.Now()
		for i, t := range texts {
			if fold[i] == fi {
				c.Add(m.Score(t) >= 0.5, labels[i])
				res.Classified++
			}
		}
		res.ClassifyTime += time.Since(start)
		res.Folds = append(res.Folds, c)
		res.Pooled.Merge(c)
	}
	return res, nil
}
