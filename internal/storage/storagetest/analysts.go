package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

func testUsers(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	ana := storage.User{Name: "ana", Tenant: "t1", Role: "admin", PasswordHash: "$2a$hash", CreatedAt: base}
	for _, u := range []storage.User{ana, {Name: "bo", Tenant: "t1", Role: "analyst", PasswordHash: "h2", CreatedAt: base},
		{Name: "cy", Tenant: "t2", Role: "analyst", PasswordHash: "h3", CreatedAt: base}} {
		if err := b.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Name, err)
		}
	}
	if err := b.CreateUser(ctx, storage.User{Name: "ana", Tenant: "t2", Role: "admin", CreatedAt: base}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("CreateUser with a taken name = %v, want ErrConflict", err)
	}
	got, err := b.UserByName(ctx, "ana")
	if err != nil || got != ana {
		t.Errorf("UserByName(ana) = %+v, %v; want %+v", got, err, ana)
	}
	if _, err := b.UserByName(ctx, "nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UserByName(nobody) = %v, want ErrNotFound", err)
	}
	names := func(tenant string) []string {
		us, err := b.Users(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range us {
			out = append(out, u.Name)
		}
		return out
	}
	if got := names("t1"); !slices.Equal(got, []string{"ana", "bo"}) {
		t.Errorf("Users(t1) = %v", got)
	}
	if got := names(""); !slices.Equal(got, []string{"ana", "bo", "cy"}) {
		t.Errorf("Users(all) = %v", got)
	}
	ana.Role, ana.PasswordHash, ana.DisabledAt = "analyst", "new", base.Add(time.Hour)
	ana.Tenant = "ignored" // the tenant of a user never changes
	if err := b.UpdateUser(ctx, ana); err != nil {
		t.Fatal(err)
	}
	got, _ = b.UserByName(ctx, "ana")
	if got.Role != "analyst" || got.PasswordHash != "new" || !got.DisabledAt.Equal(ana.DisabledAt) || got.Tenant != "t1" {
		t.Errorf("after UpdateUser: %+v", got)
	}
	if err := b.UpdateUser(ctx, storage.User{Name: "nobody"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateUser(nobody) = %v, want ErrNotFound", err)
	}
}

func testSessions(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	mk := func(id, user string, expires time.Time) storage.Session {
		return storage.Session{IDHash: id, UserName: user, Tenant: "t1", CSRF: "csrf-" + id, CreatedAt: base, ExpiresAt: expires}
	}
	s1, s2, s3 := mk("h1", "ana", base.Add(time.Hour)), mk("h2", "ana", base.Add(2*time.Hour)), mk("h3", "bo", base.Add(time.Minute))
	for _, s := range []storage.Session{s1, s2, s3} {
		if err := b.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.CreateSession(ctx, s1); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("CreateSession twice = %v, want ErrConflict", err)
	}
	if got, err := b.Session(ctx, "h1"); err != nil || got != s1 {
		t.Errorf("Session(h1) = %+v, %v", got, err)
	}
	if n, err := b.DeleteExpiredSessions(ctx, base.Add(30*time.Minute)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if _, err := b.Session(ctx, "h3"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired session still there: %v", err)
	}
	if err := b.DeleteSession(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteSession(ctx, "h1"); err != nil {
		t.Errorf("deleting a deleted session: %v", err)
	}
	if err := b.DeleteUserSessions(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Session(ctx, "h2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session of a signed-out user still there: %v", err)
	}
}

func testAudit(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		tenant := "t1"
		if i == 2 {
			tenant = "t2"
		}
		e := storage.AuditEntry{Tenant: tenant, At: base.Add(time.Duration(i) * time.Second), Actor: "user:ana",
			Action: "rule.update", Target: fmt.Sprintf("rule%d", i), Detail: `{"x":1}`}
		if err := b.AppendAudit(ctx, &e); err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && e.ID <= ids[len(ids)-1] {
			t.Errorf("audit ids not increasing: %v then %d", ids, e.ID)
		}
		ids = append(ids, e.ID)
	}
	got, err := b.Audit(ctx, "t1", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, e := range got {
		targets = append(targets, e.Target)
	}
	if !slices.Equal(targets, []string{"rule4", "rule3", "rule1", "rule0"}) {
		t.Errorf("Audit(t1) targets = %v, want newest first without t2's", targets)
	}
	if got[0].Actor != "user:ana" || got[0].Detail != `{"x":1}` || !got[0].At.Equal(base.Add(4*time.Second)) {
		t.Errorf("entry %+v", got[0])
	}
	page, _ := b.Audit(ctx, "t1", got[1].ID, 1)
	if len(page) != 1 || page[0].Target != "rule1" {
		t.Errorf("Audit before %d, limit 1 = %+v", got[1].ID, page)
	}
}

func testCases(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if err := b.AssignCase(ctx, "t1", "ev1", "ana", "bo", base); err != nil {
		t.Fatal(err)
	}
	if err := b.AddCaseNote(ctx, "t1", "ev1", storage.CaseNote{Author: "ana", Text: "called the customer", At: base.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddCaseNote(ctx, "t1", "ev2", storage.CaseNote{Author: "bo", Text: "first", At: base}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddCaseNote(ctx, "t1", "ev2", storage.CaseNote{Author: "bo", Text: "second", At: base.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := b.AssignCase(ctx, "t2", "ev1", "cy", "cy", base); err != nil {
		t.Fatal(err)
	}
	cases, err := b.Cases(ctx, "t1", []string{"ev1", "ev2", "ev3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 2 {
		t.Fatalf("Cases = %+v, want ev1 and ev2", cases)
	}
	c1 := cases["ev1"]
	if c1.Assignee != "ana" || len(c1.Notes) != 1 || c1.Notes[0].Text != "called the customer" || c1.UpdatedBy != "ana" {
		t.Errorf("ev1 case %+v", c1)
	}
	c2 := cases["ev2"]
	if c2.Assignee != "" || len(c2.Notes) != 2 || c2.Notes[0].Text != "first" || c2.Notes[1].Text != "second" {
		t.Errorf("ev2 case %+v", c2)
	}
	if err := b.AssignCase(ctx, "t1", "ev1", "", "ana", base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	cases, _ = b.Cases(ctx, "t1", []string{"ev1"})
	if cases["ev1"].Assignee != "" || len(cases["ev1"].Notes) != 1 {
		t.Errorf("after unassigning: %+v", cases["ev1"])
	}
	if other, _ := b.Cases(ctx, "t2", []string{"ev1", "ev2"}); len(other) != 1 || other["ev1"].Assignee != "cy" {
		t.Errorf("t2 cases %+v", other)
	}
}

func testSearchEvents(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	actions := []risk.Action{risk.ActionAllow, risk.ActionReview, risk.ActionBlock, risk.ActionReview, risk.ActionAllow,
		risk.ActionReview, risk.ActionChallenge, risk.ActionAllow}
	var saved []storage.Event
	for i, a := range actions {
		e := NewEvent("t1", fmt.Sprintf("ev%d", i), fmt.Sprintf("ord%d", i), base.Add(time.Duration(i)*time.Minute))
		e.Assessment.Action, e.Assessment.Score = a, i*10
		e.Payload = []byte(fmt.Sprintf(`{"id":"ord%d","ip":"203.0.113.%d"}`, i, i%3))
		mustSave(t, b, &e)
		saved = append(saved, e)
	}
	other := NewEvent("t2", "ev-other", "ord-other", base)
	other.Payload = []byte(`{"ip":"203.0.113.0"}`)
	mustSave(t, b, &other)
	if err := b.AddLabel(ctx, &storage.Label{Tenant: "t1", EventID: "ev3", Label: risk.LabelFraud, Source: "t", OccurredAt: base, CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	ids := func(q storage.EventSearch) []string {
		t.Helper()
		if q.Tenant == "" {
			q.Tenant = "t1"
		}
		if q.Limit == 0 {
			q.Limit = 100
		}
		evs, err := b.SearchEvents(ctx, q)
		if err != nil {
			t.Fatalf("SearchEvents(%+v): %v", q, err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	tests := []struct {
		name string
		q    storage.EventSearch
		want []string
	}{
		{"all, newest first", storage.EventSearch{}, []string{"ev7", "ev6", "ev5", "ev4", "ev3", "ev2", "ev1", "ev0"}},
		{"limit", storage.EventSearch{Limit: 2}, []string{"ev7", "ev6"}},
		{"review queue", storage.EventSearch{Actions: []risk.Action{risk.ActionReview}, Unlabelled: true, OldestFirst: true}, []string{"ev1", "ev5"}},
		{"two actions", storage.EventSearch{Actions: []risk.Action{risk.ActionBlock, risk.ActionChallenge}}, []string{"ev6", "ev2"}},
		{"score range", storage.EventSearch{MinScore: 20, MaxScore: 40}, []string{"ev4", "ev3", "ev2"}},
		{"time range", storage.EventSearch{From: base.Add(2 * time.Minute), To: base.Add(4 * time.Minute)}, []string{"ev3", "ev2"}},
		{"entity", storage.EventSearch{Contains: `"203.0.113.1"`}, []string{"ev7", "ev4", "ev1"}},
		{"kind", storage.EventSearch{Kind: risk.EventLogin}, nil},
		{"page before", storage.EventSearch{BeforeSeq: saved[3].Seq, Limit: 2}, []string{"ev2", "ev1"}},
		{"page after", storage.EventSearch{AfterSeq: saved[5].Seq}, []string{"ev7", "ev6"}},
		{"scan limit", storage.EventSearch{ScanLimit: 3}, []string{"ev7", "ev6"}}, // the newest 3 include t2's event
		{"other tenant", storage.EventSearch{Tenant: "t2"}, []string{"ev-other"}},
	}
	for _, tc := range tests {
		if got := ids(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	evs, _ := b.SearchEvents(ctx, storage.EventSearch{Tenant: "t1", Contains: `"ord3"`, Limit: 1})
	if len(evs) != 1 || len(evs[0].Labels) != 1 || evs[0].Labels[0].Label != risk.LabelFraud {
		t.Errorf("search result without its label: %+v", evs)
	}
}

func testMinuteStats(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	for i, a := range []risk.Action{risk.ActionAllow, risk.ActionAllow, risk.ActionBlock, risk.ActionAllow} {
		e := NewEvent("t1", fmt.Sprintf("ev%d", i), fmt.Sprintf("ord%d", i), base)
		e.ReceivedAt = base.Add(time.Duration(i*40) * time.Second) // minutes 0, 0, 1, 2
		e.Assessment.Action = a
		mustSave(t, b, &e)
	}
	other := NewEvent("t2", "ev-other", "ord-other", base)
	other.ReceivedAt = base
	mustSave(t, b, &other)
	got, err := b.MinuteStats(ctx, "t1", base, base.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.MinuteStat{
		{Minute: base, Kind: risk.EventTransaction, Action: risk.ActionAllow, Currency: "EUR", Count: 2, AmountMinor: 3998},
		{Minute: base.Add(time.Minute), Kind: risk.EventTransaction, Action: risk.ActionBlock, Currency: "EUR", Count: 1, AmountMinor: 1999},
	}
	if !slices.EqualFunc(got, want, func(a, b storage.MinuteStat) bool {
		return a.Minute.Equal(b.Minute) && a.Kind == b.Kind && a.Action == b.Action && a.Currency == b.Currency && a.Count == b.Count && a.AmountMinor == b.AmountMinor
	}) {
		t.Errorf("MinuteStats = %+v, want %+v", got, want)
	}
}
