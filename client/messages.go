package client

import (
	"context"
	"net/http"
)

// Message is an e-mail, SMS or chat message said to come from the shop,
// as a customer received it (or forwarded it to the shop).
type Message struct {
	// Channel is email, sms or chat.
	Channel string `json:"channel"`
	// Raw is an e-mail as received, headers and all (RFC 5322); give it
	// or Text.
	Raw     string `json:"raw,omitempty"`
	Text    string `json:"text,omitempty"`
	Sender  string `json:"sender,omitempty"`
	Subject string `json:"subject,omitempty"`
	// ProtectedDomains add to the shop's protected domains for this check.
	ProtectedDomains []string `json:"protected_domains,omitempty"`
}

// MessageCue is a phrase that pulls one of phishing's levers (urgency,
// credential or payment requests, threats, prizes), with its byte offsets
// in MessageResult.Text.
type MessageCue struct {
	Kind   string `json:"kind"`
	Phrase string `json:"phrase"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
}

// MessageLink is one link of a message, where it is, and its check.
type MessageLink struct {
	Href  string    `json:"href"`
	Text  string    `json:"text,omitempty"`
	Start int       `json:"start"`
	End   int       `json:"end"`
	Kind  string    `json:"kind"`
	Check URLResult `json:"check"`
}

// MessageResult is shopguard's judgement of a message.
type MessageResult struct {
	Score   int           `json:"score"`
	Verdict string        `json:"verdict"` // safe, suspicious or phishing
	Reasons []URLReason   `json:"reasons"`
	Cues    []MessageCue  `json:"cues"`
	Links   []MessageLink `json:"links"`
	// Text is the text the spans refer to (an e-mail's subject and
	// readable body).
	Text string `json:"text"`
	// Email is what a raw e-mail's headers say (from, reply_to,
	// return_path, subject, authentication_results, defects).
	Email map[string]any `json:"email,omitempty"`
	// ModelWords are the words the message model weighed most towards
	// spam or phishing (when a model is trained).
	ModelWords   []ModelWord `json:"model_words,omitempty"`
	ModelVersion string      `json:"model_version,omitempty"`
}

// ModelWord is an n-gram of a message and how much it moved the message
// model's score.
type ModelWord struct {
	Gram   string  `json:"gram"`
	Weight float64 `json:"weight"`
}

// CheckMessage judges a message: its links, its cues, its sender against
// the shop's, its e-mail authentication results, and the message model.
func (c *Client) CheckMessage(ctx context.Context, m Message) (MessageResult, error) {
	var out MessageResult
	err := c.do(ctx, http.MethodPost, "/v1/messages/check", m, &out, true)
	return out, err
}
