package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// listConfirmer blocks confirmed links as the app does: it lists the
// URL's expression for the tenant, from the source "report", in store.
type listConfirmer struct {
	store storage.URLListStore
	now   time.Time
}

func (c listConfirmer) ConfirmedPhishingURL(ctx context.Context, tenant string, u phishing.URL, _ string) error {
	_, err := c.store.AddURLListChanges(ctx, []storage.URLListChange{{
		URLListEntry: storage.URLListEntry{Tenant: tenant, Hash: phishing.HashExpression(phishing.URLExpression(u)),
			Effect: storage.URLListBlock, Source: phishing.URLListSourceReport},
		Op: storage.URLListAdd, At: c.now}})
	return err
}

// phishingEnv is an API server over a memory store, with keys.
type phishingEnv struct {
	t     *testing.T
	srv   *Server
	store *memory.Store
	now   time.Time
	keys  map[string]string // secret by name
	ids   map[string]string // key id by name
}

var phishingStart = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

// newPhishingEnv makes a server for tenant t1 (keys "admin" with every
// scope, "reader" with rules:read and events:read, "writer" with
// events:write) and t2 ("other", every scope).
func newPhishingEnv(t *testing.T, withStore bool) *phishingEnv {
	t.Helper()
	e := &phishingEnv{t: t, store: memory.New(), now: phishingStart, keys: map[string]string{}, ids: map[string]string{}}
	t.Cleanup(func() { e.store.Close() })
	for _, k := range []struct {
		name, tenant string
		scopes       []apikey.Scope
	}{
		{"admin", "t1", apikey.AllScopes},
		{"reader", "t1", []apikey.Scope{apikey.ScopeRulesRead, apikey.ScopeEventsRead}},
		{"writer", "t1", []apikey.Scope{apikey.ScopeEventsWrite}},
		{"other", "t2", apikey.AllScopes},
	} {
		secret, rec, err := apikey.New(k.tenant, k.name, k.scopes, e.now)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateKey(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		e.keys[k.name], e.ids[k.name] = secret, rec.ID
	}
	e.srv = New(Config{}, nil, apikey.NewAuthenticator(e.store, 0), nil, e.store, slog.New(slog.DiscardHandler))
	e.srv.now = func() time.Time { return e.now }
	if withStore {
		e.srv.SetPhishing(e.store)
	}
	return e
}

// do sends a request with key's secret and returns the status and the
// body decoded into out (when out is not nil).
func (e *phishingEnv) do(method, path, key, body string, out any) (int, http.Header) {
	e.t.Helper()
	var rd *bytes.Reader
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+e.keys[key])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: answer %q is not JSON: %v", method, path, rec.Body.String(), err)
		}
	}
	return rec.Code, rec.Header()
}

// errorFields returns the fields an error answer names, headline first.
func errorFields(b errorBody) []string {
	out := []string{b.Error.Field}
	for _, d := range b.Error.Details {
		if d.Field != b.Error.Field {
			out = append(out, d.Field)
		}
	}
	return out
}

// errorCase is one request that must fail.
type errorCase struct {
	name   string
	body   string
	status int
	code   string
	fields []string // every field named, the headline first
}

func (e *phishingEnv) expectErrors(method, path, key string, cases []errorCase) {
	e.t.Helper()
	for _, tc := range cases {
		var b errorBody
		status, _ := e.do(method, path, key, tc.body, &b)
		if status != tc.status || b.Error.Code != tc.code || !slices.Equal(errorFields(b), tc.fields) {
			e.t.Errorf("%s: %s %s = %d %s fields %v (%s); want %d %s fields %v", tc.name, method, path, status, b.Error.Code,
				errorFields(b), b.Error.Message, tc.status, tc.code, tc.fields)
		}
	}
}

func jsonList(n int, f func(int) string) string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%q", f(i))
	}
	return "[" + strings.Join(out, ",") + "]"
}

