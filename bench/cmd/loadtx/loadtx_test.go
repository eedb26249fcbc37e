package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestLoopbackURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/transactions"},
		{"http://127.9.8.7:1/", "http://127.9.8.7:1/v1/transactions"},
		{"http://[::1]:8080", "http://[::1]:8080/v1/transactions"},
		{"http://127.0.0.1:8080/v1/transactions", "http://127.0.0.1:8080/v1/transactions"},
	}
	for _, c := range ok {
		got, _, err := loopbackURL(context.Background(), c.in)
		if err != nil || got != c.want {
			t.Errorf("loopbackURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{
		"http://10.0.0.1:8080", "http://192.168.1.1:80", "http://0.0.0.0:8080", "http://[::]:8080",
		"http://[::ffff:8.8.8.8]:80", "http://example.com:80", "http://shop.example:8080",
		"https://127.0.0.1:8443", "http://127.0.0.1", "http://user:pw@127.0.0.1:80", "http://[fe80::1%25lo]:80",
	} {
		if _, _, err := loopbackURL(context.Background(), in); err == nil {
			t.Errorf("loopbackURL(%q) accepted a non-loopback or malformed target", in)
		}
	}
}

func TestLoopbackOnlyDial(t *testing.T) {
	if err := loopbackOnly("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("loopback refused: %v", err)
	}
	if err := loopbackOnly("tcp", "[::1]:80", nil); err != nil {
		t.Errorf("::1 refused: %v", err)
	}
	if err := loopbackOnly("tcp", "93.184.216.34:80", nil); !errors.Is(err, errNotLoopback) {
		t.Errorf("public address allowed: %v", err)
	}
}

func TestFlagsAreBounded(t *testing.T) {
	for _, args := range [][]string{
		{"-target", "http://127.0.0.1:1", "-key", "k", "-rate", "1000000"},
		{"-target", "http://127.0.0.1:1", "-key", "k", "-duration", "11m"},
		{"-target", "http://127.0.0.1:1", "-key", "k", "-duration", "0s"},
		{"-target", "http://127.0.0.1:1", "-key", "k", "-warmup", "3m"},
		{"-target", "http://127.0.0.1:1"},
	} {
		t.Setenv("LOADTX_KEY", "")
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestGeneratorIsDeterministicAndValid(t *testing.T) {
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const n = 20_000
	a := newGenerator(7, "run", 1000, end, 30*24*time.Hour, n)
	b := newGenerator(7, "run", 1000, end, 30*24*time.Hour, n)
	kinds := map[string]int{}
	ids := map[string]bool{}
	var prev time.Time
	for seq := uint64(0); seq < n; seq++ {
		ba, kind := a.Build(seq)
		bb, _ := b.Build(seq)
		if !bytes.Equal(ba, bb) {
			t.Fatalf("seq %d differs between two generators with the same seed", seq)
		}
		kinds[kind]++
		var tx transaction
		dec := json.NewDecoder(bytes.NewReader(ba))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&tx); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
		if ids[tx.ID] {
			t.Fatalf("duplicate id %s", tx.ID)
		}
		ids[tx.ID] = true
		at, err := time.Parse(time.RFC3339Nano, tx.CreatedAt)
		if err != nil || at.After(end) || at.Before(prev) {
			t.Fatalf("seq %d: created_at %q out of order or after the end", seq, tx.CreatedAt)
		}
		prev = at
		if tx.AmountMinor <= 0 || fxFactor[tx.Currency] == 0 {
			t.Fatalf("seq %d: amount %d %s", seq, tx.AmountMinor, tx.Currency)
		}
		if len(tx.Items) < 1 || len(tx.Items) > 5 {
			t.Fatalf("seq %d: %d items", seq, len(tx.Items))
		}
		for _, it := range tx.Items {
			if it.Quantity < 1 || it.PriceMinor < 0 {
				t.Fatalf("seq %d: bad item %+v", seq, it)
			}
		}
		if p := tx.Payment; p != nil && p.CardFingerprint != "" {
			if !strings.HasPrefix(p.CardFingerprint, "fp_") || (len(p.BIN) != 6 && len(p.BIN) != 8) || len(p.Last4) != 4 {
				t.Fatalf("seq %d: bad card %+v", seq, p)
			}
		}
		if tx.User != nil && tx.User.Email != "" && !strings.Contains(tx.User.Email, "@") {
			t.Fatalf("seq %d: bad e-mail %q", seq, tx.User.Email)
		}
		if kind == kindCardTesting && tx.AmountMinor >= 500 {
			t.Fatalf("seq %d: card-testing amount %d", seq, tx.AmountMinor)
		}
	}
	for _, k := range kindNames {
		if kinds[k] == 0 {
			t.Errorf("no %s traffic in %d transactions: %v", k, n, kinds)
		}
	}
	if c := newGenerator(8, "run", 1000, end, 30*24*time.Hour, n); bytes.Equal(mustBuild(c, 5), mustBuild(a, 5)) {
		t.Error("different seeds gave the same transaction")
	}
}

func mustBuild(g *generator, seq uint64) []byte { b, _ := g.Build(seq); return b }

func TestPercentiles(t *testing.T) {
	s := make([]int64, 1000)
	for i := range s {
		s[i] = int64(1000-i) * 1e6 // 1..1000 ms, reversed
	}
	p := percentiles(s, 1e6)
	if p.P50 != 500 || p.P90 != 900 || p.P99 != 990 || p.P999 != 999 || p.Max != 1000 || p.Count != 1000 {
		t.Errorf("percentiles = %+v", p)
	}
}

func TestActionOf(t *testing.T) {
	body := []byte(`{"id":"ev_1","kind":"transaction","external_id":"r-12","score":100,"action":"block","reasons":[{"code":"rule:x","message":"m","weight":0,"action":"block"}],"rules_version":1,"model_version":"","latency_us":321}`)
	a, us, rep := actionOf(body)
	if a != "block" || us != 321 || rep {
		t.Errorf("actionOf = %q %d %v", a, us, rep)
	}
}

func BenchmarkBuild(b *testing.B) {
	g := newGenerator(1, "run", 50_000, time.Now(), 30*24*time.Hour, uint64(b.N)+1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.Build(uint64(i))
	}
}
