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

func TestCrossValidateNestedChoosesOnTrainingFoldsOnly(t *testing.T) {
	var texts []string
	var labels []bool
	for i := range 120 {
		if i%3 == 0 {
			texts = append(texts, "win a free prize now, claim your cash reward "+string(rune('a'+i%26)))
			labels = append(labels, true)
		} else {
			texts = append(texts, "see you at lunch tomorrow near the station "+string(rune('a'+i%26)))
			labels = append(labels, false)
		}
	}
	f := text.Features{CharMin: 2, CharMax: 3, WordMin: 1, WordMax: 1, Bits: 14}
	// A setting that cannot learn (regularised so hard that only the
	// bias, the majority class, is left) against one that can.
	grid := []text.TrainConfig{{Epochs: 10, Rate: 0.5, L2: 1000, Seed: 1}, {Epochs: 10, Rate: 0.5, Seed: 1}}
	res, err := text.CrossValidateNested(f, texts, labels, 4, 3, 1, grid)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Chosen) != 4 || len(res.Folds) != 4 {
		t.Fatalf("%d choices, %d folds", len(res.Chosen), len(res.Folds))
	}
	for i, c := range res.Chosen {
		if c.L2 != 0 {
			t.Errorf("fold %d chose %+v, the setting that cannot learn", i+1, c)
		}
	}
	if res.Pooled.Accuracy() < 0.99 || res.Classified != 120 {
		t.Errorf("pooled accuracy %v over %d", res.Pooled.Accuracy(), res.Classified)
	}
	if _, err := text.CrossValidateNested(f, texts, labels, 4, 3, 1, nil); err == nil {
		t.Error("an empty grid: want an error")
	}
}
