package gbdt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// The model file: "SGGBDT", a format version (uint16), the length of a
// JSON header (uint32) and the header (features, base score, calibration,
// training parameters), the number of trees (uint32), then per tree the
// number of nodes (uint32) and per node threshold (float64), feature
// (int32), left (int32) and cover (float64), all little-endian; last, a
// CRC-32 (IEEE) of everything before it.
const (
	magic         = "SGGBDT"
	formatVersion = 1
	maxNodes      = 1 << 20
	maxTrees      = 100_000
	maxHeader     = 16 << 20
	// MaxDepth is the deepest tree a model file may hold (TreeSHAP's
	// memory grows with the square of the depth).
	MaxDepth = 64
)

// ErrCorrupt wraps every reason a model file is refused.
var ErrCorrupt = errors.New("gbdt: corrupt model file")

type header struct {
	Features    []string    `json:"features"`
	Base        float64     `json:"base"`
	Calibration Calibration `json:"calibration"`
	Params      Params      `json:"params"`
}

// MarshalBinary encodes the model in the model file format.
func (m *Model) MarshalBinary() ([]byte, error) {
	h, err := json.Marshal(header{Features: m.Features, Base: m.Base, Calibration: m.Calibration, Params: m.Params})
	if err != nil {
		return nil, fmt.Errorf("gbdt: encode header: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(magic)
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, formatVersion))
	b.Write(le.AppendUint32(nil, uint32(len(h))))
	b.Write(h)
	b.Write(le.AppendUint32(nil, uint32(len(m.Trees))))
	buf := make([]byte, 0, 24)
	for _, t := range m.Trees {
		b.Write(le.AppendUint32(nil, uint32(len(t.Nodes))))
		for i, n := range t.Nodes {
			buf = le.AppendUint64(buf[:0], math.Float64bits(n.Threshold))
			buf = le.AppendUint32(buf, uint32(n.Feature))
			buf = le.AppendUint32(buf, uint32(n.Left))
			buf = le.AppendUint64(buf, math.Float64bits(t.Cover[i]))
			b.Write(buf)
		}
	}
	b.Write(le.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes(), nil
}

// WriteTo writes the model file.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	b, err := m.MarshalBinary()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// Decode reads a model file, checking everything a broken or hostile file
// could get wrong (checksum, sizes, node links, feature indices, values),
// so that a model that loads can predict without a panic.
func Decode(data []byte) (*Model, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	le := binary.LittleEndian
	if len(data) < len(magic)+2+4+4+4 || string(data[:len(magic)]) != magic {
		return nil, corrupt("not a shopguard model (bad magic)")
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, corrupt("checksum mismatch (truncated or damaged)")
	}
	r := body[len(magic):]
	if v := le.Uint16(r); v != formatVersion {
		return nil, corrupt("format version %d; this shopguard reads version %d", v, formatVersion)
	}
	r = r[2:]
	hl := le.Uint32(r)
	r = r[4:]
	if hl > maxHeader || int(hl) > len(r) {
		return nil, corrupt("header length %d", hl)
	}
	var h header
	if err := json.Unmarshal(r[:hl], &h); err != nil {
		return nil, corrupt("header: %v", err)
	}
	r = r[hl:]
	nf := len(h.Features)
	if nf == 0 || nf > 1<<16 {
		return nil, corrupt("%d features", nf)
	}
	if !finite(h.Base) || !finite(h.Calibration.A) || !finite(h.Calibration.B) {
		return nil, corrupt("base score or calibration not finite")
	}
	if len(r) < 4 {
		return nil, corrupt("no tree count")
	}
	nt := le.Uint32(r)
	r = r[4:]
	if nt > maxTrees {
		return nil, corrupt("%d trees", nt)
	}
	m := &Model{Features: h.Features, Base: h.Base, Calibration: h.Calibration, Params: h.Params, Trees: make([]Tree, 0, nt)}
	for ti := range int(nt) {
		if len(r) < 4 {
			return nil, corrupt("tree %d: truncated", ti)
		}
		nn := le.Uint32(r)
		r = r[4:]
		if nn == 0 || nn > maxNodes || int(nn)*24 > len(r) {
			return nil, corrupt("tree %d: %d nodes", ti, nn)
		}
		t := Tree{Nodes: make([]Node, nn), Cover: make([]float64, nn)}
		depth := make([]uint8, nn)
		reached := make([]bool, nn)
		reached[0] = true
		for i := range t.Nodes {
			n := &t.Nodes[i]
			n.Threshold = math.Float64frombits(le.Uint64(r))
			n.Feature = int32(le.Uint32(r[8:]))
			n.Left = int32(le.Uint32(r[12:]))
			t.Cover[i] = math.Float64frombits(le.Uint64(r[16:]))
			r = r[24:]
			if !(t.Cover[i] > 0) || math.IsInf(t.Cover[i], 0) {
				return nil, corrupt("tree %d node %d: cover %v", ti, i, t.Cover[i])
			}
			if n.Left == 0 {
				if !finite(n.Threshold) {
					return nil, corrupt("tree %d leaf %d: value %v", ti, i, n.Threshold)
				}
				continue
			}
			// Children come after their parent, so every path ends at a leaf.
			if int(n.Left) <= i || int(n.Left)+1 >= int(nn) {
				return nil, corrupt("tree %d node %d: children at %d", ti, i, n.Left)
			}
			if f := n.feature(); f >= nf {
				return nil, corrupt("tree %d node %d: feature %d of %d", ti, i, f, nf)
			}
			if !reached[i] || reached[n.Left] || reached[n.Left+1] {
				return nil, corrupt("tree %d node %d: not a tree (shared or unreachable nodes)", ti, i)
			}
			reached[n.Left], reached[n.Left+1] = true, true
			if depth[i] >= MaxDepth {
				return nil, corrupt("tree %d deeper than %d", ti, MaxDepth)
			}
			depth[n.Left], depth[n.Left+1] = depth[i]+1, depth[i]+1
			if math.IsNaN(n.Threshold) || math.IsInf(n.Threshold, -1) {
				return nil, corrupt("tree %d node %d: threshold %v", ti, i, n.Threshold)
			}
		}
		for i, ok := range reached {
			if !ok {
				return nil, corrupt("tree %d node %d: unreachable", ti, i)
			}
		}
		m.Trees = append(m.Trees, t)
	}
	if len(r) != 0 {
		return nil, corrupt("%d bytes after the last tree", len(r))
	}
	m.compile()
	return m, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
