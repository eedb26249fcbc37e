package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Writer writes a free-form answer to a customer's question (a language
// model behind an OpenAI-compatible API). It is asked only about
// questions that need nothing but words (AnswerIntents), never about
// identity, phishing or anything sensitive, and what it writes passes
// checks before a customer sees it (see generated).
type Writer interface {
	Write(ctx context.Context, q Question) (string, error)
}

// Question is what a Writer is asked: the customer's message (secrets
// already removed), the intent it was recognised as, and the shop's own
// answer for it, the only facts the writer may use.
type Question struct {
	Intent   string
	Text     string
	Guidance string
}

// OpenAIConfig configures an OpenAI-compatible chat completions API.
type OpenAIConfig struct {
	// URL is the API's base, up to the version ("http://127.0.0.1:8000/v1").
	URL string
	// Model names the model; Key is the bearer key ("" for none).
	Model string
	Key   string
	// Timeout bounds one answer (default 5 s): past it the assistant
	// answers with the shop's text.
	Timeout time.Duration
	// Client makes the requests (default: a client without redirects).
	Client *http.Client
}

// OpenAI writes answers through an OpenAI-compatible API
// (POST {URL}/chat/completions): a local server (llama.cpp, vLLM,
// Ollama) or a hosted one.
type OpenAI struct{ cfg OpenAIConfig }

// NewOpenAI returns a writer over cfg.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("assistant: the language model's URL %q is not http(s)", cfg.URL)
	}
	if cfg.Model == "" {
		return nil, errors.New("assistant: the language model needs a model name")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	return &OpenAI{cfg: cfg}, nil
}

// systemPrompt keeps the model to the shop's facts and away from secrets.
const systemPrompt = `You answer customers of an online shop in its support chat. Answer in at most three short sentences of plain text, in the customer's language, using only these facts from the shop:
%s
Never ask for a password, card number, security code or one-time code. Never give links or e-mail addresses. Never say that you changed, cancelled, refunded, verified or looked up anything: you cannot. If the facts do not answer the question, say that a colleague from the shop can help.`

// Write implements Writer.
func (o *OpenAI) Write(ctx context.Context, q Question) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	body, _ := json.Marshal(map[string]any{
		"model": o.cfg.Model,
		"messages": []map[string]string{
			{"role": "system", "content": fmt.Sprintf(systemPrompt, q.Guidance)},
			{"role": "user", "content": q.Text},
		},
		"temperature": 0.2,
		"max_tokens":  300,
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.cfg.URL+"/chat/completions", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("assistant: language model: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if o.cfg.Key != "" {
		req.Header.Set("Authorization", "Bearer "+o.cfg.Key)
	}
	resp, err := o.cfg.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("assistant: language model: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("assistant: language model: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("assistant: language model answered %d", resp.StatusCode)
	}
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Choices) == 0 {
		return "", fmt.Errorf("assistant: language model: an answer without choices (%v)", err)
	}
	return out.Choices[0].Message.Content, nil
}

// MaxGeneratedRunes bounds a generated answer shown to a customer.
const MaxGeneratedRunes = 800

var (
	// generatedAsks is a generated answer that asks for a secret.
	generatedAsks = regexp.MustCompile(`(?i)\b(password|passcode|card number|cvv|cvc|security code|one-time|otp|pin)\b`)
	// generatedLinks is a link or address in a generated answer.
	generatedLinks = regexp.MustCompile(`(?i)https?://|www\.|\b[a-z0-9.-]+\.(com|net|org|shop|io|co|de|uk|example)\b|@`)
	// generatedClaims is a generated answer that claims to have acted.
	generatedClaims = regexp.MustCompile(`(?i)\b(i|we)('ve| have| has)? (just )?(changed|updated|cancelled|canceled|refunded|verified|reset|sent|processed|issued)\b`)
)

// generated returns what a writer wrote if a customer may see it: plain
// text of 1 to MaxGeneratedRunes characters that mentions no secret,
// holds no link or address and claims no action. Anything else is
// refused, and the shop's own answer is used.
func generated(s string) (string, bool) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 || n > MaxGeneratedRunes || !utf8.ValidString(s),
		generatedAsks.MatchString(s), generatedLinks.MatchString(s), generatedClaims.MatchString(s),
		strings.ContainsAny(s, "<>`"):
		return "", false
	}
	return s, true
}
