package gbdt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func trained(t testing.TB) *Model {
	t.Helper()
	m, err := Train(context.Background(), Params{Trees: 20, Seed: 1}, synth(3000, 31), synth(1000, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestModelFileRoundTrip(t *testing.T) {
	m := trained(t)
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float64{{0.1, -2, 3, math.NaN()}, {1, 1, 1, 1}, {-5, 5, 0, 0}} {
		if got.Raw(x) != m.Raw(x) || got.Probability(x) != m.Probability(x) {
			t.Errorf("decoded model scores %v differently", x)
		}
	}
	if got.Params.Seed != 1 || len(got.Features) != 4 {
		t.Errorf("header lost: %+v", got.Params)
	}
}

func TestDecodeRefusesCorruptFiles(t *testing.T) {
	m := trained(t)
	good, _ := m.MarshalBinary()
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0xff
		return b
	}
	cases := map[string][]byte{
		"empty":        nil,
		"magic":        flip(0),
		"checksum":     flip(len(good) - 1),
		"body byte":    flip(len(good) / 2),
		"truncated":    good[:len(good)-10],
		"other format": append([]byte("PK\x03\x04"), good[4:]...),
	}
	for name, data := range cases {
		if _, err := Decode(data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

// FuzzDecode: no input makes Decode panic, and a model it accepts predicts
// and explains any row without a panic. The fuzzer's bytes get a valid
// checksum appended, so that it explores the structure checks behind it.
func FuzzDecode(f *testing.F) {
	m := trained(f)
	good, _ := m.MarshalBinary()
	f.Add(good[:len(good)-4])
	f.Add(good[:100])
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.LittleEndian.AppendUint32(bytes.Clone(body), crc32.ChecksumIEEE(body))
		dm, err := Decode(data)
		if err != nil {
			return
		}
		x := make([]float64, len(dm.Features))
		for i := range x {
			x[i] = float64(i) - 1
		}
		_ = dm.Raw(x)
		x[0] = math.NaN()
		_, _ = dm.Contributions(x)
	})
}

// BenchmarkPredict300Trees times Raw for one row of a 300-tree model, by
// the compiled layout (what Raw uses) and by walking the trees.
func BenchmarkPredict300Trees(b *testing.B) {
	train := synth(20000, 41)
	m, err := Train(context.Background(), Params{Trees: 300, MaxLeaves: 31, MaxDepth: 8, Seed: 1}, train, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	walk := *m
	walk.fast = nil
	nf := len(train.Features)
	for _, c := range []struct {
		name string
		m    *Model
	}{{"compiled", m}, {"walk", &walk}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink float64
			for i := range b.N {
				r := i % train.Rows()
				sink += c.m.Raw(train.X[r*nf : (r+1)*nf])
			}
			_ = sink
			b.ReportMetric(float64(len(m.Trees)), "trees")
		})
	}
}

func BenchmarkContributions300Trees(b *testing.B) {
	train := synth(20000, 41)
	m, err := Train(context.Background(), Params{Trees: 300, Seed: 1}, train, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	nf := len(train.Features)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := i % train.Rows()
		_, _ = m.Contributions(train.X[r*nf : (r+1)*nf])
	}
}

// BenchmarkTrain trains 100 trees on 100k rows of 16 features (the
// synthetic four plus twelve noise columns), on one and on two threads.
func BenchmarkTrain(b *testing.B) {
	base := synth(100000, 51)
	d := &Dataset{Features: slices.Clone(base.Features), Y: base.Y}
	for i := range 12 {
		d.Features = append(d.Features, fmt.Sprintf("noise%d", i))
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for r := range base.Rows() {
		d.X = append(d.X, base.X[r*4:(r+1)*4]...)
		for range 12 {
			d.X = append(d.X, math.Round(rng.NormFloat64()*10)/10)
		}
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			for range b.N {
				if _, err := Train(context.Background(), Params{Trees: 100, Subsample: 0.8, ColSample: 0.8, Threads: threads, Seed: 1}, d, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
