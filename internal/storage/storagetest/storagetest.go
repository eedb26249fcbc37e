// Package storagetest is the suite every storage backend must pass. A
// backend's tests call Run with a function that opens a fresh, empty backend.
package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Opener returns a fresh, empty backend; the suite closes it.
type Opener func(t *testing.T) storage.Backend

// Run runs the whole suite against backends made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Backend)
	}{
		{"EventRoundTrip", testEventRoundTrip},
		{"EventConflicts", testEventConflicts},
		{"EventTenantIsolation", testEventTenantIsolation},
		{"ConcurrentSaves", testConcurrentSaves},
		{"ScanEvents", testScanEvents},
		{"EventsAfter", testEventsAfter},
		{"Labels", testLabels},
		{"RuleSets", testRuleSets},
		{"Lists", testLists},
		{"Keys", testKeys},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"Audit", testAudit},
		{"Cases", testCases},
		{"SearchEvents", testSearchEvents},
		{"MinuteStats", testMinuteStats},
		{"Webhooks", testWebhooks},
		{"Deliveries", testDeliveries},
		{"TOTP", testTOTP},
		{"RecoveryCodes", testRecoveryCodes},
		{"TypingProfiles", testTypingProfiles},
		{"Challenges", testChallenges},
		{"DeviceResets", testDeviceResets},
		{"Passkeys", testPasskeys},
		{"PasskeyUpdates", testPasskeyUpdates},
		{"PasskeyDeletes", testPasskeyDeletes},
		{"PasskeyAliasing", testPasskeyAliasing},
		{"Ceremonies", testCeremonies},
		{"ConcurrentCeremonyTakes", testConcurrentCeremonyTakes},
		{"DeleteExpiredCeremonies", testDeleteExpiredCeremonies},
		{"RelyingParties", testRelyingParties},
		{"URLLists", testURLLists},
		{"URLListInvalidChanges", testURLListInvalidChanges},
		{"URLListManyChanges", testURLListManyChanges},
		{"URLListsClosed", testURLListsClosed},
		{"PhishingProfiles", testPhishingProfiles},
		{"PhishingReports", testPhishingReports},
		{"PhishingReportPages", testPhishingReportPages},
		{"PhishingReviews", testPhishingReviews},
		{"ConcurrentPhishingReviews", testConcurrentPhishingReviews},
		{"ReviewedPhishingReports", testReviewedPhishingReports},
		{"PhishingClosed", testPhishingClosed},
		{"OutboundRoundTrip", testOutboundRoundTrip},
		{"OutboundConflicts", testOutboundConflicts},
		{"OutboundQueries", testOutboundQueries},
		{"OutboundPurge", testOutboundPurge},
		{"OutboundClosed", testOutboundClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			defer b.Close()
			tc.fn(t, b)
		})
	}
	t.Run("Closed", func(t *testing.T) {
		b := open(t)
		if err := b.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		ctx := context.Background()
		e := NewEvent("t1", "ev_closed", "ord_closed", time.Now())
		if err := b.SaveEvent(ctx, &e); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("SaveEvent after Close = %v, want ErrClosed", err)
		}
		if _, err := b.Event(ctx, "t1", "x"); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("Event after Close = %v, want ErrClosed", err)
		}
		if err := b.Ping(ctx); err == nil {
			t.Error("Ping after Close succeeded")
		}
	})
}

// base is the suite's reference time, at microsecond precision like stored times.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// NewEvent returns a transaction event with every field set, for tests.
func NewEvent(tenant, id, ext string, at time.Time) storage.Event {
	at = at.UTC().Truncate(time.Microsecond)
	return storage.Event{
		Tenant:      tenant,
		ID:          id,
		Kind:        risk.EventTransaction,
		ExternalID:  ext,
		OccurredAt:  at,
		ReceivedAt:  at.Add(time.Second),
		AmountMinor: 1999,
		Currency:    "EUR",
		Payload:     json.RawMessage(`{"id":"` + ext + `","amount_minor":1999}`),
		Env:         json.RawMessage(`{"amount_minor":1999,"features":{"card":{"count_1h":2}}}`),
		Assessment: risk.Assessment{
			Score:  42,
			Action: risk.ActionReview,
			Reasons: []risk.Reason{
				{Code: "rule:velocity", Message: "card used 2 times in 1h", Weight: 30},
				{Code: "rule:hold", Message: "held", Action: risk.ActionReview},
			},
			Shadow:       []risk.Reason{{Code: "rule:draft", Message: "draft", Weight: 5}},
			RulesVersion: 3,
			ModelVersion: "",
		},
		LatencyMicros: 17,
	}
}

