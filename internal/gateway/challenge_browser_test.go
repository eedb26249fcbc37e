package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/gateway"
	"github.com/shopguard/shopguard/internal/gateway/challenge"
)

// TestChallengeInBrowser sends a real headless Chromium to a shop behind
// the gateway: the page's script proves work and the browser lands on the
// shop's page with its clearance; the script's SHA-256 agrees with Go's.
func TestChallengeInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a browser; skipped with -short")
	}
	apptest.Chromium(t)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Shop</title><p id="shop">%s</p>`, r.URL.RequestURI())
	}))
	defer shop.Close()
	policy, err := gateway.ReadPolicy(strings.NewReader(`
routes:
  - {name: hard, path: /hard/*, challenge: pow, challenge_bits: 24}
  - {name: shop, path: /*, challenge: pow, challenge_bits: 12}
`))
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(shop.URL)
	g, err := gateway.New(gateway.Config{Upstream: up, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		BodyGrace: 5 * time.Second, MinBodyRate: 512, MaxHeaderBytes: 32 << 10, MaxBodyBytes: 1 << 20, MaxConns: 100,
		MaxConnsPerIP: 100, UpstreamTimeout: 10 * time.Second, ShutdownTimeout: 5 * time.Second, Policy: policy,
		MaxLimitKeys: 1000, ChallengeSecret: []byte(strings.Repeat("b", 32))}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	base := "http://" + ln.Addr().String()

	bctx := apptest.Browser(t, 2*time.Minute)
	tab := apptest.NewTab(t, bctx)
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	// First, before any clearance: a puzzle too hard to finish during the
	// test, so its page stays, and its SHA-256 is checked against Go's.
	tab.Do("hard puzzle", chromedp.Navigate(base+"/hard/x"), chromedp.WaitVisible(chromedp.CSS("#status")))
	token := eval(`document.querySelector('input[name="puzzle"]').value`)
	got, err := chromedp.Run(bctx, chromedp.Evaluate[[]int](fmt.Sprintf(
		`(function(){var o=[];for(var i=0;i<300;i++)o.push(window.shopguardLeadingZeros(%q+":"+i));return o;})()`, token)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 300 {
		t.Fatalf("%d results from the page", len(got))
	}
	for i, z := range got {
		if want := challenge.LeadingZeros(token, fmt.Sprint(i)); z != want {
			t.Fatalf("counter %d: the page counts %d leading zero bits, Go %d", i, z, want)
		}
	}

	tab.Do("product page", chromedp.Navigate(base+"/product/42?colour=blue"), chromedp.WaitVisible(chromedp.CSS("#shop")))
	if landed, path := tab.Text("#shop"), eval(`location.pathname + location.search`); landed != "/product/42?colour=blue" || path != landed {
		t.Fatalf("landed on %q (location %q), want the product page", landed, path)
	}
	// Cleared: the next page comes straight from the shop.
	tab.Do("second page", chromedp.Navigate(base+"/cart"), chromedp.WaitVisible(chromedp.CSS("#shop")))
	if landed := tab.Text("#shop"); landed != "/cart" {
		t.Fatalf("second page %q", landed)
	}
}
