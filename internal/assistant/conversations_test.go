package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// script is one scripted conversation of testdata/conversations.
type script struct {
	Description string `json:"description"`
	// UserID is the signed-in customer ("" for a guest); TOTP enrols an
	// authenticator app for them.
	UserID    string   `json:"user_id"`
	TOTP      bool     `json:"totp"`
	ReturnURL string   `json:"return_url"`
	Protected []string `json:"protected_domains"`
	// Outbound are messages the shop registered as sent.
	Outbound []storage.OutboundMessage `json:"outbound"`
	Turns    []scriptTurn              `json:"turns"`
}

// scriptTurn is one customer turn and what the reply must be.
type scriptTurn struct {
	Customer string `json:"customer"`
	Choice   string `json:"choice"`
	// StepUp sends the pending challenge's id as the widget does when its
	// page closes, after answering it: "pass" with the right code,
	// "fail" with wrong codes until it fails, "open" without answering.
	StepUp string `json:"step_up"`
	Expect expect `json:"expect"`
}

type expect struct {
	Intent   *string  `json:"intent"`
	Actions  []string `json:"actions"`
	Verdict  string   `json:"verdict"`
	Evidence []string `json:"evidence"`
	Says     []string `json:"says"`
	NotSays  []string `json:"not_says"`
	Choices  []string `json:"choices"`
	// Stored and NotStored are about the customer's turn as kept.
	Stored    []string `json:"stored"`
	NotStored []string `json:"not_stored"`
	// Reports is how many phishing reports exist after the turn.
	Reports *int `json:"reports"`
	// Error is set when the message must be refused with this error.
	Error string `json:"error"`
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// shops serves a fixed profile.
type shops struct{ shop phishing.Shop }

func (s shops) Shop(context.Context, string) (phishing.Shop, error) { return s.shop, nil }

// pages makes hosted-page addresses with the real signed links.
type pages struct{ links *authn.Links }

func (p pages) ChallengeURL(tenant, id, ret string) string {
	return "https://guard.example" + p.links.ChallengePath(tenant, id, ret)
}

// asksForSecret matches a reply that asks for a secret; the rules of the
// assistant say no reply may, except to say it never will.
var asksForSecret = regexp.MustCompile(`(?i)(send|give|tell|type|enter|share|provide|confirm|what is)\s+(me\s+|us\s+)?(your|the)\s+(password|card number|cvv|cvc|pin|code)`)

func TestScriptedConversations(t *testing.T) {
	files, err := filepath.Glob("testdata/conversations/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	classifier := trained(t)
	seen := map[string]bool{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var sc script
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			for _, intent := range runScript(t, classifier, sc) {
				seen[intent] = true
			}
		})
	}
	for _, intent := range Intents {
		if !seen[intent] {
			t.Errorf("no script reaches intent %s", intent)
		}
	}
}

