package gbdt

import (
	"fmt"
	"math"
)

// missingLeftBit marks, in Node.Feature, a split whose missing values go left.
const missingLeftBit = -1 << 31

// Node is a node of a flattened tree. A leaf has Left == 0 and its value in
// Threshold. A split sends x[feature] <= Threshold to Left and greater
// values to Left+1; a missing value goes left when the sign bit of Feature
// is set, right otherwise.
type Node struct {
	Threshold float64
	Feature   int32
	Left      int32
}

// Tree is one flattened tree; Cover[i] is the training hessian that
// reached node i (TreeSHAP weighs the branches by it).
type Tree struct {
	Nodes []Node
	Cover []float64
}

func (n *Node) feature() int { return int(n.Feature &^ missingLeftBit) }

// predict returns the tree's output for row x.
func (t *Tree) predict(x []float64) float64 {
	nodes := t.Nodes
	i := 0
	for {
		n := &nodes[i]
		if n.Left == 0 {
			return n.Threshold
		}
		v := x[n.Feature&^missingLeftBit]
		switch {
		case v <= n.Threshold:
			i = int(n.Left)
		case v > n.Threshold:
			i = int(n.Left) + 1
		case n.Feature < 0: // NaN, missing goes left
			i = int(n.Left)
		default:
			i = int(n.Left) + 1
		}
	}
}

// Calibration maps a raw score to a probability: sigmoid(A*raw + B)
// (Platt scaling fitted on validation data).
type Calibration struct {
	A, B float64
}

// Model is a trained model.
type Model struct {
	// Features names the inputs, in the order rows must give them.
	Features []string
	// Base is the raw score before any tree.
	Base        float64
	Trees       []Tree
	Calibration Calibration
	// Params are the settings it was trained with (for the record).
	Params Params

	// fast is Trees compiled for prediction (nil for a Model built by
	// hand; Raw then walks Trees).
	fast *compiled
}

// Raw returns the model's raw score (log-odds before calibration) for x,
// which holds one value per feature (NaN for missing). It does not allocate.
func (m *Model) Raw(x []float64) float64 {
	if m.fast != nil {
		return m.Base + m.fast.raw(x)
	}
	s := m.Base
	for i := range m.Trees {
		s += m.Trees[i].predict(x)
	}
	return s
}

// Probability returns the calibrated probability that x is positive.
func (m *Model) Probability(x []float64) float64 {
	return sigmoid(m.Calibration.A*m.Raw(x) + m.Calibration.B)
}

// Score maps the calibrated probability to shopguard's 0-100 score.
func (m *Model) Score(x []float64) int {
	return int(math.Round(100 * m.Probability(x)))
}

// CheckRow reports a row of the wrong width.
func (m *Model) CheckRow(x []float64) error {
	if len(x) != len(m.Features) {
		return fmt.Errorf("gbdt: row has %d values, the model needs %d", len(x), len(m.Features))
	}
	return nil
}

// fitPlatt fits sigmoid(a*raw+b) to the labels by Newton's method on the
// log loss, with Platt's target smoothing against overfitting.
func fitPlatt(raw []float64, y []bool) Calibration {
	var pos, neg float64
	for _, v := range y {
		if v {
			pos++
		} else {
			neg++
		}
	}
	hi, lo := (pos+1)/(pos+2), 1/(neg+2)
	a, b := 1.0, 0.0
	for iter := 0; iter < 100; iter++ {
		var ga, gb, haa, hab, hbb float64
		for i, r := range raw {
			t := lo
			if y[i] {
				t = hi
			}
			p := sigmoid(a*r + b)
			d := p - t
			w := math.Max(p*(1-p), 1e-12)
			ga += d * r
			gb += d
			haa += w * r * r
			hab += w * r
			hbb += w
		}
		haa += 1e-9
		hbb += 1e-9
		det := haa*hbb - hab*hab
		if det <= 0 {
			break
		}
		da := (hbb*ga - hab*gb) / det
		db := (haa*gb - hab*ga) / det
		a -= da
		b -= db
		if math.Abs(da) < 1e-10 && math.Abs(db) < 1e-10 {
			break
		}
	}
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return Calibration{A: 1}
	}
	return Calibration{A: a, B: b}
}
