package assistant

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// chatServer is an OpenAI-compatible chat completions endpoint answering
// with answer (after delay), counting its calls and checking requests.
func chatServer(t *testing.T, answer string, status int, delay time.Duration) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req struct {
			Model    string `json:"model"`
			Messages []struct{ Role, Content string }
		}
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer k3y" || json.NewDecoder(r.Body).Decode(&req) != nil ||
			req.Model != "shop-helper" || len(req.Messages) != 2 || req.Messages[0].Role != "system" || req.Messages[1].Role != "user" ||
			!strings.Contains(req.Messages[0].Content, "Never ask for a password") {
			t.Errorf("request %s %s: %+v", r.URL.Path, r.Header.Get("Authorization"), req)
		}
		if strings.Contains(req.Messages[1].Content, "4111") {
			t.Error("a card number reached the language model")
		}
		time.Sleep(delay)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"role": "assistant", "content": answer}}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestWriter: the operator's language model words answers to questions
// that need only words; an answer that asks for a secret, links
// elsewhere or claims an action, a slow or failing model, all fall back to
// the shop's answer; sensitive requests and message checks never reach it.
func TestWriter(t *testing.T) {
	ctx := context.Background()
	const good = "Your parcel usually arrives within three working days of shipping; the tracking number is in your account."
	for _, tc := range []struct {
		name     string
		answer   string
		status   int
		delay    time.Duration
		wantText string
		wantGen  bool
	}{
		{"used", good, 200, 0, good, true},
		{"asks for a password", "Please tell me your password so I can check.", 200, 0, defaultAnswers[IntentOrderStatus], false},
		{"links elsewhere", "Track it at https://parcel-track.example/now", 200, 0, defaultAnswers[IntentOrderStatus], false},
		{"claims an action", "I have refunded your order.", 200, 0, defaultAnswers[IntentOrderStatus], false},
		{"markup", "<b>soon</b>", 200, 0, defaultAnswers[IntentOrderStatus], false},
		{"fails", good, 500, 0, defaultAnswers[IntentOrderStatus], false},
		{"too slow", good, 200, 600 * time.Millisecond, defaultAnswers[IntentOrderStatus], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, calls := chatServer(t, tc.answer, tc.status, tc.delay)
			w, err := NewOpenAI(OpenAIConfig{URL: srv.URL + "/v1/", Model: "shop-helper", Key: "k3y", Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			a, err := New(Config{}, Deps{Classifier: trained(t), Writer: w})
			if err != nil {
				t.Fatal(err)
			}
			c, _ := a.Start(ctx, "shop", StartInput{UserID: "u1"})
			r, err := a.Post(ctx, "shop", c.ID, MessageInput{Text: "where is my parcel? ordered with card 4111 1111 1111 1111 last week"})
			if err != nil {
				t.Fatal(err)
			}
			gen := false
			for _, act := range r.Actions {
				gen = gen || act.Type == ActionGenerated
			}
			if r.Intent != IntentOrderStatus || !strings.HasSuffix(r.Text, tc.wantText) || gen != tc.wantGen || calls.Load() != 1 {
				t.Errorf("reply %q (%s, generated %v, %d calls); want %q, generated %v", r.Text, r.Intent, gen, calls.Load(), tc.wantText, tc.wantGen)
			}
			// Never for sensitive requests, message checks or identity.
			for _, text := range []string{"change my email address please", "is this from you? https://northwlnd.shop/login", "someone hacked my account"} {
				if _, err := a.Post(ctx, "shop", c.ID, MessageInput{Text: text}); err != nil {
					t.Fatal(err)
				}
			}
			if calls.Load() != 1 {
				t.Errorf("the language model was asked %d times; want only about the parcel", calls.Load())
			}
		})
	}
	if _, err := NewOpenAI(OpenAIConfig{URL: "ftp://x", Model: "m"}); err == nil {
		t.Error("an ftp URL was accepted")
	}
	if _, err := NewOpenAI(OpenAIConfig{URL: "http://x"}); err == nil {
		t.Error("no model was accepted")
	}
}
