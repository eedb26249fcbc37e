package metrics

import (
	"fmt"
	"math"
)

// EER returns the equal-error rate of scores against labels (true: the
// positive class, expected to score higher; for a biometric detector the
// impostors): the rate at which the false positive rate equals the false
// negative rate (1 - TPR). Between two thresholds of the ROC curve the
// rates are interpolated linearly, which is what a classifier picking
// either threshold at random achieves; tied scores are one step of the
// curve, as in ROC. It is 0 for a perfect separation, 0.5 when every score
// ties, 1 for a perfectly reversed one. It fails as ROC does, and if a
// score is NaN.
func EER(scores []float64, labels []bool) (float64, error) {
	for i, s := range scores {
		if math.IsNaN(s) {
			return 0, fmt.Errorf("metrics: EER: score %d is NaN", i)
		}
	}
	points, err := ROC(scores, labels)
	if err != nil {
		return 0, fmt.Errorf("metrics: EER: %w", err)
	}
	return EERFromROC(points), nil
}

// EERFromROC returns the equal-error rate of an ROC curve as ROC returns
// it (points from (0, 0) to (1, 1) by increasing FPR and TPR): the rate at
// which FPR equals 1 - TPR, interpolating linearly between the two points
// that bracket it. On an empty curve it returns 1.
func EERFromROC(points []ROCPoint) float64 {
	// d = FPR - FNR rises from -1 at (0, 0) to 1 at (1, 1).
	gap := func(p ROCPoint) float64 { return p.FPR - (1 - p.TPR) }
	for i, p := range points {
		d := gap(p)
		if d < 0 {
			continue
		}
		if i == 0 || d == 0 {
			return p.FPR
		}
		q := points[i-1]
		dq := gap(q)
		t := -dq / (d - dq)
		return q.FPR + t*(p.FPR-q.FPR)
	}
	return 1
}
