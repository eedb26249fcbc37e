package assistant

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		found    []string
	}{
		{"card 4111-1111-1111-1111 please", "card [card number removed] please", []string{secretCard}},
		{"order 4111111111111112 is late", "order 4111111111111112 is late", nil}, // fails Luhn: an order number
		{"cvc: 123 and order 8812", "cvc: [removed] and order 8812", []string{secretCVC}},
		{"my pw is s3cr3t!", "my pw is [removed]", []string{secretPassword}},
		{"Password: hunter2", "Password: [removed]", []string{secretPassword}},
		{"the code is 482913", "the code is [removed]", []string{secretCode}},
		{"  9931 ", "[code removed]", []string{secretCode}},
		{"order 8812 at https://shop.example/orders/8812 code 7KQ4-MD2X", "order 8812 at https://shop.example/orders/8812 code 7KQ4-MD2X", nil},
		{"I forgot my password", "I forgot my password", nil},
		{"the email with code 4827-QMX2, from you?", "the email with code 4827-QMX2, from you?", nil},
		{"code 4827 QMX2 is it real", "code 4827 QMX2 is it real", nil},
		{"pin: 4827 and code 5555", "pin: [removed] and code [removed]", []string{secretCode}},
	} {
		got, found := redact(tc.in)
		if got != tc.want || !slices.Equal(found, tc.found) {
			t.Errorf("redact(%q) = %q, %v; want %q, %v", tc.in, got, found, tc.want, tc.found)
		}
	}
}

func TestCodes(t *testing.T) {
	for i := 0; i < 2000; i++ {
		c := NewCode()
		if NormaliseCode(c) != c || NormaliseCode(strings.ToLower(strings.ReplaceAll(c, "-", ""))) != c {
			t.Fatalf("code %q does not normalise to itself", c)
		}
		// Every code is found where a customer quotes it (one in 13 of
		// all-letter codes was not, before codes had to hold a digit).
		if got := codesIn("is the email with code " + c + " from you?"); len(got) != 1 || got[0] != c {
			t.Fatalf("code %q found as %v", c, got)
		}
		if red, _ := redact("the code " + c + " is on it"); !strings.Contains(red, c) {
			t.Fatalf("code %q redacted: %q", c, red)
		}
	}
	for _, text := range []string{"my order number is 7KQ4MD2X, where is it?", "invoice #Q2RT-8KXM is wrong", "tracking: H7WK32PM"} {
		if got := codesIn(text); len(got) != 0 {
			t.Errorf("codesIn(%q) = %v; an order's number is not a code", text, got)
		}
	}
	if got := codesIn("order 8812, verification code 7KQ4-MD2X"); len(got) != 1 {
		t.Errorf("a code after an order number: %v", got)
	}
	if NormaliseCode("ABCD-EFGH") != "" || NormaliseCode("2345-6789") != "" {
		t.Error("a code without both a digit and a letter was accepted")
	}
	if got := codesIn("see 7kq4-md2x and customer password Q2RT8KXM"); !slices.Equal(got, []string{"7KQ4-MD2X", "Q2RT-8KXM"}) {
		t.Errorf("codesIn = %v", got)
	}
	if NormaliseCode("7KQ4-MD2") != "" || NormaliseCode("OOOO-1111") != "" {
		t.Error("malformed codes accepted")
	}
}

func TestOutboundInput(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	good := OutboundInput{Channel: "email", Recipient: " Ana@Example.com ", Template: "order_confirmation",
		Links: []string{"HTTPS://Northwind.shop/orders/8812#top", "https://northwind.shop/orders/8812"}, SentAt: now.Add(-time.Minute)}
	m, err := good.OutboundMessage("shop", now)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := HashRecipient("ana@example.com")
	if m.RecipientHash != want || len(m.Links) != 1 || m.Links[0] != "https://northwind.shop/orders/8812" || NormaliseCode(m.Code) != m.Code ||
		!strings.HasPrefix(m.ID, "out_") {
		t.Errorf("message %+v", m)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("a message made from valid input does not validate: %v", err)
	}
	bad := OutboundInput{Channel: "fax", Recipient: "not an address", RecipientHash: "x", Template: "", Links: []string{"javascript:alert(1)"},
		SentAt: now.Add(time.Hour), Code: "nope", Summary: strings.Repeat("x", 300)}
	_, err = bad.OutboundMessage("shop", now)
	var fields []string
	for _, fe := range risk.FieldErrors(err) {
		fields = append(fields, fe.Field)
	}
	for _, f := range []string{"channel", "recipient_hash", "template", "links[0]", "sent_at", "code", "summary"} {
		if !slices.Contains(fields, f) {
			t.Errorf("no error for %s (got %v)", f, fields)
		}
	}
}

// TestConversationLimits: the message rate and the turn limit hold, and
// bad input is refused with field errors before anything is kept.
func TestConversationLimits(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	a, err := New(Config{Now: clk.Now, MaxMessagesPerMinute: 3, MaxTurns: 9, ConversationTTL: time.Hour}, Deps{Classifier: trained(t)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Start(ctx, "shop", StartInput{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := a.Post(ctx, "shop", c.ID, MessageInput{Text: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Post(ctx, "shop", c.ID, MessageInput{Text: "hello"}); !errors.Is(err, ErrTooFast) {
		t.Fatalf("4th message in a minute: %v, want ErrTooFast", err)
	}
	clk.Add(time.Minute)
	if _, err := a.Post(ctx, "shop", c.ID, MessageInput{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Post(ctx, "shop", c.ID, MessageInput{Text: "hello"}); !errors.Is(err, ErrConversationOver) {
		t.Fatalf("past the turn limit: %v, want ErrConversationOver", err)
	}
	for _, in := range []MessageInput{{}, {Text: strings.Repeat("a", MaxMessageRunes+1)}, {Text: "\xff"}} {
		if _, err := a.Post(ctx, "shop", c.ID, in); len(risk.FieldErrors(err)) == 0 {
			t.Errorf("input %.20q: %v, want field errors", in.Text, err)
		}
	}
	if _, err := a.Post(ctx, "other", c.ID, MessageInput{Text: "hi"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another tenant's conversation: %v, want ErrNotFound", err)
	}
	clk.Add(2 * time.Hour)
	if _, err := a.Conversation(ctx, "shop", c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an expired conversation: %v, want ErrNotFound", err)
	}
}

// TestShopAnswers: the shop's own answers replace the defaults, and only
// answers for questions that need only words can be set.
func TestShopAnswers(t *testing.T) {
	ctx := context.Background()
	own := "Orders ship within 24 hours from Leeds; track them at northwind.shop/track."
	a, err := New(Config{Answers: map[string]string{IntentOrderStatus: own}}, Deps{Classifier: trained(t)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Start(ctx, "shop", StartInput{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := a.Post(ctx, "shop", c.ID, MessageInput{Text: "where is my parcel? it hasn't arrived"}); err != nil || r.Text != own {
		t.Errorf("reply %q, %v; want the shop's answer", r.Text, err)
	}
	for name, answers := range map[string]map[string]string{
		"sensitive intent": {IntentChangeEmail: "just tell me the new one"},
		"unknown intent":   {"weather": "sunny"},
		"empty answer":     {IntentGoodbye: "  "},
		"too long":         {IntentGoodbye: strings.Repeat("x", MaxAnswerRunes+1)},
	} {
		if _, err := New(Config{Answers: answers}, Deps{Classifier: trained(t)}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