func TestPhishingUnavailable(t *testing.T) {
	e := newPhishingEnv(t, false)
	for _, r := range [][2]string{{"GET", "/v1/phishing/profile"}, {"GET", "/v1/phishing/reports"}, {"GET", "/v1/phishing/reports/rep_1"}} {
		var b errorBody
		if status, _ := e.do(r[0], r[1], "admin", "", &b); status != http.StatusNotFound || b.Error.Code != "not_found" {
			t.Errorf("%s %s without a store = %d %+v, want 404 not_found", r[0], r[1], status, b.Error)
		}
	}
}

func TestPhishingProfile(t *testing.T) {
	e := newPhishingEnv(t, true)
	var got phishingProfileJSON
	if status, _ := e.do("GET", "/v1/phishing/profile", "reader", "", &got); status != 200 ||
		!reflect.DeepEqual(got, phishingProfileJSON{ProtectedDomains: []string{}, SenderNames: []string{}, SendingDomains: []string{}}) {
		t.Fatalf("GET profile before any = %d %+v, want three empty lists", status, got)
	}

	put := `{"protected_domains": ["www.Northwind.shop", "https://northwind-coffee.com/beans", "northwind.shop", "nörthwind.de"],
		"sender_names": ["  Northwind ", "Northwind Support", "NORTHWIND"],
		"sending_domains": ["Mail.Northwind.shop", "northwind.shop.", "mail.northwind.shop"]}`
	want := phishingProfileJSON{
		ProtectedDomains: []string{"northwind.shop", "northwind-coffee.com", "xn--nrthwind-n4a.de"},
		SenderNames:      []string{"Northwind", "Northwind Support"},
		SendingDomains:   []string{"mail.northwind.shop", "northwind.shop"},
		UpdatedAt:        &e.now,
	}
	if status, _ := e.do("PUT", "/v1/phishing/profile", "admin", put, &got); status != 200 || !reflect.DeepEqual(got, want) {
		t.Fatalf("PUT profile = %d %+v\nwant %+v", status, got, want)
	}
	got = phishingProfileJSON{}
	if status, _ := e.do("GET", "/v1/phishing/profile", "reader", "", &got); status != 200 || !reflect.DeepEqual(got, want) {
		t.Errorf("GET profile = %d %+v\nwant %+v", status, got, want)
	}
	// Stored for the tenant alone, and recorded in the audit log.
	var other phishingProfileJSON
	if _, _ = e.do("GET", "/v1/phishing/profile", "other", "", &other); len(other.ProtectedDomains) != 0 || other.UpdatedAt != nil {
		t.Errorf("t2 sees %+v", other)
	}
	audit, err := e.store.Audit(context.Background(), "t1", 0, 10)
	if err != nil || len(audit) != 1 || audit[0].Action != "phishing.profile" || audit[0].Actor != "api key "+e.ids["admin"] {
		t.Errorf("audit log = %+v, %v; want one phishing.profile entry by the admin key", audit, err)
	}

	var b errorBody
	if status, _ := e.do("PUT", "/v1/phishing/profile", "reader", `{}`, &b); status != http.StatusForbidden {
		t.Errorf("PUT profile with rules:read = %d, want 403", status)
	}

	domains := func(n int) string { return jsonList(n, func(i int) string { return fmt.Sprintf("d%d.example", i) }) }
	e.expectErrors("PUT", "/v1/phishing/profile", "admin", []errorCase{
		{"ip address", `{"protected_domains": ["northwind.shop", "198.51.100.7"]}`, 400, "invalid_field", []string{"protected_domains[1]"}},
		{"no registered domain", `{"protected_domains": ["localhost"]}`, 400, "invalid_field", []string{"protected_domains[0]"}},
		{"not a host", `{"protected_domains": ["javascript:alert(1)"]}`, 400, "invalid_field", []string{"protected_domains[0]"}},
		{"too many protected", `{"protected_domains": ` + domains(storage.MaxProtectedDomains+1) + `}`, 400, "invalid_field", []string{"protected_domains"}},
		{"blank sender name", `{"sender_names": ["Northwind", "   "]}`, 400, "invalid_field", []string{"sender_names[1]"}},
		{"long sender name", `{"sender_names": ["` + strings.Repeat("é", storage.MaxSenderNameLen+1) + `"]}`, 400, "invalid_field", []string{"sender_names[0]"}},
		{"control in sender name", `{"sender_names": ["North\u0007wind"]}`, 400, "invalid_field", []string{"sender_names[0]"}},
		{"too many sender names", `{"sender_names": ` + jsonList(storage.MaxSenderNames+1, func(i int) string { return fmt.Sprint("n", i) }) + `}`,
			400, "invalid_field", []string{"sender_names"}},
		{"sending domain with scheme", `{"sending_domains": ["https://mail.northwind.shop"]}`, 400, "invalid_field", []string{"sending_domains[0]"}},
		{"sending domain with port", `{"sending_domains": ["northwind.shop", "mail.northwind.shop:25"]}`, 400, "invalid_field", []string{"sending_domains[1]"}},
		{"sending address", `{"sending_domains": ["news@northwind.shop"]}`, 400, "invalid_field", []string{"sending_domains[0]"}},
		{"sending ip", `{"sending_domains": ["192.0.2.1"]}`, 400, "invalid_field", []string{"sending_domains[0]"}},
		{"too many sending", `{"sending_domains": ` + domains(storage.MaxSendingDomains+1) + `}`, 400, "invalid_field", []string{"sending_domains"}},
		{"every problem at once", `{"protected_domains": ["localhost"], "sender_names": [""], "sending_domains": ["a b"]}`,
			400, "invalid_field", []string{"protected_domains[0]", "sender_names[0]", "sending_domains[0]"}},
		{"unknown field", `{"brands": ["northwind.shop"]}`, 400, "unknown_field", []string{"brands"}},
		{"wrong type", `{"sender_names": "Northwind"}`, 400, "invalid_field", []string{"sender_names"}},
	})
	// At the bounds is fine; no refused PUT changed the profile before.
	got = phishingProfileJSON{}
	if _, _ = e.do("GET", "/v1/phishing/profile", "reader", "", &got); !reflect.DeepEqual(got, want) {
		t.Errorf("refused PUTs changed the profile: %+v", got)
	}
	max := `{"protected_domains": ` + domains(storage.MaxProtectedDomains) + `, "sending_domains": ` + domains(storage.MaxSendingDomains) +
		`, "sender_names": ` + jsonList(storage.MaxSenderNames, func(i int) string { return strings.Repeat("é", storage.MaxSenderNameLen-3) + fmt.Sprintf("%03d", i) }) + `}`
	if status, _ := e.do("PUT", "/v1/phishing/profile", "admin", max, &got); status != 200 ||
		len(got.ProtectedDomains) != storage.MaxProtectedDomains || len(got.SenderNames) != storage.MaxSenderNames {
		t.Errorf("PUT at the bounds = %d with %d domains and %d names", status, len(got.ProtectedDomains), len(got.SenderNames))
	}
	// A PUT replaces everything: a list left out is emptied.
	if _, _ = e.do("PUT", "/v1/phishing/profile", "admin", `{"sender_names": ["Northwind"]}`, &got); len(got.ProtectedDomains) != 0 || len(got.SendingDomains) != 0 {
		t.Errorf("PUT with sender names only kept %+v", got)
	}
}

