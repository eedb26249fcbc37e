package metrics

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var inf = math.Inf(1)

func TestROC(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		want   []ROCPoint
	}{
		{"perfect", []float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false},
			[]ROCPoint{{inf, 0, 0}, {0.9, 0, 0.5}, {0.8, 0, 1}, {0.2, 0.5, 1}, {0.1, 1, 1}}},
		{"sklearn doc example", []float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true},
			[]ROCPoint{{inf, 0, 0}, {0.8, 0, 0.5}, {0.4, 0.5, 0.5}, {0.35, 0.5, 1}, {0.1, 1, 1}}},
		{"ties across classes", []float64{0.9, 0.5, 0.5, 0.1}, []bool{true, true, false, false},
			[]ROCPoint{{inf, 0, 0}, {0.9, 0, 0.5}, {0.5, 0.5, 1}, {0.1, 1, 1}}},
		{"all tied", []float64{0.5, 0.5, 0.5, 0.5}, []bool{true, false, true, false},
			[]ROCPoint{{inf, 0, 0}, {0.5, 1, 1}}},
		{"unsorted with a tie of three", []float64{0.3, 0.7, 0.7, 0.7, 0.1}, []bool{true, true, false, true, false},
			[]ROCPoint{{inf, 0, 0}, {0.7, 0.5, 2.0 / 3}, {0.3, 0.5, 1}, {0.1, 1, 1}}},
		{"negative scores", []float64{-1, -2, -3}, []bool{false, true, false},
			[]ROCPoint{{inf, 0, 0}, {-1, 0.5, 0}, {-2, 0.5, 1}, {-3, 1, 1}}},
	}
	for _, tc := range tests {
		got, err := ROC(tc.scores, tc.labels)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.EqualFunc(got, tc.want, func(a, b ROCPoint) bool {
			return a.Threshold == b.Threshold && math.Abs(a.FPR-b.FPR) < 1e-12 && math.Abs(a.TPR-b.TPR) < 1e-12
		}) {
			t.Errorf("%s: ROC =\n%v\nwant\n%v", tc.name, got, tc.want)
		}
	}
}

// TestROCMatchesAUC checks on random data with many ties that the curve is
// monotone, runs from (0, 0) to exactly (1, 1), has one point per distinct
// score and that its trapezoid area is AUC.
func TestROCMatchesAUC(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		s, l := randomScores(rng, 50+rng.IntN(200), 30)
		points, err := ROC(s, l)
		if err != nil {
			t.Fatal(err)
		}
		distinct := len(slices.Compact(slices.Sorted(slices.Values(s))))
		if len(points) != distinct+1 {
			t.Fatalf("%d points for %d distinct scores", len(points), distinct)
		}
		if first, last := points[0], points[len(points)-1]; first != (ROCPoint{inf, 0, 0}) || last.FPR != 1 || last.TPR != 1 {
			t.Fatalf("curve runs from %v to %v", first, last)
		}
		var area float64
		for i := 1; i < len(points); i++ {
			p, q := points[i-1], points[i]
			if !(q.Threshold < p.Threshold && q.FPR >= p.FPR && q.TPR >= p.TPR) {
				t.Fatalf("not monotone at %d: %v then %v", i, p, q)
			}
			area += (q.FPR - p.FPR) * (p.TPR + q.TPR) / 2
		}
		auc, _ := AUC(s, l)
		if math.Abs(area-auc) > 1e-12 {
			t.Fatalf("area under ROC = %v, AUC = %v", area, auc)
		}
	}
}

func TestROCErrors(t *testing.T) {
	tests := []struct {
		name   string
		scores []float64
		labels []bool
		want   error
	}{
		{"empty", nil, nil, ErrLength},
		{"length mismatch", []float64{1, 2}, []bool{true}, ErrLength},
		{"all positive", []float64{1, 2}, []bool{true, true}, ErrOneClass},
		{"all negative", []float64{1, 2, 3}, []bool{false, false, false}, ErrOneClass},
	}
	for _, tc := range tests {
		points, err := ROC(tc.scores, tc.labels)
		if !errors.Is(err, tc.want) || points != nil {
			t.Errorf("%s: ROC = %v, %v; want error %v", tc.name, points, err, tc.want)
		}
	}
}

