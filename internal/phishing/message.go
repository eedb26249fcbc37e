package phishing

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/risk"
)

// Channels a message comes by.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	ChannelChat  = "chat"
)

// Channels lists the channels.
var Channels = []string{ChannelEmail, ChannelSMS, ChannelChat}

// MaxMessageText bounds a message's text (an e-mail is bounded by
// MaxEmailSize).
const MaxMessageText = 64 << 10

// maxMessageLinks bounds the links of a message that are checked.
const maxMessageLinks = 20

// Message is an e-mail, SMS or chat message said to come from the shop,
// as a customer received it.
type Message struct {
	Channel string
	// Raw is the e-mail as received (RFC 5322, headers and all), for
	// channel email; else Text holds the message.
	Raw  []byte
	Text string
	// Sender is who the message says it is from when Raw is not given:
	// an SMS sender name or number, a chat handle, an e-mail's From.
	Sender  string
	Subject string
}

// Shop is what the message check knows of the shop it protects: the
// domains links must not imitate and who its messages really come from.
type Shop struct {
	Protected []string
	Sender    Sender
}

// MessageResult is the judgement of a message.
type MessageResult struct {
	Score   int      `json:"score"`
	Verdict string   `json:"verdict"`
	Reasons []Reason `json:"reasons"`
	// Cues are the phrases that pull phishing's levers, with their spans
	// in Text.
	Cues []Cue `json:"cues"`
	// Links are the message's links and their checks, in order.
	Links []MessageLink `json:"links"`
	// Text is the text the spans refer to: the message, or the e-mail's
	// readable body.
	Text string `json:"text"`
	// Email is what the e-mail's headers say (raw e-mails only).
	Email *EmailSummary `json:"email,omitempty"`
	// Words are the n-grams the message model weighed most towards
	// phishing (when a model is loaded).
	Words        []text.Weighed `json:"model_words,omitempty"`
	ModelVersion string         `json:"model_version,omitempty"`
}

// MessageLink is one link of a message and its check.
type MessageLink struct {
	Link
	Check Result `json:"check"`
}

// EmailSummary is what an e-mail's headers say about where it is from.
type EmailSummary struct {
	From       *Address      `json:"from,omitempty"`
	ReplyTo    []Address     `json:"reply_to,omitempty"`
	ReturnPath string        `json:"return_path,omitempty"`
	Subject    string        `json:"subject"`
	Auth       []AuthResults `json:"authentication_results,omitempty"`
	Defects    []string      `json:"defects,omitempty"`
}

// MessageModel is a text classifier of messages (spam and phishing
// against the rest) with the version it is known by.
type MessageModel struct {
	Model   *text.Model
	Version string
}

// SetMessageModel makes m the message model (nil: none).
func (c *Checker) SetMessageModel(m *MessageModel) { c.messages.Store(m) }

// MessageModel returns the message model, or nil.
func (c *Checker) MessageModel() *MessageModel { return c.messages.Load() }

// Weights of a message's reasons.
const (
	cueWeight       = 12 // per kind of cue present
	cueWeightMax    = 40
	mismatchWeight  = 35
	shortenedWeight = 20 // a short link in a message said to come from the shop
	messageModelMax = 50 // a certain model
)

