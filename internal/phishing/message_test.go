package phishing_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
)

var northwind = phishing.Shop{
	Protected: []string{"northwind.shop"},
	Sender:    phishing.Sender{Names: []string{"Northwind"}, Domains: []string{"northwind.shop"}},
}

func TestCheckMessage(t *testing.T) {
	raw := func(name string) []byte {
		b, err := os.ReadFile("testdata/email/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := phishing.NewChecker(nil)
	for _, tc := range []struct {
		name    string
		msg     phishing.Message
		verdict string
		codes   []string
	}{
		{"genuine order e-mail", phishing.Message{Channel: phishing.ChannelEmail, Raw: raw("genuine_order.eml")}, phishing.VerdictSafe,
			[]string{"authenticated_shop_sender"}},
		{"display-name spoofing e-mail", phishing.Message{Channel: phishing.ChannelEmail, Raw: raw("phish_display_name.eml")}, phishing.VerdictPhishing,
			[]string{"display_name_impersonation"}},
		{"lookalike SMS", phishing.Message{Channel: phishing.ChannelSMS, Sender: "Northwind",
			Text: "Northwind: your order is on hold. Verify your account within 24 hours at https://n0rthwind.shop/verify"}, phishing.VerdictPhishing,
			[]string{"link_phishing", "cue_threat", "cue_credential_request", "cue_urgency"}},
		{"short link with pressure", phishing.Message{Channel: phishing.ChannelSMS,
			Text: "Your parcel is on hold: pay the customs fee within 24 hours at https://bit.ly/3xYz9Qa"}, phishing.VerdictSuspicious,
			[]string{"link_shortened", "cue_payment_request", "cue_urgency"}},
		{"ordinary chat", phishing.Message{Channel: phishing.ChannelChat, Text: "Hi, when will my parcel arrive? Order 1234 from https://northwind.shop/orders/1234"},
			phishing.VerdictSafe, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.CheckMessage("shop", tc.msg, northwind)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Errorf("verdict %s (score %d), want %s; reasons %+v", res.Verdict, res.Score, tc.verdict, res.Reasons)
			}
			for _, code := range tc.codes {
				if !messageHas(res, code) {
					t.Errorf("no reason %s in %+v", code, res.Reasons)
				}
			}
			for _, cue := range res.Cues {
				if res.Text[cue.Start:cue.End] != cue.Phrase {
					t.Errorf("cue %+v does not point at its phrase", cue)
				}
			}
			for _, l := range res.Links {
				if l.Kind == phishing.LinkText && (l.End > len(res.Text) || res.Text[l.Start:l.End] != l.Text) {
					t.Errorf("text link %+v does not point at itself in the text", l.Link)
				}
			}
		})
	}
}

func TestCheckMessageModel(t *testing.T) {
	texts := []string{"WINNER! claim your free prize now, text WIN to 80082", "are we still on for lunch tomorrow?",
		"URGENT your account is locked, verify at this link", "see you at the station at six", "free entry in a weekly competition",
		"can you pick up milk on the way home"}
	labels := []bool{true, false, true, false, true, false}
	m, err := text.Train(text.Features{CharMin: 2, CharMax: 4, WordMin: 1, WordMax: 2, Bits: 16}, texts, labels, text.TrainConfig{Seed: 1, Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	c := phishing.NewChecker(nil)
	c.SetMessageModel(&phishing.MessageModel{Model: m, Version: "messages-test"})
	res, err := c.CheckMessage("shop", phishing.Message{Channel: phishing.ChannelSMS, Text: "WINNER! claim your free prize, text WIN now"}, northwind)
	if err != nil {
		t.Fatal(err)
	}
	if res.ModelVersion != "messages-test" || !messageHas(res, "message_model") {
		t.Errorf("model reason missing: %+v", res)
	}
}

func TestCheckMessageRefusesBadInput(t *testing.T) {
	c := phishing.NewChecker(nil)
	for _, tc := range []struct {
		msg   phishing.Message
		field string
	}{
		{phishing.Message{Channel: "fax", Text: "x"}, "channel"},
		{phishing.Message{Channel: phishing.ChannelSMS}, "text"},
		{phishing.Message{Channel: phishing.ChannelSMS, Raw: []byte("From: a@b.test\n\nhi")}, "raw"},
		{phishing.Message{Channel: phishing.ChannelEmail, Raw: []byte("From: a@b.test\n\nhi"), Text: "hi"}, "text"},
		{phishing.Message{Channel: phishing.ChannelSMS, Text: strings.Repeat("a", phishing.MaxMessageText+1)}, "text"},
		{phishing.Message{Channel: phishing.ChannelSMS, Text: "\xff\xfe"}, "text"},
		{phishing.Message{Channel: phishing.ChannelEmail, Raw: make([]byte, phishing.MaxEmailSize+1)}, "raw"},
	} {
		_, err := c.CheckMessage("shop", tc.msg, northwind)
		var fe *risk.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+.40v: got %v, want a field error on %s", tc.msg, err, tc.field)
		}
	}
}

func messageHas(r phishing.MessageResult, code string) bool {
	for _, x := range r.Reasons {
		if x.Code == code {
			return true
		}
	}
	return false
}