// runScript plays sc and returns the intents its replies had.
func runScript(t *testing.T, classifier *Classifier, sc script) []string {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 15, 0, time.UTC)}
	key := bytes.Repeat([]byte{7}, authn.KeySize)
	seal, err := authn.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	apps := authn.NewAuthenticators(authn.TOTPConfig{Now: clk.Now}, st, seal)
	var secret string
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if sc.TOTP {
		e, err := apps.Enrol(ctx, "shop", sc.UserID, authn.EnrolInput{Issuer: "Northwind", AccountName: "ana@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		secret = e.Secret
		if _, err := apps.Confirm(ctx, "shop", sc.UserID, code(clk.Now())); err != nil {
			t.Fatal(err)
		}
		clk.Add(30 * time.Second)
	}
	challenges := authn.NewChallenges(authn.ChallengeConfig{Now: clk.Now}, st, authn.ChallengeFactors{Apps: apps}, key)
	for _, m := range sc.Outbound {
		m.Tenant = "shop"
		if m.CreatedAt.IsZero() {
			m.CreatedAt = m.SentAt
		}
		if err := st.CreateOutbound(ctx, m); err != nil {
			t.Fatalf("registering %s: %v", m.ID, err)
		}
	}
	shop := phishing.Shop{Protected: sc.Protected, Sender: phishing.Sender{Names: []string{"Northwind"}, Domains: sc.Protected}}
	a, err := New(Config{Now: clk.Now}, Deps{Classifier: classifier, Messages: phishing.NewChecker(nil), Shops: shops{shop},
		Reports: st, Registry: st, StepUps: challenges, Pages: pages{authn.NewLinks(key)}})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := a.Start(ctx, "shop", StartInput{UserID: sc.UserID, ReturnURL: sc.ReturnURL})
	if err != nil {
		t.Fatal(err)
	}
	var intents []string
	for i, turn := range sc.Turns {
		clk.Add(5 * time.Second)
		in := MessageInput{Text: turn.Customer, Choice: turn.Choice}
		if turn.StepUp != "" {
			c, err := a.Conversation(ctx, "shop", conv.ID)
			if err != nil || c.Pending == nil {
				t.Fatalf("turn %d: no pending step-up to answer (%v)", i, err)
			}
			in.StepUp = c.Pending.ChallengeID
			switch turn.StepUp {
			case "pass":
				ans, err := challenges.Answer(ctx, "shop", in.StepUp, authn.AnswerInput{Method: authn.MethodTOTP, Code: code(clk.Now())})
				if err != nil || ans.Challenge.Status != authn.StatusPassed {
					t.Fatalf("turn %d: passing the step-up: %+v, %v", i, ans, err)
				}
			case "fail":
				for range 10 {
					ans, err := challenges.Answer(ctx, "shop", in.StepUp, authn.AnswerInput{Method: authn.MethodTOTP, Code: "000000"})
					if err != nil || ans.Challenge.Status == authn.StatusFailed {
						break
					}
				}
			}
		}
		r, err := a.Post(ctx, "shop", conv.ID, in)
		e := turn.Expect
		if e.Error != "" {
			if err == nil || !strings.Contains(err.Error(), e.Error) {
				t.Fatalf("turn %d: error %v; want one with %q", i, err, e.Error)
			}
			continue
		}
		if err != nil {
			t.Fatalf("turn %d (%q): %v", i, turn.Customer, err)
		}
		intents = append(intents, r.Intent)
		where := func() string {
			return fmt.Sprintf("turn %d (%q): %s", i, turn.Customer+turn.Choice+turn.StepUp, r.Text)
		}
		if e.Intent != nil && r.Intent != *e.Intent {
			t.Errorf("%s\n  intent %q, want %q (scores %v)", where(), r.Intent, *e.Intent, classifier.Classify(turn.Customer)[:3])
		}
		var types []string
		var verdict string
		var evidence []string
		for _, act := range r.Actions {
			types = append(types, act.Type)
			if act.Type == ActionVerdict {
				verdict, evidence = act.Verdict, act.Evidence
			}
			if act.Type == ActionStepUp && (act.ChallengeID == "" || !strings.HasPrefix(act.HostedURL, "https://guard.example/")) {
				t.Errorf("%s\n  step-up action without a challenge or page: %+v", where(), act)
			}
		}
		if e.Actions != nil && !slices.Equal(types, e.Actions) && !(len(types) == 0 && len(e.Actions) == 0) {
			t.Errorf("%s\n  actions %v, want %v", where(), types, e.Actions)
		}
		if verdict != e.Verdict {
			t.Errorf("%s\n  verdict %q, want %q (evidence %v)", where(), verdict, e.Verdict, evidence)
		}
		for _, ev := range e.Evidence {
			if !slices.Contains(evidence, ev) {
				t.Errorf("%s\n  evidence %v lacks %q", where(), evidence, ev)
			}
		}
		for _, s := range e.Says {
			if !strings.Contains(r.Text, s) {
				t.Errorf("%s\n  reply lacks %q", where(), s)
			}
		}
		for _, s := range e.NotSays {
			if strings.Contains(r.Text, s) {
				t.Errorf("%s\n  reply says %q", where(), s)
			}
		}
		if e.Choices != nil {
			var got []string
			for _, c := range r.Choices {
				got = append(got, c.Value)
			}
			for _, want := range e.Choices {
				if !slices.Contains(got, want) {
					t.Errorf("%s\n  choices %v lack %q", where(), got, want)
				}
			}
		}
		// The rules every reply keeps.
		for _, loc := range asksForSecret.FindAllStringIndex(r.Text, -1) {
			before := strings.ToLower(r.Text[max(0, loc[0]-40):loc[0]])
			if !strings.Contains(before, "never") && !strings.Contains(before, "n't") && !strings.Contains(before, "not") {
				t.Errorf("%s\n  the reply asks for a secret", where())
			}
		}
		if slices.Contains(types, ActionStepUp) && !strings.Contains(r.Text, neverAsk) {
			t.Errorf("%s\n  a step-up without the line phishing cannot say", where())
		}
		c, err := a.Conversation(ctx, "shop", conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		kept := c.Turns[len(c.Turns)-2]
		for _, s := range e.Stored {
			if !strings.Contains(kept.Text, s) {
				t.Errorf("%s\n  kept turn %q lacks %q", where(), kept.Text, s)
			}
		}
		for _, s := range e.NotStored {
			if strings.Contains(kept.Text, s) {
				t.Errorf("%s\n  kept turn %q holds %q", where(), kept.Text, s)
			}
		}
		if e.Reports != nil {
			reps, err := st.PhishingReports(ctx, storage.PhishingReportQuery{Tenant: "shop"})
			if err != nil || len(reps) != *e.Reports {
				t.Errorf("%s\n  %d reports (%v), want %d", where(), len(reps), err, *e.Reports)
			}
		}
	}
	return intents
}
