package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/storage/redis"
)

// TestAssistantThroughTheAPI: the shop registers what it sends; a
// customer's widget verifies a genuine and a fake message with its client
// token; an address change waits for the step-up, passed with the
// customer's authenticator app; bad input and bad tokens are refused
// with the API's errors.
func TestAssistantThroughTheAPI(t *testing.T) {
	apptest.WarmAssistant(t)
	e := start(t, t.TempDir())
	ctx := context.Background()
	c := e.client(t, "shop-a")
	other := e.client(t, "shop-b")
	en := enrolApp(t, c, "u1")

	sent, err := c.RegisterOutbound(ctx, client.Outbound{Channel: "email", Recipient: "ana@example.com", UserID: "u1", Template: "order_confirmation",
		Summary: "Order 8812 confirmed", Links: []string{"https://northwind.shop/orders/8812"}, SentAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sent.ID, "out_") || len(sent.Code) != 9 || sent.RecipientHash == "" || sent.Recipient != "" {
		t.Fatalf("registered %+v", sent)
	}
	_, err = c.RegisterOutbound(ctx, client.Outbound{Channel: "fax", Template: "x", SentAt: time.Now()})
	wantStatus(t, err, http.StatusBadRequest, "channel")
	_, err = c.RegisterOutbound(ctx, client.Outbound{Channel: "sms", Template: "x", SentAt: time.Now(), Code: sent.Code})
	wantStatus(t, err, http.StatusConflict, "")

	conv, err := c.StartConversation(ctx, client.ConversationStart{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if conv.ClientToken == "" || len(conv.Conversation.Turns) != 1 {
		t.Fatalf("started %+v", conv)
	}
	widget := func(token, id string, body any) (int, client.AssistantReply) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/assistant/v1/conversations/"+id+"/messages", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Origin", "https://northwind.shop")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r client.AssistantReply
		json.NewDecoder(resp.Body).Decode(&r)
		if resp.StatusCode == 200 && resp.Header.Get("Access-Control-Allow-Origin") != "https://northwind.shop" {
			t.Errorf("no CORS header for the shop's page")
		}
		return resp.StatusCode, r
	}
	verdictOf := func(r client.AssistantReply) string {
		for _, a := range r.Actions {
			if a.Type == "message_verdict" {
				return a.Verdict
			}
		}
		return ""
	}
	id := conv.Conversation.ID

	status, r := widget(conv.ClientToken, id, map[string]string{"text": "Is this from you? Your order 8812: https://northwind.shop/orders/8812 code " + sent.Code})
	if status != 200 || verdictOf(r) != "genuine" || !strings.Contains(r.Text, "Order 8812 confirmed") {
		t.Fatalf("genuine message: %d %+v", status, r)
	}
	status, r = widget(conv.ClientToken, id, map[string]string{"text": "got this sms: your account is locked, log in at https://northwind-shop-login.example/verify within 24h"})
	if status != 200 || verdictOf(r) != "not_ours" {
		t.Fatalf("fake message: %d %+v", status, r)
	}
	reports, _, err := c.PhishingReports(ctx, "", 0, "")
	if err != nil || len(reports) != 1 || reports[0].Reporter != "customer" || reports[0].ReporterID != "u1" {
		t.Fatalf("reports %+v, %v", reports, err)
	}

	// The address change waits for the step-up.
	r, err = c.SendMessage(ctx, id, client.AssistantMessage{Text: "please change my delivery address, I moved"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(r.Actions, func(a client.AssistantAction) bool { return a.Type == "step_up" })
	if i < 0 || r.Actions[i].ChallengeID == "" || !strings.Contains(r.Actions[i].HostedURL, r.Actions[i].ChallengeID) {
		t.Fatalf("no step-up before the address change: %+v", r)
	}
	ch := r.Actions[i].ChallengeID
	if _, r := widget(conv.ClientToken, id, map[string]string{"step_up": ch}); slices.ContainsFunc(r.Actions, func(a client.AssistantAction) bool { return a.Type == "verified" }) {
		t.Fatalf("verified before the step-up was answered: %+v", r)
	}
	if ans, err := c.AnswerChallenge(ctx, ch, "totp", apptest.TOTPCode(t, en.Secret, time.Now())); err != nil || ans.Token == "" {
		t.Fatalf("answering the step-up: %+v, %v", ans, err)
	}
	status, r = widget(conv.ClientToken, id, map[string]string{"step_up": ch})
	if status != 200 || !slices.ContainsFunc(r.Actions, func(a client.AssistantAction) bool { return a.Type == "verified" && a.Intent == "change_address" }) {
		t.Fatalf("after the step-up: %d %+v", status, r)
	}

	// Refusals.
	if s, _ := widget(conv.ClientToken+"x", id, map[string]string{"text": "hi"}); s != http.StatusUnauthorized {
		t.Errorf("forged token: %d", s)
	}
	conv2, _ := c.StartConversation(ctx, client.ConversationStart{})
	if s, _ := widget(conv.ClientToken, conv2.Conversation.ID, map[string]string{"text": "hi"}); s != http.StatusUnauthorized {
		t.Errorf("another conversation's token: %d", s)
	}
	if s, _ := widget(conv.ClientToken, id, map[string]any{"text": 5}); s != http.StatusBadRequest {
		t.Errorf("a mistyped field: %d", s)
	}
	_, err = c.SendMessage(ctx, id, client.AssistantMessage{})
	wantStatus(t, err, http.StatusBadRequest, "text")
	_, err = other.SendMessage(ctx, id, client.AssistantMessage{Text: "hi"})
	wantStatus(t, err, http.StatusNotFound, "")
	_, err = other.Conversation(ctx, id)
	wantStatus(t, err, http.StatusNotFound, "")
	_, err = c.StartConversation(ctx, client.ConversationStart{UserID: strings.Repeat("u", 200)})
	wantStatus(t, err, http.StatusBadRequest, "user_id")

	got, err := c.Conversation(ctx, id)
	if err != nil || len(got.Turns) != 1+2*5 || got.Pending != nil {
		t.Fatalf("conversation: %d turns, pending %+v, %v", len(got.Turns), got.Pending, err)
	}
}

// TestAssistantAnswersFile: the shop's answers file replaces the default
// answers; a file that names a sensitive intent stops the start.
func TestAssistantAnswersFile(t *testing.T) {
	apptest.WarmAssistant(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "answers.yaml")
	if err := os.WriteFile(good, []byte("order_status: \"Track every order at northwind.shop/track; we ship from Leeds within a day.\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Storage.DataDir = t.TempDir()
	cfg.Assistant.AnswersFile = good
	e := startConfig(t, cfg)
	ctx := context.Background()
	c := e.client(t, "shop-a")
	conv, err := c.StartConversation(ctx, client.ConversationStart{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.SendMessage(ctx, conv.Conversation.ID, client.AssistantMessage{Text: "where is my parcel, it's late"})
	if err != nil || !strings.Contains(r.Text, "we ship from Leeds") {
		t.Errorf("reply %q, %v; want the shop's answer", r.Text, err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("change_email: \"send me your new address\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.Storage.DataDir = t.TempDir()
	cfg.Assistant.AnswersFile = bad
	if a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler)); err == nil {
		a.Close()
		t.Fatal("an answers file for a sensitive intent was accepted")
	}
}

// TestAssistantLanguageModel: with assistant.llm_url set, answers to
// questions that need only words are worded by the model, marked so.
func TestAssistantLanguageModel(t *testing.T) {
	apptest.WarmAssistant(t)
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]string{"content": "Most parcels arrive within three working days."}}}})
	}))
	defer model.Close()
	cfg := config.Default()
	cfg.Storage.DataDir = t.TempDir()
	cfg.Assistant.LLMURL, cfg.Assistant.LLMModel = model.URL+"/v1", "local-model"
	e := startConfig(t, cfg)
	ctx := context.Background()
	c := e.client(t, "shop-a")
	conv, err := c.StartConversation(ctx, client.ConversationStart{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.SendMessage(ctx, conv.Conversation.ID, client.AssistantMessage{Text: "when will my parcel arrive?"})
	if err != nil || r.Text != "Most parcels arrive within three working days." || len(r.Actions) != 1 || r.Actions[0].Type != "generated" {
		t.Errorf("reply %+v, %v", r, err)
	}
}

// TestAssistantSharedAcrossInstances: with state.url, a conversation
// opened on one API instance goes on on another (two apps, one Redis,
// each with its own database as two shops' test instances would not:
// the conversation is the shared part under test).
func TestAssistantSharedAcrossInstances(t *testing.T) {
	apptest.WarmAssistant(t)
	url := os.Getenv("SHOPGUARD_TEST_REDIS_URL")
	if url == "" {
		t.Skip("set SHOPGUARD_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run the Redis tests; .ci/run sets it when Redis runs on 127.0.0.1:6379")
	}
	prefix := fmt.Sprintf("shopguard-test:%d:", time.Now().UnixNano())
	t.Cleanup(func() { // the test's keys go with it
		if st, err := redis.Open(redis.Options{URL: url, Prefix: prefix, Timeout: time.Second}); err == nil {
			st.Purge(context.Background())
			st.Close()
		}
	})
	start := func() *env {
		cfg := config.Default()
		cfg.Storage.DataDir = t.TempDir()
		cfg.State.URL, cfg.State.Prefix = url, prefix
		return startConfig(t, cfg)
	}
	one, two := start(), start()
	ctx := context.Background()
	conv, err := one.client(t, "shop-a").StartConversation(ctx, client.ConversationStart{})
	if err != nil {
		t.Fatal(err)
	}
	c2 := two.client(t, "shop-a")
	r, err := c2.SendMessage(ctx, conv.Conversation.ID, client.AssistantMessage{Text: "can I speak to a human please"})
	if err != nil || r.Intent != "human_agent" {
		t.Fatalf("on the second instance: %+v, %v", r, err)
	}
	got, err := c2.Conversation(ctx, conv.Conversation.ID)
	if err != nil || len(got.Turns) != 3 || !got.Handoff {
		t.Errorf("the shared conversation: %d turns, %v", len(got.Turns), err)
	}
	if _, err := two.client(t, "shop-b").Conversation(ctx, conv.Conversation.ID); err == nil {
		t.Error("another tenant read the shared conversation")
	}
}
