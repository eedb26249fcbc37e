package metrics

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// ROCPoint is one point of an ROC curve: predicting positive every example
// whose score is >= Threshold gives false positive rate FPR and true
// positive rate TPR.
type ROCPoint struct {
	Threshold, FPR, TPR float64
}

// ROC returns the ROC curve of scores against labels, from the highest
// threshold down: the first point is (0, 0) with Threshold +Inf, then one
// point per distinct score (tied scores form one step, with no point inside
// a tie), the last being (1, 1) at the lowest score. It fails as AUC does,
// with ErrLength or ErrOneClass.
func ROC(scores []float64, labels []bool) ([]ROCPoint, error) {
	pos, neg, err := check(scores, labels)
	if err != nil {
		return nil, fmt.Errorf("ROC: %w", err)
	}
	idx := order(scores)
	points := []ROCPoint{{Threshold: math.Inf(1)}}
	var tp, fp int
	for i := 0; i < len(idx); {
		j := i
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if labels[idx[j]] {
				tp++
			} else {
				fp++
			}
		}
		points = append(points, ROCPoint{
			Threshold: scores[idx[i]],
			FPR:       float64(fp) / float64(neg),
			TPR:       float64(tp) / float64(pos),
		})
		i = j
	}
	return points, nil
}

// TPRAt returns the highest TPR among points with FPR <= maxFPR and the
// threshold that gives it; among points of equal TPR it takes the one of
// lowest FPR (on a curve from ROC, the highest threshold). If no point
// qualifies (no points, or maxFPR < 0) it returns 0 and +Inf.
func TPRAt(points []ROCPoint, maxFPR float64) (tpr, threshold float64) {
	tpr, threshold = 0, math.Inf(1)
	found := false
	var bestFPR float64
	for _, p := range points {
		if !(p.FPR <= maxFPR) {
			continue
		}
		if !found || p.TPR > tpr || (p.TPR == tpr && p.FPR < bestFPR) {
			tpr, threshold, bestFPR, found = p.TPR, p.Threshold, p.FPR, true
		}
	}
	return tpr, threshold
}

// Curve is a named ROC curve, one line of WriteROCSVG's plot.
type Curve struct {
	Name   string
	Points []ROCPoint
}

// Layout of WriteROCSVG's image, in SVG user units (pixels).
const (
	svgWidth, svgHeight = 640, 520
	plotLeft, plotRight = 70, 610 // x of FPR 0 and FPR 1
	plotTop, plotBottom = 40, 460 // y of TPR 1 and TPR 0
	// maxSVGPoints is the most points drawn per curve; longer curves are
	// simplified (see simplify).
	maxSVGPoints = 2000
)

// curveColours are the stroke colours of successive curves; past the end
// they repeat with a dash pattern from curveDashes.
var (
	curveColours = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"}
	curveDashes  = []string{"", "8 4", "2 3"}
)

// WriteROCSVG writes to w a self-contained SVG image (640x520) plotting
// curves on FPR and TPR axes from 0 to 1, with the dashed chance diagonal,
// the title above and a legend of the curves' names. Each curve is one
// polyline; curves of more than 2000 points are simplified to at most 2000
// keeping their first and last points and their bends. It fails if a point
// lies outside [0, 1]x[0, 1] or if writing to w fails.
func WriteROCSVG(w io.Writer, title string, curves []Curve) error {
	for _, c := range curves {
		for i, p := range c.Points {
			if !(p.FPR >= 0 && p.FPR <= 1 && p.TPR >= 0 && p.TPR <= 1) {
				return fmt.Errorf("metrics: ROC SVG: curve %q point %d: (FPR, TPR) = (%g, %g) outside [0, 1]", c.Name, i, p.FPR, p.TPR)
			}
		}
	}
	return writeSVG(w, title, curves, axes{x: "false positive rate", y: "true positive rate", diagonal: true})
}

// axes says how writeSVG labels a plot: the axes' names, whether the
// chance diagonal is drawn, and whether the legend goes to the lower left
// (else the lower right).
type axes struct {
	x, y       string
	diagonal   bool
	legendLeft bool
}