func TestTPRAt(t *testing.T) {
	doc, _ := ROC([]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true})
	ties, _ := ROC([]float64{0.9, 0.5, 0.5, 0.1}, []bool{true, true, false, false})
	tests := []struct {
		name           string
		points         []ROCPoint
		maxFPR         float64
		tpr, threshold float64
	}{
		{"no false positives", doc, 0, 0.5, 0.8},
		{"just below a step", doc, 0.49, 0.5, 0.8},
		{"on a step", doc, 0.5, 1, 0.35},
		{"all allowed takes the lowest FPR", doc, 1, 1, 0.35},
		{"tie crosses the limit", ties, 0.4, 0.5, 0.9},
		{"tie within the limit", ties, 0.5, 1, 0.5},
		{"negative limit", doc, -0.1, 0, inf},
		{"no points", nil, 0.5, 0, inf},
		{"NaN limit", doc, math.NaN(), 0, inf},
	}
	for _, tc := range tests {
		tpr, thr := TPRAt(tc.points, tc.maxFPR)
		if tpr != tc.tpr || thr != tc.threshold {
			t.Errorf("%s: TPRAt(%v) = %v, %v; want %v, %v", tc.name, tc.maxFPR, tpr, thr, tc.tpr, tc.threshold)
		}
	}
}

// svgElements parses an SVG document, failing the test if it is not
// well-formed XML, and returns its start elements and character data.
func svgElements(t *testing.T, doc []byte) (elems []xml.StartElement, text []string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return elems, text
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			elems = append(elems, tok.Copy())
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				text = append(text, s)
			}
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// polylinePoints returns the coordinates of each polyline of the document.
func polylinePoints(t *testing.T, elems []xml.StartElement) [][]xy {
	t.Helper()
	var lines [][]xy
	for _, e := range elems {
		if e.Name.Local != "polyline" {
			continue
		}
		var pts []xy
		for f := range strings.FieldsSeq(attr(e, "points")) {
			xs, ys, ok := strings.Cut(f, ",")
			x, err1 := strconv.ParseFloat(xs, 64)
			y, err2 := strconv.ParseFloat(ys, 64)
			if !ok || err1 != nil || err2 != nil {
				t.Fatalf("bad polyline point %q", f)
			}
			pts = append(pts, xy{x, y})
		}
		lines = append(lines, pts)
	}
	return lines
}

func testCurves(t *testing.T) []Curve {
	t.Helper()
	a, err := ROC([]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ROC([]float64{0.9, 0.5, 0.5, 0.1, 0.3}, []bool{true, true, false, false, true})
	if err != nil {
		t.Fatal(err)
	}
	return []Curve{{"model A", a}, {`B <&> "quoted"`, b}, {"empty", nil}}
}

func TestWriteROCSVG(t *testing.T) {
	curves := testCurves(t)
	var buf bytes.Buffer
	if err := WriteROCSVG(&buf, "ROC <test> & more", curves); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	elems, text := svgElements(t, out)
	if elems[0].Name.Local != "svg" || attr(elems[0], "width") != "640" || attr(elems[0], "height") != "520" {
		t.Errorf("root element %v", elems[0])
	}
	lines := polylinePoints(t, elems)
	if len(lines) != len(curves) {
		t.Fatalf("%d polylines for %d curves", len(lines), len(curves))
	}
	for i, c := range curves {
		if len(lines[i]) != len(c.Points) {
			t.Errorf("curve %q: %d points drawn of %d", c.Name, len(lines[i]), len(c.Points))
		}
		for j, p := range c.Points {
			if j < len(lines[i]) && (math.Abs(lines[i][j].x-px(p.FPR)) > 0.01 || math.Abs(lines[i][j].y-py(p.TPR)) > 0.01) {
				t.Errorf("curve %q point %d drawn at %v, want (%v, %v)", c.Name, j, lines[i][j], px(p.FPR), py(p.TPR))
			}
		}
	}
	strokes := map[string]bool{}
	for _, e := range elems {
		if e.Name.Local == "polyline" {
			strokes[attr(e, "stroke")] = true
		}
	}
	if len(strokes) != len(curves) {
		t.Errorf("curves drawn in %d colours: %v", len(strokes), strokes)
	}
	for _, want := range []string{"false positive rate", "true positive rate", "ROC <test> & more", "0.2", "0.8",
		"model A", `B <&> "quoted"`, "empty"} {
		if !slices.Contains(text, want) {
			t.Errorf("text %q missing from %q", want, text)
		}
	}
	if !bytes.Contains(out, []byte("B &lt;&amp;&gt; &#34;quoted&#34;")) || bytes.Contains(out, []byte("<&>")) {
		t.Errorf("curve name not escaped:\n%s", out)
	}
	dashed := 0
	for _, e := range elems {
		if e.Name.Local == "line" && attr(e, "stroke-dasharray") != "" {
			dashed++
		}
	}
	if dashed != 1 {
		t.Errorf("%d dashed lines, want the chance line only", dashed)
	}

	const golden = "testdata/roc.golden.svg"
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("WriteROCSVG output differs from %s (rerun with -update if intended):\n%s", golden, out)
	}
}

