package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// urlReport returns a pending url report with every field set.
func urlReport(tenant, id string, at time.Time) storage.PhishingReport {
	return storage.PhishingReport{
		Tenant:     tenant,
		ID:         id,
		Kind:       storage.ReportKindURL,
		URL:        "https://n0rthwind.shop/login?next=%2Faccount",
		Channel:    storage.ChannelEmail,
		Sender:     "support@n0rthwind.shop",
		Reporter:   storage.ReporterCustomer,
		ReporterID: "u_42",
		Note:       "Asked me to \"verify\" my card.\nLooked like your shop.",
		CreatedAt:  at,
		Status:     storage.ReportPending,
	}
}

// messageReport returns a pending message report with every field set.
func messageReport(tenant, id string, at time.Time) storage.PhishingReport {
	return storage.PhishingReport{
		Tenant:    tenant,
		ID:        id,
		Kind:      storage.ReportKindMessage,
		Message:   "Northwind: your parcel is held. Pay 1,99 € customs at https://nw-parcel.example/pay\r\n— Nörthwind ✓",
		Channel:   storage.ChannelSMS,
		Sender:    "+44 7700 900123",
		Reporter:  storage.ReporterStaff,
		Note:      "forwarded by three customers",
		CreatedAt: at,
		Status:    storage.ReportPending,
	}
}

func mustCreateReport(t *testing.T, b storage.Backend, r storage.PhishingReport) {
	t.Helper()
	if err := b.CreatePhishingReport(context.Background(), r); err != nil {
		t.Fatalf("CreatePhishingReport %s/%s: %v", r.Tenant, r.ID, err)
	}
}

func reportIDs(rs []storage.PhishingReport) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Tenant+"/"+r.ID)
	}
	return out
}

