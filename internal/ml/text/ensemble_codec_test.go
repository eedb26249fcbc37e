package text_test

import (
	"errors"
	"math"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/text"
)

func twoViews(t testing.TB) *text.Ensemble {
	t.Helper()
	texts := []string{"win a free prize now", "click here for cash", "the kettle boils fast", "arrived on time, works"}
	labels := []bool{true, true, false, false}
	e, err := text.TrainBlend(text.Blend{Views: []text.View{
		{Features: text.Features{WordMin: 1, WordMax: 2, Bits: 12}, Config: text.TrainConfig{Seed: 1}},
		{Features: text.Features{CharMin: 2, CharMax: 4, Bits: 12}, Config: text.TrainConfig{Seed: 1}},
	}, Weights: []float64{1, 3}}, texts, labels)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEnsembleRoundTrip(t *testing.T) {
	e := twoViews(t)
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := text.DecodeEnsemble(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"free cash prize", "kettle arrived", ""} {
		if a, b := e.Score(s), got.Score(s); math.Abs(a-b) > 1e-6 {
			t.Errorf("Score(%q) = %v after the round trip, %v before", s, b, a)
		}
	}
	if len(got.Weights) != 2 || math.Abs(got.Weights[1]-0.75) > 1e-12 {
		t.Errorf("weights %v, want the normalised 0.25, 0.75", got.Weights)
	}
	// A plain model file reads as a one-model ensemble.
	mb, _ := e.Models[0].MarshalBinary()
	one, err := text.DecodeEnsemble(mb)
	if err != nil || len(one.Models) != 1 || one.Weights[0] != 1 || one.Score("free cash") != e.Models[0].Score("free cash") {
		t.Errorf("model file as ensemble: %+v, %v", one, err)
	}
	// Every cut and every flipped byte is refused as corrupt.
	for _, bad := range [][]byte{b[:len(b)-1], b[:10], append([]byte{}, b[:len(b)-5]...)} {
		if _, err := text.DecodeEnsemble(bad); !errors.Is(err, text.ErrCorrupt) {
			t.Errorf("cut file (%d bytes): %v", len(bad), err)
		}
	}
	flipped := append([]byte{}, b...)
	flipped[20] ^= 0x40
	if _, err := text.DecodeEnsemble(flipped); !errors.Is(err, text.ErrCorrupt) {
		t.Errorf("flipped byte: %v", err)
	}
	if _, err := (&text.Ensemble{}).MarshalBinary(); err == nil {
		t.Error("an empty ensemble encoded")
	}
}

func FuzzDecodeEnsemble(f *testing.F) {
	b, err := twoViews(f).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("SGTXEN\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := text.DecodeEnsemble(data)
		if err != nil {
			return
		}
		again, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("a decoded ensemble does not encode: %v", err)
		}
		if _, err := text.DecodeEnsemble(again); err != nil {
			t.Fatalf("a re-encoded ensemble does not decode: %v", err)
		}
		if s := e.Score("anything at all"); s < 0 || s > 1.000001 || math.IsNaN(s) {
			t.Fatalf("score %v", s)
		}
	})
}
