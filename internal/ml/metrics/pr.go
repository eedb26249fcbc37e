package metrics

import (
	"fmt"
	"io"
	"math"
)

// PRPoint is one point of a precision-recall curve: predicting positive
// every example whose score is >= Threshold gives Recall and Precision.
type PRPoint struct {
	Threshold, Recall, Precision float64
}

// PR returns the precision-recall curve of scores against labels, from
// the highest threshold down, one point per distinct score (tied scores
// form one step).
func PR(scores []float64, labels []bool) ([]PRPoint, error) {
	pos, _, err := check(scores, labels)
	if err != nil {
		return nil, err
	}
	idx := order(scores)
	var pts []PRPoint
	tp, fp := 0, 0
	for i, j := range idx {
		if labels[j] {
			tp++
		} else {
			fp++
		}
		if i+1 < len(idx) && scores[idx[i+1]] == scores[j] {
			continue
		}
		pts = append(pts, PRPoint{Threshold: scores[j], Recall: float64(tp) / float64(pos), Precision: float64(tp) / float64(tp+fp)})
	}
	return pts, nil
}

// PRCurve is a named precision-recall curve, one line of WritePRSVG's plot.
type PRCurve struct {
	Name   string
	Points []PRPoint
}

// WritePRSVG writes to w a self-contained SVG image (640x520) plotting
// precision-recall curves on axes from 0 to 1, with the title above and a
// legend of the curves' names in the lower left. It fails if a point lies
// outside [0, 1]x[0, 1] or if writing to w fails.
func WritePRSVG(w io.Writer, title string, curves []PRCurve) error {
	plot := make([]Curve, len(curves))
	for i, c := range curves {
		plot[i].Name = c.Name
		for j, p := range c.Points {
			if !(p.Recall >= 0 && p.Recall <= 1 && p.Precision >= 0 && p.Precision <= 1) || math.IsNaN(p.Threshold) {
				return fmt.Errorf("metrics: PR SVG: curve %q point %d: (recall, precision) = (%g, %g) outside [0, 1]", c.Name, j, p.Recall, p.Precision)
			}
			plot[i].Points = append(plot[i].Points, ROCPoint{Threshold: p.Threshold, FPR: p.Recall, TPR: p.Precision})
		}
	}
	return writeSVG(w, title, plot, axes{x: "recall", y: "precision", legendLeft: true})
}