var reportIDRE = regexp.MustCompile(`^rep_[0-9a-f]{16}$`)

func TestPhishingReportCreate(t *testing.T) {
	e := newPhishingEnv(t, true)
	var got phishingReportJSON
	status, h := e.do("POST", "/v1/phishing/reports", "writer", `{"url": "HTTPS://N0rthwind.Shop/a/../login#top", "channel": "email",
		"sender": "support@n0rthwind.shop", "reporter": "customer", "reporter_id": "u_42", "note": "Asked for my card.\nTwice."}`, &got)
	want := phishingReportJSON{ID: got.ID, Kind: "url", URL: "https://n0rthwind.shop/login", Channel: "email", Sender: "support@n0rthwind.shop",
		Reporter: "customer", ReporterID: "u_42", Note: "Asked for my card.\nTwice.", Status: "pending", CreatedAt: e.now}
	if status != http.StatusCreated || !reflect.DeepEqual(got, want) || !reportIDRE.MatchString(got.ID) {
		t.Fatalf("POST url report = %d %+v\nwant %+v", status, got, want)
	}
	if loc := h.Get("Location"); loc != "/v1/phishing/reports/"+got.ID {
		t.Errorf("Location = %q", loc)
	}
	var again phishingReportJSON
	if status, _ := e.do("GET", "/v1/phishing/reports/"+got.ID, "reader", "", &again); status != 200 || !reflect.DeepEqual(again, want) {
		t.Errorf("GET report = %d %+v\nwant %+v", status, again, want)
	}
	var b errorBody
	if status, _ := e.do("GET", "/v1/phishing/reports/"+got.ID, "other", "", &b); status != http.StatusNotFound {
		t.Errorf("another tenant's GET of the report = %d, want 404", status)
	}
	if status, _ := e.do("GET", "/v1/phishing/reports/rep_0000000000000000", "reader", "", &b); status != http.StatusNotFound {
		t.Errorf("GET of an unknown report = %d, want 404", status)
	}

	msg := strings.Repeat("Pay your customs fee now. ", storage.MaxReportMessage/26+1) + "\r\n\tThanks"
	msg = msg[len(msg)-storage.MaxReportMessage:] // exactly 64 KiB
	body, _ := json.Marshal(map[string]string{"message": msg, "channel": "sms", "reporter": "staff"})
	got = phishingReportJSON{}
	if status, _ := e.do("POST", "/v1/phishing/reports", "writer", string(body), &got); status != http.StatusCreated ||
		got.Kind != "message" || got.Message != msg || got.URL != "" || got.Reporter != "staff" || got.Channel != "sms" {
		t.Errorf("POST of a 64 KiB message = %d, kind %q, %d bytes", status, got.Kind, len(got.Message))
	}
	if status, _ := e.do("POST", "/v1/phishing/reports", "reader", `{"url": "evil.test", "reporter": "staff"}`, &b); status != http.StatusForbidden {
		t.Errorf("POST report with rules:read and events:read = %d, want 403", status)
	}

	long := func(n int) string { return strings.Repeat("x", n) }
	e.expectErrors("POST", "/v1/phishing/reports", "writer", []errorCase{
		{"nothing reported", `{"reporter": "customer"}`, 400, "missing_field", []string{"url"}},
		{"blank message", `{"message": " \n ", "reporter": "customer"}`, 400, "missing_field", []string{"url"}},
		{"nothing at all", `{}`, 400, "missing_field", []string{"url", "reporter"}},
		{"both", `{"url": "evil.test", "message": "hi", "reporter": "customer"}`, 400, "invalid_field", []string{"message"}},
		{"not a link", `{"url": "javascript:alert(1)", "reporter": "customer"}`, 400, "invalid_field", []string{"url"}},
		{"overlong link", `{"url": "http://evil.test/` + long(phishing.MaxURLLength) + `", "reporter": "customer"}`, 400, "invalid_field", []string{"url"}},
		{"overlong message", `{"message": "` + long(storage.MaxReportMessage+1) + `", "reporter": "customer"}`, 400, "invalid_field", []string{"message"}},
		{"NUL in message", `{"message": "hi\u0000there", "reporter": "customer"}`, 400, "invalid_field", []string{"message"}},
		{"unknown channel", `{"url": "evil.test", "channel": "fax", "reporter": "customer"}`, 400, "invalid_field", []string{"channel"}},
		{"unknown reporter", `{"url": "evil.test", "reporter": "bot"}`, 400, "invalid_field", []string{"reporter"}},
		{"no reporter", `{"url": "evil.test"}`, 400, "missing_field", []string{"reporter"}},
		{"control in sender", `{"url": "evil.test", "sender": "a\nb", "reporter": "customer"}`, 400, "invalid_field", []string{"sender"}},
		{"overlong sender", `{"url": "evil.test", "sender": "` + long(storage.MaxReportSender+1) + `", "reporter": "customer"}`, 400, "invalid_field", []string{"sender"}},
		{"overlong reporter id", `{"url": "evil.test", "reporter": "customer", "reporter_id": "` + long(storage.MaxReportReporterID+1) + `"}`,
			400, "invalid_field", []string{"reporter_id"}},
		{"overlong note", `{"url": "evil.test", "reporter": "customer", "note": "` + long(storage.MaxReportNote+1) + `"}`, 400, "invalid_field", []string{"note"}},
		{"bell in note", `{"url": "evil.test", "reporter": "customer", "note": "\u0007"}`, 400, "invalid_field", []string{"note"}},
		{"every problem", `{"url": "data:text/html,x", "channel": "post", "reporter": "me", "note": "` + long(storage.MaxReportNote+1) + `"}`,
			400, "invalid_field", []string{"url", "channel", "reporter", "note"}},
		{"unknown field", `{"url": "evil.test", "reporter": "customer", "kind": "url"}`, 400, "unknown_field", []string{"kind"}},
	})
	var page phishingReportsJSON
	if _, _ = e.do("GET", "/v1/phishing/reports", "reader", "", &page); len(page.Reports) != 2 {
		t.Errorf("after the refused reports there are %d reports, want 2", len(page.Reports))
	}
}

