package gbdt

// TreeSHAP (Lundberg, Erion and Lee, "Consistent individualized feature
// attribution for tree ensembles", algorithm 2): the exact Shapley values
// of the tree's output under the path-dependent expectation, in
// O(leaves x depth^2) per tree.

// pathElem is one feature on the path from the root: the share of the
// cover that passes (zero) and whether x passes (one), with the
// permutation weight of the subsets seen so far.
type pathElem struct {
	feature   int
	zero, one float64
	weight    float64
}

// Contributions returns each feature's contribution to the raw score of x,
// and the expected raw score (the bias); Base + the sum of all equals Raw(x).
func (m *Model) Contributions(x []float64) (phi []float64, bias float64) {
	phi = make([]float64, len(m.Features))
	bias = m.Base
	for i := range m.Trees {
		t := &m.Trees[i]
		d := t.depth()
		buf := make([]pathElem, (d+2)*(d+3)/2+d+3)
		t.shap(x, phi, 0, buf, 0, 0, 1, 1, -1)
		bias += t.expected()
	}
	return phi, bias
}

// expected is the tree's mean output over the training cover.
func (t *Tree) expected() float64 {
	var sum float64
	for i, n := range t.Nodes {
		if n.Left == 0 {
			sum += n.Threshold * t.Cover[i]
		}
	}
	return sum / t.Cover[0]
}

func (t *Tree) depth() int {
	var walk func(i, d int) int
	walk = func(i, d int) int {
		n := t.Nodes[i]
		if n.Left == 0 {
			return d
		}
		return max(walk(int(n.Left), d+1), walk(int(n.Left)+1, d+1))
	}
	return walk(0, 0)
}

// shap recurses from node i. buf holds every level's unique path: the
// parent's starts at offset parent and has depth+1 elements; this level
// copies it just after and extends it (as in the reference implementation).
func (t *Tree) shap(x, phi []float64, i int, buf []pathElem, parent, depth int, zero, one float64, feature int) {
	own := parent + depth + 1
	copy(buf[own:own+depth+1], buf[parent:parent+depth+1])
	path := buf[own:]
	extend(path, depth, zero, one, feature)
	n := &t.Nodes[i]
	if n.Left == 0 {
		for k := 1; k <= depth; k++ {
			w := unwoundSum(path, depth, k)
			e := path[k]
			phi[e.feature] += w * (e.one - e.zero) * n.Threshold
		}
		return
	}
	f := n.feature()
	v := x[f]
	hot := int(n.Left)
	switch {
	case v <= n.Threshold:
	case v > n.Threshold:
		hot++
	case n.Feature >= 0: // missing goes right
		hot++
	}
	cold := int(n.Left)*2 + 1 - hot
	hotZero := t.Cover[hot] / t.Cover[i]
	coldZero := t.Cover[cold] / t.Cover[i]
	inZero, inOne := 1.0, 1.0
	// A feature already on the path: undo its earlier split.
	k := 0
	for ; k <= depth; k++ {
		if path[k].feature == f {
			break
		}
	}
	if k <= depth {
		inZero, inOne = path[k].zero, path[k].one
		unwind(path, depth, k)
		depth--
	}
	t.shap(x, phi, hot, buf, own, depth+1, hotZero*inZero, inOne, f)
	t.shap(x, phi, cold, buf, own, depth+1, coldZero*inZero, 0, f)
}

// extend adds a feature with the given fractions at position depth.
func extend(path []pathElem, depth int, zero, one float64, feature int) {
	w := 0.0
	if depth == 0 {
		w = 1
	}
	path[depth] = pathElem{feature: feature, zero: zero, one: one, weight: w}
	for i := depth - 1; i >= 0; i-- {
		path[i+1].weight += one * path[i].weight * float64(i+1) / float64(depth+1)
		path[i].weight = zero * path[i].weight * float64(depth-i) / float64(depth+1)
	}
}

// unwind removes position k from a path of length depth (+1 elements).
func unwind(path []pathElem, depth, k int) {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := path[i].weight
			path[i].weight = next * float64(depth+1) / (float64(i+1) * one)
			next = tmp - path[i].weight*zero*float64(depth-i)/float64(depth+1)
		} else {
			path[i].weight = path[i].weight * float64(depth+1) / (zero * float64(depth-i))
		}
	}
	for i := k; i < depth; i++ {
		path[i].feature, path[i].zero, path[i].one = path[i+1].feature, path[i+1].zero, path[i+1].one
	}
}

// unwoundSum is the total permutation weight of the path without position k.
func unwoundSum(path []pathElem, depth, k int) float64 {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	var total float64
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := next * float64(depth+1) / (float64(i+1) * one)
			total += tmp
			next = path[i].weight - tmp*zero*float64(depth-i)/float64(depth+1)
		} else {
			total += path[i].weight / zero * float64(depth+1) / float64(depth-i)
		}
	}
	return total
}