func mustSave(t *testing.T, b storage.Backend, e *storage.Event) {
	t.Helper()
	if err := b.SaveEvent(context.Background(), e); err != nil {
		t.Fatalf("SaveEvent(%s): %v", e.ID, err)
	}
}

func sameEvent(t *testing.T, got, want storage.Event) {
	t.Helper()
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) || got.Seq != want.Seq || got.Tenant != want.Tenant {
		t.Errorf("event differs:\n got  %s (seq %d, tenant %s)\n want %s (seq %d, tenant %s)",
			gj, got.Seq, got.Tenant, wj, want.Seq, want.Tenant)
	}
}

func testEventRoundTrip(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	e := NewEvent("t1", "ev_1", "ord_1", base)
	mustSave(t, b, &e)
	if e.Seq <= 0 {
		t.Fatalf("Seq = %d after save, want > 0", e.Seq)
	}
	got, err := b.Event(ctx, "t1", "ev_1")
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, e)
	got, err = b.EventByExternalID(ctx, "t1", risk.EventTransaction, "ord_1")
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, got, e)
	if _, err := b.EventByExternalID(ctx, "t1", risk.EventLogin, "ord_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("other kind: err = %v, want ErrNotFound", err)
	}
	if _, err := b.Event(ctx, "t1", "ev_missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("missing: err = %v, want ErrNotFound", err)
	}
	if n, err := b.MaxSeq(ctx); err != nil || n != e.Seq {
		t.Errorf("MaxSeq = %d, %v; want %d", n, err, e.Seq)
	}
}

func testEventConflicts(t *testing.T, b storage.Backend) {
	e := NewEvent("t1", "ev_1", "ord_1", base)
	mustSave(t, b, &e)
	dupID := NewEvent("t1", "ev_1", "ord_2", base)
	if err := b.SaveEvent(context.Background(), &dupID); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("duplicate id: err = %v, want ErrConflict", err)
	}
	dupExt := NewEvent("t1", "ev_2", "ord_1", base)
	if err := b.SaveEvent(context.Background(), &dupExt); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("duplicate external id: err = %v, want ErrConflict", err)
	}
	otherKind := NewEvent("t1", "ev_3", "ord_1", base)
	otherKind.Kind = risk.EventLogin
	mustSave(t, b, &otherKind)
	if otherKind.Seq <= e.Seq {
		t.Errorf("Seq did not increase: %d after %d", otherKind.Seq, e.Seq)
	}
}

func testEventTenantIsolation(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	a := NewEvent("t1", "ev_1", "ord_1", base)
	mustSave(t, b, &a)
	other := NewEvent("t2", "ev_1", "ord_1", base) // same ids, other tenant: allowed
	mustSave(t, b, &other)
	if _, err := b.Event(ctx, "t3", "ev_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("tenant t3 sees t1's event: %v", err)
	}
	got, err := b.Event(ctx, "t2", "ev_1")
	if err != nil || got.Seq != other.Seq {
		t.Errorf("t2 event = seq %d, %v; want seq %d", got.Seq, err, other.Seq)
	}
	l := storage.Label{Tenant: "t2", EventID: "ev_1", Label: risk.LabelFraud, Source: "api", OccurredAt: base, CreatedAt: base}
	if err := b.AddLabel(ctx, &l); err != nil {
		t.Fatal(err)
	}
	got, _ = b.Event(ctx, "t1", "ev_1")
	if len(got.Labels) != 0 {
		t.Errorf("t1's event carries t2's label: %+v", got.Labels)
	}
	n := 0
	_ = b.ScanEvents(ctx, storage.EventQuery{Tenant: "t1", Kind: risk.EventTransaction, From: base.Add(-time.Hour), To: base.Add(time.Hour)},
		func(e *storage.Event) error { n++; return nil })
	if n != 1 {
		t.Errorf("t1 scan saw %d events, want 1", n)
	}
}