func testPhishingProfiles(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	got, err := b.PhishingProfile(ctx, "t1")
	if err != nil || !reflect.DeepEqual(got, storage.PhishingProfile{Tenant: "t1"}) {
		t.Fatalf("PhishingProfile before any = %+v, %v; want the zero profile of t1", got, err)
	}
	full := storage.PhishingProfile{
		Tenant: "t1",
		// Order is kept as given.
		ProtectedDomains: []string{"northwind.shop", "northwind-coffee.com", "xn--nrthwind-zdg.shop"},
		SenderNames:      []string{"Northwind", "Nörthwind Support", strings.Repeat("é", storage.MaxSenderNameLen)},
		SendingDomains:   []string{"mail.northwind.shop", "northwind.shop"},
		UpdatedAt:        base,
	}
	if err := b.PutPhishingProfile(ctx, full); err != nil {
		t.Fatalf("PutPhishingProfile: %v", err)
	}
	other := storage.PhishingProfile{Tenant: "t2", ProtectedDomains: []string{"other.example"}, UpdatedAt: base.Add(time.Second)}
	if err := b.PutPhishingProfile(ctx, other); err != nil {
		t.Fatalf("PutPhishingProfile t2: %v", err)
	}
	for _, want := range []storage.PhishingProfile{full, other} {
		if got, err := b.PhishingProfile(ctx, want.Tenant); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("PhishingProfile(%s) = %+v, %v\nwant %+v", want.Tenant, got, err, want)
		}
	}

	// A put replaces the whole profile; empty lists come back nil, and
	// times UTC at microsecond precision.
	zone := time.FixedZone("UTC+2", 2*3600)
	replaced := storage.PhishingProfile{Tenant: "t1", SenderNames: []string{"Northwind"}, SendingDomains: []string{},
		UpdatedAt: base.Add(time.Hour + 1500*time.Nanosecond).In(zone)}
	if err := b.PutPhishingProfile(ctx, replaced); err != nil {
		t.Fatalf("PutPhishingProfile replacing: %v", err)
	}
	want := storage.PhishingProfile{Tenant: "t1", SenderNames: []string{"Northwind"}, UpdatedAt: base.Add(time.Hour + time.Microsecond)}
	if got, err := b.PhishingProfile(ctx, "t1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("PhishingProfile after replacing = %+v, %v\nwant %+v", got, err, want)
	}

	// A returned profile is the caller's: changing it changes nothing stored.
	got, _ = b.PhishingProfile(ctx, "t1")
	got.SenderNames[0] = "Changed"
	if again, _ := b.PhishingProfile(ctx, "t1"); again.SenderNames[0] != "Northwind" {
		t.Errorf("changing a returned profile changed the stored one: %v", again.SenderNames)
	}

	domains := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("d%d.example", i)
		}
		return out
	}
	names := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("Name %d", i)
		}
		return out
	}
	invalid := []struct {
		name string
		p    storage.PhishingProfile
	}{
		{"too many protected domains", storage.PhishingProfile{ProtectedDomains: domains(storage.MaxProtectedDomains + 1)}},
		{"too many sending domains", storage.PhishingProfile{SendingDomains: domains(storage.MaxSendingDomains + 1)}},
		{"too many sender names", storage.PhishingProfile{SenderNames: names(storage.MaxSenderNames + 1)}},
		{"empty domain", storage.PhishingProfile{ProtectedDomains: []string{"a.example", ""}}},
		{"overlong domain", storage.PhishingProfile{SendingDomains: []string{strings.Repeat("a", storage.MaxDomainLen-7) + ".example"}}},
		{"empty sender name", storage.PhishingProfile{SenderNames: []string{""}}},
		{"overlong sender name", storage.PhishingProfile{SenderNames: []string{strings.Repeat("é", storage.MaxSenderNameLen+1)}}},
		{"sender name not UTF-8", storage.PhishingProfile{SenderNames: []string{"North\xffwind"}}},
	}
	for _, tc := range invalid {
		tc.p.Tenant, tc.p.UpdatedAt = "t1", base.Add(2*time.Hour)
		if err := b.PutPhishingProfile(ctx, tc.p); !errors.Is(err, storage.ErrInvalidPhishingProfile) {
			t.Errorf("%s: PutPhishingProfile = %v, want ErrInvalidPhishingProfile", tc.name, err)
		}
	}
	// At the bounds is fine.
	atBounds := storage.PhishingProfile{Tenant: "t3", ProtectedDomains: domains(storage.MaxProtectedDomains),
		SendingDomains: domains(storage.MaxSendingDomains), SenderNames: names(storage.MaxSenderNames), UpdatedAt: base}
	if err := b.PutPhishingProfile(ctx, atBounds); err != nil {
		t.Errorf("PutPhishingProfile at the bounds: %v", err)
	}
	if got, err := b.PhishingProfile(ctx, "t1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("invalid puts changed the profile: %+v, %v", got, err)
	}
}

