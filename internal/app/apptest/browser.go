package apptest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium finds a Chromium or Chrome binary; without one the browser
// tests skip, unless SHOPGUARD_REQUIRE_BROWSER=1 (CI) makes them fail.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SHOPGUARD_REQUIRE_BROWSER") == "1" {
		t.Fatal("SHOPGUARD_REQUIRE_BROWSER=1 but no Chromium found: apt-get install -y chromium")
	}
	t.Skip("no Chromium found: install it (apt-get install -y chromium) to run the browser tests")
	return ""
}

// Browser starts a headless Chromium with a fresh profile (skipping or
// failing as Chromium says) and returns its chromedp context, which ends
// after timeout or with the test.
func Browser(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	exe := Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.WindowSize(1366, 900))...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	return bctx
}
