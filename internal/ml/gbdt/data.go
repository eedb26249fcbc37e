// Package gbdt trains and runs gradient-boosted decision trees for binary
// classification, in the style of LightGBM's and XGBoost's histogram
// method: features are binned once, each tree is grown leaf by leaf from
// gradient and hessian histograms of the log loss, missing values learn
// which side they go, and training stops early on a validation set. Models
// predict with flattened trees without allocating, explain each prediction
// with exact TreeSHAP, and turn raw scores into calibrated probabilities.
package gbdt

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Dataset is a dense table of features with binary labels. Missing values
// are NaN.
type Dataset struct {
	// Features names the columns.
	Features []string
	// X holds the rows one after another: X[r*len(Features)+f].
	X []float64
	// Y holds the labels (true: positive, e.g. fraud).
	Y []bool
	// Weight, if set, weights each row (default 1).
	Weight []float64
}

// Rows returns the number of rows.
func (d *Dataset) Rows() int { return len(d.Y) }

// Validate checks the shapes and values.
func (d *Dataset) Validate() error {
	nf := len(d.Features)
	switch {
	case nf == 0:
		return errors.New("gbdt: dataset has no features")
	case len(d.X) != len(d.Y)*nf:
		return fmt.Errorf("gbdt: dataset has %d values for %d rows of %d features", len(d.X), len(d.Y), nf)
	case d.Weight != nil && len(d.Weight) != len(d.Y):
		return fmt.Errorf("gbdt: dataset has %d weights for %d rows", len(d.Weight), len(d.Y))
	}
	for i, v := range d.X {
		if math.IsInf(v, 0) {
			return fmt.Errorf("gbdt: row %d feature %s is infinite", i/nf, d.Features[i%nf])
		}
	}
	for i, w := range d.Weight {
		if !(w >= 0) || math.IsInf(w, 0) {
			return fmt.Errorf("gbdt: row %d has weight %v", i, w)
		}
	}
	return nil
}

// bins maps raw feature values to small integers: 0 is missing, 1..n are
// value ranges with upper edges Edges[0..n-2] (the last range is open).
type bins struct {
	Edges [][]float64 // per feature, sorted, unique
}

// maxBins is the largest number of bins a feature may have (bin 0, missing, included).
const maxBins = 256

// buildBins chooses up to nBins-1 value ranges per feature from quantiles
// of the data (every distinct value gets its own range when there are few).
func buildBins(d *Dataset, nBins int) bins {
	nf := len(d.Features)
	rows := d.Rows()
	b := bins{Edges: make([][]float64, nf)}
	vals := make([]float64, 0, rows)
	for f := range nf {
		vals = vals[:0]
		for r := range rows {
			if v := d.X[r*nf+f]; !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		slices.Sort(vals)
		distinct := slices.Compact(slices.Clone(vals))
		ranges := nBins - 1 // bins 1..nBins-1
		var edges []float64
		if len(distinct) <= ranges {
			// One range per distinct value: edges between neighbours.
			for i := 0; i+1 < len(distinct); i++ {
				edges = append(edges, midpoint(distinct[i], distinct[i+1]))
			}
		} else {
			for q := 1; q < ranges; q++ {
				v := vals[q*len(vals)/ranges]
				// The edge sits just below v's distinct successor, so that v
				// and equal values fall left.
				i := sort.SearchFloat64s(distinct, v)
				if i+1 < len(distinct) {
					e := midpoint(distinct[i], distinct[i+1])
					if len(edges) == 0 || e > edges[len(edges)-1] {
						edges = append(edges, e)
					}
				}
			}
		}
		b.Edges[f] = edges
	}
	return b
}

func midpoint(a, b float64) float64 {
	m := a + (b-a)/2
	if m <= a || m >= b { // adjacent floats
		return a
	}
	return m
}

// bin returns the bin of value v of feature f.
func (b *bins) bin(f int, v float64) uint8 {
	if math.IsNaN(v) {
		return 0
	}
	e := b.Edges[f]
	// first edge >= v: values equal to an edge go left (v <= edge).
	i := sort.SearchFloat64s(e, v)
	return uint8(i + 1)
}

// numBins returns the number of bins of feature f, bin 0 included.
func (b *bins) numBins(f int) int { return len(b.Edges[f]) + 2 }

// binned is a dataset's bins, column by column.
type binned struct {
	cols [][]uint8 // cols[f][row]
}

func (b *bins) apply(d *Dataset) binned {
	nf := len(d.Features)
	rows := d.Rows()
	out := binned{cols: make([][]uint8, nf)}
	for f := range nf {
		col := make([]uint8, rows)
		for r := range rows {
			col[r] = b.bin(f, d.X[r*nf+f])
		}
		out.cols[f] = col
	}
	return out
}