func testPhishingReports(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	// m's time is in another zone, with nanoseconds: stored times come
	// back UTC at microsecond precision.
	zone := time.FixedZone("UTC-5", -5*3600)
	u := urlReport("t1", "rep_0000000000000001", base)
	m := messageReport("t1", "rep_0000000000000002", base.Add(time.Minute+123456789*time.Nanosecond).In(zone))
	// The same id in another tenant is another report; only what a
	// report cannot do without is set on it.
	bare := storage.PhishingReport{Tenant: "t2", ID: u.ID, Kind: storage.ReportKindURL, URL: "http://evil.test/",
		Reporter: storage.ReporterStaff, CreatedAt: base, Status: storage.ReportPending}
	for _, r := range []storage.PhishingReport{u, m, bare} {
		mustCreateReport(t, b, r)
	}
	m.CreatedAt = base.Add(time.Minute + 123456*time.Microsecond)
	for _, want := range []storage.PhishingReport{u, m, bare} {
		got, err := b.PhishingReport(ctx, want.Tenant, want.ID)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("PhishingReport(%s, %s) = %+v, %v\nwant %+v", want.Tenant, want.ID, got, err, want)
		}
	}
	if err := b.CreatePhishingReport(ctx, messageReport("t1", u.ID, base)); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("CreatePhishingReport with a taken id = %v, want ErrConflict", err)
	}
	if got, _ := b.PhishingReport(ctx, "t1", u.ID); got.Kind != storage.ReportKindURL {
		t.Errorf("the conflicting create replaced the report: %+v", got)
	}
	for _, k := range [][2]string{{"t1", "rep_missing"}, {"t3", u.ID}} {
		if _, err := b.PhishingReport(ctx, k[0], k[1]); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("PhishingReport(%s, %s) = %v, want ErrNotFound", k[0], k[1], err)
		}
	}

	invalid := []struct {
		name   string
		change func(*storage.PhishingReport)
	}{
		{"no id", func(r *storage.PhishingReport) { r.ID = "" }},
		{"no creation time", func(r *storage.PhishingReport) { r.CreatedAt = time.Time{} }},
		{"unknown kind", func(r *storage.PhishingReport) { r.Kind = "sms" }},
		{"url report without url", func(r *storage.PhishingReport) { r.URL = "" }},
		{"url report with a message", func(r *storage.PhishingReport) { r.Message = "hello" }},
		{"overlong url", func(r *storage.PhishingReport) {
			r.URL = "http://a.example/" + strings.Repeat("a", storage.MaxReportURL)
		}},
		{"message report without message", func(r *storage.PhishingReport) { r.Kind, r.URL = storage.ReportKindMessage, "" }},
		{"message report with a url", func(r *storage.PhishingReport) { r.Kind, r.Message = storage.ReportKindMessage, "hi" }},
		{"overlong message", func(r *storage.PhishingReport) {
			r.Kind, r.URL, r.Message = storage.ReportKindMessage, "", strings.Repeat("a", storage.MaxReportMessage+1)
		}},
		{"unknown channel", func(r *storage.PhishingReport) { r.Channel = "fax" }},
		{"unknown reporter", func(r *storage.PhishingReport) { r.Reporter = "bot" }},
		{"no reporter", func(r *storage.PhishingReport) { r.Reporter = "" }},
		{"overlong sender", func(r *storage.PhishingReport) { r.Sender = strings.Repeat("s", storage.MaxReportSender+1) }},
		{"overlong reporter id", func(r *storage.PhishingReport) { r.ReporterID = strings.Repeat("u", storage.MaxReportReporterID+1) }},
		{"overlong note", func(r *storage.PhishingReport) { r.Note = strings.Repeat("n", storage.MaxReportNote+1) }},
		{"note not UTF-8", func(r *storage.PhishingReport) { r.Note = "bad \xc3" }},
		{"created reviewed", func(r *storage.PhishingReport) { r.Status = storage.ReportConfirmedPhishing }},
		{"created with a reviewer", func(r *storage.PhishingReport) { r.ReviewedBy = "user:ana" }},
		{"created with a review time", func(r *storage.PhishingReport) { r.ReviewedAt = base }},
	}
	for i, tc := range invalid {
		r := urlReport("t1", fmt.Sprintf("rep_invalid%02d", i), base)
		tc.change(&r)
		if err := b.CreatePhishingReport(ctx, r); !errors.Is(err, storage.ErrInvalidPhishingReport) {
			t.Errorf("%s: CreatePhishingReport = %v, want ErrInvalidPhishingReport", tc.name, err)
		}
		if r.ID != "" {
			if _, err := b.PhishingReport(ctx, "t1", r.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: the invalid report was stored (%v)", tc.name, err)
			}
		}
	}
	// At the bounds is fine.
	big := messageReport("t1", "rep_big", base)
	big.Message = strings.Repeat("a", storage.MaxReportMessage)
	big.Note = strings.Repeat("n", storage.MaxReportNote)
	mustCreateReport(t, b, big)
	if got, err := b.PhishingReport(ctx, "t1", "rep_big"); err != nil || got.Message != big.Message {
		t.Errorf("a 64 KiB message did not come back whole (%d bytes, %v)", len(got.Message), err)
	}
}

