package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/risk"
)

// recordingClient is a shopguard client that keeps every post it had
// assessed with shopguard's decision, so that a test can say why a post
// was held or rejected.
type recordingClient struct {
	*client.Client
	mu    sync.Mutex
	posts []assessedPost
}

type assessedPost struct {
	post client.Post
	d    client.ContentDecision
}

func (c *recordingClient) AssessContent(ctx context.Context, p client.Post) (client.ContentDecision, error) {
	d, err := c.Client.AssessContent(ctx, p)
	if err == nil {
		c.mu.Lock()
		c.posts = append(c.posts, assessedPost{p, d})
		c.mu.Unlock()
	}
	return d, err
}

func (c *recordingClient) assessed() []assessedPost {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.posts)
}

// reviewShop starts a demo shop paid through proc over the shopguard at
// sgURL, on localhost, with the shop's domain in shopguard's phishing
// profile (as a shop sets it up: links to lookalikes of it are phishing).
func reviewShop(t testing.TB, sgURL, key string, proc *Processor) (*Shop, *Guard, *recordingClient, string) {
	t.Helper()
	sg, err := client.New(sgURL, key, client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sg.SetPhishingProfile(context.Background(), client.PhishingProfile{ProtectedDomains: []string{ShopDomain}}); err != nil {
		t.Fatal(err)
	}
	rc := &recordingClient{Client: sg}
	guard, err := NewGuard(GuardConfig{Timeout: 10 * time.Second, CheckoutOnFailure: risk.ActionReview}, rc)
	if err != nil {
		t.Fatal(err)
	}
	shop, err := NewShop(ShopConfig{Name: "Test shop", OrderPrefix: "rv", TrustClientIPHeader: true, PasswordCost: 4},
		NewCatalog(), guard, proc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(shop)
	t.Cleanup(srv.Close)
	return shop, guard, rc, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

// explain is a post and shopguard's reasons with the text they point at.
func explain(a assessedPost) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s by %s → %s (score %d)\n  title %q\n  text %q\n", a.post.Kind, a.post.Author.UserID, a.d.Moderation, a.d.Score, a.post.Title, a.post.Text)
	for _, r := range a.d.Reasons {
		fmt.Fprintf(&b, "  reason %s (%v %s): %s\n", r.Code, r.Weight, r.Action, r.Message)
		for _, sp := range r.Spans {
			src := a.post.Text
			if sp.Field == "title" {
				src = a.post.Title
			}
			if sp.Start >= 0 && sp.End <= len(src) && sp.Start <= sp.End {
				fmt.Fprintf(&b, "    span %s %q\n", sp.Code, src[sp.Start:sp.End])
			}
		}
	}
	for _, f := range a.d.Findings {
		fmt.Fprintf(&b, "  finding %s %s [%d:%d] %s\n", f.Code, f.Field, f.Start, f.End, f.Detail)
	}
	return b.String()
}

// TestReviewSpam runs the review_spam scenario against a real shopguard:
// customers post reviews (most of them verified purchases), questions,
// answers and comments while a review farm pastes one 5-star review from
// fresh accounts, a spammer posts listings and a lookalike link and a
// customer posts a threat; the shop has shopguard's content filter judge
// every post. At least 95 % of the genuine posts are published and none
// is rejected; at least 80 % of the campaign's copies are held or
// rejected, every copy after the 5th rejected (the first two are
// published: nothing tells a first copy from a genuine review); every
// spam listing is held or rejected, the lookalike link and the threat
// rejected; and the report says so.
func TestReviewSpam(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 20-second scenario; skipped with -short")
	}
	a, sgSrv := apptest.Start(t, "")
	proc := NewProcessor()
	shop, guard, rc, shopURL := reviewShop(t, sgSrv.URL, apptest.Key(t, a, "demo"), proc)
	sim, err := NewSim(SimConfig{ShopURL: shopURL, Seed: 5, Duration: 20 * time.Second, Rate: 200, Customers: 500,
		Pace: 0.02, Scenarios: []string{"review_spam"}}, proc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := importAccounts(shop, sim); err != nil {
		t.Fatal(err)
	}
	if err := sim.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := sim.Requests()
	scs, err := scenariosByName([]string{"review_spam"})
	if err != nil {
		t.Fatal(err)
	}
	sum := summarizePosts(reqs)
	rep := &Report{Scenarios: buildReport(scs, reqs, sim.Checkouts(), shop.Orders()), Guard: guard.Stats()}
	var out strings.Builder
	rep.WriteTable(&out)
	sum.write(&out)
	t.Logf("report:\n%s\nsummary: %+v", out.String(), sum)

	// Why each genuine post not published was held or rejected.
	genuineAuthors := map[string]bool{}
	var verified, reviews int
	for _, ap := range rc.assessed() {
		if ap.post.Kind == "review" && sim.pop.byID[ap.post.Author.UserID] != nil { // a customer, not a farm account
			reviews++
			verified += boolInt(ap.post.Author.VerifiedPurchase)
		}
	}
	for _, q := range reqs {
		if _, _, ok := postTarget(q.Path); ok && q.Method == http.MethodPost && !q.Truth.Fraud && postOutcome(q.Status) != "publish" {
			genuineAuthors[q.Truth.Actor] = true
		}
	}
	for _, ap := range rc.assessed() {
		if genuineAuthors[ap.post.Author.UserID] && ap.d.Moderation != "publish" && !strings.Contains(ap.post.Text, "hurt you") {
			t.Logf("genuine post not published: %s", explain(ap))
		}
	}
	t.Logf("genuine reviews by customers: %d, verified purchases %d", reviews, verified)

	genuine := sum.Genuine["publish"] + sum.Genuine["hold"] + sum.Genuine["reject"]
	if genuine < 40 || len(sum.Campaign) < 15 {
		t.Fatalf("%d genuine posts and %d campaign copies; the figures below need at least 40 and 15", genuine, len(sum.Campaign))
	}
	if sum.Genuine["publish"]*100 < genuine*95 || sum.Genuine["reject"] > 0 {
		t.Errorf("genuine posts: %v of %d; want at least 95 %% published and none rejected", sum.Genuine, genuine)
	}
	if reviews == 0 || verified*2 < reviews {
		t.Errorf("%d of %d genuine reviews are verified purchases; want most", verified, reviews)
	}
	if sum.CampaignCaught()*100 < len(sum.Campaign)*80 {
		t.Errorf("campaign copies caught: %d of %d (%v); want at least 80 %%", sum.CampaignCaught(), len(sum.Campaign), sum.Campaign)
	}
	for i, o := range sum.Campaign {
		if i >= 5 && o != "reject" {
			t.Errorf("campaign copy %d: %s, want every copy after the 5th rejected (all: %v)", i+1, o, sum.Campaign)
		}
	}
	var listings, lookalike, threat int
	for _, q := range reqs {
		_, kind, ok := postTarget(q.Path)
		if !ok || q.Method != http.MethodPost || !q.Truth.Fraud || kind == "review" {
			continue
		}
		out := postOutcome(q.Status)
		switch {
		case q.Truth.Actor == "spammer-1" && kind == "listing":
			listings++
			if out != "hold" && out != "reject" {
				t.Errorf("spam listing %s: %q (status %d), want held or rejected", q.Path, out, q.Status)
			}
		case q.Truth.Actor == "spammer-1" && kind == "comment":
			lookalike++
			if out != "reject" {
				t.Errorf("comment with a lookalike link: %q (status %d), want rejected", out, q.Status)
			}
		case strings.HasPrefix(q.Truth.Actor, "abuser-"):
			threat++
			if out != "reject" {
				t.Errorf("threat: %q (status %d), want rejected", out, q.Status)
			}
		}
	}
	if listings != len(spamListings) || lookalike != 1 || threat != 1 {
		t.Errorf("posted %d spam listings, %d lookalike links and %d threats; want %d, 1 and 1", listings, lookalike, threat, len(spamListings))
	}
	for _, ap := range rc.assessed() {
		if strings.Contains(ap.post.Text, "n0rthwind.shop") || strings.Contains(ap.post.Text, "hurt you") || ap.post.Kind == "listing" {
			t.Logf("attacker's post: %s", explain(ap))
		}
	}
	for _, q := range reqs {
		if q.Status == 0 || q.Status >= 500 {
			t.Errorf("%s %s: status %d", q.Method, q.Path, q.Status)
		}
	}
	if sum.Failed > 0 {
		t.Errorf("%d posts got no moderation answer", sum.Failed)
	}
	if guard.Stats().Failures > 0 {
		t.Errorf("%d calls to shopguard failed", guard.Stats().Failures)
	}
	for _, want := range []string{"review_spam (attack)", "Posts on product pages, each judged by shopguard's content filter before publishing: ",
		"Paid review campaign (one 5-star review of ", "a campaign is recognised from its 3rd copy on",
		"Spam listings (messenger numbers, payment outside the shop), a lookalike link and a threat: 6 posts, caught 6"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestReviewPostTarget checks the parsing of a post's request path.
func TestReviewPostTarget(t *testing.T) {
	for _, tc := range []struct {
		path, product, kind string
		ok                  bool
	}{
		{"/products/tent/posts?kind=review", "tent", "review", true},
		{"/products/tent/posts", "tent", "", true},
		{"/products/tent/reviews", "", "", false},
		{"/products//posts?kind=review", "", "", false},
		{"/products/a/b/posts?kind=review", "", "", false},
		{"/report-message", "", "", false},
		{"%zz", "", "", false},
	} {
		product, kind, ok := postTarget(tc.path)
		if product != tc.product || kind != tc.kind || ok != tc.ok {
			t.Errorf("postTarget(%q) = %q, %q, %v; want %q, %q, %v", tc.path, product, kind, ok, tc.product, tc.kind, tc.ok)
		}
	}
}

// TestReviewSummarizePosts checks the count of posts by truth and outcome, the
// campaign's copies in posting order, and the report's lines.
func TestReviewSummarizePosts(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	post := func(sec int, actor string, fraud bool, path string, status int) RequestRecord {
		return RequestRecord{At: t0.Add(time.Duration(sec) * time.Second), Method: http.MethodPost, Path: path, Status: status,
			Truth: Truth{Actor: actor, Scenario: "review_spam", Fraud: fraud}}
	}
	review := "/products/smartwatch/posts?kind=review"
	reqs := []RequestRecord{
		post(9, "review-farm-03", true, review, http.StatusUnprocessableEntity), // recorded out of order
		post(1, "review-farm-01", true, review, http.StatusCreated),
		post(2, "review-farm-02", true, review, http.StatusCreated),
		post(5, "review-farm-04", true, review, http.StatusAccepted),
		post(3, "cus_00001", false, "/products/tent/posts?kind=review", http.StatusCreated),
		post(4, "cus_00002", false, "/products/tent/posts?kind=question", http.StatusCreated),
		post(6, "cus_00003", false, "/products/tent/posts?kind=answer", http.StatusAccepted),
		post(7, "cus_00004", false, "/products/tent/posts?kind=review", http.StatusBadRequest),
		post(8, "spammer-1", true, "/products/phone/posts?kind=listing", http.StatusUnprocessableEntity),
		post(8, "spammer-1", true, "/products/phone/posts?kind=comment", http.StatusAccepted),
		{Method: http.MethodGet, Path: review, Status: 405, Truth: Truth{Scenario: "review_spam"}},
		post(10, "cus_00005", false, "/products/tent/reviews", http.StatusSeeOther), // the old review form
		{Method: http.MethodPost, Path: review, Status: 201, Truth: Truth{Scenario: "shoppers"}},
	}
	s := summarizePosts(reqs)
	want := PostSummary{Genuine: map[string]int{"publish": 2, "hold": 1}, Campaign: []string{"publish", "publish", "hold", "reject"},
		CampaignProduct: "smartwatch", Other: map[string]int{"reject": 1, "hold": 1}, Failed: 1}
	if fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("summary\n%+v\nwant\n%+v", s, want)
	}
	if s.CampaignCaught() != 2 || s.CampaignPublished() != 2 {
		t.Errorf("campaign caught %d, published %d; want 2 and 2", s.CampaignCaught(), s.CampaignPublished())
	}
	var out strings.Builder
	s.write(&out)
	for _, w := range []string{"before publishing: 3 genuine (published 2, held 1, rejected 0), 6 from attackers; 1 not posted",
		"one 5-star review of Smartwatch pasted with small edits by fresh accounts): 4 copies, caught 2 (held 1, rejected 1), published 2.",
		"a campaign is recognised from its 3rd copy on", "a lookalike link and a threat: 2 posts, caught 2 (held 1, rejected 1), published 0."} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("lines lack %q:\n%s", w, out.String())
		}
	}
	var none strings.Builder
	summarizePosts(nil).write(&none)
	if none.Len() != 0 {
		t.Errorf("no posts printed %q, want nothing", none.String())
	}
}

// TestReviewVary checks the choice of wordings: every alternative comes
// up, placeholders stay for fill (also inside an alternative), an empty
// alternative is allowed and a stray brace is kept.
func TestReviewVary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"plain text", []string{"plain text"}},
		{"a {b|c} d", []string{"a b d", "a c d"}},
		{"my {who} and {name}", []string{"my {who} and {name}"}},
		{"{me|my {who}} too", []string{"me too", "my {who} too"}},
		{"new{| again}.", []string{"new.", "new again."}},
		{"{x|y}{1|2}", []string{"x1", "x2", "y1", "y2"}},
		{"stray { brace", []string{"stray { brace"}},
		{"open {a|b", []string{"open {a|b"}},
	} {
		seen := map[string]bool{}
		for range 200 {
			got := vary(rng, tc.in)
			if !slices.Contains(tc.want, got) {
				t.Fatalf("vary(%q) = %q, want one of %q", tc.in, got, tc.want)
			}
			seen[got] = true
		}
		if len(seen) != len(tc.want) {
			t.Errorf("vary(%q) gave %d of the %d wordings: %v", tc.in, len(seen), len(tc.want), seen)
		}
	}
}

