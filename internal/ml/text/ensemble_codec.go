package text

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// The ensemble file: "SGTXEN", a format version (uint16), the number of
// models (uint8, 1..maxEnsemble), then per model its weight (float64) and
// its model file (uint32 length, then the bytes DecodeModel reads); last,
// a CRC-32 (IEEE) of everything before it. All little-endian.
const (
	ensembleMagic   = "SGTXEN"
	ensembleVersion = 1
	maxEnsemble     = 8
)

// MarshalBinary encodes the ensemble in the ensemble file format.
func (e *Ensemble) MarshalBinary() ([]byte, error) {
	if len(e.Models) == 0 || len(e.Models) > maxEnsemble || len(e.Weights) != len(e.Models) {
		return nil, fmt.Errorf("text: an ensemble of %d models and %d weights cannot be saved", len(e.Models), len(e.Weights))
	}
	le := binary.LittleEndian
	b := []byte(ensembleMagic)
	b = le.AppendUint16(b, ensembleVersion)
	b = append(b, byte(len(e.Models)))
	for i, m := range e.Models {
		mb, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		b = le.AppendUint64(b, math.Float64bits(e.Weights[i]))
		b = le.AppendUint32(b, uint32(len(mb)))
		b = append(b, mb...)
	}
	return le.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// DecodeEnsemble reads an ensemble file, or a model file as an ensemble
// of that one model; every flaw gives an error wrapping ErrCorrupt. The
// weights must be finite, non-negative and sum to 1.
func DecodeEnsemble(data []byte) (*Ensemble, error) {
	if !bytes.HasPrefix(data, []byte(ensembleMagic)) {
		m, err := DecodeModel(data)
		if err != nil {
			return nil, err
		}
		return &Ensemble{Models: []*Model{m}, Weights: []float64{1}}, nil
	}
	le := binary.LittleEndian
	const head = len(ensembleMagic) + 2 + 1
	if len(data) < head+4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(data))
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if v := le.Uint16(body[len(ensembleMagic):]); v != ensembleVersion {
		return nil, fmt.Errorf("%w: ensemble format version %d, this shopguard reads %d", ErrCorrupt, v, ensembleVersion)
	}
	n := int(body[head-1])
	if n == 0 || n > maxEnsemble {
		return nil, fmt.Errorf("%w: %d models", ErrCorrupt, n)
	}
	rest := body[head:]
	e := &Ensemble{}
	var total float64
	for i := range n {
		if len(rest) < 12 {
			return nil, fmt.Errorf("%w: model %d cut short", ErrCorrupt, i+1)
		}
		w := math.Float64frombits(le.Uint64(rest))
		size := le.Uint32(rest[8:])
		rest = rest[12:]
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 || uint64(size) > uint64(len(rest)) {
			return nil, fmt.Errorf("%w: model %d: weight %v, %d bytes of %d", ErrCorrupt, i+1, w, size, len(rest))
		}
		m, err := DecodeModel(rest[:size])
		if err != nil {
			return nil, fmt.Errorf("model %d: %w", i+1, err)
		}
		rest = rest[size:]
		e.Models, e.Weights = append(e.Models, m), append(e.Weights, w)
		total += w
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last model", ErrCorrupt, len(rest))
	}
	if math.Abs(total-1) > 1e-6 {
		return nil, fmt.Errorf("%w: weights sum to %v, not 1", ErrCorrupt, total)
	}
	return e, nil
}
