package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/phishing"
)

// FuzzPerspectiveRequest decodes any body as a Perspective request and
// validates it; what passes is scored, and every span must lie within
// the comment in code points.
func FuzzPerspectiveRequest(f *testing.F) {
	for _, s := range []string{
		`{"comment":{"text":"you idiot, I will kill you"},"requestedAttributes":{"TOXICITY":{},"THREAT":{"scoreThreshold":0.2}},"spanAnnotations":true}`,
		`{"comment":{"text":"Ça va? call +44 7911 123456"},"requestedAttributes":{"SPAM":{"scoreType":"PROBABILITY"}},"languages":["en-GB"]}`,
		`{"comment":{"text":""},"requestedAttributes":{"FLIRTATION":{}}}`,
		`{"comment":{"text":"x","type":"HTML"},"requestedAttributes":{"INSULT":{"scoreThreshold":2}},"languages":["de"]}`,
	} {
		f.Add([]byte(s))
	}
	a := content.NewAnalyzer(nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req perspectiveRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&req) != nil || validatePerspective(&req) != nil {
			return
		}
		p := &content.Post{PostKind: content.KindComment, Text: req.Comment.Text}
		an := a.Analyze("t", p, phishing.Protected{})
		env := p.Env(nil, nil).(*content.Env)
		runes := len([]rune(req.Comment.Text))
		for name := range req.RequestedAttributes {
			v, codes := perspectiveScoreOf(name, env)
			if v < 0 || v > 1 {
				t.Fatalf("%s = %v", name, v)
			}
			for _, sp := range perspectiveSpans(req.Comment.Text, an.Findings, codes) {
				if sp.Begin < 0 || sp.End > runes || sp.Begin >= sp.End {
					t.Fatalf("%s span %+v outside %d code points", name, sp, runes)
				}
			}
		}
	})
}

func TestBlankTags(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<p>You are an <b>idiot</b></p>", "   You are an    idiot        "},
		{`<a href="https://é.test">é</a> 1 < 2 and 3 <4`, "                         é     1 < 2 and 3 <4"},
		{"<!-- x --> a <unclosed", "           a <unclosed"},
	} {
		got := blankTags(tc.in)
		if got != tc.want || len([]rune(got)) != len([]rune(tc.in)) {
			t.Errorf("blankTags(%q) = %q, want %q (same number of code points)", tc.in, got, tc.want)
		}
	}
}
