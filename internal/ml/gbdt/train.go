package gbdt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Params are the training settings. Zero values take the defaults of
// DefaultParams.
type Params struct {
	// Trees is the most trees to grow (early stopping may keep fewer).
	Trees int
	// LearningRate shrinks each tree's contribution.
	LearningRate float64
	// MaxLeaves caps the leaves of a tree (grown best leaf first).
	MaxLeaves int
	// MaxDepth caps a tree's depth, 1..32.
	MaxDepth int
	// MinDataInLeaf is the fewest training rows a leaf may hold.
	MinDataInLeaf int
	// MinHessian is the least hessian sum a leaf may hold.
	MinHessian float64
	// L2 regularises leaf values (XGBoost's lambda).
	L2 float64
	// MinGain is the least loss reduction a split must bring.
	MinGain float64
	// Subsample is the share of rows each tree sees (bagging), 0..1.
	Subsample float64
	// ColSample is the share of features each tree may split on, 0..1.
	ColSample float64
	// Bins is the number of histogram bins per feature (2..256).
	Bins int
	// PositiveWeight multiplies the weight of positive rows (rare fraud);
	// 0 sets it to negatives/positives, capped at 100.
	PositiveWeight float64
	// EarlyStopping stops when the validation loss has not improved for
	// this many trees (0: never).
	EarlyStopping int
	// Seed makes subsampling, and so the model, repeatable.
	Seed uint64
	// Threads is the number of goroutines (0: GOMAXPROCS).
	Threads int
}

// DefaultParams returns the defaults.
func DefaultParams() Params {
	return Params{Trees: 300, LearningRate: 0.1, MaxLeaves: 31, MaxDepth: 8, MinDataInLeaf: 20, MinHessian: 1e-3,
		L2: 1, Subsample: 0.8, ColSample: 0.9, Bins: 255, PositiveWeight: 1, EarlyStopping: 30, Seed: 1}
}

func (p Params) withDefaults() Params {
	d := DefaultParams()
	if p.Trees == 0 {
		p.Trees = d.Trees
	}
	if p.LearningRate == 0 {
		p.LearningRate = d.LearningRate
	}
	if p.MaxLeaves == 0 {
		p.MaxLeaves = d.MaxLeaves
	}
	if p.MaxDepth == 0 {
		p.MaxDepth = d.MaxDepth
	}
	if p.MinDataInLeaf == 0 {
		p.MinDataInLeaf = d.MinDataInLeaf
	}
	if p.MinHessian == 0 {
		p.MinHessian = d.MinHessian
	}
	if p.Subsample == 0 {
		p.Subsample = 1
	}
	if p.ColSample == 0 {
		p.ColSample = 1
	}
	if p.Bins == 0 {
		p.Bins = d.Bins
	}
	if p.Threads <= 0 {
		p.Threads = runtime.GOMAXPROCS(0)
	}
	return p
}

// Validate reports settings out of range.
func (p Params) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("gbdt: "+format, args...))
		}
	}
	check(p.Trees >= 1 && p.Trees <= 100_000, "trees %d outside 1..100000", p.Trees)
	check(p.LearningRate > 0 && p.LearningRate <= 1, "learning rate %v outside (0, 1]", p.LearningRate)
	check(p.MaxLeaves >= 2 && p.MaxLeaves <= 4096, "max leaves %d outside 2..4096", p.MaxLeaves)
	check(p.MaxDepth >= 1 && p.MaxDepth <= 32, "max depth %d outside 1..32", p.MaxDepth)
	check(p.MinDataInLeaf >= 1, "min data in leaf %d below 1", p.MinDataInLeaf)
	check(p.L2 >= 0 && p.MinGain >= 0 && p.MinHessian >= 0, "l2, min gain and min hessian must not be negative")
	check(p.Subsample > 0 && p.Subsample <= 1, "subsample %v outside (0, 1]", p.Subsample)
	check(p.ColSample > 0 && p.ColSample <= 1, "column sample %v outside (0, 1]", p.ColSample)
	check(p.Bins >= 2 && p.Bins <= maxBins, "bins %d outside 2..%d", p.Bins, maxBins)
	check(p.PositiveWeight >= 0, "positive weight %v is negative", p.PositiveWeight)
	check(p.EarlyStopping >= 0, "early stopping %d is negative", p.EarlyStopping)
	return errors.Join(errs...)
}

// Errors of Train.
var (
	// ErrTooFewPositives means the training data cannot teach a model.
	ErrTooFewPositives = errors.New("gbdt: too few positive and negative rows to learn from")
)

// MinClassRows is the fewest rows of each class Train accepts.
const MinClassRows = 10

// Progress reports one trained tree.
type Progress struct {
	Tree      int
	TrainLoss float64
	// TrainLoss is the weighted log loss on the training rows.
	// ValidLoss is NaN without a validation set.
	ValidLoss float64
	// Best is the tree count with the lowest validation loss so far.
	Best    int
	Elapsed time.Duration
}

