package dashboard_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/ml/text"
)

// postSpec is a post the tests send to POST /v1/content.
type postSpec struct {
	id, kind, title, text, author string
	rating                        int
}

// assess sends p through the API (the real engine, content.Kind
// registered) and checks the action the fixture relies on.
func assess(t testing.TB, c *client.Client, p postSpec, want client.Action) client.ContentDecision {
	t.Helper()
	if p.kind == "" {
		p.kind = content.KindReview
	}
	if p.author == "" {
		p.author = "u-" + p.id
	}
	if p.kind == content.KindReview && p.rating == 0 {
		p.rating = 4
	}
	d, err := c.AssessContent(context.Background(), client.Post{ID: p.id, CreatedAt: time.Now().UTC().Format(time.RFC3339), Kind: p.kind,
		Title: p.title, Text: p.text, Rating: p.rating, TargetID: "prod-" + p.id, Author: client.PostAuthor{UserID: p.author}})
	if err != nil {
		t.Fatalf("post %s: %v", p.id, err)
	}
	if d.Action != want {
		t.Fatalf("post %s %q: %s (score %d, %+v), the test needs %s", p.id, p.text, d.Action, d.Score, d.Reasons, want)
	}
	return d
}

var itemRE = regexp.MustCompile(`<article class="card mt mod-item" id="post-([^"]+)"`)

// queueIDs returns the event ids of the items of a queue page, in order.
func queueIDs(body string) []string {
	var ids []string
	for _, m := range itemRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// article returns the HTML of the item of event id on a page ("" if none).
func article(body, id string) string {
	i := strings.Index(body, `id="post-`+id+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], "</article>")
	if j < 0 {
		return body[i:]
	}
	return body[i : i+j]
}

// signedIn returns a browser signed in as a new user of tenant.
func (e *env) signedIn(t testing.TB, tenant, name, role string) *browser {
	t.Helper()
	pw := e.user(t, tenant, name, role)
	b := e.browser(t)
	if resp := b.signIn(name, pw); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: %d", name, resp.StatusCode)
	}
	return b
}

