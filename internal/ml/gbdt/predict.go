package gbdt

import "math"

// compiled is a model's trees laid out for fast prediction: every tree's
// nodes in one slice with absolute child indices, leaves turned into
// nodes that lead to themselves (a walk ends when a step stays put), and
// four trees walked side by side (their steps are independent, so the
// processor overlaps them and no branch depends on a comparison).
type compiled struct {
	nodes  []cnode
	values []float64 // the leaf value of each node (0 for splits)
	roots  []int32
	// steps[g] is the most steps any tree of group g (trees 4g..4g+3)
	// takes to a leaf: its depth.
	steps []int32
}

// cnode is a split: x[feat] <= thr goes to left, greater values to left+1,
// a missing value to left plus the top bit of feat (set when missing
// values go right). A leaf is {thr: +Inf, left: itself}. 16 bytes, so
// that a 300-tree model stays small in the processor's caches.
type cnode struct {
	thr  float64
	feat uint32
	left int32
}

const missingRightBit = 1 << 31

// compile builds m.fast from m.Trees.
func (m *Model) compile() {
	c := &compiled{}
	depths := make([]int32, len(m.Trees))
	for ti := range m.Trees {
		t := &m.Trees[ti]
		base := int32(len(c.nodes))
		c.roots = append(c.roots, base)
		for i, n := range t.Nodes {
			if n.Left == 0 {
				c.nodes = append(c.nodes, cnode{thr: math.Inf(1), left: base + int32(i)})
				c.values = append(c.values, n.Threshold)
				continue
			}
			feat := uint32(n.feature())
			if n.Feature >= 0 {
				feat |= missingRightBit
			}
			c.nodes = append(c.nodes, cnode{thr: n.Threshold, feat: feat, left: base + n.Left})
			c.values = append(c.values, 0)
		}
		depths[ti] = int32(t.depth())
	}
	for g := 0; g < len(depths); g += 4 {
		s := int32(0)
		for _, d := range depths[g:min(g+4, len(depths))] {
			s = max(s, d)
		}
		c.steps = append(c.steps, s)
	}
	m.fast = c
}

// next returns the node x goes to from node i. It has no data-dependent
// branch: the comparison and the missing test become flags.
func next(nodes []cnode, i int32, x []float64) int32 {
	n := &nodes[i]
	v := x[n.feat&^missingRightBit]
	return n.left + b2i(v > n.thr) + b2i(v != v)&int32(n.feat>>31)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// raw returns the sum of the trees' outputs for x. Trees are walked four
// at a time; a group's walk ends when a step leaves all four in place.
func (c *compiled) raw(x []float64) float64 {
	nodes, values, roots, steps := c.nodes, c.values, c.roots, c.steps
	var s float64
	g := 0
	for ; len(roots) >= 4; roots, g = roots[4:], g+1 {
		a, b, d, e := roots[0], roots[1], roots[2], roots[3]
		// Two steps between checks: a leaf stays put, so an extra step
		// costs little and the check's branch runs half as often.
		for n := steps[g]; n > 0; n -= 2 {
			a, b, d, e = next(nodes, a, x), next(nodes, b, x), next(nodes, d, x), next(nodes, e, x)
			a2, b2, d2, e2 := next(nodes, a, x), next(nodes, b, x), next(nodes, d, x), next(nodes, e, x)
			if a2 == a && b2 == b && d2 == d && e2 == e {
				break
			}
			a, b, d, e = a2, b2, d2, e2
		}
		s += values[a] + values[b] + values[d] + values[e]
	}
	for _, r := range roots {
		for {
			n := next(nodes, r, x)
			if n == r {
				break
			}
			r = n
		}
		s += values[r]
	}
	return s
}
