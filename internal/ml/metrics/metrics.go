// Package metrics scores binary classifiers: ROC AUC, average precision and
// log loss, computed exactly (ties handled as scikit-learn does).
package metrics

import (
	"errors"
	"math"
	"sort"
)

// ErrOneClass is returned when the labels hold only one class, so that a
// ranking metric is undefined.
var ErrOneClass = errors.New("metrics: labels hold only one class")

// ErrLength is returned when scores and labels differ in length or are empty.
var ErrLength = errors.New("metrics: scores and labels must be non-empty and of equal length")

// order returns the indices of scores sorted by decreasing score.
func order(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}

func check(scores []float64, labels []bool) (pos, neg int, err error) {
	if len(scores) == 0 || len(scores) != len(labels) {
		return 0, 0, ErrLength
	}
	for _, l := range labels {
		if l {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return pos, neg, ErrOneClass
	}
	return pos, neg, nil
}

// AUC returns the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting one half.
func AUC(scores []float64, labels []bool) (float64, error) {
	pos, neg, err := check(scores, labels)
	if err != nil {
		return 0, err
	}
	idx := order(scores)
	// Walk groups of equal scores from the top; each negative in a group
	// ranks below the positives seen before it and ties with the group's.
	var area, tp float64
	for i := 0; i < len(idx); {
		j := i
		var gp, gn float64
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if labels[idx[j]] {
				gp++
			} else {
				gn++
			}
		}
		area += gn * (tp + gp/2)
		tp += gp
		i = j
	}
	return area / (float64(pos) * float64(neg)), nil
}

// AveragePrecision returns the precision averaged over recall steps,
// sum over thresholds of (R_n - R_{n-1}) * P_n, thresholds at each
// distinct score (scikit-learn's average_precision_score).
func AveragePrecision(scores []float64, labels []bool) (float64, error) {
	pos, _, err := check(scores, labels)
	if err != nil {
		return 0, err
	}
	idx := order(scores)
	var ap, tp, seen, prevRecall float64
	for i := 0; i < len(idx); {
		j := i
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			seen++
			if labels[idx[j]] {
				tp++
			}
		}
		recall := tp / float64(pos)
		ap += (recall - prevRecall) * (tp / seen)
		prevRecall = recall
		i = j
	}
	return ap, nil
}

// LogLoss returns the mean negative log-likelihood of probabilities p
// (clipped to [1e-15, 1-1e-15]).
func LogLoss(p []float64, labels []bool) (float64, error) {
	if len(p) == 0 || len(p) != len(labels) {
		return 0, ErrLength
	}
	var sum float64
	for i, v := range p {
		v = math.Min(math.Max(v, 1e-15), 1-1e-15)
		if labels[i] {
			sum -= math.Log(v)
		} else {
			sum -= math.Log(1 - v)
		}
	}
	return sum / float64(len(p)), nil
}
