package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/apikey"
)

// post is a post by author at the test's time, with its account a year
// old and the product bought.
func post(id, kind, text, author string) client.Post {
	p := client.Post{ID: id, CreatedAt: at.Format(time.RFC3339), Kind: kind, Text: text, TargetID: "sku-kettle",
		Author: client.PostAuthor{UserID: author, CreatedAt: at.Add(-365 * 24 * time.Hour).Format(time.RFC3339),
			VerifiedPurchase: true, IP: "198.51.100." + fmt.Sprint(len(author)), DeviceID: "dev-" + author}}
	if kind == "review" {
		p.Rating = 5
	}
	return p
}

func reasonCodes(d client.ContentDecision) []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

// TestContentThroughTheAPI moderates posts as a shop would before
// publishing them: a genuine review publishes; contact details and an
// off-platform payment request in a listing hold it with the spans to
// highlight; a link to a lookalike of the shop, a threat and a campaign
// of pasted reviews are rejected; bad input names the field.
func TestContentThroughTheAPI(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	if _, err := c.SetRelyingParty(ctx, client.RelyingParty{ID: "northwind.shop", Name: "Northwind", Origins: []string{"https://northwind.shop"}}); err != nil {
		t.Fatal(err)
	}

	genuine := post("r-1", "review", "Boils a full litre in about three minutes and the lid closes firmly. The handle stays cool. "+
		"Bought it to replace a ten year old one and so far it is quieter.", "ana")
	d, err := c.AssessContent(ctx, genuine)
	if err != nil {
		t.Fatal(err)
	}
	if d.Moderation != "publish" || d.Action != client.ActionAllow || len(d.Findings) != 0 {
		t.Errorf("genuine review: %s %s findings %+v reasons %v", d.Moderation, d.Action, d.Findings, reasonCodes(d))
	}
	again, err := c.AssessContent(ctx, genuine)
	if err != nil || !again.Replayed || again.ID != d.ID || again.Scores != d.Scores {
		t.Errorf("retry = %+v, %v; want the stored decision %s", again, err, d.ID)
	}

	listing := post("l-1", "listing", "iPhone 15 Pro, like new. Text me on WhatsApp +44 7911 123456 and pay by bank transfer to avoid the fees.", "bob")
	d, err = c.AssessContent(ctx, listing)
	if err != nil {
		t.Fatal(err)
	}
	if d.Moderation == "publish" {
		t.Errorf("listing with contact details published: %+v", d)
	}
	var spanned bool
	for _, r := range d.Reasons {
		for _, s := range r.Spans {
			spanned = true
			if s.Field != "text" || s.Start < 0 || s.End > len(listing.Text) || s.Start >= s.End {
				t.Errorf("reason %s span %+v outside the text", r.Code, s)
			}
		}
	}
	if !spanned || !slices.Contains(reasonCodes(d), "rule:content_offplatform_payment") {
		t.Errorf("listing reasons %+v lack spans or the off-platform payment", d.Reasons)
	}
	phone := false
	for _, f := range d.Findings {
		if f.Code == "contact_phone" && strings.Contains(listing.Text[f.Start:f.End], "7911") {
			phone = true
		}
	}
	if !phone {
		t.Errorf("no phone number among %+v", d.Findings)
	}

	phish := post("c-1", "comment", "Refunds are handled here now: https://n0rthwind.shop/refund/claim", "eve")
	d, err = c.AssessContent(ctx, phish)
	if err != nil {
		t.Fatal(err)
	}
	if d.Moderation != "reject" || d.Scores.Links < 80 || len(d.Links) != 1 || d.Links[0].Verdict != "phishing" {
		t.Errorf("phishing comment: %s links %+v scores %+v", d.Moderation, d.Links, d.Scores)
	}

	threat := post("c-2", "comment", "Refund me today or I will burn your store down.", "mallory")
	if d, err = c.AssessContent(ctx, threat); err != nil || d.Moderation != "reject" || d.Scores.Abuse < 50 {
		t.Errorf("threat: %+v, %v", d, err)
	}

	// A campaign: one review pasted by many accounts with small edits.
	base := "This kettle is the best purchase I have made this year, it boils water in seconds, looks stunning on the counter " +
		"and the customer service team was incredibly helpful. Five stars, I recommend it to everyone who loves tea."
	var last client.ContentDecision
	for i := range 6 {
		p := post(fmt.Sprintf("camp-%d", i), "review", strings.Replace(base, "this year", fmt.Sprintf("in %d years", i+2), 1), fmt.Sprintf("sock%d", i))
		if last, err = c.AssessContent(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if last.Moderation != "reject" || !slices.Contains(reasonCodes(last), "rule:content_campaign") || last.Scores.FakeReview < 60 {
		t.Errorf("sixth copy of a campaign: %s reasons %v scores %+v", last.Moderation, reasonCodes(last), last.Scores)
	}

	bad := post("bad-1", "review", "", "ana")
	bad.Rating = 7
	_, err = c.AssessContent(ctx, bad)
	wantStatus(t, err, http.StatusBadRequest, "text")
	bad = post("bad-2", "essay", "hello there", "ana")
	_, err = c.AssessContent(ctx, bad)
	wantStatus(t, err, http.StatusBadRequest, "kind")
	bad = post("bad-3", "comment", "binary\x00data", "ana")
	_, err = c.AssessContent(ctx, bad)
	wantStatus(t, err, http.StatusBadRequest, "text")
}

// TestPerspectiveCompatible calls the Perspective-compatible endpoint
// the way Perspective's clients do (?key=, its request and response
// shapes) and checks what maps, the spans in code points, the threshold,
// and the clear 400 for attributes shopguard does not score.
func TestPerspectiveCompatible(t *testing.T) {
	e := start(t, t.TempDir())
	key, err := e.app.CreateKey(context.Background(), "shop", "perspective", []apikey.Scope{apikey.ScopeEventsWrite})
	if err != nil {
		t.Fatal(err)
	}
	call := func(body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(e.srv.URL+"/v1alpha1/comments:analyze?key="+key, "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("answer %q: %v", b, err)
		}
		return resp.StatusCode, out
	}
	text := "Ça suffit, you idiot. I will kill you."
	status, out := call(`{"comment":{"text":` + quote(text) + `},"requestedAttributes":{"TOXICITY":{},"THREAT":{},"INSULT":{},"SPAM":{"scoreThreshold":0.5}},` +
		`"spanAnnotations":true,"languages":["en"],"doNotStore":true,"clientToken":"tok-1"}`)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, out)
	}
	scores := out["attributeScores"].(map[string]any)
	if _, ok := scores["SPAM"]; ok {
		t.Errorf("SPAM under its threshold answered: %v", scores["SPAM"])
	}
	threat := scores["THREAT"].(map[string]any)
	if v := threat["summaryScore"].(map[string]any)["value"].(float64); v < 0.8 {
		t.Errorf("THREAT %v", v)
	}
	spans := threat["spanScores"].([]any)
	if len(spans) != 1 {
		t.Fatalf("THREAT spans %v", spans)
	}
	sp := spans[0].(map[string]any)
	begin, end := int(sp["begin"].(float64)), int(sp["end"].(float64))
	if got := string([]rune(text)[begin:end]); !strings.Contains(strings.ToLower(got), "kill you") {
		t.Errorf("THREAT span %d..%d is %q (code points)", begin, end, got)
	}
	if out["clientToken"] != "tok-1" || scores["TOXICITY"] == nil || scores["INSULT"] == nil {
		t.Errorf("answer %v", out)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"comment":{"text":"hi"},"requestedAttributes":{"IDENTITY_ATTACK":{}}}`, "requestedAttributes.IDENTITY_ATTACK"},
		{`{"comment":{"text":"hi"},"requestedAttributes":{"NONSENSE":{}}}`, "requestedAttributes.NONSENSE"},
		{`{"comment":{"text":""},"requestedAttributes":{"TOXICITY":{}}}`, "comment.text"},
		{`{"comment":{"text":"hi"},"requestedAttributes":{}}`, "requestedAttributes"},
		{`{"comment":{"text":"hi"},"requestedAttributes":{"TOXICITY":{"scoreType":"STD_DEV_SCORE"}}}`, "requestedAttributes.TOXICITY.scoreType"},
		{`{"comment":{"text":"hi"},"requestedAttributes":{"TOXICITY":{}},"languages":["de"]}`, "languages[0]"},
	} {
		status, out := call(tc.body)
		if status != http.StatusBadRequest || out["error"].(map[string]any)["field"] != tc.field {
			t.Errorf("%s: %d %v, want 400 naming %s", tc.body, status, out, tc.field)
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
