// Package text is shopguard's small text models: texts (messages, URLs,
// reviews) hashed into sparse vectors of word and character n-grams, and
// a linear classifier (logistic regression, trained by AdaGrad with L2
// regularisation) that scores them and names the n-grams that weighed
// most. Everything runs in-process: no text leaves the machine.
package text

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Features says which n-grams a text is hashed into.
type Features struct {
	// CharMin..CharMax are the character n-gram lengths (0: none).
	CharMin, CharMax int
	// WordMin..WordMax are the word n-gram lengths (0: none).
	WordMin, WordMax int
	// Bits is the log2 of the hashed vector's size (default 20).
	Bits int
}

// Vector is a sparse, L2-normalised vector: unique indices and their values.
type Vector struct {
	Index []uint32
	Value []float32
}

// hashString hashes s with a fixed key so that a saved model's indices
// mean the same after a restart.
func hashString(s string) uint64 {
	// FNV-1a: stable across processes (maphash seeds are not).
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// grams calls add with every n-gram of t the features take.
func (f Features) grams(t string, add func(gram string)) {
	lower := strings.ToLower(t)
	if f.CharMax > 0 {
		runes := []rune(" " + lower + " ")
		for n := max(1, f.CharMin); n <= f.CharMax; n++ {
			for i := 0; i+n <= len(runes); i++ {
				add("c" + string(runes[i:i+n]))
			}
		}
	}
	if f.WordMax > 0 {
		words := strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for n := max(1, f.WordMin); n <= f.WordMax; n++ {
			for i := 0; i+n <= len(words); i++ {
				add("w" + strings.Join(words[i:i+n], " "))
			}
		}
	}
}

// mask returns the index mask of the hashed vector.
func (f Features) mask() uint64 {
	bits := f.Bits
	if bits <= 0 {
		bits = 20
	}
	return uint64(1)<<bits - 1
}

// fnv constants (FNV-1a, 64 bits): stable across processes, so a saved
// model's indices mean the same after a restart.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// gramRange is the character n-gram lengths cmin..cmax and the word
// n-gram lengths wmin..wmax a text is hashed into (cmax or wmax 0: none
// of that kind).
type gramRange struct{ cmin, cmax, wmin, wmax int }

// ranges returns the n-gram lengths f takes.
func (f Features) ranges() gramRange {
	return gramRange{max(1, f.CharMin), f.CharMax, max(1, f.WordMin), f.WordMax}
}

// Vectorize hashes t into its n-gram vector: sublinear term counts
// (1 + log tf), L2-normalised. Its indices are unique, in no order.
func (f Features) Vectorize(t string) Vector {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	sc.grams(strings.ToLower(t), f.ranges())
	return sc.vector(f.mask(), sc.hashes)
}

// vector counts the n-gram hashes hs into their vector (see Vectorize).
func (sc *scratch) vector(mask uint64, hs []uint64) Vector {
	// Count the n-grams in a small open-addressing table: a sort or a map
	// would cost more than the hashing.
	size := 64
	for size < 2*len(hs) {
		size <<= 1
	}
	if len(sc.keys) < size {
		sc.keys = make([]uint32, size)
	}
	if len(sc.counts) < size {
		sc.counts = make([]uint32, size)
	}
	keys, counts := sc.keys[:size], sc.counts[:size] // keys: index+1; 0 is empty
	used := sc.used[:0]                              // the occupied slots, in order of arrival
	defer func() {
		for _, slot := range used { // leave the table empty for the next use
			keys[slot] = 0
		}
		sc.used = used[:0]
	}()
	for _, h := range hs {
		idx := uint32(h & mask)
		slot := slotOf(idx, size)
		for {
			k := keys[slot]
			if k == idx+1 {
				counts[slot]++
				break
			}
			if k == 0 {
				keys[slot], counts[slot] = idx+1, 1
				used = append(used, slot)
				break
			}
			slot = (slot + 1) & uint32(size-1)
		}
	}
	v := Vector{Index: make([]uint32, len(used)), Value: make([]float32, len(used))}
	var norm float64
	for i, slot := range used {
		w := sublinear(counts[slot])
		v.Index[i], v.Value[i] = keys[slot]-1, w
		norm += float64(w) * float64(w)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range v.Value {
			v.Value[i] *= inv
		}
	}
	return v
}

// slotOf is the first slot of index idx in a counting table of size
// slots (a power of two). It depends on the index alone, so that n-grams
// whose hashes share an index meet in one slot and are counted together.
func slotOf(idx uint32, size int) uint32 {
	return uint32((uint64(idx)*0x9e3779b97f4a7c15)>>32) & uint32(size-1)
}

// sublinearTable holds 1 + ln(c) for the small counts most n-grams have.
var sublinearTable = func() (t [64]float32) {
	for c := 1; c < len(t); c++ {
		t[c] = float32(1 + math.Log(float64(c)))
	}
	return t
}()

// sublinear returns 1 + ln(c), the weight of an n-gram seen c times.
func sublinear(c uint32) float32 {
	if c < uint32(len(sublinearTable)) {
		return sublinearTable[c]
	}
	return float32(1 + math.Log(float64(c)))
}

// scratch is Vectorize's counting table, reused across calls.
type scratch struct {
	keys, counts, used []uint32
	pos, idxs, vi      []uint32
	vw                 []float32
	hashes             []uint64
	lens               []uint8
	starts             []int
	spans              [][2]int
	packed             []uint64
	classes            []uint32
	group              []int
	done               []bool
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Model is a logistic-regression classifier over hashed vectors.
type Model struct {
	Features Features
	Weights  []float32
	Bias     float32
}

// TrainConfig sets training. Zero values take defaults.
type TrainConfig struct {
	// Epochs over the data (default 10); Rate AdaGrad's step (default
	// 0.5); L2 the regularisation per example (default 1e-6).
	Epochs int
	Rate   float64
	L2     float64
	// PositiveWeight scales positive examples' gradient (default 1; more
	// than 1 for a rare positive class).
	PositiveWeight float64
	// Seed orders the examples in each epoch.
	Seed uint64
	// NB scales each n-gram by how much more often it occurs in positive
	// than in negative training texts before training, as NBSVM does
	// (Wang & Manning 2012): its value times the log-ratio of the add-one
	// smoothed shares of texts of each class it occurs in. The ratios are
	// folded into the weights after training, so that the model scores
	// raw vectors as any other model does, at no cost.
	NB bool
	// Orders, when more than 1, trains that many models, on the example
	// orders of seeds Seed, Seed+1, ..., and averages their weights: a
	// linear model whose score depends much less on the order the
	// examples came in (a stochastic learner's variance), at Orders times
	// the training time and none at scoring.
	Orders int
}

// ErrNoData means training got no examples or only one class.
var ErrNoData = errors.New("text: training needs examples of both classes")

// Train fits a model to texts and their labels (true: positive).
func Train(f Features, texts []string, labels []bool, cfg TrainConfig) (*Model, error) {
	if len(texts) != len(labels) {
		return nil, fmt.Errorf("text: %d texts, %d labels", len(texts), len(labels))
	}
	var pos int
	for _, l := range labels {
		if l {
			pos++
		}
	}
	if pos == 0 || pos == len(labels) {
		return nil, ErrNoData
	}
	vecs := make([]Vector, len(texts))
	for i, t := range texts {
		vecs[i] = f.Vectorize(t)
	}
	return TrainVectors(f, vecs, labels, cfg), nil
}

// TrainVectors fits a model to vectors made with f.
func TrainVectors(f Features, vecs []Vector, labels []bool, cfg TrainConfig) *Model {
	if cfg.NB {
		r := nbRatios(vecs, labels, int(f.mask())+1)
		scaled := make([]Vector, len(vecs))
		for i, v := range vecs {
			scaled[i] = Vector{Index: v.Index, Value: make([]float32, len(v.Value))}
			for k, idx := range v.Index {
				scaled[i].Value[k] = v.Value[k] * r[idx]
			}
		}
		cfg.NB = false
		m := TrainVectors(f, scaled, labels, cfg)
		for i := range m.Weights {
			m.Weights[i] *= r[i]
		}
		return m
	}
	if cfg.Orders > 1 {
		n := cfg.Orders
		cfg.Orders = 1
		avg := TrainVectors(f, vecs, labels, cfg)
		for k := 1; k < n; k++ {
			cfg.Seed++
			m := TrainVectors(f, vecs, labels, cfg)
			for i, w := range m.Weights {
				avg.Weights[i] += w
			}
			avg.Bias += m.Bias
		}
		for i := range avg.Weights {
			avg.Weights[i] /= float32(n)
		}
		avg.Bias /= float32(n)
		return avg
	}
	if cfg.Epochs <= 0 {
		cfg.Epochs = 10
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 0.5
	}
	if cfg.L2 <= 0 {
		cfg.L2 = 1e-6
	}
	if cfg.PositiveWeight <= 0 {
		cfg.PositiveWeight = 1
	}
	bits := f.Bits
	if bits <= 0 {
		bits = 20
	}
	m := &Model{Features: f, Weights: make([]float32, 1<<bits)}
	g2 := make([]float32, 1<<bits) // AdaGrad's sums of squared gradients
	var biasG2 float64
	order := make([]int, len(vecs))
	for i := range order {
		order[i] = i
	}
	rng := cfg.Seed*6364136223846793005 + 1442695040888963407
	for range cfg.Epochs {
		for i := len(order) - 1; i > 0; i-- { // shuffle
			rng = rng*6364136223846793005 + 1442695040888963407
			j := int((rng >> 33) % uint64(i+1))
			order[i], order[j] = order[j], order[i]
		}
		for _, i := range order {
			v := vecs[i]
			y := 0.0
			if labels[i] {
				y = 1
			}
			g := m.prob(v) - y // the log-loss gradient's factor
			if labels[i] {
				g *= cfg.PositiveWeight
			}
			for k, idx := range v.Index {
				grad := g*float64(v.Value[k]) + cfg.L2*float64(m.Weights[idx])
				g2[idx] += float32(grad * grad)
				m.Weights[idx] -= float32(cfg.Rate * grad / (math.Sqrt(float64(g2[idx])) + 1e-8))
			}
			biasG2 += g * g
			m.Bias -= float32(cfg.Rate * g / (math.Sqrt(biasG2) + 1e-8))
		}
	}
	return m
}

// nbRatios returns, for each of size indices, the log of the ratio of
// the add-one smoothed share of positive texts it occurs in (among all
// occurrences in positive texts) to that of negative ones: NBSVM's r.
func nbRatios(vecs []Vector, labels []bool, size int) []float32 {
	pos, neg := make([]float32, size), make([]float32, size)
	for i, v := range vecs {
		c := neg
		if labels[i] {
			c = pos
		}
		for _, idx := range v.Index {
			c[idx]++
		}
	}
	var sp, sn float64
	for i := range pos {
		pos[i]++
		neg[i]++
		sp += float64(pos[i])
		sn += float64(neg[i])
	}
	r := pos // reused: pos[i] is read before r[i] is written
	for i := range r {
		r[i] = float32(math.Log(float64(pos[i]) / sp * sn / float64(neg[i])))
	}
	return r
}

// margin is the model's linear score of v.
func (m *Model) margin(v Vector) float64 {
	s := float64(m.Bias)
	for k, idx := range v.Index {
		s += float64(m.Weights[idx]) * float64(v.Value[k])
	}
	return s
}

func (m *Model) prob(v Vector) float64 { return 1 / (1 + math.Exp(-m.margin(v))) }

// Score returns the probability that t is positive.
func (m *Model) Score(t string) float64 {
	var out [1]float64
	ScoreModels(t, []*Model{m}, out[:])
	return out[0]
}

// ScoreVector returns the probability that v is positive.
func (m *Model) ScoreVector(v Vector) float64 { return m.prob(v) }

// Weighed is an n-gram of a text and how much it moved the score.
type Weighed struct {
	Gram   string  `json:"gram"`
	Weight float64 `json:"weight"`
}

// Explain returns the n-grams of t that moved its score most towards
// positive, heaviest first, at most k (for a reason: "wins a prize").
func (m *Model) Explain(t string, k int) []Weighed {
	v := m.Features.Vectorize(t)
	value := make(map[uint32]float32, len(v.Index))
	for i, idx := range v.Index {
		value[idx] = v.Value[i]
	}
	mask := m.Features.mask()
	seen := map[string]bool{}
	var out []Weighed
	words := m.Features.WordMax > 0
	m.Features.grams(t, func(gram string) {
		if seen[gram] || (words && gram[0] != 'w') {
			return
		}
		seen[gram] = true
		idx := uint32(hashString(gram) & mask)
		if w := float64(m.Weights[idx]) * float64(value[idx]); w > 0 {
			out = append(out, Weighed{Gram: strings.TrimSpace(gram[1:]), Weight: w})
		}
	})
	slices.SortFunc(out, func(a, b Weighed) int {
		switch {
		case a.Weight > b.Weight:
			return -1
		case a.Weight < b.Weight:
			return 1
		}
		return strings.Compare(a.Gram, b.Gram)
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}