func TestModerationQueueShowsHeldUnjudgedContent(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := e.apiClient(t, "shop1")
	phone := assess(t, c, postSpec{id: "held-phone", text: "Works well; call me on +44 7911 123456"}, client.ActionReview)
	insult := assess(t, c, postSpec{id: "held-insult", kind: content.KindQuestion, text: "Why is this seller such an idiot?"}, client.ActionReview)
	rejected := assess(t, c, postSpec{id: "rejected", text: "you idiot, I will kill you"}, client.ActionBlock)
	published := assess(t, c, postSpec{id: "published", text: "Great blender, works well."}, client.ActionAllow)
	labelled := assess(t, c, postSpec{id: "held-labelled", kind: content.KindComment, text: "Works fine, my number is +44 7911 654321"}, client.ActionReview)
	if _, err := c.SendFeedback(ctx, client.Feedback{EventID: labelled.ID, Label: "spam"}); err != nil {
		t.Fatal(err)
	}
	// A held order is the review queue's, not moderation's.
	if _, err := c.PutRule(ctx, client.Rule{Name: "hold_big", Kind: "transaction", Expression: "amount_minor >= 50000",
		Action: client.ActionReview, Description: "big order"}); err != nil {
		t.Fatal(err)
	}
	order := scoreOrder(t, c, "ord-big", 90000, "big@example.com")
	if order.Action != client.ActionReview {
		t.Fatalf("order %s, want review", order.Action)
	}
	// Another shop's held post is never shown.
	other := assess(t, e.apiClient(t, "shop2"), postSpec{id: "other-shop", text: "Call me on +44 7911 999999 please"}, client.ActionReview)

	b := e.signedIn(t, "shop1", "bo", "analyst")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{insult.ID, phone.ID}}, // newest first
		{"?tab=held", []string{insult.ID, phone.ID}},
		{"?tab=held&kind=question", []string{insult.ID}},
		{"?kind=review", []string{phone.ID}},
		{"?kind=listing", nil},
		{"?tab=rejected", []string{rejected.ID}},
		{"?tab=published", []string{published.ID}},
	} {
		resp, body := b.do("GET", "/dashboard/moderation"+tc.query, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET moderation%s: %d", tc.query, resp.StatusCode)
			continue
		}
		if got := queueIDs(body); !slices.Equal(got, tc.want) {
			t.Errorf("moderation%s shows %v, want %v", tc.query, got, tc.want)
		}
		for _, absent := range []string{labelled.ID, order.ID, other.ID, "ord-big", "other-shop"} {
			if strings.Contains(body, absent) {
				t.Errorf("moderation%s shows %s", tc.query, absent)
			}
		}
		if strings.Contains(body, " style=") || strings.Contains(body, "<script>") {
			t.Errorf("moderation%s has inline style or script, which the CSP forbids", tc.query)
		}
	}
	for _, q := range []string{"?tab=everything", "?kind=essay", "?before=x"} {
		if resp, _ := b.do("GET", "/dashboard/moderation"+q, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET moderation%s: %d, want 400", q, resp.StatusCode)
		}
	}

	// Each item shows its kind, author, target and the four scores.
	_, body := b.do("GET", "/dashboard/moderation", nil)
	item := article(body, insult.ID)
	for _, want := range []string{`mod-kind">question<`, `mod-author">u-held-insult<`, `mod-target">prod-held-insult<`,
		"<td>Spam</td>", "<td>Links</td>", "<td>Fake review</td>", "<td>Abuse</td>",
		">Approve</button>", ">Spam</button>", ">Abuse</button>", ">Fake review / fraud</button>"} {
		if !strings.Contains(item, want) {
			t.Errorf("the held question's item lacks %q:\n%s", want, item)
		}
	}
	if n := strings.Count(item, "<meter "); n != 4 {
		t.Errorf("the item has %d score bars, want 4", n)
	}
	abuse := fmt.Sprintf(`value="%v"`, insult.Scores.Abuse)
	if !strings.Contains(item, abuse) {
		t.Errorf("the abuse bar does not show %.1f (%s):\n%s", insult.Scores.Abuse, abuse, item)
	}
	// Approving a rejected post says the rejection was wrong.
	_, body = b.do("GET", "/dashboard/moderation?tab=rejected", nil)
	if item := article(body, rejected.ID); !strings.Contains(item, "Approve (false positive)") {
		t.Errorf("a rejected post's approve button:\n%s", item)
	}
}

