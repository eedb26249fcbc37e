package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/gateway"
)

// TestGatewaysPage runs a real gateway in front of a shop, lets it refuse
// a client, and reads its status on the dashboard; an admin switches its
// under-attack mode from there, an analyst cannot, and a gateway that does
// not answer is shown as such.
func TestGatewaysPage(t *testing.T) {
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "shop") }))
	defer shop.Close()
	policy, err := gateway.ReadPolicy(strings.NewReader(`
limits:
  - {name: per_ip, key: ip, rate: 1/1h, burst: 1}
routes:
  - {name: shop, path: /*, limits: [per_ip]}
`))
	if err != nil {
		t.Fatal(err)
	}
	gc := config.Default().Gateway
	gc.Upstream = shop.URL
	cfg, err := app.GatewayConfig(gc)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy = policy
	g, err := gateway.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(g)
	defer front.Close()
	admin := httptest.NewServer(g.AdminHandler(http.NotFoundHandler()))
	defer admin.Close()
	for range 3 {
		resp, err := http.Get(front.URL + "/product/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	a, srv := apptest.StartWith(t, "", func(c *config.Config) { c.Server.Gateways = admin.URL + ", " + dead.URL })
	e := &env{app: a, srv: srv}
	viewer := e.browser(t)
	viewer.signIn("bo", e.user(t, "shop1", "bo", "analyst"))
	resp, body := viewer.do("GET", "/dashboard/gateways", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /dashboard/gateways: %d", resp.StatusCode)
	}
	for _, want := range []string{admin.URL, "The shop is <strong>up</strong>", `class="attack-off">off</strong>`,
		"<td>127.0.0.1</td><td>2</td><td>refused: limit per_ip (2)", "Could not read this gateway"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "Hold under-attack mode on") {
		t.Error("an analyst is offered the mode switch")
	}
	if resp, _ := viewer.post("/dashboard/gateways", "/dashboard/gateways/mode", url.Values{"gateway": {"0"}, "mode": {"on"}}); resp.StatusCode != http.StatusForbidden || g.UnderAttack() {
		t.Errorf("an analyst switching the mode: %d, under attack %v", resp.StatusCode, g.UnderAttack())
	}

	boss := e.browser(t)
	boss.signIn("al", e.user(t, "shop1", "al", "admin"))
	if resp, _ := boss.post("/dashboard/gateways", "/dashboard/gateways/mode", url.Values{"gateway": {"0"}, "mode": {"on"}}); resp.StatusCode != http.StatusSeeOther || !g.UnderAttack() {
		t.Fatalf("an admin switching it on: %d, under attack %v", resp.StatusCode, g.UnderAttack())
	}
	if _, body := boss.do("GET", "/dashboard/gateways", nil); !strings.Contains(body, `class="attack-on">on</strong>`) || !strings.Contains(body, "switched on by an operator") {
		t.Error("the page does not show the mode switched on")
	}
	if _, body := boss.do("GET", "/dashboard/audit", nil); !strings.Contains(body, "gateway.mode") {
		t.Error("the switch is not in the audit log")
	}
	for _, form := range []url.Values{{"gateway": {"0"}, "mode": {"panic"}}, {"gateway": {"7"}, "mode": {"on"}}} {
		if resp, _ := boss.post("/dashboard/gateways", "/dashboard/gateways/mode", form); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("mode form %v: %d, want 400", form, resp.StatusCode)
		}
	}
	if resp, _ := boss.post("/dashboard/gateways", "/dashboard/gateways/mode", url.Values{"gateway": {"1"}, "mode": {"on"}}); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("switching a gateway that does not answer: %d, want 502", resp.StatusCode)
	}
}