// CheckMessage judges a message for tenant: its links (each checked as a
// URL), the cues of its text, its sender against the shop's real
// senders, the e-mail's authentication results, and the message model
// when one is loaded. Bad input is a field error naming the field.
func (c *Checker) CheckMessage(tenant string, m Message, shop Shop) (MessageResult, error) {
	res := MessageResult{Reasons: []Reason{}, Cues: []Cue{}, Links: []MessageLink{}}
	add := func(code string, weight int, format string, args ...any) {
		res.Reasons = append(res.Reasons, Reason{Code: code, Weight: weight, Message: fmt.Sprintf(format, args...)})
	}
	var links []Link
	switch {
	case m.Channel != "" && m.Channel != ChannelEmail && m.Channel != ChannelSMS && m.Channel != ChannelChat:
		return res, risk.Invalid("channel", "%q: use email, sms or chat", m.Channel)
	case len(m.Raw) > 0 && m.Channel != ChannelEmail:
		return res, risk.Invalid("raw", "a raw message is an e-mail: set channel to email")
	case len(m.Raw) > 0 && m.Text != "":
		return res, risk.Invalid("text", "give the e-mail raw or its text, not both")
	case len(m.Raw) == 0 && strings.TrimSpace(m.Text) == "":
		return res, risk.Missing("text")
	case len(m.Text) > MaxMessageText:
		return res, risk.Invalid("text", "%d bytes; at most %d", len(m.Text), MaxMessageText)
	case !utf8.ValidString(m.Text):
		return res, risk.Invalid("text", "is not valid UTF-8")
	}
	brands := parseBrands(shop.Protected)
	if len(m.Raw) > 0 {
		e, err := ParseEmail(m.Raw)
		if err != nil {
			return res, risk.Invalid("raw", "is not an e-mail shopguard can read: %s", strings.TrimPrefix(err.Error(), "phishing: "))
		}
		res.Text = e.Text
		prefix := 0
		if e.Subject != "" {
			res.Text = e.Subject + "\n\n" + e.Text
			prefix = len(e.Subject) + 2
		}
		// Links of the text part point into res.Text; those of the HTML
		// part into the HTML, which is not in the answer.
		links = slices.Clone(e.Links)
		for i := range links {
			if links[i].Kind == LinkText {
				links[i].Start += prefix
				links[i].End += prefix
			}
		}
		res.Email = &EmailSummary{From: e.From, ReplyTo: e.ReplyTo, ReturnPath: e.ReturnPath, Subject: e.Subject, Auth: e.Auth, Defects: e.Defects}
		res.Reasons = append(res.Reasons, e.Impersonation(shop.Sender)...)
	} else {
		res.Text = m.Text
		if m.Subject != "" {
			res.Text = m.Subject + "\n\n" + m.Text
		}
		links = ExtractLinks(res.Text)
		if m.Sender != "" {
			res.Reasons = append(res.Reasons, NameImpersonation(m.Sender, shop.Sender)...)
		}
	}

	// Links: the worst one's score counts in full; a link whose text shows another site
	// than it leads to is a trick of its own.
	worst := -1
	for _, l := range links {
		if len(res.Links) == maxMessageLinks {
			break
		}
		u, ok := l.ParseWeb()
		if !ok {
			continue
		}
		ml := MessageLink{Link: l, Check: c.check(tenant, u, brands)}
		res.Links = append(res.Links, ml)
		if worst < 0 || ml.Check.Score > res.Links[worst].Check.Score {
			worst = len(res.Links) - 1
		}
		if shown, real, ok := l.Mismatch(); ok {
			add("link_text_mismatch", mismatchWeight, "a link shows %s but leads to %s", shown, real)
		}
	}
	// A shop's own messages link to its own site: a short link that
	// hides where it leads is a trick of its own, once per message.
	for _, l := range res.Links {
		if l.Check.Features.Shortener {
			add("link_shortened", shortenedWeight, "a short link (%s) hides where it leads", l.Check.RegisteredDomain)
			break
		}
	}
	if worst >= 0 {
		if w := res.Links[worst].Check; w.Verdict != VerdictSafe {
			top := ""
			if len(w.Reasons) > 0 {
				top = ": " + strongest(w.Reasons).Message
			}
			add("link_"+w.Verdict, w.Score, "it links to %s, judged %s%s", displayURL(w), w.Verdict, top)
		}
	}

	// Cues: each kind counts once.
	res.Cues = append(res.Cues, FindCues(res.Text)...)
	kinds := map[string][]string{}
	var order []string
	for _, cue := range res.Cues {
		if _, ok := kinds[cue.Kind]; !ok {
			order = append(order, cue.Kind)
		}
		kinds[cue.Kind] = append(kinds[cue.Kind], cue.Phrase)
	}
	cueTotal := 0
	for _, k := range order {
		w := min(cueWeight, cueWeightMax-cueTotal)
		if w <= 0 {
			break
		}
		cueTotal += w
		phrases := dedupe(kinds[k])
		for i, p := range phrases {
			phrases[i] = `"` + p + `"`
		}
		add("cue_"+k, w, "%s: %s", strings.ReplaceAll(k, "_", " "), strings.Join(phrases, ", "))
	}

	if mm := c.MessageModel(); mm != nil {
		p := mm.Model.Score(res.Text)
		res.ModelVersion = mm.Version
		res.Words = mm.Model.Explain(res.Text, 5)
		if p >= 0.5 {
			words := make([]string, len(res.Words))
			for i, w := range res.Words {
				words[i] = w.Gram
			}
			add("message_model", int(math.Round(messageModelMax*(p-0.5)/0.5)),
				"the message model gives %.0f %% that it is spam or phishing (words weighing most: %s)", 100*p, strings.Join(words, ", "))
		}
	}

	res.Score = total(res.Reasons)
	res.Verdict = verdictOf(res.Score)
	return res, nil
}

// verdictOf turns a score into a verdict.
func verdictOf(score int) string {
	switch {
	case score >= 70:
		return VerdictPhishing
	case score >= 35:
		return VerdictSuspicious
	}
	return VerdictSafe
}

// strongest is the reason of most weight.
func strongest(rs []Reason) Reason {
	best := rs[0]
	for _, r := range rs[1:] {
		if r.Weight > best.Weight {
			best = r
		}
	}
	return best
}

// displayURL is a checked link as a reader sees its site.
func displayURL(r Result) string {
	if r.UnicodeHost != "" {
		return r.UnicodeHost
	}
	if r.Host != "" {
		return r.Host
	}
	return r.URL
}

// dedupe returns ss without repeats (case-insensitive), in order.
func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
