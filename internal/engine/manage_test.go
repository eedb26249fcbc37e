package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

func TestBacktest(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	// 10 orders: amounts 10..100 EUR; the big ones (>= 80) turn out to be fraud,
	// 50 and 60 are confirmed legit, the rest unlabelled.
	for i := 1; i <= 10; i++ {
		h.now = t0.Add(time.Duration(i) * time.Hour)
		d := h.decide(t, "shop", h.simple(fmt.Sprintf("o%d", i), int64(i)*1000))
		label := ""
		switch {
		case i >= 8:
			label = "chargeback"
		case i == 5 || i == 6:
			label = "legit"
		}
		if label != "" {
			if _, err := h.eng.AddFeedback(ctx, "shop", engine.Feedback{EventID: d.ID, Label: label}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// o9 was first marked fraud, then found to be a false positive: the latest label counts.
	if _, err := h.eng.AddFeedback(ctx, "shop", engine.Feedback{Kind: risk.EventTransaction, ExternalID: "o9", Label: "false_positive"}); err != nil {
		t.Fatal(err)
	}
	rep, err := h.eng.Backtest(ctx, "shop", engine.BacktestRequest{
		Kind: risk.EventTransaction, From: t0, To: t0.Add(24 * time.Hour),
		Rules: []rules.Rule{
			{Name: "big", Expression: "amount >= 60", Score: 10},
			{Name: "huge", Expression: "amount >= 100", Score: 10},
			{Name: "never", Expression: "amount < 0", Score: 10},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 10 || rep.Labels != (engine.LabelCounts{Bad: 2, Good: 3, Unlabelled: 5}) || rep.Amounts["EUR"] != 55000 {
		t.Fatalf("report totals = %d events, labels %+v, amounts %v", rep.Events, rep.Labels, rep.Amounts)
	}
	big := rep.Rules[0]
	// big matches o6..o10: o6 legit, o7 none, o8 bad, o9 good (false positive), o10 bad.
	if big.MatchedTotal != 5 || big.Matched != (engine.LabelCounts{Bad: 2, Good: 2, Unlabelled: 1}) ||
		*big.Precision != 0.5 || *big.Recall != 1 || big.AmountsMatched["EUR"] != 40000 || big.AmountsBadMatched["EUR"] != 18000 {
		t.Errorf("big = %+v (precision %v recall %v)", big, *big.Precision, *big.Recall)
	}
	if huge := rep.Rules[1]; huge.MatchedTotal != 1 || *huge.Precision != 1 || *huge.Recall != 0.5 {
		t.Errorf("huge = %+v", huge)
	}
	if never := rep.Rules[2]; never.MatchedTotal != 0 || never.Precision != nil || *never.Recall != 0 {
		t.Errorf("never = %+v", never)
	}
	if rep.Any.MatchedTotal != 5 {
		t.Errorf("any = %+v", rep.Any)
	}
	limited, err := h.eng.Backtest(ctx, "shop", engine.BacktestRequest{Kind: risk.EventTransaction, From: t0, To: t0.Add(24 * time.Hour),
		Rules: []rules.Rule{{Name: "all", Expression: "true", Score: 1}}, Limit: 3})
	if err != nil || limited.Events != 3 || !limited.Truncated {
		t.Errorf("limited backtest = %d events, truncated %v, %v", limited.Events, limited.Truncated, err)
	}
}

func TestBacktestRejects(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	good := []rules.Rule{{Name: "r", Expression: "true", Score: 1}}
	tests := []struct {
		name  string
		req   engine.BacktestRequest
		field string
	}{
		{"unknown kind", engine.BacktestRequest{Kind: "shipment", From: t0, To: t0.Add(time.Hour), Rules: good}, "kind"},
		{"missing from", engine.BacktestRequest{Kind: risk.EventTransaction, To: t0, Rules: good}, "from"},
		{"to before from", engine.BacktestRequest{Kind: risk.EventTransaction, From: t0, To: t0.Add(-time.Hour), Rules: good}, "to"},
		{"no rules", engine.BacktestRequest{Kind: risk.EventTransaction, From: t0, To: t0.Add(time.Hour)}, "rules"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.eng.Backtest(ctx, "shop", tc.req)
			fes := risk.FieldErrors(err)
			if len(fes) == 0 || fes[0].Field != tc.field {
				t.Errorf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
	_, err := h.eng.Backtest(ctx, "shop", engine.BacktestRequest{Kind: risk.EventTransaction, From: t0, To: t0.Add(time.Hour),
		Rules: []rules.Rule{{Name: "bad", Expression: "amount >", Score: 1}}})
	var ce rules.CompileErrors
	if !errorsAs(err, &ce) {
		t.Errorf("bad draft rule: err = %v, want CompileErrors", err)
	}
}

func TestSnapshotAndReplay(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	order := func(h *harness, i int) engine.Decision {
		doc := h.simple(fmt.Sprintf("o%d", i), 100)
		doc["device_id"] = "dev"
		doc["payment"] = map[string]any{"method": "card", "card_fingerprint": fmt.Sprintf("card%d", i)}
		return h.decide(t, "shop", doc)
	}
	for i := range 3 {
		order(h, i)
	}
	var snap bytes.Buffer
	seq, err := h.eng.WriteSnapshot(ctx, &snap)
	if err != nil || seq != 3 {
		t.Fatalf("WriteSnapshot = %d, %v", seq, err)
	}
	order(h, 3) // after the snapshot: must come back through replay

	// A new process: same storage, fresh feature store, restored from the snapshot.
	h2 := newHarness(t, h.store)
	h2.now = h.now
	st, err := h2.eng.Restore(ctx, bytes.NewReader(snap.Bytes()))
	if err != nil || st.SnapshotSeq != 3 || st.Replayed != 1 {
		t.Fatalf("Restore = %+v, %v", st, err)
	}
	// Another, rebuilt from the whole event log.
	h3 := newHarness(t, h.store)
	h3.now = h.now
	if st, err := h3.eng.Restore(ctx, nil); err != nil || st.Replayed != 4 {
		t.Fatalf("Restore(nil) = %+v, %v", st, err)
	}
	key := []features.Key{{Tenant: "shop", Scope: string(risk.EventTransaction), Kind: risk.EntityDevice, Value: "dev"}}
	dims := [][]risk.EntityKind{{risk.EntityCard}}
	var want [1]features.Aggregates
	if err := h.feats.Read(ctx, h.now, key, dims, want[:]); err != nil {
		t.Fatal(err)
	}
	if want[0].Count[features.W1h] != 4 || want[0].Distinct[0][features.W1h] != 4 {
		t.Fatalf("live features = %+v", want[0])
	}
	for name, x := range map[string]*harness{"snapshot+replay": h2, "full replay": h3} {
		var got [1]features.Aggregates
		if err := x.feats.Read(ctx, h.now, key, dims, got[:]); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: features %+v, want %+v", name, got[0], want[0])
		}
	}
	if _, err := newHarness(t, h.store).eng.Restore(ctx, bytes.NewReader([]byte("garbage"))); err == nil {
		t.Error("Restore accepted a corrupt snapshot")
	}
}

func TestRuleVersions(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	add := func(r rules.Rule) (engine.RuleSet, error) {
		return h.eng.ChangeRules(ctx, "shop", "test", func(cur []rules.Rule) ([]rules.Rule, error) { return append(cur, r), nil })
	}
	rs, err := add(rules.Rule{Name: "big", Kind: risk.EventTransaction, Expression: "amount_minor > 50000", Action: risk.ActionReview})
	if err != nil || rs.Version != 2 {
		t.Fatalf("add = version %d, %v", rs.Version, err)
	}
	if rs.Rules[len(rs.Rules)-1].Mode != rules.ModeActive {
		t.Errorf("stored mode = %q, want active", rs.Rules[len(rs.Rules)-1].Mode)
	}
	if _, err := add(rules.Rule{Name: "broken", Kind: risk.EventTransaction, Expression: "features.card.count_1hh > 3", Score: 5}); err == nil {
		t.Fatal("a rule with an unknown field was saved")
	}
	cur, _ := h.eng.Rules(ctx, "shop")
	if cur.Version != 2 {
		t.Errorf("a refused change made version %d", cur.Version)
	}
	d := h.decide(t, "shop", h.simple("o1", 60000))
	if d.RulesVersion != 2 || d.Action != risk.ActionReview {
		t.Errorf("decision = %+v, want rules version 2 and review", d)
	}
	v1, err := h.eng.RuleSetVersion(ctx, "shop", 1)
	if err != nil || len(v1.Rules) != len(fraud.Kind{}.DefaultRules()) || v1.Author != "shopguard defaults" {
		t.Errorf("version 1 = %+v, %v", v1, err)
	}
	if _, err := h.eng.RuleSetVersion(ctx, "shop", 7); !errorsIs(err, storage.ErrNotFound) {
		t.Errorf("version 7: %v", err)
	}
	if err := h.eng.ValidateRules(ctx, "shop", []rules.Rule{{Name: "x", Kind: risk.EventTransaction, Expression: "amount >", Score: 1}}); err == nil {
		t.Error("ValidateRules accepted a syntax error")
	}
}

func TestLists(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	if err := h.eng.CreateList(ctx, "shop", rules.List{Name: "bad-cards", Kind: rules.ListCard, Effect: rules.EffectReview}); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.CreateList(ctx, "shop", rules.List{Name: reference.DisposableDomainsListName, Kind: rules.ListEmailDomain}); !errorsIs(err, storage.ErrConflict) {
		t.Errorf("creating a list with a built-in name: %v", err)
	}
	if _, err := h.eng.EditEntries(ctx, "shop", reference.DisposableDomainsListName, []string{"x.com"}, false); !errorsIs(err, engine.ErrBuiltinList) {
		t.Errorf("editing a built-in list: %v", err)
	}
	_, err := h.eng.EditEntries(ctx, "shop", "bad-cards", []string{"fp_ok", "4111111111111111"}, false)
	if err == nil {
		t.Fatal("a card number was accepted as a list entry")
	}
	if info, _, _ := h.eng.List(ctx, "shop", "bad-cards"); info.Size != 0 {
		t.Errorf("a refused batch changed the list: %d entries", info.Size)
	}
	if n, err := h.eng.EditEntries(ctx, "shop", "bad-cards", []string{"fp_bad", "fp_bad2"}, false); err != nil || n != 2 {
		t.Fatalf("add = %d, %v", n, err)
	}
	doc := h.simple("o1", 1000)
	doc["payment"] = map[string]any{"method": "card", "card_fingerprint": "fp_bad"}
	if d := h.decide(t, "shop", doc); d.Action != risk.ActionReview || d.Reasons[0].Code != "list:bad-cards" {
		t.Errorf("decision for a listed card = %+v", d)
	}
	if _, err := h.eng.ChangeRules(ctx, "shop", "test", func(cur []rules.Rule) ([]rules.Rule, error) {
		return append(cur, rules.Rule{Name: "uses", Kind: risk.EventTransaction, Expression: `in_list("bad-cards", payment.card)`, Score: 10}), nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.eng.DeleteList(ctx, "shop", "bad-cards"); !errorsIs(err, engine.ErrListInUse) {
		t.Errorf("deleting a list in use: %v", err)
	}
	if err := h.eng.UpdateList(ctx, "shop", rules.List{Name: "bad-cards", Kind: rules.ListIP}); err == nil {
		t.Error("a list's kind was changed")
	}
	if err := h.eng.UpdateList(ctx, "shop", rules.List{Name: "bad-cards", Effect: rules.EffectNone, Description: "only for rules"}); err != nil {
		t.Fatal(err)
	}
	doc = h.simple("o2", 1000)
	doc["payment"] = map[string]any{"method": "card", "card_fingerprint": "fp_bad2"}
	if d := h.decide(t, "shop", doc); d.Action != risk.ActionAllow || d.Score != 10 {
		t.Errorf("after the list lost its effect: %+v", d)
	}
	ls, err := h.eng.Lists(ctx, "shop")
	if err != nil || len(ls) != 2 || !ls[1].Builtin || ls[1].Size < 8000 || ls[0].Description != "only for rules" {
		t.Errorf("lists = %+v, %v", ls, err)
	}
}

func TestFeedbackValidation(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	d := h.decide(t, "shop", h.simple("o1", 1000))
	tests := []struct {
		name  string
		fb    engine.Feedback
		field string
	}{
		{"no event", engine.Feedback{Label: "fraud"}, "event_id"},
		{"both ids", engine.Feedback{EventID: d.ID, Kind: "transaction", ExternalID: "o1", Label: "fraud"}, "event_id"},
		{"bad kind", engine.Feedback{Kind: "order", ExternalID: "o1", Label: "fraud"}, "kind"},
		{"no label", engine.Feedback{EventID: d.ID}, "label"},
		{"bad label", engine.Feedback{EventID: d.ID, Label: "evil"}, "label"},
		{"bad time", engine.Feedback{EventID: d.ID, Label: "fraud", OccurredAt: "soon"}, "occurred_at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.eng.AddFeedback(ctx, "shop", tc.fb)
			if fes := risk.FieldErrors(err); len(fes) == 0 || fes[0].Field != tc.field {
				t.Errorf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
	if _, err := h.eng.AddFeedback(ctx, "shop", engine.Feedback{EventID: "ev_missing", Label: "fraud"}); !errorsIs(err, storage.ErrNotFound) {
		t.Errorf("unknown event: %v", err)
	}
	if _, err := h.eng.AddFeedback(ctx, "other-shop", engine.Feedback{EventID: d.ID, Label: "fraud"}); !errorsIs(err, storage.ErrNotFound) {
		t.Errorf("another tenant labelled the event: %v", err)
	}
	h.now = t0.Add(10 * 24 * time.Hour) // the chargeback arrives days later
	l, err := h.eng.AddFeedback(ctx, "shop", engine.Feedback{EventID: d.ID, Label: "chargeback", Source: "psp-feed", OccurredAt: "2026-03-05T00:00:00Z"})
	if err != nil || l.Source != "psp-feed" || !l.OccurredAt.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("label = %+v, %v", l, err)
	}
	ev, _ := h.eng.Event(ctx, "shop", d.ID)
	if len(ev.Labels) != 1 || ev.Labels[0].Label != risk.LabelChargeback {
		t.Errorf("event labels = %+v", ev.Labels)
	}
}