// Train grows a model on train, stopping early on valid (which may be nil).
// progress, if set, is called after each tree.
func Train(ctx context.Context, p Params, train, valid *Dataset, progress func(Progress)) (*Model, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := train.Validate(); err != nil {
		return nil, err
	}
	if valid != nil {
		if err := valid.Validate(); err != nil {
			return nil, fmt.Errorf("validation set: %w", err)
		}
		if !slices.Equal(valid.Features, train.Features) {
			return nil, errors.New("gbdt: validation set has other features than the training set")
		}
	}
	var pos, neg, wPos, wNeg float64
	for i, y := range train.Y {
		w := 1.0
		if train.Weight != nil {
			w = train.Weight[i]
		}
		if y {
			pos++
			wPos += w
		} else {
			neg++
			wNeg += w
		}
	}
	if pos < MinClassRows || neg < MinClassRows {
		return nil, fmt.Errorf("%w: %v positive and %v negative rows, want at least %d of each", ErrTooFewPositives, pos, neg, MinClassRows)
	}
	if p.PositiveWeight == 0 {
		p.PositiveWeight = math.Min(100, wNeg/wPos)
	}
	t := newTrainer(p, train)
	// Start from the weighted log-odds of the training labels.
	base := math.Log(wPos * p.PositiveWeight / wNeg)
	m := &Model{Features: slices.Clone(train.Features), Base: base, Params: p}
	for i := range t.raw {
		t.raw[i] = base
	}
	var validRaw []float64
	if valid != nil {
		validRaw = make([]float64, valid.Rows())
		for i := range validRaw {
			validRaw[i] = base
		}
	}
	start := time.Now()
	bestLoss, best := math.Inf(1), 0
	var bestRaw []float64
	for it := range p.Trees {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tree := t.grow(it)
		m.Trees = append(m.Trees, tree)
		t.addTree(&tree)
		pr := Progress{Tree: it + 1, TrainLoss: math.NaN(), ValidLoss: math.NaN(), Best: it + 1, Elapsed: time.Since(start)}
		if progress != nil {
			pr.TrainLoss = t.loss() // only when someone reads it: it costs a pass over every row
		}
		if valid != nil {
			nf := len(valid.Features)
			t.parallel(len(validRaw), func(lo, hi int) {
				for r := lo; r < hi; r++ {
					validRaw[r] += tree.predict(valid.X[r*nf : (r+1)*nf])
				}
			})
			pr.ValidLoss = weightedLogLoss(validRaw, valid.Y, valid.Weight, p.PositiveWeight)
			if pr.ValidLoss < bestLoss-1e-12 {
				bestLoss, best = pr.ValidLoss, it+1
				bestRaw = append(bestRaw[:0], validRaw...) // the scores calibration fits
			}
			pr.Best = best
		}
		if progress != nil {
			progress(pr)
		}
		if valid != nil && p.EarlyStopping > 0 && it+1-best >= p.EarlyStopping {
			break
		}
	}
	if valid != nil && best > 0 {
		m.Trees = m.Trees[:best]
	}
	m.Calibration = Calibration{A: 1, B: 0}
	if valid != nil && best > 0 {
		m.Calibration = fitPlatt(bestRaw, valid.Y)
	}
	m.compile()
	return m, nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func weightedLogLoss(raw []float64, y []bool, w []float64, posWeight float64) float64 {
	var sum, tw float64
	for i, r := range raw {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		if y[i] {
			wi *= posWeight
			sum += wi * math.Log1p(math.Exp(-r))
		} else {
			sum += wi * math.Log1p(math.Exp(r))
		}
		tw += wi
	}
	return sum / tw
}

// gradPair is a row's gradient and hessian of the loss.
type gradPair struct{ g, h float64 }

// trainer holds the state of one training run.
type trainer struct {
	p       Params
	d       *Dataset
	bins    bins
	data    binned
	nf      int
	rows    int
	weight  []float64  // per row, positive weight applied
	raw     []float64  // current raw score per row
	gh      []gradPair // per row, side by side for the histogram loop
	ordered []gradPair // scratch: gh of one leaf's rows, in their order
	scratch []int32    // scratch: the right side of a partition
	// freeHists are histogram sets no leaf uses any more, for reuse;
	// histOff[f] is where feature f's bins start in a set.
	freeHists []*histSet
	histOff   []int
	feats     []int  // scratch: the features in use
	sampled   []bool // rows the latest tree was grown on (their scores are already updated)
	rng       *rand.Rand
	threads   int
}

func newTrainer(p Params, d *Dataset) *trainer {
	t := &trainer{p: p, d: d, nf: len(d.Features), rows: d.Rows(), threads: p.Threads,
		rng: rand.New(rand.NewPCG(p.Seed, 0x5eed))}
	t.bins = buildBins(d, p.Bins)
	t.data = t.bins.apply(d)
	t.weight = make([]float64, t.rows)
	for i, y := range d.Y {
		w := 1.0
		if d.Weight != nil {
			w = d.Weight[i]
		}
		if y {
			w *= p.PositiveWeight
		}
		t.weight[i] = w
	}
	t.raw = make([]float64, t.rows)
	t.gh = make([]gradPair, t.rows)
	t.sampled = make([]bool, t.rows)
	return t
}

func (t *trainer) loss() float64 {
	return weightedLogLoss(t.raw, t.d.Y, t.d.Weight, t.p.PositiveWeight)
}

// parallel runs fn over [0, n) in t.threads contiguous chunks.
func (t *trainer) parallel(n int, fn func(lo, hi int)) {
	if t.threads <= 1 || n < 4096 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + t.threads - 1) / t.threads
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// gradients of the weighted log loss at the current raw scores.
func (t *trainer) gradients() {
	t.parallel(t.rows, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := sigmoid(t.raw[i])
			y := 0.0
			if t.d.Y[i] {
				y = 1
			}
			w := t.weight[i]
			t.gh[i] = gradPair{g: w * (p - y), h: math.Max(w*p*(1-p), 1e-16)}
		}
	})
}

// addTree adds a new tree's output to the raw score of every training row
// it was not grown on (grow has updated the others).
func (t *trainer) addTree(tree *Tree) {
	t.parallel(t.rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			if !t.sampled[r] {
				t.raw[r] += tree.predict(t.d.X[r*t.nf : (r+1)*t.nf])
			}
		}
	})
}
