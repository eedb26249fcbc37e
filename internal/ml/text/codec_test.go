package text_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/text"
)

func TestModelRoundTrip(t *testing.T) {
	f := text.Features{CharMin: 2, CharMax: 4, WordMin: 1, WordMax: 2, Bits: 14}
	texts := []string{"win a free prize now", "call me later", "free entry to win cash", "see you at lunch", "urgent prize claim", "meeting at noon"}
	labels := []bool{true, false, true, false, true, false}
	m, err := text.Train(f, texts, labels, text.TrainConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := text.DecodeModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Features != f || got.Bias != m.Bias || !slices.Equal(got.Weights, m.Weights) {
		t.Fatal("decoded model differs from the encoded one")
	}
	for _, s := range texts {
		if got.Score(s) != m.Score(s) {
			t.Fatalf("score of %q differs after decoding", s)
		}
	}
	bad := map[string][]byte{
		"empty":     nil,
		"truncated": b[:len(b)/2],
		"flipped":   append(append([]byte{}, b[:20]...), append([]byte{b[20] ^ 1}, b[21:]...)...),
		"magic":     append([]byte("XXTEXT"), b[6:]...),
	}
	for name, data := range bad {
		if _, err := text.DecodeModel(data); !errors.Is(err, text.ErrCorrupt) {
			t.Errorf("%s: got %v, want text.ErrCorrupt", name, err)
		}
	}
}

func FuzzDecodeModel(f *testing.F) {
	m, err := text.Train(text.Features{CharMin: 1, CharMax: 3, Bits: 10}, []string{"spam spam", "ham"}, []bool{true, false}, text.TrainConfig{Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("SGTEXT"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := text.DecodeModel(data)
		if err != nil {
			return
		}
		again, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("a decoded model does not encode: %v", err)
		}
		if _, err := text.DecodeModel(again); err != nil {
			t.Fatalf("a re-encoded model does not decode: %v", err)
		}
		m.Score("anything at all")
	})
}
