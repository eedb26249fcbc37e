package dashboard_test

import (
	"net/url"
	"testing"
)

// FuzzDashboardInput sends arbitrary query strings to the events search
// and arbitrary forms to the rule editor, the list editor and the verdict
// form of a signed-in admin: every answer must be a 2xx, 3xx or 4xx, never
// a 5xx or a panic.
func FuzzDashboardInput(f *testing.F) {
	f.Add(uint8(0), "kind=transaction&action=block&min_score=10&max_score=90&entity=1.2.3.4&from=2026-11-22T10:00&to=2026-11-23")
	f.Add(uint8(0), "min_score=-1&max_score=0&from=yesterday&before=x&kind=%ff")
	f.Add(uint8(1), "op=check&name=r1&kind=transaction&expression=amount+%3E+5&outcome=score&score=10&mode=active")
	f.Add(uint8(1), "op=backtest&name=r1&kind=transaction&expression=amount+%3E%3D&outcome=block&period=999999h")
	f.Add(uint8(1), "op=publish&name=Bad+Name&kind=login&expression=true&outcome=allow&mode=weird&original=x")
	f.Add(uint8(2), "op=add&values=1.2.3.4%0A10.0.0.0%2F8%0Anot-an-ip")
	f.Add(uint8(3), "label=fraud&note=x&snooze=1&next=review")
	f.Add(uint8(4), "name=x&kind=ip&effect=block&description=d")
	e := start(f)
	pw := e.user(f, "shop1", "ana", "admin")
	b := e.browser(f)
	b.signIn("ana", pw)
	b.post("/dashboard/lists", "/dashboard/lists", url.Values{"name": {"ips"}, "kind": {"ip"}, "effect": {"block"}})
	d := scoreOrder(f, e.apiClient(f, "shop1"), "ord-1", 1000, "a@example.com")
	f.Fuzz(func(t *testing.T, which uint8, input string) {
		b.t = t
		var status int
		switch which % 5 {
		case 0:
			q, err := url.ParseQuery(input)
			if err != nil {
				q = url.Values{"entity": {input}}
			}
			resp, _ := b.do("GET", "/dashboard/events?"+q.Encode(), nil)
			status = resp.StatusCode
		case 1, 2, 3, 4:
			form, err := url.ParseQuery(input)
			if err != nil {
				form = url.Values{"raw": {input}}
			}
			form.Set("csrf", b.csr)
			path := map[uint8]string{1: "/dashboard/rules/edit", 2: "/dashboard/lists/ips/entries", 3: "/dashboard/events/" + d.ID + "/verdict",
				4: "/dashboard/lists"}[which%5]
			resp, _ := b.do("POST", path, form)
			status = resp.StatusCode
		}
		if status >= 500 {
			t.Fatalf("input %q (%d): status %d", input, which%5, status)
		}
	})
}