func TestPhishingReportListing(t *testing.T) {
	e := newPhishingEnv(t, true)
	var created []phishingReportJSON // oldest first
	for i := range 7 {
		var got phishingReportJSON
		body := fmt.Sprintf(`{"url": "https://evil%d.test/login", "reporter": "customer"}`, i)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"message": "message %d", "reporter": "staff"}`, i)
		}
		if status, _ := e.do("POST", "/v1/phishing/reports", "writer", body, &got); status != http.StatusCreated {
			t.Fatalf("POST report %d = %d", i, status)
		}
		created = append(created, got)
		if i != 2 { // reports 2 and 3 are made at the same time
			e.now = e.now.Add(time.Second)
		}
	}
	// Review two of them.
	for _, i := range []int{1, 4} {
		var got phishingReportJSON
		if status, _ := e.do("POST", "/v1/phishing/reports/"+created[i].ID+"/review", "admin", `{"status": "legitimate"}`, &got); status != 200 {
			t.Fatalf("review %d = %d", i, status)
		}
		created[i] = got
	}
	newest := slices.Clone(created)
	slices.Reverse(newest)
	if created[2].ID > created[3].ID { // at the same time, the greater id first
		i := slices.Index(newest, created[3])
		newest[i], newest[i+1] = newest[i+1], newest[i]
	}
	ids := func(rs []phishingReportJSON) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	pending := slices.DeleteFunc(slices.Clone(newest), func(r phishingReportJSON) bool { return r.Status != "pending" })

	var page phishingReportsJSON
	if status, _ := e.do("GET", "/v1/phishing/reports", "reader", "", &page); status != 200 ||
		!reflect.DeepEqual(page.Reports, newest) || page.NextCursor != "" {
		t.Errorf("GET reports = %d %v (next %q); want %v and no cursor", status, ids(page.Reports), page.NextCursor, ids(newest))
	}
	for _, status := range []string{"", "pending"} {
		var seen []phishingReportJSON
		q := url.Values{"limit": {"2"}}
		if status != "" {
			q.Set("status", status)
		}
		for n := 0; ; n++ {
			var page phishingReportsJSON
			if code, _ := e.do("GET", "/v1/phishing/reports?"+q.Encode(), "reader", "", &page); code != 200 || n > 5 {
				t.Fatalf("page %d = %d", n, code)
			}
			seen = append(seen, page.Reports...)
			if page.NextCursor == "" {
				break
			}
			q.Set("cursor", page.NextCursor)
		}
		want := newest
		if status != "" {
			want = pending
		}
		if !reflect.DeepEqual(seen, want) {
			t.Errorf("paging by 2 (status %q) = %v, want %v", status, ids(seen), ids(want))
		}
	}
	// An exact last page has no cursor.
	page = phishingReportsJSON{}
	if _, _ = e.do("GET", "/v1/phishing/reports?status=legitimate&limit=2", "reader", "", &page); len(page.Reports) != 2 || page.NextCursor != "" {
		t.Errorf("the 2 legitimate reports by 2 = %v next %q", ids(page.Reports), page.NextCursor)
	}
	page = phishingReportsJSON{}
	if _, _ = e.do("GET", "/v1/phishing/reports", "other", "", &page); len(page.Reports) != 0 {
		t.Errorf("t2 lists %v", ids(page.Reports))
	}

	for _, tc := range []struct{ query, field string }{
		{"status=spam", "status"},
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=ten", "limit"},
		{"cursor=***", "cursor"},
		{"cursor=bm90IGEgY3Vyc29y", "cursor"}, // "not a cursor"
		{"cursor=" + encodeCursor(storage.ReportPosition{CreatedAt: e.now, ID: ""}), "cursor"},
	} {
		var b errorBody
		if status, _ := e.do("GET", "/v1/phishing/reports?"+tc.query, "reader", "", &b); status != 400 || b.Error.Field != tc.field {
			t.Errorf("GET reports?%s = %d %+v, want 400 naming %s", tc.query, status, b.Error, tc.field)
		}
	}
}

func TestPhishingReportReview(t *testing.T) {
	e := newPhishingEnv(t, true)
	blocks := memory.New() // the block list the confirmer writes to
	t.Cleanup(func() { blocks.Close() })
	broken := memory.New()
	broken.Close()

	report := func(body string) phishingReportJSON {
		t.Helper()
		var got phishingReportJSON
		if status, _ := e.do("POST", "/v1/phishing/reports", "writer", body, &got); status != http.StatusCreated {
			t.Fatalf("POST report = %d", status)
		}
		return got
	}
	blocked := func(tenant, link string) bool {
		t.Helper()
		l := phishing.NewURLList()
		if _, err := l.Sync(context.Background(), blocks); err != nil {
			t.Fatal(err)
		}
		u, err := phishing.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := l.Lookup(tenant, u)
		return ok && m.Effect == storage.URLListBlock && m.Source == phishing.URLListSourceReport
	}
	review := func(id, key, status string) (int, phishingReportJSON, errorBody) {
		t.Helper()
		raw := new(json.RawMessage)
		code, _ := e.do("POST", "/v1/phishing/reports/"+id+"/review", key, `{"status": "`+status+`"}`, raw)
		var rep phishingReportJSON
		var b errorBody
		_ = json.Unmarshal(*raw, &rep)
		_ = json.Unmarshal(*raw, &b)
		return code, rep, b
	}

	link := report(`{"url": "https://n0rthwind.shop/login?step=2", "reporter": "customer"}`)
	msg := report(`{"message": "Your account is locked: https://n0rthwind.shop/unlock", "reporter": "customer"}`)
	noHook := report(`{"url": "https://evil.test/", "reporter": "staff"}`)

	// Without a confirmer a confirmation only records the outcome.
	e.now = e.now.Add(time.Minute)
	if code, got, _ := review(noHook.ID, "admin", "confirmed_phishing"); code != 200 || got.Status != "confirmed_phishing" {
		t.Errorf("review without a confirmer = %d %+v", code, got)
	}

	// A confirmer that fails leaves the report pending.
	e.srv.SetReportConfirmer(listConfirmer{store: broken, now: e.now})
	if code, _, b := review(link.ID, "admin", "confirmed_phishing"); code != http.StatusServiceUnavailable {
		t.Errorf("review with a failing confirmer = %d %+v, want 503", code, b.Error)
	}
	var still phishingReportJSON
	if _, _ = e.do("GET", "/v1/phishing/reports/"+link.ID, "reader", "", &still); still.Status != "pending" || still.ReviewedAt != nil {
		t.Errorf("after a failed confirmation the report is %+v, want pending", still)
	}

	e.srv.SetReportConfirmer(listConfirmer{store: blocks, now: e.now})
	if blocked("t1", link.URL) {
		t.Fatal("the link is blocked before its review")
	}
	code, got, _ := review(link.ID, "admin", "confirmed_phishing")
	want := link
	want.Status, want.ReviewedAt, want.ReviewedBy = "confirmed_phishing", &e.now, "api key "+e.ids["admin"]
	if code != 200 || !reflect.DeepEqual(got, want) {
		t.Errorf("review = %d %+v\nwant %+v", code, got, want)
	}
	if !blocked("t1", link.URL) || blocked("t2", link.URL) {
		t.Errorf("after the confirmation the link is blocked for t1 %v, for t2 %v; want t1 only", blocked("t1", link.URL), blocked("t2", link.URL))
	}
	// A message report's confirmation blocks nothing.
	var before int64
	if err := blocks.URLListChangesAfter(context.Background(), 0, func(c *storage.URLListChange) error { before = c.ID; return nil }); err != nil {
		t.Fatal(err)
	}
	if code, got, _ := review(msg.ID, "admin", "confirmed_phishing"); code != 200 || got.Status != "confirmed_phishing" {
		t.Errorf("review of a message report = %d %+v", code, got)
	}
	if err := blocks.URLListChangesAfter(context.Background(), before, func(c *storage.URLListChange) error {
		t.Errorf("confirming a message report listed %+v", c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Once only; and recorded in the audit log.
	for _, status := range []string{"confirmed_phishing", "legitimate"} {
		if code, _, b := review(link.ID, "admin", status); code != http.StatusConflict || b.Error.Code != "conflict" {
			t.Errorf("second review (%s) = %d %+v, want 409 conflict", status, code, b.Error)
		}
	}
	audit, _ := e.store.Audit(context.Background(), "t1", 0, 10)
	n := 0
	for _, a := range audit {
		if a.Action == "phishing.report.review" && strings.HasSuffix(a.Target, "/review") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("the audit log has %d reviews, want 3: %+v", n, audit)
	}

	other := report(`{"url": "https://evil.test/other", "reporter": "customer"}`)
	for _, tc := range []struct {
		name, id, key, body string
		status              int
		code, field         string
	}{
		{"another tenant's", other.ID, "other", `{"status": "legitimate"}`, 404, "not_found", ""},
		{"unknown", "rep_0000000000000000", "admin", `{"status": "legitimate"}`, 404, "not_found", ""},
		{"pending", other.ID, "admin", `{"status": "pending"}`, 400, "invalid_field", "status"},
		{"unknown status", other.ID, "admin", `{"status": "spam"}`, 400, "invalid_field", "status"},
		{"no status", other.ID, "admin", `{}`, 400, "missing_field", "status"},
		{"unknown field", other.ID, "admin", `{"status": "legitimate", "note": "x"}`, 400, "unknown_field", "note"},
		{"without rules:write", other.ID, "writer", `{"status": "legitimate"}`, 403, "forbidden", ""},
	} {
		var b errorBody
		code, _ := e.do("POST", "/v1/phishing/reports/"+tc.id+"/review", tc.key, tc.body, &b)
		if code != tc.status || b.Error.Code != tc.code || b.Error.Field != tc.field {
			t.Errorf("%s: review = %d %+v, want %d %s naming %q", tc.name, code, b.Error, tc.status, tc.code, tc.field)
		}
	}
	if _, _ = e.do("GET", "/v1/phishing/reports/"+other.ID, "reader", "", &still); still.Status != "pending" {
		t.Errorf("refused reviews changed the report: %+v", still)
	}
}

// TestReportBoundsAgree holds the storage bound of a reported URL to what
// phishing.Parse accepts.
func TestReportBoundsAgree(t *testing.T) {
	if storage.MaxReportURL != phishing.MaxURLLength {
		t.Errorf("storage.MaxReportURL = %d, phishing.MaxURLLength = %d", storage.MaxReportURL, phishing.MaxURLLength)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, pos := range []storage.ReportPosition{
		{CreatedAt: phishingStart, ID: "rep_3f9c2a7b1d4e6f80"},
		{CreatedAt: time.Date(2000, 1, 1, 0, 0, 0, 1000, time.UTC), ID: "a.b.c"},
	} {
		got, ok := decodeCursor(encodeCursor(pos))
		if !ok || !got.CreatedAt.Equal(pos.CreatedAt) || got.ID != pos.ID {
			t.Errorf("decodeCursor(encodeCursor(%+v)) = %+v, %v", pos, got, ok)
		}
	}
}

// FuzzDecodeCursor: any text decodes or is refused without a panic, and
// what decodes encodes back to a cursor that decodes to the same place.
func FuzzDecodeCursor(f *testing.F) {
	for _, s := range []string{"", "MTc3MjM2NjQwMDEyMzQ1Ni5yZXBfM2Y5YzJhN2IxZDRlNmY4MA", "%%%", "LTEucmVw", "MC5y", "OTk5OTk5OTk5OTk5OTk5OTk5OTkueA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pos, ok := decodeCursor(s)
		if !ok {
			return
		}
		if pos.ID == "" || pos.CreatedAt.IsZero() {
			t.Fatalf("decodeCursor(%q) = %+v: an empty position", s, pos)
		}
		again, ok := decodeCursor(encodeCursor(pos))
		if !ok || !again.CreatedAt.Equal(pos.CreatedAt) || again.ID != pos.ID {
			t.Fatalf("cursor %q: %+v does not survive a round trip (%+v, %v)", s, pos, again, ok)
		}
	})
}

// FuzzValidateReport: any report body is accepted or refused with field
// errors, without a panic, and an accepted one is one storage accepts.
func FuzzValidateReport(f *testing.F) {
	f.Add("https://n0rthwind.shop/login", "", "email", "a@b.test", "customer", "u_1", "note")
	f.Add("", "Pay now\r\nhttps://evil.test", "sms", "", "staff", "", "")
	f.Add("javascript:x", "x", "fax", "\x00", "bot", "\xff", "\a")
	f.Add("%2568%74tp://[::1]:99999/", " ", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, u, msg, channel, sender, reporter, reporterID, note string) {
		rep, err := validateReport(phishingReportBody{URL: u, Message: msg, Channel: channel, Sender: sender,
			Reporter: reporter, ReporterID: reporterID, Note: note})
		if err != nil {
			if len(risk.FieldErrors(err)) == 0 {
				t.Fatalf("refused without a field error: %v", err)
			}
			return
		}
		rep.Tenant, rep.ID, rep.CreatedAt = "t1", "rep_0000000000000001", phishingStart
		if err := rep.Validate(); err != nil {
			t.Fatalf("validateReport accepted %+v, which storage refuses: %v", rep, err)
		}
	})
}

// FuzzValidateProfile: any profile is accepted or refused with field
// errors, without a panic, and an accepted one is one storage accepts,
// whose domains are accepted again as they are.
func FuzzValidateProfile(f *testing.F) {
	f.Add("www.northwind.shop", "Northwind", "mail.northwind.shop")
	f.Add("nörthwind.de", " ", "Mail.Example.COM.")
	f.Add("198.51.100.7", "\x00", "a b")
	f.Add("localhost", strings.Repeat("é", 101), "https://x.example/")
	f.Fuzz(func(t *testing.T, protected, name, sending string) {
		p, err := validateProfile(phishingProfileBody{ProtectedDomains: []string{protected, protected},
			SenderNames: []string{name}, SendingDomains: []string{sending}})
		if err != nil {
			if len(risk.FieldErrors(err)) == 0 {
				t.Fatalf("refused without a field error: %v", err)
			}
			return
		}
		p.Tenant = "t1"
		if err := p.Validate(); err != nil {
			t.Fatalf("validateProfile accepted %+v, which storage refuses: %v", p, err)
		}
		if len(p.ProtectedDomains) != 1 {
			t.Fatalf("a domain given twice is kept %d times", len(p.ProtectedDomains))
		}
		again, err := validateProfile(phishingProfileBody{ProtectedDomains: p.ProtectedDomains, SenderNames: p.SenderNames,
			SendingDomains: p.SendingDomains})
		if err != nil || !slices.Equal(again.ProtectedDomains, p.ProtectedDomains) ||
			!slices.Equal(again.SenderNames, p.SenderNames) || !slices.Equal(again.SendingDomains, p.SendingDomains) {
			t.Fatalf("the normalised profile %+v does not validate to itself: %+v, %v", p, again, err)
		}
	})
}
