package content_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

func compileDefaults(t *testing.T) *rules.Set {
	t.Helper()
	lists, err := rules.NewLists(rules.BuiltinLists())
	if err != nil {
		t.Fatal(err)
	}
	defaults := content.Kind{}.DefaultRules()
	set, err := rules.Compile(1, defaults, rules.Schemas{risk.EventContent: content.Kind{}.NewEnv()}, lists)
	if err != nil {
		t.Fatalf("default rules do not compile: %v", err)
	}
	if len(set.Rules()) != len(defaults) {
		t.Fatalf("compiled %d rules, want %d", len(set.Rules()), len(defaults))
	}
	return set
}

// step is one post of a scenario and the rules that must (and must not)
// fire on it.
type step struct {
	post         func(i int) content.Post
	times        int
	fire, silent []string
}

// TestScenarios runs sequences of posts through analysis, a real feature
// store and the default rules, as the engine does, and checks which rules
// fire on the last post of each step.
func TestScenarios(t *testing.T) {
	set := compileDefaults(t)
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	mk := func(id, kind, text, author string, at time.Duration) content.Post {
		p := content.Post{ID: id, CreatedAt: base.Add(at).Format(time.RFC3339), PostKind: kind, Text: text, TargetID: "sku-1",
			Author: content.Author{UserID: author, CreatedAt: "2024-01-01T00:00:00Z", VerifiedPurchase: true, IP: "203.0.113.9", DeviceID: "dev-" + author}}
		if kind == content.KindReview {
			p.Rating = 5
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"genuine reviews stay clean", []step{{times: 5, post: func(i int) content.Post {
			return mk(fmt.Sprint("g", i), content.KindReview, []string{
				"Arrived in 3 days, fits a 1.7 l jug, the lid could be firmer but it works.",
				"Returned it: the base wobbled on our counter and the click is loud. Refund took a week.",
				"Good value at 24.99, I use it twice a day. The limescale filter comes out easily.",
				"My second one, the first lasted 6 years. Still the quietest kettle I know.",
				"Does what it says. Cable is a bit short for our kitchen island though.",
			}[i], fmt.Sprint("cust", i), time.Duration(i)*time.Minute)
		}, silent: []string{"content_campaign", "content_near_copies", "content_spam", "content_fake_review", "content_abuse"}}}},
		{"one device, many accounts", []step{{times: 3, post: func(i int) content.Post {
			p := mk(fmt.Sprint("d", i), content.KindQuestion, fmt.Sprintf("Does model %d come with a warranty?", i), fmt.Sprint("acct", i), time.Duration(i)*time.Minute)
			p.Author.DeviceID = "shared-phone"
			return p
		}, fire: []string{"content_sockpuppets"}}}},
		{"an author flooding", []step{{times: 10, post: func(i int) content.Post {
			return mk(fmt.Sprint("f", i), content.KindComment, fmt.Sprintf("Comment number %d about delivery slot %d.", i, i*7), "flooder", time.Duration(i)*time.Minute)
		}, fire: []string{"content_author_flood"}}}},
		{"contact details and a payment request", []step{{times: 1, post: func(int) content.Post {
			return mk("s1", content.KindListing, "Brand new, message me on WhatsApp 07911 123456, payment by gift card only.", "seller", 0)
		}, fire: []string{"content_contact_details", "content_offplatform_payment"}}}},
		{"a threat", []step{{times: 1, post: func(int) content.Post {
			return mk("a1", content.KindComment, "Refund me or I will burn your store down.", "angry", 0)
		}, fire: []string{"content_threat"}, silent: []string{"content_abuse"}}}},
		{"hidden characters", []step{{times: 1, post: func(int) content.Post {
			return mk("h1", content.KindComment, "Great\u200b\u200b deal, \u202eevil\u202c reversed", "hider", 0)
		}, fire: []string{"content_hidden_characters"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			feats := features.NewMemory(features.MemoryConfig{})
			a := content.NewAnalyzer(phishing.NewChecker(nil))
			now := base.Add(24 * time.Hour)
			for si, st := range tc.steps {
				var res rules.Result
				var env *content.Env
				for i := range st.times {
					p := st.post(i)
					if err := p.Validate(now); err != nil {
						t.Fatal(err)
					}
					a.Analyze("t1", &p, phishing.Protected{})
					obs := p.Observations("t1", nil)
					aggs := make([]features.Aggregates, len(obs))
					if err := feats.Observe(context.Background(), p.OccurredAt(), obs, aggs); err != nil {
						t.Fatal(err)
					}
					env = p.Env(aggs, nil).(*content.Env)
					res = rules.Result{}
					set.Evaluate(risk.EventContent, env, &res)
				}
				var fired []string
				for _, m := range res.Active {
					fired = append(fired, m.Rule.Name)
				}
				for _, want := range st.fire {
					if !slices.Contains(fired, want) {
						t.Errorf("step %d: %s did not fire (fired %v; scores %+v signals %+v campaign %+v)", si, want, fired, *env.Scores, *env.Signals, *env.Features.Campaign)
					}
				}
				for _, not := range st.silent {
					if slices.Contains(fired, not) {
						t.Errorf("step %d: %s fired (fired %v; scores %+v campaign %+v)", si, not, fired, *env.Scores, *env.Features.Campaign)
					}
				}
			}
		})
	}
}

func TestRuleFindings(t *testing.T) {
	known := []string{content.CodeContactPhone, content.CodeContactEmail, content.CodeContactMessenger, content.CodeOffPlatformPayment,
		content.CodeAbuseInsult, content.CodeAbuseProfanity, content.CodeAbuseThreat, content.CodeHiddenZeroWidth, content.CodeHiddenBidi,
		content.CodeMixedScript, content.CodeShouting, content.CodeSpamPhrase, content.CodeLink, content.CodeLinkPhishing, content.CodeLinkSuspicious}
	for _, r := range (content.Kind{}).DefaultRules() {
		for _, code := range content.RuleFindings("rule:" + r.Name) {
			if !slices.Contains(known, code) {
				t.Errorf("rule %s points at unknown finding code %q", r.Name, code)
			}
		}
	}
	if content.RuleFindings("rule:content_threat")[0] != content.CodeAbuseThreat || content.RuleFindings("model") != nil {
		t.Error("RuleFindings does not map rule reasons to their findings")
	}
}

// TestCampaignCaught pastes one review 24 times by 24 accounts within an
// hour, each copy with one or two random word edits, and checks that the
// campaign is recognised: the near-copy count only grows a lower bound
// (the largest group sharing one band), so the early copies may pass,
// but from the 8th copy on nearly every copy is rejected as a campaign,
// while genuine reviews of the same product that follow them stay clean.
func TestCampaignCaught(t *testing.T) {
	set := compileDefaults(t)
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	template := strings.Fields("This kettle is the best purchase I have made this year, it boils water in seconds, looks stunning on the counter " +
		"and the customer service team was incredibly helpful. Five stars, I recommend it to everyone who loves tea.")
	swaps := []string{"really", "truly", "amazing", "great", "fast", "lovely", "kitchen", "support", "quickly", "honestly"}
	rng := rand.New(rand.NewPCG(7, 9))
	feats := features.NewMemory(features.MemoryConfig{})
	a := content.NewAnalyzer(phishing.NewChecker(nil))
	run := func(id, author, text string, at time.Duration) []string {
		p := content.Post{ID: id, CreatedAt: base.Add(at).Format(time.RFC3339), PostKind: content.KindReview, Rating: 5, Text: text, TargetID: "sku-1",
			Author: content.Author{UserID: author, IP: "198.51.100.7", DeviceID: "dev-" + author}}
		if err := p.Validate(base.Add(48 * time.Hour)); err != nil {
			t.Fatal(err)
		}
		a.Analyze("t1", &p, phishing.Protected{})
		obs := p.Observations("t1", nil)
		aggs := make([]features.Aggregates, len(obs))
		if err := feats.Observe(context.Background(), p.OccurredAt(), obs, aggs); err != nil {
			t.Fatal(err)
		}
		var res rules.Result
		set.Evaluate(risk.EventContent, p.Env(aggs, nil), &res)
		var fired []string
		for _, m := range res.Active {
			fired = append(fired, m.Rule.Name)
		}
		return fired
	}
	caught, late := 0, 0
	for i := range 24 {
		words := slices.Clone(template)
		for range 1 + rng.IntN(2) {
			words[rng.IntN(len(words))] = swaps[rng.IntN(len(swaps))]
		}
		fired := run(fmt.Sprint("c", i), fmt.Sprint("sock", i), strings.Join(words, " "), time.Duration(i)*2*time.Minute)
		if i >= 7 {
			late++
			if slices.Contains(fired, "content_campaign") {
				caught++
			}
		}
		t.Logf("copy %2d: %v", i+1, fired)
	}
	if caught < late*9/10 {
		t.Errorf("campaign rule fired on %d of the %d copies from the 8th on", caught, late)
	}
	genuine := []string{
		"Arrived in 3 days, fits a 1.7 l jug, the lid could be firmer but it works fine for our family of four.",
		"Returned it: the base wobbled on our counter and the click is loud. The refund took a week to arrive.",
		"Good value at 24.99, I use it twice a day. The limescale filter comes out easily and rinses clean.",
		"My second one from this brand, the first lasted 6 years. Still the quietest kettle I know of so far.",
		"Does what it says on the box. The cable is a bit short for our kitchen island though, needed an extension.",
		"The water tastes of plastic for the first week, after a few boils with vinegar it went away completely.",
	}
	for i, text := range genuine {
		if fired := run(fmt.Sprint("g", i), fmt.Sprint("cust", i), text, 3*time.Hour+time.Duration(i)*time.Minute); len(fired) > 0 {
			t.Errorf("genuine review %d: %v", i, fired)
		}
	}
}
