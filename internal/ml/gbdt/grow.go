package gbdt

import (
	"math"
	"slices"
	"sync"
)

// histBin sums the gradients, hessians and rows that fall in one bin.
type histBin struct {
	g, h float64
	n    float64
}

// split is the best way found to split a leaf.
type split struct {
	ok          bool
	gain        float64
	feature     int
	bin         int // left holds bins 1..bin
	missingLeft bool
	gl, hl      float64 // the left child's sums
}

// openLeaf is a leaf of the tree being grown.
type openLeaf struct {
	rows  []int32 // this leaf's rows (a segment of the tree's row index)
	depth int
	g, h  float64
	hist  *histSet // nil once split (its children took it over)
	best  split
	node  int // index in the building tree
}

// bnode is a node of the tree being grown.
type bnode struct {
	leaf        bool
	feature     int
	bin         int
	missingLeft bool
	left, right int
	value       float64
	cover       float64
}

// grow builds tree number it on the current gradients.
func (t *trainer) grow(it int) Tree {
	t.gradients()
	rows := make([]int32, 0, t.rows)
	if t.p.Subsample < 1 {
		for r := range t.rows {
			if t.rng.Float64() < t.p.Subsample {
				rows = append(rows, int32(r))
			}
		}
	} else {
		for r := range t.rows {
			rows = append(rows, int32(r))
		}
	}
	use := make([]bool, t.nf)
	k := max(1, int(math.Ceil(t.p.ColSample*float64(t.nf))))
	for _, f := range t.rng.Perm(t.nf)[:k] {
		use[f] = true
	}

	root := &openLeaf{rows: rows, hist: t.histogram(rows, use)}
	for _, r := range rows {
		root.g += t.gh[r].g
		root.h += t.gh[r].h
	}
	nodes := []bnode{{leaf: true, cover: root.h}}
	t.findSplit(root, use)
	open := []*openLeaf{root}
	leaves := 1
	for leaves < t.p.MaxLeaves {
		// The open leaf whose best split gains most (first on ties).
		bi := -1
		for i, l := range open {
			if l.best.ok && (bi < 0 || l.best.gain > open[bi].best.gain) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		l := open[bi]
		open = slices.Delete(open, bi, bi+1)
		left, right := t.splitLeaf(l, use)
		n := &nodes[l.node]
		n.leaf, n.feature, n.bin, n.missingLeft = false, l.best.feature, l.best.bin, l.best.missingLeft
		n.left, n.right = len(nodes), len(nodes)+1
		left.node, right.node = len(nodes), len(nodes)+1
		nodes = append(nodes, bnode{leaf: true, cover: left.h}, bnode{leaf: true, cover: right.h})
		for _, c := range []*openLeaf{left, right} {
			if c.depth < t.p.MaxDepth {
				t.findSplit(c, use)
			}
			open = append(open, c)
		}
		leaves++
	}
	// The rows the tree was grown on know their leaf: add its value to their
	// scores here; addTree walks the tree only for the rows left out.
	for i := range t.sampled {
		t.sampled[i] = false
	}
	for _, l := range open {
		if l.hist != nil {
			t.freeHists = append(t.freeHists, l.hist)
			l.hist = nil
		}
		v := -l.g / (l.h + t.p.L2) * t.p.LearningRate
		nodes[l.node].value = v
		for _, r := range l.rows {
			t.raw[r] += v
			t.sampled[r] = true
		}
	}
	return t.flatten(nodes)
}

// histSet is one leaf's histograms: every feature's bins in one block.
type histSet struct {
	all  []histBin   // feature after feature
	feat [][]histBin // feat[f] is feature f's part of all
}

// histogram builds the histograms of rows for the features in use, the
// features spread over the threads (each feature's sums in row order, so
// the result does not depend on scheduling).
func (t *trainer) histogram(rows []int32, use []bool) *histSet {
	hist := t.newHist()
	feats := t.feats[:0]
	for f, u := range use {
		if u {
			feats = append(feats, f)
			clear(hist.feat[f])
		}
	}
	t.feats = feats
	// The rows' gradients gathered in row order once, so that every
	// feature's pass reads them sequentially (LightGBM's ordered gradients).
	if cap(t.ordered) < len(rows) {
		t.ordered = make([]gradPair, len(rows))
	}
	ordered := t.ordered[:len(rows)]
	for i, r := range rows {
		ordered[i] = t.gh[r]
	}
	work := func(fs []int) {
		for _, f := range fs {
			h, col := hist.feat[f], t.data.cols[f]
			for i, r := range rows {
				b := &h[col[r]]
				gh := &ordered[i]
				b.g += gh.g
				b.h += gh.h
				b.n++
			}
		}
	}
	if t.threads <= 1 || len(rows)*len(feats) < 1<<15 {
		work(feats)
		return hist
	}
	var wg sync.WaitGroup
	for w := range t.threads {
		var mine []int
		for i := w; i < len(feats); i += t.threads {
			mine = append(mine, feats[i])
		}
		wg.Go(func() { work(mine) })
	}
	wg.Wait()
	return hist
}

// newHist returns a set of histograms (one per feature, whatever its
// contents), reusing those of finished trees and leaves: a tree needs one
// per leaf, and allocating them anew costs more than filling them.
func (t *trainer) newHist() *histSet {
	if n := len(t.freeHists); n > 0 {
		h := t.freeHists[n-1]
		t.freeHists = t.freeHists[:n-1]
		return h
	}
	if t.histOff == nil {
		t.histOff = make([]int, t.nf+1)
		for f := range t.nf {
			t.histOff[f+1] = t.histOff[f] + t.bins.numBins(f)
		}
	}
	h := &histSet{all: make([]histBin, t.histOff[t.nf]), feat: make([][]histBin, t.nf)}
	for f := range t.nf {
		h.feat[f] = h.all[t.histOff[f]:t.histOff[f+1]:t.histOff[f+1]]
	}
	return h
}

// findSplit sets l.best to the best split of l over the features in use.
func (t *trainer) findSplit(l *openLeaf, use []bool) {
	p := t.p
	l.best = split{}
	parent := l.g * l.g / (l.h + p.L2)
	n := float64(len(l.rows))
	if n < 2*float64(p.MinDataInLeaf) {
		return
	}
	for f := range t.nf {
		if !use[f] {
			continue
		}
		h := l.hist.feat[f]
		miss := h[0]
		var gl, hl, nl float64
		last := len(h) - 1
		if miss.n == 0 {
			last-- // with nothing missing, "all values left" leaves the right side empty
		}
		for b := 1; b <= last; b++ {
			gl += h[b].g
			hl += h[b].h
			nl += h[b].n
			for _, missLeft := range [2]bool{false, true} {
				if missLeft && miss.n == 0 {
					continue
				}
				GL, HL, NL := gl, hl, nl
				if missLeft {
					GL, HL, NL = gl+miss.g, hl+miss.h, nl+miss.n
				}
				GR, HR, NR := l.g-GL, l.h-HL, n-NL
				if NL < float64(p.MinDataInLeaf) || NR < float64(p.MinDataInLeaf) || HL < p.MinHessian || HR < p.MinHessian {
					continue
				}
				gain := GL*GL/(HL+p.L2) + GR*GR/(HR+p.L2) - parent
				if gain > p.MinGain && (!l.best.ok || gain > l.best.gain) {
					ml := missLeft
					if miss.n == 0 {
						ml = HL >= HR // unseen missing values follow the bigger side
					}
					l.best = split{ok: true, gain: gain, feature: f, bin: b, missingLeft: ml, gl: GL, hl: HL}
				}
			}
		}
	}
}

// splitLeaf partitions l's rows by its best split and returns the
// children with their histograms (the smaller built, the larger by
// subtraction).
func (t *trainer) splitLeaf(l *openLeaf, use []bool) (*openLeaf, *openLeaf) {
	s := l.best
	col := t.data.cols[s.feature]
	// Bin 0 (missing) goes where the split sends missing values: map it
	// past the last bin when they go right, so one comparison decides.
	missing := 0
	if !s.missingLeft {
		missing = maxBins + 1
	}
	bin := s.bin
	// Stable partition into left then right, in place via a scratch copy
	// (kept for the next split).
	rows := l.rows
	scratch := t.scratch[:0]
	i := 0
	for _, r := range rows {
		b := int(col[r])
		if b == 0 {
			b = missing
		}
		if b <= bin {
			rows[i] = r
			i++
		} else {
			scratch = append(scratch, r)
		}
	}
	copy(rows[i:], scratch)
	t.scratch = scratch
	left := &openLeaf{rows: rows[:i], depth: l.depth + 1, g: s.gl, h: s.hl}
	right := &openLeaf{rows: rows[i:], depth: l.depth + 1, g: l.g - s.gl, h: l.h - s.hl}
	small, large := left, right
	if len(right.rows) < len(left.rows) {
		small, large = right, left
	}
	small.hist = t.histogram(small.rows, use)
	// The larger child's histograms are the parent's minus the smaller
	// child's, computed in the parent's place (it needs them no more).
	large.hist, l.hist = l.hist, nil
	for f, u := range use {
		if !u {
			continue
		}
		lh, sh := large.hist.feat[f], small.hist.feat[f]
		for b := range lh {
			lh[b].g -= sh[b].g
			lh[b].h -= sh[b].h
			lh[b].n -= sh[b].n
		}
	}
	return left, right
}

// flatten turns the grown tree into the prediction layout: breadth first,
// each node's children next to each other.
func (t *trainer) flatten(b []bnode) Tree {
	tree := Tree{Nodes: make([]Node, 0, len(b)), Cover: make([]float64, 0, len(b))}
	queue := []int{0}
	index := map[int]int{0: 0}
	tree.Nodes = append(tree.Nodes, Node{})
	tree.Cover = append(tree.Cover, b[0].cover)
	for len(queue) > 0 {
		bi := queue[0]
		queue = queue[1:]
		n := b[bi]
		out := &tree.Nodes[index[bi]]
		if n.leaf {
			out.Threshold = n.value
			continue
		}
		left := len(tree.Nodes)
		out.Left = int32(left)
		out.Feature = int32(n.feature)
		if n.missingLeft {
			out.Feature |= missingLeftBit
		}
		if edges := t.bins.Edges[n.feature]; n.bin-1 < len(edges) {
			out.Threshold = edges[n.bin-1]
		} else {
			out.Threshold = math.Inf(1) // every value left, only missing ones right
		}
		index[n.left], index[n.right] = left, left+1
		tree.Nodes = append(tree.Nodes, Node{}, Node{})
		tree.Cover = append(tree.Cover, b[n.left].cover, b[n.right].cover)
		queue = append(queue, n.left, n.right)
	}
	return tree
}