// sharedBand reports whether two texts share a near-duplicate band key
// of shopguard's content filter.
func sharedBand(a, b []uint64) bool {
	return slices.ContainsFunc(a, func(k uint64) bool { return slices.Contains(b, k) })
}

// TestReviewTexts checks the texts the scenario writes: genuine reviews
// of one product vary enough that almost no two of them look like
// near-copies to shopguard (sharing stock phrases is fine; sharing
// whole reviews is a campaign), every placeholder is filled, ratings run
// from 2 to 5 and the texts mention sizes, delivery days and prices;
// the campaign's copies, with their edits, look like copies of each
// other; every spam listing carries a phone number.
func TestReviewTexts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := &customer{Account: Account{ID: "cus_1", Address: Address{City: "Lyon"}}}
	catalog := NewCatalog()
	for _, p := range catalog.Products() {
		if len(productDetails[p.ID]) < 5 || len(categoryQuestions[p.Category]) < 2 || len(categoryAnswers[p.Category]) < 2 {
			t.Errorf("%s: %d details, %d questions, %d answers; want at least 5, 2, 2", p.ID, len(productDetails[p.ID]),
				len(categoryQuestions[p.Category]), len(categoryAnswers[p.Category]))
		}
	}
	boots, _ := catalog.Product("hiking-boots")
	const n = 300
	var bands [][]uint64
	ratings := map[int]int{}
	texts := map[string]bool{}
	var sizes, days, prices int
	for range n {
		r := genuineRating(rng)
		ratings[r]++
		title, text := genuineReview(rng, c, boots, r)
		if strings.ContainsAny(title+text, "{}") {
			t.Fatalf("placeholder left in %q / %q", title, text)
		}
		texts[text] = true
		sizes += boolInt(strings.Contains(text, "fits well with thick socks"))
		days += boolInt(strings.Contains(text, " days"))
		prices += boolInt(strings.Contains(text, " €"))
		bands = append(bands, content.Bands(text, nil))
	}
	if len(ratings) != 4 || ratings[1] > 0 || ratings[2] == 0 || ratings[5] < ratings[3] {
		t.Errorf("ratings %v; want 2 to 5, mostly high", ratings)
	}
	if len(texts) < n*95/100 || sizes == 0 || days == 0 || prices == 0 {
		t.Errorf("%d different reviews of %d; %d mention a size, %d days, %d a price", len(texts), n, sizes, days, prices)
	}
	var pairs, collide int
	for i := range bands {
		for j := range i {
			if len(bands[i]) > 0 && len(bands[j]) > 0 {
				pairs++
				collide += boolInt(sharedBand(bands[i], bands[j]))
			}
		}
	}
	t.Logf("genuine reviews of one product fingerprinted: %d pairs, %d (%.2f%%) share a band", pairs, collide, 100*float64(collide)/float64(max(pairs, 1)))
	if pairs == 0 || collide*100 > pairs*2 {
		t.Errorf("%d of %d pairs of genuine reviews share a near-duplicate band; want under 2 %%", collide, pairs)
	}
	watch, _ := catalog.Product("smartwatch")
	var copies [][]uint64
	for range 40 {
		_, text := campaignCopy(rng, watch)
		copies = append(copies, content.Bands(text, nil))
	}
	for i := 1; i < len(copies); i++ {
		if !sharedBand(copies[0], copies[i]) {
			t.Errorf("campaign copy %d shares no band with the first", i+1)
		}
	}
	for _, l := range spamListings {
		if !strings.Contains(l[1], "WhatsApp") || !strings.Contains(l[1], "{nn") {
			t.Errorf("listing %q has no messenger number", l[1])
		}
	}
}

