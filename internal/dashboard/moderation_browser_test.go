package dashboard_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// TestModerationInBrowser drives the moderation queue in a real headless
// Chromium: sign in, open the queue, see the finding highlighted with its
// detail, press Spam on the post, watch it leave the queue and find the
// label stored.
func TestModerationInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	apptest.Chromium(t) // skip before anything starts when there is no browser
	e := start(t)
	c := e.apiClient(t, "shop1")
	spam := assess(t, c, postSpec{id: "b-spam", text: "<i>Works</i> well; call me on +44 7911 123456"}, client.ActionReview)
	kept := assess(t, c, postSpec{id: "b-kept", text: "Why is this seller such an idiot?"}, client.ActionReview)
	password := e.user(t, "shop1", "ana", "analyst")

	bctx := apptest.Browser(t, 2*time.Minute)
	tab := apptest.NewTab(t, bctx)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	do, text := tab.Do, tab.Text
	base := e.srv.URL + "/dashboard"
	item := `#post-` + spam.ID

	do("sign in",
		chromedp.Navigate(base+"/moderation"),
		chromedp.WaitVisible(css(`#signin`)),
		chromedp.SendKeys(css(`input[name=name]`), "ana"),
		chromedp.SendKeys(css(`input[name=password]`), password),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(item)))

	// The phone number is marked, with what it is as the mark's title,
	// and the post's markup is shown as text.
	if got := text(item + ` .mod-text mark`); got != "+44 7911 123456" {
		t.Errorf("marked %q, want the phone number", got)
	}
	title, err := chromedp.Run(bctx, chromedp.AttributeValue(css(item+` .mod-text mark`), "title"))
	if err != nil || title.Value != "phone number" {
		t.Errorf("the mark's title is %q (%v), want the finding's detail", title.Value, err)
	}
	if got := text(item + ` .mod-text`); !strings.HasPrefix(got, "<i>Works</i> well") {
		t.Errorf("the post reads %q, want its markup as text", got)
	}
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("main i").length`)); err != nil || n != 0 {
		t.Errorf("the post's <i> became an element (%d, %v)", n, err)
	}

	do("spam",
		chromedp.Click(css(item+` button[value=spam]`)),
		chromedp.WaitVisible(css(`.flash`)),
		chromedp.WaitNotPresent(css(item)),
		chromedp.WaitVisible(css(`#post-`+kept.ID)))
	if flash := text(`.flash`); !strings.Contains(flash, "Verdict saved") {
		t.Errorf("after the verdict: %q", flash)
	}
	ev, err := e.app.Engine().Event(context.Background(), "shop1", spam.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ev.Labels, func(l storage.Label) bool { return l.Label == risk.LabelSpam && l.Source == "analyst:ana" }) {
		t.Errorf("post %s labels %+v, want spam by analyst:ana", spam.ID, ev.Labels)
	}
}
