package dashboard_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/demo"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

// TestDashboardInBrowser drives the dashboard in a real headless Chromium
// over data from a short seeded demo run: sign in, watch the overview,
// open an event, give a verdict and see the label stored, write a rule
// with a syntax error, fix it, backtest it and publish it. It saves a
// screenshot of each main page (to $SHOPGUARD_SCREENSHOTS, else a temp dir).
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a demo and a browser; skipped with -short")
	}
	apptest.Chromium(t) // skip before the demo runs when there is no browser
	e := start(t)
	ctx := context.Background()

	// Live data: a short seeded demo against this shopguard.
	key := apptest.Key(t, e.app, "demo")
	opts := demo.DefaultOptions()
	opts.ShopguardURL, opts.APIKey = e.srv.URL, key
	opts.Sim.Duration, opts.Sim.Customers, opts.Sim.Rate, opts.Sim.Seed = 12*time.Second, 300, 15, 3
	opts.Timeout = 5 * time.Second
	if _, err := demo.Run(ctx, opts); err != nil {
		t.Fatalf("demo: %v", err)
	}
	password := e.user(t, "demo", "ana", "admin")

	shots := os.Getenv("SHOPGUARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o750); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	bctx := apptest.Browser(t, 4*time.Minute) // the whole browser session
	base := e.srv.URL + "/dashboard"
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	tab := apptest.NewTab(t, bctx)
	do, text := tab.Do, tab.Text
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg) // quality 100: PNG
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o600)
		})
	}

	// Sign in: the overview asks for it first.
	do("sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css(`#signin`)),
		shot("01-signin"),
		chromedp.SendKeys(css(`input[name=name]`), "ana"),
		chromedp.SendKeys(css(`input[name=password]`), password),
		chromedp.Click(css(`#signin`)),
		chromedp.WaitVisible(css(`#kpi-decisions`)))
	if loc, err := chromedp.Run(bctx, chromedp.Location()); err != nil || !strings.HasSuffix(loc, "/dashboard/") {
		t.Errorf("after sign-in at %s (%v)", loc, err)
	}

	// The overview shows the demo's decisions and the attacks it caught.
	do("overview", shot("02-overview"))
	if n, _ := strconv.Atoi(strings.TrimSpace(text(`#kpi-decisions`))); n < 20 {
		t.Errorf("overview shows %d decisions in the last hour, want the demo's", n)
	}
	if attacks := text(`#attacks`); !strings.Contains(attacks, "attack") || !strings.Contains(attacks, "card_testing") {
		t.Errorf("current attacks do not show the card testing:\n%s", attacks)
	}
	// The live part refreshes without a reload (the script swaps it in).
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](`document.getElementById("kpi-decisions").textContent = "stale"`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("kpi-decisions").textContent !== "stale"`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Errorf("the overview did not refresh by itself: %v", err)
	}

	// Events: the list, then one event with its reasons and entities.
	do("events",
		chromedp.Navigate(base+"/events?action=block"),
		chromedp.WaitVisible(css(`#events`)),
		shot("03-events"),
		chromedp.Click(css(`#events tr:nth-child(2) a`)),
		chromedp.WaitVisible(css(`#reasons`)),
		shot("04-event"))
	if reasons := text(`#reasons`); !strings.Contains(reasons, "rule:") {
		t.Errorf("a blocked event without a rule among its reasons:\n%s", reasons)
	}

	// Review queue: confirm the oldest case as fraud; the label is stored.
	do("review queue", chromedp.Navigate(base+"/review"), chromedp.WaitVisible(css(`#queue`)), shot("05-review"))
	attr, err := chromedp.Run(bctx, chromedp.AttributeValue(css(`#queue tr:nth-child(2) a`), "href"))
	if err != nil {
		t.Fatal(err)
	}
	do("verdict", chromedp.Click(css(`#queue tr:nth-child(2) button[value=fraud]`)), chromedp.WaitVisible(css(`.flash`)))
	id := attr.Value[strings.LastIndex(attr.Value, "/")+1:]
	ev, err := e.app.Engine().Event(ctx, "demo", id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ev.Labels, func(l storage.Label) bool { return l.Label == risk.LabelFraud && l.Source == "analyst:ana" }) {
		t.Errorf("event %s labels %+v, want fraud by analyst:ana", id, ev.Labels)
	}

	// Rules: a syntax error is shown where it is, the fix compiles, the
	// backtest reports, and publishing makes it live.
	do("rule with a syntax error",
		chromedp.Navigate(base+"/rules/new"),
		chromedp.WaitVisible(css(`#rule-form`)),
		chromedp.SetValue(css(`input[name=name]`), "resale_to_new_email"),
		chromedp.SetValue(css(`textarea[name=expression]`), "amount >= 300 &&"),
		chromedp.SetValue(css(`input[name=description]`), "{{ amount }} on a card used with another e-mail"),
		chromedp.Click(css(`#check`)),
		chromedp.WaitVisible(css(`.problem`)),
		shot("06-rule-error"))
	if problem := text(`.problem`); !strings.Contains(problem, "expression line 1, column") {
		t.Errorf("syntax error shown as %q, want its line and column", problem)
	}
	do("fix and backtest",
		chromedp.SetValue(css(`textarea[name=expression]`), "amount >= 300 && features.card.emails_30d >= 2"),
		chromedp.SetValue(css(`select[name=outcome]`), "review"),
		chromedp.Click(css(`#check`)),
		chromedp.WaitVisible(css(`#compiled`)),
		chromedp.SetValue(css(`select[name=period]`), "1h"),
		chromedp.Click(css(`#backtest`)),
		chromedp.WaitVisible(css(`#bt-matched`)),
		shot("07-rule-backtest"))
	if n, err := strconv.Atoi(strings.TrimSpace(text(`#bt-matched`))); err != nil || n < 1 {
		t.Errorf("backtest matched %d events (%v), want the demo's stolen-card orders", n, err)
	}
	do("publish", chromedp.Click(css(`#publish`)), chromedp.WaitVisible(css(`.flash`)), shot("08-rules"))
	if flash := text(`.flash`); !strings.Contains(flash, "Published resale_to_new_email") {
		t.Errorf("after publishing: %q", flash)
	}
	set, err := e.app.Engine().Rules(ctx, "demo")
	if err != nil || !slices.ContainsFunc(set.Rules, func(r rules.Rule) bool {
		return r.Name == "resale_to_new_email" && r.Action == risk.ActionReview
	}) {
		t.Errorf("rule not live: %v", err)
	}

	// The other main pages render, at laptop and phone widths.
	for _, p := range []struct{ path, sel, name string }{
		{"/lists", "#lists", "09-lists"}, {"/keys", "#keys", "10-keys"}, {"/users", "#users", "11-users"},
		{"/audit", "#audit", "12-audit"}, {"/rules/versions", "#versions", "13-versions"},
	} {
		do(p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(css(p.sel)), shot(p.name))
	}
	do("phone width",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css(`#kpi-decisions`)),
		shot("14-overview-phone"),
		chromedp.Navigate(base+"/review"),
		chromedp.WaitVisible(css(`main`)),
		shot("15-review-phone"))
	do("audit", chromedp.Navigate(base+"/audit"), chromedp.WaitVisible(css(`#audit`)))
	audit := text(`#audit`)
	for _, want := range []string{"verdict", "rule.backtest", "rule.publish"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}