func testPhishingReportPages(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	// Eight reports of t1, two of them at the same time (the greater id
	// is listed first), every third one reviewed; one report of t2.
	var all []storage.PhishingReport
	for i := range 8 {
		at := base.Add(time.Duration(i) * time.Minute)
		if i == 5 {
			at = base.Add(4 * time.Minute)
		}
		r := urlReport("t1", fmt.Sprintf("rep_%016x", 100-i), at)
		if i%2 == 1 {
			r = messageReport("t1", r.ID, at)
		}
		mustCreateReport(t, b, r)
		if i%3 == 0 {
			var err error
			if r, err = b.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: "t1", ID: r.ID,
				Status: storage.ReportLegitimate, By: "user:ana", At: at.Add(time.Hour)}); err != nil {
				t.Fatalf("ReviewPhishingReport: %v", err)
			}
		}
		all = append(all, r)
	}
	other := urlReport("t2", "rep_other", base.Add(time.Hour))
	mustCreateReport(t, b, other)
	newest := slices.Clone(all)
	slices.Reverse(newest)
	// i=5 is at minute 4 with id ...5f, i=4 at minute 4 with id ...60: 60 first.
	newest[2], newest[3] = all[4], all[5]
	pending := slices.DeleteFunc(slices.Clone(newest), func(r storage.PhishingReport) bool { return r.Status != storage.ReportPending })
	reviewed := slices.DeleteFunc(slices.Clone(newest), func(r storage.PhishingReport) bool { return r.Status == storage.ReportPending })

	tests := []struct {
		name string
		q    storage.PhishingReportQuery
		want []storage.PhishingReport
	}{
		{"all", storage.PhishingReportQuery{Tenant: "t1"}, newest},
		{"limit", storage.PhishingReportQuery{Tenant: "t1", Limit: 3}, newest[:3]},
		{"pending", storage.PhishingReportQuery{Tenant: "t1", Status: storage.ReportPending}, pending},
		{"legitimate", storage.PhishingReportQuery{Tenant: "t1", Status: storage.ReportLegitimate}, reviewed},
		{"confirmed", storage.PhishingReportQuery{Tenant: "t1", Status: storage.ReportConfirmedPhishing}, nil},
		{"after a tie", storage.PhishingReportQuery{Tenant: "t1", After: storage.ReportPosition{CreatedAt: all[4].CreatedAt, ID: all[4].ID}}, newest[3:]},
		{"after the last", storage.PhishingReportQuery{Tenant: "t1", After: storage.ReportPosition{CreatedAt: all[0].CreatedAt, ID: all[0].ID}}, nil},
		{"other tenant", storage.PhishingReportQuery{Tenant: "t2", Limit: 5}, []storage.PhishingReport{other}},
		{"no such tenant", storage.PhishingReportQuery{Tenant: "t9"}, nil},
	}
	for _, tc := range tests {
		got, err := b.PhishingReports(ctx, tc.q)
		if err != nil || !reflect.DeepEqual(reportIDs(got), reportIDs(tc.want)) {
			t.Errorf("%s: PhishingReports = %v, %v; want %v", tc.name, reportIDs(got), err, reportIDs(tc.want))
			continue
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], tc.want[i]) {
				t.Errorf("%s: report %s = %+v\nwant %+v", tc.name, got[i].ID, got[i], tc.want[i])
			}
		}
	}

	// Paging through, with and without a status, gives every report once.
	for _, status := range []string{"", storage.ReportPending} {
		var seen []storage.PhishingReport
		q := storage.PhishingReportQuery{Tenant: "t1", Status: status, Limit: 2}
		for range 10 {
			page, err := b.PhishingReports(ctx, q)
			if err != nil {
				t.Fatalf("PhishingReports: %v", err)
			}
			seen = append(seen, page...)
			if len(page) < q.Limit {
				break
			}
			last := page[len(page)-1]
			q.After = storage.ReportPosition{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		want := newest
		if status != "" {
			want = pending
		}
		if !reflect.DeepEqual(reportIDs(seen), reportIDs(want)) {
			t.Errorf("paging by 2 (status %q) = %v, want %v", status, reportIDs(seen), reportIDs(want))
		}
	}
}

func testPhishingReviews(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	u := urlReport("t1", "rep_u", base)
	m := messageReport("t1", "rep_m", base.Add(time.Second))
	o := urlReport("t2", "rep_u", base)
	for _, r := range []storage.PhishingReport{u, m, o} {
		mustCreateReport(t, b, r)
	}
	at := base.Add(time.Hour + 999*time.Nanosecond)
	got, err := b.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: "t1", ID: "rep_u",
		Status: storage.ReportConfirmedPhishing, By: "api key sgk_1", At: at})
	want := u
	want.Status, want.ReviewedAt, want.ReviewedBy = storage.ReportConfirmedPhishing, base.Add(time.Hour), "api key sgk_1"
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReviewPhishingReport = %+v, %v\nwant %+v", got, err, want)
	}
	if got, err := b.PhishingReport(ctx, "t1", "rep_u"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("PhishingReport after review = %+v, %v\nwant %+v", got, err, want)
	}
	// Once only, whatever the second verdict.
	for _, status := range []string{storage.ReportConfirmedPhishing, storage.ReportLegitimate} {
		_, err := b.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: "t1", ID: "rep_u", Status: status, By: "user:bo", At: at})
		if !errors.Is(err, storage.ErrConflict) {
			t.Errorf("second review (%s) = %v, want ErrConflict", status, err)
		}
	}
	if got, _ := b.PhishingReport(ctx, "t1", "rep_u"); !reflect.DeepEqual(got, want) {
		t.Errorf("a refused review changed the report: %+v", got)
	}
	// The other tenant's report of the same id is untouched and its own.
	if got, _ := b.PhishingReport(ctx, "t2", "rep_u"); !reflect.DeepEqual(got, o) {
		t.Errorf("t2's report changed with t1's review: %+v", got)
	}
	for _, k := range [][2]string{{"t1", "rep_missing"}, {"t3", "rep_m"}} {
		_, err := b.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: k[0], ID: k[1], Status: storage.ReportLegitimate, By: "x", At: at})
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("review of %s/%s = %v, want ErrNotFound", k[0], k[1], err)
		}
	}
	invalid := []storage.PhishingReview{
		{Tenant: "t1", ID: "rep_m", Status: storage.ReportPending, By: "x", At: at},
		{Tenant: "t1", ID: "rep_m", Status: "spam", By: "x", At: at},
		{Tenant: "t1", ID: "rep_m", Status: storage.ReportLegitimate, By: "", At: at},
		{Tenant: "t1", ID: "rep_m", Status: storage.ReportLegitimate, By: strings.Repeat("x", storage.MaxReportReviewer+1), At: at},
		{Tenant: "t1", ID: "rep_m", Status: storage.ReportLegitimate, By: "x"},
	}
	for _, v := range invalid {
		if _, err := b.ReviewPhishingReport(ctx, v); !errors.Is(err, storage.ErrInvalidPhishingReport) {
			t.Errorf("review %+v = %v, want ErrInvalidPhishingReport", v, err)
		}
	}
	if got, _ := b.PhishingReport(ctx, "t1", "rep_m"); !reflect.DeepEqual(got, m) {
		t.Errorf("invalid reviews changed the report: %+v", got)
	}
}