// writeSVG plots curves whose points hold x in FPR and y in TPR.
func writeSVG(w io.Writer, title string, curves []Curve, ax axes) error {

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	if title != "" {
		b.WriteString("<title>")
		escape(&b, title)
		b.WriteString("</title>\n")
	}
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", svgWidth, svgHeight)

	// Gridlines, ticks and tick labels every 0.2.
	b.WriteString(`<g stroke="#ddd" stroke-width="1">` + "\n")
	for i := 1; i < 5; i++ {
		v := float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d"/>`+"\n", num(px(v)), plotTop, num(px(v)), plotBottom)
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", plotLeft, num(py(v)), plotRight, num(py(v)))
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g stroke="#000" stroke-width="1">` + "\n")
	for i := 0; i <= 5; i++ {
		v := float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%s" y1="%d" x2="%s" y2="%d"/>`+"\n", num(px(v)), plotBottom, num(px(v)), plotBottom+5)
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", plotLeft-5, num(py(v)), plotLeft, num(py(v)))
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g text-anchor="middle">` + "\n")
	for i := 0; i <= 5; i++ {
		v := float64(i) / 5
		fmt.Fprintf(&b, `<text x="%s" y="%d">%s</text>`+"\n", num(px(v)), plotBottom+19, tickLabel(i))
	}
	b.WriteString("</g>\n")
	b.WriteString(`<g text-anchor="end">` + "\n")
	for i := 0; i <= 5; i++ {
		v := float64(i) / 5
		fmt.Fprintf(&b, `<text x="%d" y="%s">%s</text>`+"\n", plotLeft-8, num(py(v)+4), tickLabel(i))
	}
	b.WriteString("</g>\n")

	// Frame, axis labels, title and chance line.
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#000"/>`+"\n",
		plotLeft, plotTop, plotRight-plotLeft, plotBottom-plotTop)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" font-size="14">%s</text>`+"\n",
		(plotLeft+plotRight)/2, plotBottom+45, ax.x)
	fmt.Fprintf(&b, `<text x="24" y="%d" text-anchor="middle" font-size="14" transform="rotate(-90 24 %d)">%s</text>`+"\n",
		(plotTop+plotBottom)/2, (plotTop+plotBottom)/2, ax.y)
	if title != "" {
		fmt.Fprintf(&b, `<text x="%d" y="26" text-anchor="middle" font-size="16" font-weight="bold">`, (plotLeft+plotRight)/2)
		escape(&b, title)
		b.WriteString("</text>\n")
	}
	if ax.diagonal {
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888" stroke-width="1" stroke-dasharray="6 4"/>`+"\n",
			plotLeft, plotBottom, plotRight, plotTop)
	}

	// Curves.
	for i, c := range curves {
		pts := make([]xy, len(c.Points))
		for j, p := range c.Points {
			pts[j] = xy{px(p.FPR), py(p.TPR)}
		}
		pts = simplify(pts, maxSVGPoints)
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"%s points="`, colour(i), dash(i))
		for j, p := range pts {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(num(p.x))
			b.WriteByte(',')
			b.WriteString(num(p.y))
		}
		b.WriteString(`"/>` + "\n")
	}

	// Legend in the lower right corner, which ROC curves leave empty.
	if len(curves) > 0 {
		const pad, row, sample = 8, 18, 24
		chars := 0
		for _, c := range curves {
			chars = max(chars, utf8.RuneCountInString(c.Name))
		}
		boxW := pad + sample + 6 + 7*chars + pad
		boxH := 2*pad + row*len(curves)
		x0, y0 := plotRight-10-boxW, plotBottom-10-boxH
		if ax.legendLeft {
			x0 = plotLeft + 10
		}
		fmt.Fprintf(&b, `<g class="legend">`+"\n"+`<rect x="%d" y="%d" width="%d" height="%d" fill="#fff" fill-opacity="0.9" stroke="#999"/>`+"\n",
			x0, y0, boxW, boxH)
		for i, c := range curves {
			y := y0 + pad + row*i + row/2
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n",
				x0+pad, y, x0+pad+sample, y, colour(i), dash(i))
			fmt.Fprintf(&b, `<text x="%d" y="%d">`, x0+pad+sample+6, y+4)
			escape(&b, c.Name)
			b.WriteString("</text>\n")
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")

	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("metrics: write SVG: %w", err)
	}
	return nil
}

// px and py map an FPR and a TPR to image coordinates.
func px(fpr float64) float64 { return plotLeft + fpr*(plotRight-plotLeft) }
func py(tpr float64) float64 { return plotBottom - tpr*(plotBottom-plotTop) }

// num formats an image coordinate to two decimals, without trailing zeros.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// tickLabel is the label of the i-th tick, at i/5.
func tickLabel(i int) string {
	return [...]string{"0", "0.2", "0.4", "0.6", "0.8", "1"}[i]
}

func colour(i int) string { return curveColours[i%len(curveColours)] }

// dash returns the stroke-dasharray attribute of the i-th curve, empty for
// the first round of colours.
func dash(i int) string {
	d := curveDashes[(i/len(curveColours))%len(curveDashes)]
	if d == "" {
		return ""
	}
	return ` stroke-dasharray="` + d + `"`
}

// escape writes s to b as XML character data.
func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer does not fail
}

// xy is a point in image coordinates.
type xy struct{ x, y float64 }

// simplify returns pts unchanged if it holds at most maxPoints points, else
// a subsequence of at most maxPoints points from Ramer-Douglas-Peucker
// simplification: the first and last points are kept, and so is every point
// where the line bends by more than a tolerance, which starts at 0.1 pixel
// and doubles until few enough points remain.
func simplify(pts []xy, maxPoints int) []xy {
	if len(pts) <= maxPoints {
		return pts
	}
	for tol := 0.1; ; tol *= 2 {
		if out := rdp(pts, tol); len(out) <= maxPoints {
			return out
		}
	}
}

// rdp returns the points of pts that Ramer-Douglas-Peucker simplification
// with tolerance tol keeps; pts holds at least two points.
func rdp(pts []xy, tol float64) []xy {
	keep := make([]bool, len(pts))
	keep[0], keep[len(pts)-1] = true, true
	stack := [][2]int{{0, len(pts) - 1}}
	for len(stack) > 0 {
		a, b := stack[len(stack)-1][0], stack[len(stack)-1][1]
		stack = stack[:len(stack)-1]
		far, dist := -1, tol
		for i := a + 1; i < b; i++ {
			if d := segDist(pts[i], pts[a], pts[b]); d > dist {
				far, dist = i, d
			}
		}
		if far >= 0 {
			keep[far] = true
			stack = append(stack, [2]int{a, far}, [2]int{far, b})
		}
	}
	var out []xy
	for i, k := range keep {
		if k {
			out = append(out, pts[i])
		}
	}
	return out
}

// segDist returns the distance from p to the segment from a to b.
func segDist(p, a, b xy) float64 {
	dx, dy := b.x-a.x, b.y-a.y
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = math.Min(1, math.Max(0, ((p.x-a.x)*dx+(p.y-a.y)*dy)/l2))
	}
	return math.Hypot(p.x-(a.x+t*dx), p.y-(a.y+t*dy))
}
