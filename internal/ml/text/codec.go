package text

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// The model file: "SGTEXT", a format version (uint16), the features
// (CharMin, CharMax, WordMin, WordMax, Bits as uint8), the bias (float32),
// the number of non-zero weights (uint32) and each as an index delta
// (uvarint) and a value (float32); last, a CRC-32 (IEEE) of everything
// before it. All little-endian. Only non-zero weights are written: a
// model trained on a few thousand texts touches a small part of 2^20.
const (
	textMagic   = "SGTEXT"
	textVersion = 1
	// MaxBits is the largest hashed vector a model file may hold.
	MaxBits = 24
	maxGram = 16
)

// ErrCorrupt wraps every reason a model file is refused.
var ErrCorrupt = errors.New("text: corrupt model file")

// MarshalBinary encodes the model in the model file format.
func (m *Model) MarshalBinary() ([]byte, error) {
	if err := m.Features.validate(); err != nil {
		return nil, err
	}
	if len(m.Weights) != 1<<m.Features.bits() {
		return nil, fmt.Errorf("text: %d weights for 2^%d", len(m.Weights), m.Features.bits())
	}
	le := binary.LittleEndian
	b := []byte(textMagic)
	b = le.AppendUint16(b, textVersion)
	f := m.Features
	b = append(b, byte(f.CharMin), byte(f.CharMax), byte(f.WordMin), byte(f.WordMax), byte(f.bits()))
	b = le.AppendUint32(b, math.Float32bits(m.Bias))
	var n uint32
	for _, w := range m.Weights {
		if w != 0 {
			n++
		}
	}
	b = le.AppendUint32(b, n)
	prev := 0
	for i, w := range m.Weights {
		if w == 0 {
			continue
		}
		b = binary.AppendUvarint(b, uint64(i-prev))
		b = le.AppendUint32(b, math.Float32bits(w))
		prev = i
	}
	return le.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

// DecodeModel reads a model file; every flaw gives an error wrapping
// ErrCorrupt.
func DecodeModel(data []byte) (*Model, error) {
	le := binary.LittleEndian
	const head = len(textMagic) + 2 + 5 + 4 + 4
	if len(data) < head+4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(data))
	}
	body, sum := data[:len(data)-4], le.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if string(body[:len(textMagic)]) != textMagic {
		return nil, fmt.Errorf("%w: not a text model", ErrCorrupt)
	}
	p := len(textMagic)
	if v := le.Uint16(body[p:]); v != textVersion {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrCorrupt, v, textVersion)
	}
	p += 2
	f := Features{CharMin: int(body[p]), CharMax: int(body[p+1]), WordMin: int(body[p+2]), WordMax: int(body[p+3]), Bits: int(body[p+4])}
	p += 5
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	m := &Model{Features: f, Weights: make([]float32, 1<<f.bits())}
	m.Bias = math.Float32frombits(le.Uint32(body[p:]))
	n := le.Uint32(body[p+4:])
	p += 8
	if uint64(n) > uint64(len(m.Weights)) {
		return nil, fmt.Errorf("%w: %d weights for 2^%d", ErrCorrupt, n, f.bits())
	}
	idx := 0
	for i := range n {
		d, k := binary.Uvarint(body[p:])
		if k <= 0 || p+k+4 > len(body) {
			return nil, fmt.Errorf("%w: truncated weights", ErrCorrupt)
		}
		p += k
		// The first delta is the index itself; later ones step forward.
		if (i > 0 && d == 0) || d >= uint64(len(m.Weights)-idx) {
			return nil, fmt.Errorf("%w: weight index out of order or range", ErrCorrupt)
		}
		idx += int(d)
		w := math.Float32frombits(le.Uint32(body[p:]))
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return nil, fmt.Errorf("%w: weight %d is not finite", ErrCorrupt, idx)
		}
		m.Weights[idx] = w
		p += 4
	}
	if p != len(body) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(body)-p)
	}
	if b := float64(m.Bias); math.IsNaN(b) || math.IsInf(b, 0) {
		return nil, fmt.Errorf("%w: bias is not finite", ErrCorrupt)
	}
	return m, nil
}

// bits is the log2 of the hashed vector's size.
func (f Features) bits() int {
	if f.Bits <= 0 {
		return 20
	}
	return f.Bits
}

// validate reports features a model cannot use.
func (f Features) validate() error {
	switch {
	case f.Bits < 0 || f.Bits > MaxBits:
		return fmt.Errorf("text: %d bits, at most %d", f.Bits, MaxBits)
	case f.CharMin < 0 || f.CharMax < 0 || f.WordMin < 0 || f.WordMax < 0:
		return errors.New("text: negative n-gram length")
	case f.CharMax > maxGram || f.WordMax > maxGram:
		return fmt.Errorf("text: n-grams longer than %d", maxGram)
	case f.CharMax > 0 && f.CharMin > f.CharMax, f.WordMax > 0 && f.WordMin > f.WordMax:
		return errors.New("text: n-gram minimum above maximum")
	case f.CharMax == 0 && f.WordMax == 0:
		return errors.New("text: no n-grams")
	}
	return nil
}