func testConcurrentPhishingReviews(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	mustCreateReport(t, b, urlReport("t1", "rep_race", base))
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := storage.ReportConfirmedPhishing
			if i%2 == 1 {
				status = storage.ReportLegitimate
			}
			_, errs[i] = b.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: "t1", ID: "rep_race", Status: status,
				By: fmt.Sprintf("reviewer %d", i), At: base.Add(time.Hour)})
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("reviews %d and %d both succeeded", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("review %d = %v, want nil or ErrConflict", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no review succeeded")
	}
	if got, _ := b.PhishingReport(ctx, "t1", "rep_race"); got.ReviewedBy != fmt.Sprintf("reviewer %d", won) {
		t.Errorf("the report says it was reviewed by %q; review %d won", got.ReviewedBy, won)
	}
}

func testReviewedPhishingReports(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	type review struct {
		tenant, id, status string
		after              time.Duration // review time after base
	}
	reviews := []review{
		{"t1", "rep_a", storage.ReportConfirmedPhishing, 3 * time.Hour},
		{"t2", "rep_a", storage.ReportLegitimate, time.Hour},
		{"t1", "rep_b", storage.ReportLegitimate, time.Hour}, // same time as t2's: t1 first
		{"t1", "rep_c", storage.ReportConfirmedPhishing, 2 * time.Hour},
	}
	for _, r := range reviews {
		mustCreateReport(t, b, urlReport(r.tenant, r.id, base))
		if _, err := b.ReviewPhishingReport(ctx, storage.PhishingReview{Tenant: r.tenant, ID: r.id, Status: r.status,
			By: "user:ana", At: base.Add(r.after)}); err != nil {
			t.Fatalf("ReviewPhishingReport: %v", err)
		}
	}
	mustCreateReport(t, b, urlReport("t1", "rep_pending", base))
	collect := func(tenant string) ([]string, error) {
		var out []string
		err := b.ReviewedPhishingReports(ctx, tenant, func(r *storage.PhishingReport) error {
			if r.ReviewedAt.IsZero() || r.ReviewedBy != "user:ana" || r.URL == "" {
				t.Errorf("scanned report %s/%s is not whole: %+v", r.Tenant, r.ID, r)
			}
			out = append(out, r.Tenant+"/"+r.ID+"="+r.Status)
			return nil
		})
		return out, err
	}
	for _, tc := range []struct {
		tenant string
		want   []string
	}{
		{"", []string{"t1/rep_b=legitimate", "t2/rep_a=legitimate", "t1/rep_c=confirmed_phishing", "t1/rep_a=confirmed_phishing"}},
		{"t1", []string{"t1/rep_b=legitimate", "t1/rep_c=confirmed_phishing", "t1/rep_a=confirmed_phishing"}},
		{"t2", []string{"t2/rep_a=legitimate"}},
		{"t9", nil},
	} {
		if got, err := collect(tc.tenant); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ReviewedPhishingReports(%q) = %v, %v; want %v", tc.tenant, got, err, tc.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := b.ReviewedPhishingReports(ctx, "", func(*storage.PhishingReport) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ReviewedPhishingReports with fn failing = %v after %d calls, want stop after 1", err, n)
	}
}

