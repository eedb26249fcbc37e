package phishing_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/phishing"
)

// syntheticURLs makes n links: shops' plain pages, and phishing links
// that hide a brand in long hosts and paths with tokens.
func syntheticURLs(t testing.TB, n int, seed uint64) ([]phishing.URL, []bool) {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := []string{"garden", "bakery", "bicycle", "books", "coffee", "shoes", "travel", "music", "kitchen", "toys"}
	tlds := []string{"com", "org", "net", "de", "co.uk"}
	var urls []phishing.URL
	var labels []bool
	for i := range n {
		w := func() string { return words[rng.IntN(len(words))] }
		var raw string
		phish := i%2 == 1
		if phish {
			raw = fmt.Sprintf("http://%s-%s-secure-login.%s.%s/verify/account/%x?session=%x", w(), w(), w(), tlds[rng.IntN(len(tlds))], rng.Uint64(), rng.Uint32())
		} else {
			raw = fmt.Sprintf("https://www.%s%s.%s/%s", w(), w(), tlds[rng.IntN(len(tlds))], w())
		}
		u, err := phishing.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		urls, labels = append(urls, u), append(labels, phish)
	}
	return urls, labels
}

func smallURLConfig() phishing.URLTrainConfig {
	p := gbdt.DefaultParams()
	p.Trees, p.EarlyStopping, p.MinDataInLeaf = 30, 0, 5
	return phishing.URLTrainConfig{Trees: p, InnerFolds: 3, Seed: 1}
}

func TestURLModelLearnsAndRoundTrips(t *testing.T) {
	urls, labels := syntheticURLs(t, 200, 1)
	m, err := phishing.TrainURLModel(context.Background(), urls, labels, smallURLConfig())
	if err != nil {
		t.Fatal(err)
	}
	test, testLabels := syntheticURLs(t, 100, 2)
	right := 0
	for i, u := range test {
		if (m.Score(u) >= 0.5) == testLabels[i] {
			right++
		}
	}
	if right < 95 {
		t.Errorf("%d of 100 unseen links right, want at least 95", right)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := phishing.DecodeURLModel(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Info.TrainedAt.Equal(m.Info.TrainedAt) || got.Info.Examples != 200 || got.Info.Phishing != 100 {
		t.Errorf("info %+v, want %+v", got.Info, m.Info)
	}
	for _, u := range test {
		if got.Score(u) != m.Score(u) {
			t.Fatalf("%s: score %v after decoding, %v before", u.Raw, got.Score(u), m.Score(u))
		}
	}
	score, top := m.Explain(test[1], 3)
	grams := m.Grams(test[1], 3)
	if score < 0.5 || len(top) == 0 || len(grams) == 0 {
		t.Errorf("Explain(%s) = %v, %v, %v: want a phishing score with influences and n-grams", test[1].Raw, score, top, grams)
	}
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": b[:len(b)-100],
		"flipped":   append(append([]byte{}, b[:40]...), append([]byte{b[40] ^ 0xff}, b[41:]...)...),
	} {
		if _, err := phishing.DecodeURLModel(data); !errors.Is(err, phishing.ErrCorruptModel) {
			t.Errorf("%s: got %v, want ErrCorruptModel", name, err)
		}
	}
}

func TestURLModelNeedsBothClasses(t *testing.T) {
	urls, labels := syntheticURLs(t, 30, 1)
	for i := range labels {
		labels[i] = i < 5
	}
	if _, err := phishing.TrainURLModel(context.Background(), urls, labels, smallURLConfig()); !errors.Is(err, phishing.ErrTooFewURLs) {
		t.Fatalf("got %v, want ErrTooFewURLs", err)
	}
}

func FuzzDecodeURLModel(f *testing.F) {
	urls, labels := syntheticURLs(f, 40, 3)
	m, err := phishing.TrainURLModel(context.Background(), urls, labels, smallURLConfig())
	if err != nil {
		f.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("SGURLM\x01\x00"))
	u := urls[0]
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := phishing.DecodeURLModel(data)
		if err != nil {
			return
		}
		if p := m.Score(u); !(p >= 0 && p <= 1) {
			t.Fatalf("score %v", p)
		}
	})
}
