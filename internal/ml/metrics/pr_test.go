package metrics_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/metrics"
)

func TestPR(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.8, 0.4, 0.2}
	labels := []bool{true, false, true, true, false}
	got, err := metrics.PR(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.PRPoint{
		{Threshold: 0.9, Recall: 1.0 / 3, Precision: 1},
		{Threshold: 0.8, Recall: 2.0 / 3, Precision: 2.0 / 3},
		{Threshold: 0.4, Recall: 1, Precision: 3.0 / 4},
		{Threshold: 0.2, Recall: 1, Precision: 3.0 / 5},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d points %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("point %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := metrics.PR([]float64{0.1}, []bool{true}); err == nil {
		t.Error("one class: want an error")
	}
	var b bytes.Buffer
	if err := metrics.WritePRSVG(&b, "model <x>", []metrics.PRCurve{{Name: "m", Points: got}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{">recall<", ">precision<", "model &lt;x&gt;", "<polyline"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("SVG lacks %q", s)
		}
	}
	if strings.Contains(b.String(), "stroke-dasharray=\"6 4\"") {
		t.Error("a PR plot has no chance diagonal")
	}
	if err := metrics.WritePRSVG(&b, "", []metrics.PRCurve{{Name: "bad", Points: []metrics.PRPoint{{Recall: 2}}}}); err == nil {
		t.Error("point outside the plot: want an error")
	}
}