func testPhishingClosed(t *testing.T, b storage.Backend) {
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.PhishingProfile(ctx, "t1"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("PhishingProfile after Close = %v, want ErrClosed", err)
	}
	if err := b.PutPhishingProfile(ctx, storage.PhishingProfile{Tenant: "t1"}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("PutPhishingProfile after Close = %v, want ErrClosed", err)
	}
	if err := b.CreatePhishingReport(ctx, urlReport("t1", "rep_x", base)); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("CreatePhishingReport after Close = %v, want ErrClosed", err)
	}
	if _, err := b.PhishingReport(ctx, "t1", "rep_x"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("PhishingReport after Close = %v, want ErrClosed", err)
	}
	if _, err := b.PhishingReports(ctx, storage.PhishingReportQuery{Tenant: "t1"}); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("PhishingReports after Close = %v, want ErrClosed", err)
	}
	v := storage.PhishingReview{Tenant: "t1", ID: "rep_x", Status: storage.ReportLegitimate, By: "x", At: base}
	if _, err := b.ReviewPhishingReport(ctx, v); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("ReviewPhishingReport after Close = %v, want ErrClosed", err)
	}
	if err := b.ReviewedPhishingReports(ctx, "", func(*storage.PhishingReport) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("ReviewedPhishingReports after Close = %v, want ErrClosed", err)
	}
}