// postForm posts a form from a customer's address, without following
// redirects, and returns the answer and its page.
func postForm(t testing.TB, b *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(ClientIPHeader, "84.10.20.30")
	return doPage(t, b, req)
}

// TestReviewPostForm checks the posts page: bad input gets a field
// error without reaching shopguard, a post needs a signed-in customer,
// and shopguard's moderation decides: a genuine review is published and
// shown, a listing with a messenger number and payment by bank transfer
// is rejected with the reasons.
func TestReviewPostForm(t *testing.T) {
	a, sgSrv := apptest.Start(t, "")
	shop, _, rc, shopURL := reviewShop(t, sgSrv.URL, apptest.Key(t, a, "demo"), NewProcessor())
	if err := shop.ImportAccount(Account{ID: "cus_1", Email: "ada@example.com", Name: "Ada Berg", CreatedAt: time.Now().AddDate(-2, 0, 0),
		Address: Address{Line1: "1 Main Street", City: "Berlin", PostalCode: "10115", Country: "DE"}}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	b := reportClient(t)
	posts := shopURL + "/products/tent/posts?kind="
	if resp, _ := postForm(t, b, posts+"review", url.Values{"rating": {"5"}, "text": {"great tent"}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("signed out: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := postForm(t, b, shopURL+"/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	bad := []struct {
		name, path string
		form       url.Values
		status     int
		fields     string
	}{
		{"unknown kind", posts + "essay", url.Values{"text": {"a fine tent"}}, 400, "kind"},
		{"no kind", shopURL + "/products/tent/posts", url.Values{"text": {"a fine tent"}}, 400, "kind"},
		{"review without rating", posts + "review", url.Values{"text": {"a fine tent"}}, 400, "rating"},
		{"rating out of range", posts + "review", url.Values{"rating": {"6"}, "text": {"a fine tent"}}, 400, "rating"},
		{"text too short", posts + "question", url.Values{"text": {"ok"}}, 400, "text"},
		{"text too long", posts + "comment", url.Values{"text": {strings.Repeat("a", maxPostText+1)}}, 400, "text"},
		{"text not UTF-8", posts + "comment", url.Values{"text": {"nice \xff tent"}}, 400, "text"},
		{"title on two lines", posts + "listing", url.Values{"title": {"a\nb"}, "text": {"a fine tent"}}, 400, "title"},
		{"bad parent", posts + "answer", url.Values{"parent": {"<script>"}, "text": {"yes it is"}}, 400, "parent"},
		{"unknown product", shopURL + "/products/yacht/posts?kind=review", url.Values{"rating": {"5"}, "text": {"a fine yacht"}}, 404, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := postForm(t, b, tc.path, tc.form)
			if resp.StatusCode != tc.status || resp.Header.Get("X-Shop-Error-Fields") != tc.fields {
				t.Errorf("status %d, error fields %q; want %d and %q", resp.StatusCode, resp.Header.Get("X-Shop-Error-Fields"), tc.status, tc.fields)
			}
		})
	}
	if n := len(rc.assessed()); n != 0 {
		t.Fatalf("bad input reached shopguard %d times", n)
	}

	good := []struct {
		name, kind string
		form       url.Values
		status     int
		moderation string
		page       string
	}{
		{"a genuine review", "review", url.Values{"rating": {"4"}, "title": {"Solid"}, "text": {"Set it up alone in about 8 minutes. Arrived in 3 days. One star off because the bag is tight."}},
			http.StatusCreated, "publish", "Thanks: your review on Two-person tent is published."},
		{"a question", "question", url.Values{"text": {"How heavy is it when packed?"}}, http.StatusCreated, "publish", "is published"},
		{"a spam listing", "listing", url.Values{"title": {"Tent for half price"}, "text": {"Same tent for half the price. WhatsApp me on +44 7700 900123, pay by bank transfer only."}},
			http.StatusUnprocessableEntity, "reject", "We cannot publish this listing: "},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			resp, page := postForm(t, b, posts+tc.kind, tc.form)
			if resp.StatusCode != tc.status || resp.Header.Get(ModerationHeader) != tc.moderation || !strings.Contains(page, tc.page) {
				t.Errorf("status %d, moderation %q, want %d and %q; page:\n%s", resp.StatusCode, resp.Header.Get(ModerationHeader), tc.status, tc.moderation, page)
			}
		})
	}
	got := rc.assessed()
	if len(got) != len(good) {
		t.Fatalf("%d posts assessed, want %d", len(got), len(good))
	}
	if p := got[0].post; p.Author.UserID != "cus_1" || p.Author.CreatedAt == "" || p.Author.VerifiedPurchase || p.Author.IP != "84.10.20.30" ||
		p.Author.DeviceID == "" || p.TargetID != "tent" || p.Rating != 4 || p.Title != "Solid" {
		t.Errorf("sent %+v", p)
	}
	if rs := shop.Reviews("tent"); len(rs) != 1 || rs[0].Rating != 4 || rs[0].Author != "Ada Berg" {
		t.Errorf("the tent's reviews: %+v, want the published review only", rs)
	}
}

// TestReviewPostWhenShopguardIsDown checks that a post shopguard cannot
// judge is held for a moderator and counted as a failure, not published
// and not a 5xx.
func TestReviewPostWhenShopguardIsDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	shop, guard, shopURL := phishingShop(t, down, "sg_test", 200*time.Millisecond)
	if err := shop.ImportAccount(Account{ID: "cus_1", Email: "ada@example.com", Name: "Ada", CreatedAt: time.Now().AddDate(-1, 0, 0)}, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	b := reportClient(t)
	if resp, _ := postForm(t, b, shopURL+"/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	failures := guard.Stats().Failures
	resp, page := postForm(t, b, shopURL+"/products/tent/posts?kind=review", url.Values{"rating": {"5"}, "text": {"Great tent, dry all night."}})
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get(ModerationHeader) != notChecked || !strings.Contains(page, "a moderator will read your review") {
		t.Errorf("status %d, moderation %q; want 202 and %q:\n%s", resp.StatusCode, resp.Header.Get(ModerationHeader), notChecked, page)
	}
	if n := guard.Stats().Failures - failures; n != 1 {
		t.Errorf("%d failures counted for the post, want 1", n)
	}
	if rs := shop.Reviews("tent"); len(rs) != 0 {
		t.Errorf("an unchecked review was published: %+v", rs)
	}
}
