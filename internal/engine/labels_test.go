package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/risk"
)

// TestKnownFraudLabels checks that feedback reaches later decisions as the
// entities' counts of known frauds, counted once per event, cleared by a
// later verdict, and rebuilt after a restart.
func TestKnownFraudLabels(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	order := func(id, card, device string) engine.Decision {
		doc := h.simple(id, 5000)
		doc["device_id"] = device
		doc["payment"] = map[string]any{"method": "card", "card_fingerprint": card}
		return h.decide(t, "shop", doc)
	}
	label := func(d engine.Decision, l risk.Label) {
		t.Helper()
		if _, err := h.eng.AddFeedback(ctx, "shop", engine.Feedback{EventID: d.ID, Label: string(l)}); err != nil {
			t.Fatalf("AddFeedback(%s): %v", l, err)
		}
	}
	env := func(d engine.Decision) *fraud.Env {
		t.Helper()
		ev, err := h.eng.Event(ctx, "shop", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		env := fraud.NewEnv()
		if err := json.Unmarshal(ev.Env, env); err != nil {
			t.Fatal(err)
		}
		return env
	}
	snapshot := func() []byte {
		t.Helper()
		var b bytes.Buffer
		if _, err := h.eng.WriteSnapshot(ctx, &b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}

	o1 := order("o1", "c1", "d1")
	if e := env(o1); e.Features.Card.Frauds30d != 0 || slices.Contains(codes(o1.Reasons), "rule:known_fraud_card") {
		t.Fatalf("first order: card %+v, reasons %v", e.Features.Card, codes(o1.Reasons))
	}
	// A snapshot in the format written before labels were counted.
	v2 := snapshot()
	v1 := append([]byte("SGSNAP01"), v2[8:16]...)
	v1 = append(v1, v2[24:]...)

	h.now = h.now.Add(time.Hour)
	label(o1, risk.LabelFraud)
	label(o1, risk.LabelChargeback) // the same fraud again: counted once
	h.now = h.now.Add(time.Hour)
	o2 := order("o2", "c1", "d2")
	e2 := env(o2)
	if c := e2.Features.Card; c.Frauds30d != 1 || c.Frauds7d != 1 || c.FraudShare30d != 0.5 {
		t.Errorf("card after a fraud label: frauds %d/%d, share %v; want 1/1, 0.5", c.Frauds7d, c.Frauds30d, c.FraudShare30d)
	}
	if d := e2.Features.Device; d.Frauds30d != 0 {
		t.Errorf("a new device has %d known frauds", d.Frauds30d)
	}
	if !slices.Contains(codes(o2.Reasons), "rule:known_fraud_card") {
		t.Errorf("reasons %v lack known_fraud_card", codes(o2.Reasons))
	}
	snap := snapshot()

	h.now = h.now.Add(time.Hour)
	label(o1, risk.LabelFalsePositive) // the analyst clears it
	o3 := order("o3", "c1", "d3")
	if c := env(o3).Features.Card; c.Frauds30d != 0 || c.FraudShare30d != 0 {
		t.Errorf("card after the fraud was cleared: %d known frauds, share %v", c.Frauds30d, c.FraudShare30d)
	}
	label(o2, risk.LabelFraud)
	label(o2, risk.LabelSpam) // says nothing about fraud

	// The label scope's aggregates after the restarts equal the live ones.
	keys := []features.Key{
		{Tenant: "shop", Scope: fraud.LabelScope, Kind: risk.EntityCard, Value: "c1"},
		{Tenant: "shop", Scope: fraud.LabelScope, Kind: risk.EntityDevice, Value: "d1"},
		{Tenant: "shop", Scope: fraud.LabelScope, Kind: risk.EntityDevice, Value: "d2"},
	}
	read := func(f features.Store) []features.Aggregates {
		out := make([]features.Aggregates, len(keys))
		if err := f.Read(ctx, h.now, keys, nil, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	live := read(h.feats)
	if live[0].Sum[features.W30d] != 1 || live[1].Sum[features.W30d] != 0 || live[2].Sum[features.W30d] != 1 {
		t.Fatalf("live label counts: card %v, d1 %v, d2 %v; want 1, 0, 1",
			live[0].Sum[features.W30d], live[1].Sum[features.W30d], live[2].Sum[features.W30d])
	}
	for _, c := range []struct {
		name   string
		snap   []byte
		labels int
	}{{"snapshot+replay", snap, 2}, {"full replay", nil, 3}, {"old snapshot format", v1, 3}} {
		x := newHarness(t, h.store)
		x.now = h.now
		var r *bytes.Reader
		if c.snap != nil {
			r = bytes.NewReader(c.snap)
		}
		var st engine.RestoreStats
		var err error
		if r != nil {
			st, err = x.eng.Restore(ctx, r)
		} else {
			st, err = x.eng.Restore(ctx, nil)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if st.ReplayedLabels != c.labels {
			t.Errorf("%s: replayed %d labels, want %d", c.name, st.ReplayedLabels, c.labels)
		}
		if got := read(x.feats); !slices.Equal(got, live) {
			t.Errorf("%s: label aggregates\n%+v\nwant\n%+v", c.name, got, live)
		}
	}
}