func TestModerationQueuePages(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := e.apiClient(t, "shop1")
	// Hold every post, and keep the many similar posts of the fixture
	// from counting as a campaign.
	if _, err := c.PutRule(ctx, client.Rule{Name: "hold_all", Kind: "content", Expression: "true", Action: client.ActionReview,
		Description: "held for a moderator"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"content_campaign", "content_near_copies"} {
		if _, err := c.DeleteRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	const n = 53
	var want []string
	for i := range n {
		d := assess(t, c, postSpec{id: fmt.Sprintf("q%02d", i), kind: content.KindQuestion, text: fmt.Sprintf("Question %d: does size %d fit?", i, i)},
			client.ActionReview)
		want = append(want, d.ID)
	}
	slices.Reverse(want)
	b := e.signedIn(t, "shop1", "bo", "analyst")
	var got []string
	next := "/dashboard/moderation?kind=question"
	olderRE := regexp.MustCompile(`href="(/dashboard/moderation\?[^"]*before=[^"]*)">Older posts`)
	for pages := 0; next != "" && pages < 5; pages++ {
		_, body := b.do("GET", next, nil)
		ids := queueIDs(body)
		if len(ids) > 50 {
			t.Errorf("a page of %d posts", len(ids))
		}
		got = append(got, ids...)
		next = ""
		if m := olderRE.FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
			if !strings.Contains(next, "kind=question") {
				t.Errorf("the next page %q forgets the kind", next)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paging showed %d posts %v, want all %d newest first", len(got), got, n)
	}
}

// markRE splits a highlighted text: marks, their ends, line breaks and
// invisible characters spelled out.
var markRE = regexp.MustCompile(`<mark title="([^"]*)" data-codes="([^"]*)">|</mark>|<br>\n|<code class="invisible">U\+([0-9A-F]{4,6})</code>`)

// unmark reads a highlighted text back: the plain text and, for each of
// its bytes, the details of the mark around it (nil outside marks). Any
// other markup fails the test.
func unmark(t testing.TB, h string) (string, [][]string) {
	t.Helper()
	var plain strings.Builder
	var cover [][]string
	var open []string
	addText := func(s string) {
		if strings.ContainsAny(s, "<>") {
			t.Errorf("markup in the highlighted text: %q", s)
		}
		s = html.UnescapeString(s)
		plain.WriteString(s)
		for range len(s) {
			cover = append(cover, open)
		}
	}
	last := 0
	for _, m := range markRE.FindAllStringSubmatchIndex(h, -1) {
		addText(h[last:m[0]])
		last = m[1]
		tag := h[m[0]:m[1]]
		switch {
		case strings.HasPrefix(tag, "<mark"):
			if open != nil {
				t.Errorf("nested marks in %q", h)
			}
			open = strings.Split(html.UnescapeString(h[m[2]:m[3]]), "; ")
			slices.Sort(open)
		case tag == "</mark>":
			open = nil
		case strings.HasPrefix(tag, "<br>"):
			addText("\n")
		default:
			r, _ := strconv.ParseUint(h[m[6]:m[7]], 16, 32)
			plain.WriteRune(rune(r))
			for range len(string(rune(r))) {
				cover = append(cover, open)
			}
		}
	}
	addText(h[last:])
	return plain.String(), cover
}

// wantCover returns, for each byte of s, the sorted details of the API's
// findings in field around it. The phishing verdicts of links are not
// stored with the event, so the dashboard shows such links as links.
func wantCover(s, field string, fs []client.Finding) [][]string {
	out := make([][]string, len(s))
	for _, f := range fs {
		if f.Field != field || f.Code == content.CodeLinkPhishing || f.Code == content.CodeLinkSuspicious {
			continue
		}
		for i := f.Start; i < f.End && i < len(s); i++ {
			if !slices.Contains(out[i], f.Detail) {
				out[i] = append(out[i], f.Detail)
				slices.Sort(out[i])
			}
		}
	}
	return out
}

var (
	textRE  = regexp.MustCompile(`(?s)<p class="mod-text">(.*?)</p>`)
	titleRE = regexp.MustCompile(`(?s)<h3 class="mod-title">(.*?)</h3>`)
)

func TestModerationHighlightsFindingsAndEscapesPosts(t *testing.T) {
	e := start(t)
	c := e.apiClient(t, "shop1")
	tests := []struct {
		name, tab string
		post      postSpec
		action    client.Action
	}{
		{"markup in title and text", "held", postSpec{id: "html", title: `<b>Loud</b> & "proud"`,
			text: "<script>alert(\"x\")</script> Works & looks <b>fine</b>;\ncall me on +44 7911 123456"}, client.ActionReview},
		{"a quoted detail", "held", postSpec{id: "insult", kind: content.KindAnswer, text: "Ask the seller, he is an <idiot>."}, client.ActionReview},
		{"overlapping link and messenger", "rejected", postSpec{id: "telegram",
			text: "Buy cheap watches at https://t.me/cheapdeals click here, limited offer!!!"}, client.ActionBlock},
		{"hidden characters", "held", postSpec{id: "bidi", text: "Nice \u202eproduct\u202c, fr\u200bee delivery"}, client.ActionChallenge},
	}
	b := e.signedIn(t, "shop1", "bo", "analyst")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := assess(t, c, tc.post, tc.action)
			if len(d.Findings) == 0 {
				t.Fatalf("the API found nothing in %q", tc.post.text)
			}
			_, body := b.do("GET", "/dashboard/moderation?tab="+tc.tab, nil)
			item := article(body, d.ID)
			if item == "" {
				t.Fatalf("post %s is not in the %s tab", d.ID, tc.tab)
			}
			if strings.Contains(item, "<script") || strings.Contains(item, "<b>") || strings.ContainsAny(item, "\u202e\u202c\u200b") {
				t.Errorf("the post's markup or invisible characters reach the page unescaped:\n%s", item)
			}
			for _, f := range []struct {
				name, text string
				re         *regexp.Regexp
			}{{"text", tc.post.text, textRE}, {"title", tc.post.title, titleRE}} {
				m := f.re.FindStringSubmatch(item)
				if f.text == "" {
					if m != nil {
						t.Errorf("an empty %s is shown: %q", f.name, m[0])
					}
					continue
				}
				if m == nil {
					t.Fatalf("no %s in the item:\n%s", f.name, item)
				}
				plain, cover := unmark(t, m[1])
				if plain != f.text {
					t.Errorf("the %s reads %q, want %q", f.name, plain, f.text)
					continue
				}
				want := wantCover(f.text, f.name, d.Findings)
				for i := range want {
					if !slices.Equal(cover[i], want[i]) {
						t.Errorf("%s byte %d (%q…): marked %q, the API's findings there are %q\n%s", f.name, i, f.text[i:min(i+12, len(f.text))],
							cover[i], want[i], m[1])
						break
					}
				}
			}
		})
	}
}

