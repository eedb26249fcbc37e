package authn_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/authn"
)

// TestLinksOpenOnlyWhatTheyWereMadeFor changes every part of a link and
// sees it refused; enrolment links expire.
func TestLinksOpenOnlyWhatTheyWereMadeFor(t *testing.T) {
	l := authn.NewLinks(bytes.Repeat([]byte{7}, authn.KeySize))
	path := l.ChallengePath("shop", "ch_1", "https://shop.example/pay?o=8812")
	u, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(u.Path, authn.HostedPrefix+"/c/ch_1") {
		t.Fatalf("challenge path %q (%v)", path, err)
	}
	q := u.Query()
	k := q.Get("k")
	tests := []struct {
		name                string
		tenant, id, ret, mk string
		want                bool
	}{
		{"as made", "shop", "ch_1", "https://shop.example/pay?o=8812", k, true},
		{"another challenge", "shop", "ch_2", "https://shop.example/pay?o=8812", k, false},
		{"another shop", "other", "ch_1", "https://shop.example/pay?o=8812", k, false},
		{"another return URL", "shop", "ch_1", "https://evil.example/", k, false},
		{"no return URL", "shop", "ch_1", "", k, false},
		{"no mac", "shop", "ch_1", "https://shop.example/pay?o=8812", "", false},
		{"another key's mac", "shop", "ch_1", "https://shop.example/pay?o=8812",
			mustQuery(t, authn.NewLinks(bytes.Repeat([]byte{8}, authn.KeySize)).ChallengePath("shop", "ch_1", "https://shop.example/pay?o=8812")).Get("k"), false},
	}
	for _, tt := range tests {
		if got := l.CheckChallenge(tt.tenant, tt.id, tt.ret, tt.mk); got != tt.want {
			t.Errorf("%s: CheckChallenge = %v, want %v", tt.name, got, tt.want)
		}
	}

	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	e := authn.EnrolLink{Tenant: "shop", UserID: "u1", AccountName: "ana@example.com", Expires: now.Add(15 * time.Minute).Unix(), ReturnURL: "https://shop.example/account"}
	eq := mustQuery(t, l.EnrolmentPath(e))
	if got, ok := l.ParseEnrolment(eq, now); !ok || got != e {
		t.Errorf("ParseEnrolment = %+v, %v; want %+v", got, ok, e)
	}
	if _, ok := l.ParseEnrolment(eq, now.Add(15*time.Minute)); ok {
		t.Error("an enrolment link opened when it expired")
	}
	for _, param := range []string{"t", "u", "n", "e", "r", "k"} {
		changed := url.Values{}
		for k, v := range eq {
			changed[k] = v
		}
		changed.Set(param, changed.Get(param)+"1")
		if _, ok := l.ParseEnrolment(changed, now); ok {
			t.Errorf("an enrolment link with %s changed opened", param)
		}
		changed.Del(param)
		if _, ok := l.ParseEnrolment(changed, now); ok {
			t.Errorf("an enrolment link without %s opened", param)
		}
	}
}

func mustQuery(t *testing.T, path string) url.Values {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// FuzzParseEnrolment feeds the enrolment-link parser arbitrary queries:
// none opens, except the one made with the key.
func FuzzParseEnrolment(f *testing.F) {
	l := authn.NewLinks(bytes.Repeat([]byte{7}, authn.KeySize))
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	good := authn.EnrolLink{Tenant: "shop", UserID: "u1", Expires: now.Add(time.Hour).Unix()}
	path := l.EnrolmentPath(good)
	f.Add(path[strings.IndexByte(path, '?')+1:])
	f.Add("t=shop&u=u1&e=99999999999&k=AAAA")
	f.Add("e=%2B1&t=&u=")
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		e, ok := l.ParseEnrolment(q, now)
		if ok && e != good {
			t.Errorf("query %q opened %+v", query, e)
		}
	})
}