func TestWriteROCSVGManyCurves(t *testing.T) {
	curves := make([]Curve, 2*len(curveColours)+1)
	for i := range curves {
		curves[i] = Curve{Name: strconv.Itoa(i), Points: []ROCPoint{{inf, 0, 0}, {0, 1, 1}}}
	}
	var buf bytes.Buffer
	if err := WriteROCSVG(&buf, "", curves); err != nil {
		t.Fatal(err)
	}
	elems, _ := svgElements(t, buf.Bytes())
	styles := map[string]bool{}
	for _, e := range elems {
		if e.Name.Local == "polyline" {
			styles[attr(e, "stroke")+"/"+attr(e, "stroke-dasharray")] = true
		}
	}
	if len(styles) != len(curves) {
		t.Errorf("%d curves drawn in %d styles", len(curves), len(styles))
	}
	if bytes.Contains(buf.Bytes(), []byte("<title>")) {
		t.Error("empty title written")
	}
}

// TestWriteROCSVGDownsamples checks that a long curve is drawn with at most
// 2000 points, starting and ending where it does.
func TestWriteROCSVGDownsamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 200_000
	s := make([]float64, n)
	l := make([]bool, n)
	for i := range s {
		l[i] = rng.Float64() < 0.5
		s[i] = rng.NormFloat64()
		if l[i] {
			s[i] += 1
		}
	}
	points, err := ROC(s, l)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteROCSVG(&buf, "big", []Curve{{"big", points}}); err != nil {
		t.Fatal(err)
	}
	elems, _ := svgElements(t, buf.Bytes())
	lines := polylinePoints(t, elems)
	if len(lines) != 1 || len(lines[0]) > maxSVGPoints || len(lines[0]) < 50 {
		t.Fatalf("%d points drawn of %d", len(lines[0]), len(points))
	}
	pts := lines[0]
	if first, last := pts[0], pts[len(pts)-1]; first != (xy{plotLeft, plotBottom}) || last != (xy{plotRight, plotTop}) {
		t.Errorf("drawn from %v to %v", first, last)
	}
	if buf.Len() > 64<<10 {
		t.Errorf("SVG of %d bytes", buf.Len())
	}
}

func TestSimplify(t *testing.T) {
	// A line bending at three points, sampled finely on each segment.
	bends := []xy{{0, 100}, {10, 40}, {50, 12}, {100, 0}}
	var pts []xy
	for i := 1; i < len(bends); i++ {
		a, b := bends[i-1], bends[i]
		for k := range 1000 {
			f := float64(k) / 1000
			pts = append(pts, xy{a.x + f*(b.x-a.x), a.y + f*(b.y-a.y)})
		}
	}
	pts = append(pts, bends[len(bends)-1])
	tests := []struct {
		name string
		pts  []xy
		max  int
		want []xy
	}{
		{"short curve kept as is", pts[:500], 500, pts[:500]},
		{"bends kept", pts, 2000, bends},
		{"two points", pts, 2, []xy{bends[0], bends[3]}},
	}
	for _, tc := range tests {
		got := simplify(tc.pts, tc.max)
		if len(got) > tc.max || !slices.Equal(got, tc.want) {
			t.Errorf("%s: simplify gives %d points %.4v; want %d points %.4v", tc.name, len(got), got[:min(len(got), 8)], len(tc.want), tc.want[:min(len(tc.want), 8)])
		}
	}
}

type failWriter struct{}

var errFail = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errFail }

func TestWriteROCSVGErrors(t *testing.T) {
	tests := []struct {
		name   string
		w      io.Writer
		curves []Curve
		want   error
	}{
		{"write fails", failWriter{}, []Curve{{"a", []ROCPoint{{inf, 0, 0}, {0, 1, 1}}}}, errFail},
		{"FPR above 1", io.Discard, []Curve{{"a", []ROCPoint{{inf, 0, 0}, {0, 1.5, 1}}}}, nil},
		{"negative TPR", io.Discard, []Curve{{"a", []ROCPoint{{inf, 0, -0.1}}}}, nil},
		{"NaN", io.Discard, []Curve{{"ok", nil}, {"a", []ROCPoint{{inf, math.NaN(), 0}}}}, nil},
	}
	for _, tc := range tests {
		err := WriteROCSVG(tc.w, "t", tc.curves)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: WriteROCSVG = %v; want an error wrapping %v", tc.name, err, tc.want)
		}
	}
}