func TestModerationVerdicts(t *testing.T) {
	e := start(t)
	c := e.apiClient(t, "shop1")
	tests := []struct {
		name    string
		post    postSpec
		action  client.Action
		tab     string
		verdict string
		want    string
	}{
		{"approve a held post", postSpec{id: "p-legit", text: "Works well; call me on +44 7911 123456"}, client.ActionReview, "held", "approve", "legit"},
		{"approve a rejected post", postSpec{id: "p-fp", text: "you idiot, I will kill you"}, client.ActionBlock, "rejected", "approve", "false_positive"},
		{"spam", postSpec{id: "p-spam", kind: content.KindComment, text: "Works fine, my number is +44 7911 222333"}, client.ActionReview, "held", "spam", "spam"},
		{"abuse", postSpec{id: "p-abuse", kind: content.KindQuestion, text: "Why is this seller such an idiot?"}, client.ActionReview, "held", "abuse", "abuse"},
		{"fake review", postSpec{id: "p-fraud", text: "Best product ever, reach me at +44 7911 444555"}, client.ActionReview, "held", "fraud", "fraud"},
		{"spam on a published post", postSpec{id: "p-pub", kind: content.KindListing, text: "Vintage lamp, works fine."}, client.ActionAllow, "published", "spam", "spam"},
	}
	b := e.signedIn(t, "shop1", "bo", "analyst")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := assess(t, c, tc.post, tc.action)
			queue := "/dashboard/moderation?tab=" + tc.tab + "&kind=" + cmp.Or(tc.post.kind, content.KindReview)
			if _, body := b.do("GET", queue, nil); article(body, d.ID) == "" {
				t.Fatalf("post %s is not in %s", d.ID, queue)
			}
			resp, _ := b.post(queue, "/dashboard/moderation/"+d.ID+"/verdict",
				url.Values{"verdict": {tc.verdict}, "tab": {tc.tab}, "kind": {cmp.Or(tc.post.kind, content.KindReview)}})
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, queue+"&done=") {
				t.Fatalf("verdict: %d to %q, want a redirect back to %s", resp.StatusCode, loc, queue)
			}
			ev, err := c.Event(context.Background(), d.ID)
			if err != nil || len(ev.Labels) != 1 || ev.Labels[0].Label != tc.want || ev.Labels[0].Source != "analyst:bo" {
				t.Fatalf("labels %+v (%v), want one %s by analyst:bo", ev.Labels, err, tc.want)
			}
			_, body := b.do("GET", loc, nil)
			if article(body, d.ID) != "" {
				t.Error("the judged post is still in the queue")
			}
			if !strings.Contains(body, "Verdict saved: "+tc.post.id+" "+tc.want) {
				t.Error("no confirmation after the verdict")
			}
		})
	}
	_, audit := b.do("GET", "/dashboard/audit", nil)
	for _, want := range []string{"label false_positive", "moderation approve", "label fraud"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}

	// From a post's own page the verdict goes back to it, with the label.
	d := assess(t, c, postSpec{id: "p-page", kind: content.KindProfile, title: "Hi", text: "DM me on telegram @cheapdeals2 now"}, client.ActionReview)
	_, page := b.do("GET", "/dashboard/moderation/"+d.ID, nil)
	if !strings.Contains(page, "<mark") || !strings.Contains(page, ">Approve</button>") {
		t.Errorf("the post's page lacks its highlighted text or verdicts:\n%s", page)
	}
	resp, _ := b.post("/dashboard/moderation/"+d.ID, "/dashboard/moderation/"+d.ID+"/verdict", url.Values{"verdict": {"spam"}, "next": {"item"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/dashboard/moderation/"+d.ID+"?done=") {
		t.Fatalf("verdict from the post's page: %d to %q", resp.StatusCode, loc)
	}
	if _, page := b.do("GET", "/dashboard/moderation/"+d.ID, nil); !strings.Contains(page, `<span class="badge label">spam</span> by analyst:bo`) {
		t.Errorf("the post's page does not show the new label:\n%s", page)
	}
}

func TestModerationCSRFRolesAndTenants(t *testing.T) {
	e := start(t)
	c := e.apiClient(t, "shop1")
	d := assess(t, c, postSpec{id: "held", text: "Works well; call me on +44 7911 123456"}, client.ActionReview)
	order := scoreOrder(t, c, "ord-1", 1000, "a@example.com")
	verdict := "/dashboard/moderation/" + d.ID + "/verdict"
	noLabels := func(id string) {
		t.Helper()
		ev, err := c.Event(context.Background(), id)
		if err != nil || len(ev.Labels) != 0 {
			t.Errorf("event %s got labels %+v (%v)", id, ev.Labels, err)
		}
	}

	anon := e.browser(t)
	for _, p := range []string{"/dashboard/moderation", "/dashboard/moderation/" + d.ID} {
		resp, body := anon.do("GET", p, nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/dashboard/signin") ||
			strings.Contains(body, "7911") {
			t.Errorf("GET %s without a session: %d to %q, want a redirect to sign-in", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, _ := anon.do("POST", verdict, url.Values{"verdict": {"spam"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("verdict without a session: %d, want 401", resp.StatusCode)
	}

	// An analyst moderates (as everywhere, analysts label events), but
	// only with the session's CSRF token.
	b := e.signedIn(t, "shop1", "bo", "analyst")
	b.do("GET", "/dashboard/moderation", nil)
	for _, token := range []string{"", "forged"} {
		if resp, _ := b.do("POST", verdict, url.Values{"csrf": {token}, "verdict": {"spam"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("verdict with csrf %q: %d, want 403", token, resp.StatusCode)
		}
	}
	for _, v := range []string{"", "legit", "chargeback", "approve "} {
		if resp, _ := b.post("/dashboard/moderation", verdict, url.Values{"verdict": {v}}); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("verdict %q: %d, want 400", v, resp.StatusCode)
		}
	}
	// Only posts: another kind of event, or none, is not found.
	for _, id := range []string{order.ID, "ev_nope"} {
		if resp, _ := b.do("GET", "/dashboard/moderation/"+id, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET the post page of %s: %d, want 404", id, resp.StatusCode)
		}
		if resp, _ := b.post("/dashboard/moderation", "/dashboard/moderation/"+id+"/verdict", url.Values{"verdict": {"spam"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("verdict on %s: %d, want 404", id, resp.StatusCode)
		}
	}
	noLabels(order.ID)

	// Another shop's moderator sees nothing of it and cannot judge it.
	other := e.signedIn(t, "shop2", "cy", "admin")
	if _, body := other.do("GET", "/dashboard/moderation", nil); strings.Contains(body, d.ID) || strings.Contains(body, "7911") {
		t.Error("another shop's queue shows the post")
	}
	if resp, body := other.do("GET", "/dashboard/moderation/"+d.ID, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "7911") {
		t.Errorf("another shop's post page: %d", resp.StatusCode)
	}
	if resp, _ := other.post("/dashboard/moderation", verdict, url.Values{"verdict": {"spam"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("verdict on another shop's post: %d, want 404", resp.StatusCode)
	}
	noLabels(d.ID)

	// The nav links the queue.
	if _, body := b.do("GET", "/dashboard/", nil); !strings.Contains(body, `href="/dashboard/moderation"`) {
		t.Error("the nav has no link to the moderation queue")
	}
}

// writeModel trains a small text model on texts (the first half
// positive) and saves it where shopguard loads the task's model.
func writeModel(t testing.TB, dir string, task content.Task, shadow bool, texts []string) {
	t.Helper()
	labels := make([]bool, len(texts))
	for i := range len(texts) / 2 {
		labels[i] = true
	}
	m, err := text.Train(text.Features{CharMin: 3, CharMax: 4, WordMin: 1, WordMax: 1, Bits: 14}, texts, labels, text.TrainConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	path := app.ContentModelPath(dir, task, shadow)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestModerationShowsShadowModels(t *testing.T) {
	dir := t.TempDir()
	spammy := []string{"call me now cheap deal", "text me for a discount", "cheap deal call now", "discount call me",
		"lovely lamp works well", "nice fabric good fit", "works well lovely", "good fit nice"}
	// The shadow model has learnt the opposite, so that the two differ.
	hammy := append(append([]string{}, spammy[4:]...), spammy[:4]...)
	writeModel(t, dir, content.TaskSpam, false, spammy)
	writeModel(t, dir, content.TaskSpam, true, hammy)
	a, srv := apptest.Start(t, dir)
	e := &env{app: a, srv: srv}
	c := e.apiClient(t, "shop1")
	if _, err := c.PutRule(context.Background(), client.Rule{Name: "hold_all", Kind: "content", Expression: "true", Action: client.ActionReview,
		Description: "held for a moderator"}); err != nil {
		t.Fatal(err)
	}
	d := assess(t, c, postSpec{id: "shadowed", text: "Lovely lamp, works well"}, client.ActionReview)

	ev, err := c.Event(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		TextModels *content.TextModels `json:"text_models"`
		Shadow     *content.TextModels `json:"shadow"`
	}
	if err := json.Unmarshal(ev.Features, &env); err != nil {
		t.Fatal(err)
	}
	if env.Shadow == nil || env.Shadow.SpamVersion == "" || env.TextModels == nil || env.TextModels.SpamVersion == "" {
		t.Fatalf("the models were not used: %s", ev.Features)
	}
	b := e.signedIn(t, "shop1", "bo", "analyst")
	_, queue := b.do("GET", "/dashboard/moderation", nil)
	_, page := b.do("GET", "/dashboard/moderation/"+d.ID, nil)
	for name, body := range map[string]string{"queue": article(queue, d.ID), "post page": page} {
		for _, want := range []string{
			fmt.Sprintf("live model %.0f", env.TextModels.Spam),
			fmt.Sprintf("shadow model would say <strong>%.0f</strong>", env.Shadow.Spam),
			env.Shadow.SpamVersion,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("the %s lacks %q:\n%s", name, want, body)
			}
		}
		// No abuse model at all: nothing to compare.
		if strings.Count(body, "shadow model would say") != 1 {
			t.Errorf("the %s shows %d shadow scores, want the spam model's only", name, strings.Count(body, "shadow model would say"))
		}
	}
}
