package phishing_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/phishing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw                                string
		canonical, host, unicode, reg, sub string
		ip, userinfo                       bool
		decodings                          int
	}{
		{raw: "https://Shop.Example/Account/", canonical: "https://shop.example/Account/", host: "shop.example", reg: "shop.example"},
		{raw: "www.shopping-example.com", canonical: "http://www.shopping-example.com/", host: "www.shopping-example.com", reg: "shopping-example.com", sub: "www"},
		{raw: "  http://login.shop.example.co.uk:443/a/./b/../c ", canonical: "http://login.shop.example.co.uk:443/a/c", host: "login.shop.example.co.uk", reg: "example.co.uk", sub: "login.shop"},
		{raw: "https://shop.example:443//x//y#frag", canonical: "https://shop.example/x/y", host: "shop.example", reg: "shop.example"},
		{raw: "http://3279880203/login", canonical: "http://195.127.0.11/login", host: "195.127.0.11", ip: true},
		{raw: "http://0xC3.0177.0.11/", canonical: "http://195.127.0.11/", host: "195.127.0.11", ip: true},
		{raw: "http://[::ffff:192.0.2.1]:8080/", canonical: "http://192.0.2.1:8080/", host: "192.0.2.1", ip: true},
		{raw: "https://shop.example@evil.test/pay", canonical: "https://evil.test/pay", host: "evil.test", reg: "evil.test", userinfo: true},
		{raw: "https://xn--shp-example-sfb.com/", canonical: "https://xn--shp-example-sfb.com/", host: "xn--shp-example-sfb.com", unicode: "shöp-example.com", reg: "xn--shp-example-sfb.com"},
		{raw: "https://shоp.example/", canonical: "https://xn--shp-ted.example/", host: "xn--shp-ted.example", unicode: "shоp.example", reg: "xn--shp-ted.example"},
		{raw: "http://%65vil%2Etest/%2561", canonical: "http://evil.test/a", host: "evil.test", reg: "evil.test", decodings: 2},
		{raw: "HTTP://EVIL.TEST./a b", canonical: "http://evil.test/a%20b", host: "evil.test", reg: "evil.test"},
		{raw: "http://evil.test\\@shop.example/", canonical: "http://evil.test/@shop.example/", host: "evil.test", reg: "evil.test"},
		{raw: "https://user-bucket.s3.amazonaws.com/index.html", canonical: "https://user-bucket.s3.amazonaws.com/index.html", host: "user-bucket.s3.amazonaws.com", reg: "user-bucket.s3.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := phishing.Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if u.Canonical != tt.canonical || u.Host != tt.host || u.UnicodeHost != tt.unicode || u.RegisteredDomain != tt.reg ||
				u.Subdomain != tt.sub || u.IP.IsValid() != tt.ip || u.Userinfo != tt.userinfo || u.Decodings != tt.decodings {
				t.Errorf("Parse = %+v\nwant canonical %q host %q unicode %q registered %q sub %q ip %v userinfo %v decodings %d",
					u, tt.canonical, tt.host, tt.unicode, tt.reg, tt.sub, tt.ip, tt.userinfo, tt.decodings)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, raw := range []string{"", "   ", "javascript:alert(1)", "data:text/html,x", "mailto:x@evil.test", "tel:+15551234", "JavaScript:void(0)", "ftp://evil.test/", "http://", "http://evil test/",
		"http://evil.test:99999/", "http://evil.test:x/", "http://" + strings.Repeat("a", 9000) + ".test/", "http://a<b>.test/"} {
		if u, err := phishing.Parse(raw); !errors.Is(err, phishing.ErrNotURL) {
			t.Errorf("Parse(%.40q) = %+v, %v; want ErrNotURL", raw, u, err)
		}
	}
}

func TestTargets(t *testing.T) {
	u, err := phishing.Parse("https://www.google.com/url?q=https%3A%2F%2Ftracker.example%2Fc%3Furl%3Dhttps%253A%252F%252Fshopp1ng-example.com%252Flogin&sa=D")
	if err != nil {
		t.Fatal(err)
	}
	got := u.Targets(5)
	var hosts []string
	for _, g := range got {
		hosts = append(hosts, g.Host)
	}
	if strings.Join(hosts, ",") != "tracker.example,shopp1ng-example.com" {
		t.Errorf("targets %v, want the tracker then the lookalike", hosts)
	}
	plain, _ := phishing.Parse("https://shop.example/search?q=shoes")
	if ts := plain.Targets(5); len(ts) != 0 {
		t.Errorf("a search for shoes led to %+v", ts)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"https://shop.example/a?b=c#d", "http://3279880203/", "http://[::1]:80/", "xn--80ak6aa92e.com",
		"http://%65vil%2Etest/%2561", "https://a@b@c.test/", "http://0x.0x.0x.0x/", "\xff\xfe", "http://ex ample.com/", "//evil.test/?url=//x.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := phishing.Parse(raw)
		if err != nil {
			if !errors.Is(err, phishing.ErrNotURL) {
				t.Fatalf("Parse(%.200q): %.200v is not ErrNotURL", raw, err)
			}
			return
		}
		if u.Host == "" || u.Canonical == "" {
			t.Fatalf("Parse(%.200q) = %.300v without a host", raw, u)
		}
		// The canonical form is a fixed point.
		again, err := phishing.Parse(u.Canonical)
		if err != nil || again.Canonical != u.Canonical {
			t.Fatalf("Parse(%.200q).Canonical %.200q parses to %.200q, %.200v", raw, u.Canonical, again.Canonical, err)
		}
		_ = u.Targets(3)
	})
}

func TestParseHostPortIsNotAScheme(t *testing.T) {
	for raw, want := range map[string]string{"shop.example:8080/orders": "8080", "localhost:3000": "3000", "shop.example:80/x": ""} {
		u, err := phishing.Parse(raw)
		if err != nil || u.Port != want {
			t.Errorf("Parse(%q) = port %q, %v; want port %q", raw, u.Port, err, want)
		}
	}
}