func testConcurrentSaves(t *testing.T, b storage.Backend) {
	const workers, per = 8, 40
	var wg sync.WaitGroup
	seqs := make(chan int64, workers*per)
	errs := make(chan error, workers*per)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				e := NewEvent("t1", fmt.Sprintf("ev_%d_%d", w, i), fmt.Sprintf("ord_%d_%d", w, i), base.Add(time.Duration(i)*time.Second))
				if err := b.SaveEvent(context.Background(), &e); err != nil {
					errs <- err
					continue
				}
				seqs <- e.Seq
			}
			// Every worker also races on one shared external id: exactly one wins.
			e := NewEvent("t1", fmt.Sprintf("ev_shared_%d", w), "ord_shared", base)
			if err := b.SaveEvent(context.Background(), &e); err != nil && !errors.Is(err, storage.ErrConflict) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(seqs)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[int64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Errorf("Seq %d assigned twice", s)
		}
		seen[s] = true
	}
	if len(seen) != workers*per {
		t.Errorf("%d events saved, want %d", len(seen), workers*per)
	}
	n := 0
	if err := b.EventsAfter(context.Background(), 0, func(*storage.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != workers*per+1 {
		t.Errorf("EventsAfter(0) saw %d events, want %d", n, workers*per+1)
	}
}

func testScanEvents(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	// Saved out of time order; scans come back in time order.
	for _, i := range []int{3, 0, 4, 1, 2} {
		e := NewEvent("t1", fmt.Sprintf("ev_%d", i), fmt.Sprintf("ord_%d", i), base.Add(time.Duration(i)*time.Hour))
		mustSave(t, b, &e)
	}
	login := NewEvent("t1", "ev_login", "login_1", base.Add(time.Hour))
	login.Kind = risk.EventLogin
	mustSave(t, b, &login)
	l := storage.Label{Tenant: "t1", EventID: "ev_2", Label: risk.LabelChargeback, Source: "feed", OccurredAt: base, CreatedAt: base}
	if err := b.AddLabel(ctx, &l); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to time.Duration
		limit    int
		want     []string
	}{
		{"all", -time.Hour, 10 * time.Hour, 0, []string{"ev_0", "ev_1", "ev_2", "ev_3", "ev_4"}},
		{"from inclusive, to exclusive", time.Hour, 3 * time.Hour, 0, []string{"ev_1", "ev_2"}},
		{"limit", 0, 10 * time.Hour, 2, []string{"ev_0", "ev_1"}},
		{"empty", 20 * time.Hour, 30 * time.Hour, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := b.ScanEvents(ctx, storage.EventQuery{Tenant: "t1", Kind: risk.EventTransaction,
				From: base.Add(tc.from), To: base.Add(tc.to), Limit: tc.limit}, func(e *storage.Event) error {
				got = append(got, e.ID)
				if e.ID == "ev_2" && (len(e.Labels) != 1 || e.Labels[0].Label != risk.LabelChargeback) {
					t.Errorf("ev_2 labels = %+v, want one chargeback", e.Labels)
				}
				if e.ID != "ev_2" && len(e.Labels) != 0 {
					t.Errorf("%s labels = %+v, want none", e.ID, e.Labels)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("scan = %v, want %v", got, tc.want)
			}
		})
	}
	stop := errors.New("stop")
	n := 0
	err := b.ScanEvents(ctx, storage.EventQuery{Tenant: "t1", Kind: risk.EventTransaction, From: base, To: base.Add(10 * time.Hour)},
		func(*storage.Event) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("scan did not stop at fn's error: err %v after %d events", err, n)
	}
}

func testEventsAfter(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	var saved []int64
	for i := range 5 {
		e := NewEvent(fmt.Sprintf("t%d", i%2), fmt.Sprintf("ev_%d", i), fmt.Sprintf("ord_%d", i), base)
		mustSave(t, b, &e)
		saved = append(saved, e.Seq)
	}
	var got []int64
	if err := b.EventsAfter(ctx, saved[1], func(e *storage.Event) error { got = append(got, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, saved[2:]) {
		t.Errorf("EventsAfter(%d) = %v, want %v", saved[1], got, saved[2:])
	}
}

func testLabels(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	e := NewEvent("t1", "ev_1", "ord_1", base)
	mustSave(t, b, &e)
	missing := storage.Label{Tenant: "t1", EventID: "ev_none", Label: risk.LabelFraud, Source: "api", OccurredAt: base, CreatedAt: base}
	if err := b.AddLabel(ctx, &missing); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("label for missing event: %v, want ErrNotFound", err)
	}
	want := []storage.Label{
		{Tenant: "t1", EventID: "ev_1", Label: risk.LabelFraud, Source: "analyst:ana", Note: "stolen card", OccurredAt: base, CreatedAt: base.Add(time.Hour)},
		{Tenant: "t1", EventID: "ev_1", Label: risk.LabelChargeback, Source: "feed", OccurredAt: base.Add(48 * time.Hour), CreatedAt: base.Add(49 * time.Hour)},
	}
	for i := range want {
		if err := b.AddLabel(ctx, &want[i]); err != nil {
			t.Fatal(err)
		}
		if want[i].ID == 0 || (i > 0 && want[i].ID <= want[i-1].ID) {
			t.Errorf("label ids not increasing: %d", want[i].ID)
		}
	}
	got, err := b.Event(ctx, "t1", "ev_1")
	if err != nil {
		t.Fatal(err)
	}
	gj, _ := json.Marshal(got.Labels)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("labels = %s, want %s", gj, wj)
	}

	// Replay after a restart reads labels of every tenant in ID order.
	e2 := NewEvent("t2", "ev_2", "ord_2", base)
	mustSave(t, b, &e2)
	other := storage.Label{Tenant: "t2", EventID: "ev_2", Label: risk.LabelLegit, Source: "api", OccurredAt: base, CreatedAt: base.Add(50 * time.Hour)}
	if err := b.AddLabel(ctx, &other); err != nil {
		t.Fatal(err)
	}
	want = append(want, other)
	if maxID, err := b.MaxLabelID(ctx); err != nil || maxID != other.ID {
		t.Errorf("MaxLabelID = %d, %v; want %d", maxID, err, other.ID)
	}
	for _, after := range []int{0, 1, 3} {
		var from int64
		if after > 0 {
			from = want[after-1].ID
		}
		replayed := []storage.Label{}
		if err := b.LabelsAfter(ctx, from, func(l *storage.Label) error { replayed = append(replayed, *l); return nil }); err != nil {
			t.Fatal(err)
		}
		rj, _ := json.Marshal(replayed)
		wj, _ := json.Marshal(want[after:])
		if string(rj) != string(wj) {
			t.Errorf("LabelsAfter(%d) = %s, want %s", from, rj, wj)
		}
		for i, l := range replayed {
			if l.Tenant != want[after+i].Tenant {
				t.Errorf("LabelsAfter(%d)[%d].Tenant = %q, want %q", from, i, l.Tenant, want[after+i].Tenant)
			}
		}
	}
}

func testRuleSets(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if _, err := b.LatestRuleSet(ctx, "t1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("latest of empty: %v, want ErrNotFound", err)
	}
	if err := b.SaveRuleSet(ctx, storage.RuleSet{Tenant: "t1", Version: 2, Rules: json.RawMessage("[]")}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("version 2 first: %v, want ErrConflict", err)
	}
	for v := int64(1); v <= 3; v++ {
		rs := storage.RuleSet{Tenant: "t1", Version: v, CreatedAt: base.Add(time.Duration(v) * time.Minute),
			Rules: json.RawMessage(fmt.Sprintf(`[{"name":"r%d"}]`, v)), Author: "cli"}
		if err := b.SaveRuleSet(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.SaveRuleSet(ctx, storage.RuleSet{Tenant: "t1", Version: 3, Rules: json.RawMessage("[]")}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("stale version: %v, want ErrConflict", err)
	}
	if err := b.SaveRuleSet(ctx, storage.RuleSet{Tenant: "t2", Version: 1, Rules: json.RawMessage("[]")}); err != nil {
		t.Errorf("other tenant's version 1: %v", err)
	}
	latest, err := b.LatestRuleSet(ctx, "t1")
	if err != nil || latest.Version != 3 || string(latest.Rules) != `[{"name":"r3"}]` || latest.Author != "cli" ||
		!latest.CreatedAt.Equal(base.Add(3*time.Minute)) {
		t.Errorf("latest = %+v, %v", latest, err)
	}
	v2, err := b.RuleSetVersion(ctx, "t1", 2)
	if err != nil || string(v2.Rules) != `[{"name":"r2"}]` {
		t.Errorf("version 2 = %+v, %v", v2, err)
	}
	if _, err := b.RuleSetVersion(ctx, "t1", 9); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("version 9: %v, want ErrNotFound", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 6 {
		wg.Go(func() {
			if b.SaveRuleSet(ctx, storage.RuleSet{Tenant: "t1", Version: 4, Rules: json.RawMessage("[]")}) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent saves of version 4 succeeded, want 1", wins)
	}
}

func testLists(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	l := storage.List{Tenant: "t1", Name: "blocked-ips", Kind: "ip", Effect: "block", Description: "bad", CreatedAt: base, UpdatedAt: base}
	if err := b.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateList(ctx, l); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("duplicate list: %v, want ErrConflict", err)
	}
	if err := b.CreateList(ctx, storage.List{Tenant: "t2", Name: "blocked-ips", Kind: "ip", Effect: "none"}); err != nil {
		t.Errorf("same name, other tenant: %v", err)
	}
	if err := b.CreateList(ctx, storage.List{Tenant: "t1", Name: "a-vip", Kind: "email", Effect: "allow"}); err != nil {
		t.Fatal(err)
	}
	n, err := b.AddListEntries(ctx, "t1", "blocked-ips", []string{"203.0.113.7", "198.51.100.0/24", "203.0.113.7"})
	if err != nil || n != 2 {
		t.Errorf("add = %d, %v; want 2 new", n, err)
	}
	if _, err := b.AddListEntries(ctx, "t1", "nope", []string{"x"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("add to missing list: %v, want ErrNotFound", err)
	}
	n, err = b.RemoveListEntries(ctx, "t1", "blocked-ips", []string{"203.0.113.7", "192.0.2.1"})
	if err != nil || n != 1 {
		t.Errorf("remove = %d, %v; want 1", n, err)
	}
	entries, err := b.ListEntries(ctx, "t1", "blocked-ips")
	if err != nil || !slices.Equal(entries, []string{"198.51.100.0/24"}) {
		t.Errorf("entries = %v, %v", entries, err)
	}
	if entries, err := b.ListEntries(ctx, "t2", "blocked-ips"); err != nil || len(entries) != 0 {
		t.Errorf("t2 entries = %v, %v; want none", entries, err)
	}
	l.Effect, l.Description, l.UpdatedAt = "review", "softer", base.Add(time.Hour)
	if err := b.UpdateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	lists, err := b.Lists(ctx, "t1")
	if err != nil || len(lists) != 2 || lists[0].Name != "a-vip" || lists[1].Effect != "review" || lists[1].Description != "softer" || lists[1].Kind != "ip" {
		t.Errorf("lists = %+v, %v", lists, err)
	}
	if err := b.DeleteList(ctx, "t1", "blocked-ips"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteList(ctx, "t1", "blocked-ips"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("delete twice: %v, want ErrNotFound", err)
	}
	if _, err := b.ListEntries(ctx, "t1", "blocked-ips"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("entries of deleted list: %v, want ErrNotFound", err)
	}
	if err := b.UpdateList(ctx, l); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("update deleted list: %v, want ErrNotFound", err)
	}
	// Re-created lists start empty.
	if err := b.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if entries, _ := b.ListEntries(ctx, "t1", "blocked-ips"); len(entries) != 0 {
		t.Errorf("re-created list has entries %v", entries)
	}
}

func testKeys(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	k1 := storage.APIKey{ID: "sgk_1", Tenant: "t1", Hash: "h1", Name: "checkout", Scopes: []string{"events:write", "events:read"}, CreatedAt: base}
	k2 := storage.APIKey{ID: "sgk_2", Tenant: "t2", Hash: "h2", Name: "other", Scopes: []string{"rules:write"}, CreatedAt: base.Add(time.Second)}
	for _, k := range []storage.APIKey{k1, k2} {
		if err := b.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.CreateKey(ctx, storage.APIKey{ID: "sgk_3", Tenant: "t1", Hash: "h1", CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("duplicate hash: %v, want ErrConflict", err)
	}
	got, err := b.KeyByHash(ctx, "h1")
	if err != nil || got.ID != "sgk_1" || got.Tenant != "t1" || !slices.Equal(got.Scopes, k1.Scopes) || !got.RevokedAt.IsZero() || !got.CreatedAt.Equal(base) {
		t.Errorf("KeyByHash = %+v, %v", got, err)
	}
	if _, err := b.KeyByHash(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown hash: %v, want ErrNotFound", err)
	}
	all, _ := b.Keys(ctx, "")
	t1, _ := b.Keys(ctx, "t1")
	if len(all) != 2 || len(t1) != 1 || t1[0].ID != "sgk_1" {
		t.Errorf("Keys = %+v / %+v", all, t1)
	}
	if err := b.RevokeKey(ctx, "sgk_1", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.RevokeKey(ctx, "sgk_9", base); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoke unknown: %v, want ErrNotFound", err)
	}
	got, _ = b.KeyByHash(ctx, "h1")
	if !got.RevokedAt.Equal(base.Add(time.Hour)) {
		t.Errorf("RevokedAt = %v", got.RevokedAt)
	}
}
