package content_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/phishing"
)

// FuzzAssess sends any title and text through validation and, when they
// pass, the whole analysis: it must not panic, every span must lie in its
// field on rune boundaries, and the scores must stay within 0..100.
func FuzzAssess(f *testing.F) {
	for _, p := range benchPosts {
		f.Add(p.Title, p.Text, p.PostKind)
	}
	f.Add("", "pay\u200b by\u202e bank transfer www.0:# +44 7911 123456", "listing")
	f.Add("\xff", "a\x00b", "review")
	a := content.NewAnalyzer(phishing.NewChecker(nil))
	protected := phishing.ParseProtected([]string{"northwind.shop"})
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, title, body, kind string) {
		p := content.Post{ID: "f1", CreatedAt: "2026-05-01T11:00:00Z", PostKind: kind, Title: title, Text: body, TargetID: "sku-1",
			Author: content.Author{UserID: "u1"}}
		if p.Validate(now) != nil {
			return
		}
		an := a.Analyze("t1", &p, protected)
		fields := map[string]string{"title": p.Title, "text": p.Text}
		for i, fd := range an.Findings {
			if i > 0 && an.Findings[i-1].Field == fd.Field && an.Findings[i-1].Start > fd.Start {
				t.Fatalf("findings out of order: %+v before %+v", an.Findings[i-1], fd)
			}
			s, ok := fields[fd.Field]
			if !ok || fd.Start < 0 || fd.End > len(s) || fd.Start >= fd.End || !boundary(s, fd.Start) || !boundary(s, fd.End) {
				t.Fatalf("finding %+v out of place in %s %q", fd, fd.Field, s)
			}
		}
		for _, l := range an.Links {
			s := fields[l.Field]
			if l.Start < 0 || l.End > len(s) || l.Start >= l.End {
				t.Fatalf("link %+v out of place in %q", l, s)
			}
		}
		env := p.Env(nil, nil).(*content.Env)
		for _, v := range []float64{env.Scores.Spam, env.Scores.Links, env.Scores.FakeReview, env.Scores.Abuse} {
			if v < 0 || v > 100 || math.IsNaN(v) {
				t.Fatalf("scores %+v", env.Scores)
			}
		}
		if _, err := json.Marshal(env); err != nil {
			t.Fatal(err)
		}
	})
}

// boundary reports whether i starts a rune of s (or is its end).
func boundary(s string, i int) bool {
	return i == len(s) || i < len(s) && (s[i] < 0x80 || s[i] >= 0xc0)
}
