package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
)

// env is a running shopguard (SQLite in a temp dir) behind a test server.
type env struct {
	app *app.App
	srv *httptest.Server
	cfg config.Config
}

func start(t *testing.T, dataDir string) *env {
	t.Helper()
	cfg := config.Default()
	cfg.Storage.DataDir = dataDir
	return startConfig(t, cfg)
}

func startConfig(t *testing.T, cfg config.Config) *env {
	t.Helper()
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{app: a, srv: httptest.NewServer(a.Handler()), cfg: cfg}
	t.Cleanup(func() {
		e.srv.Close()
		_ = a.Close()
	})
	return e
}

func (e *env) client(t *testing.T, tenant string, scopes ...apikey.Scope) *client.Client {
	t.Helper()
	if len(scopes) == 0 {
		scopes = apikey.AllScopes
	}
	key, err := e.app.CreateKey(context.Background(), tenant, "test", scopes)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(e.srv.URL, key, client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var at = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

func order(id string, amount int64) client.Transaction {
	return client.Transaction{
		ID: id, CreatedAt: at, AmountMinor: amount, Currency: "EUR",
		User:     &client.User{ID: "u1", Email: "ana@example.com", CreatedAt: at.Add(-400 * 24 * time.Hour)},
		IP:       "203.0.113.7",
		DeviceID: "dev1",
		Payment:  &client.Payment{Method: "card", CardFingerprint: "fp1", BIN: "424242", Last4: "4242", CardCountry: "DE"},
		Items:    []client.Item{{SKU: "sku1", Name: "Shoes", PriceMinor: amount, Quantity: 1}},
	}
}

func wantStatus(t *testing.T, err error, status int, field string) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errorsAs(err, &ce) || ce.Status != status {
		t.Fatalf("err = %v, want HTTP %d", err, status)
	}
	if ce.Field != field {
		t.Errorf("field = %q, want %q (%s)", ce.Field, field, ce.Message)
	}
	if ce.RequestID == "" || ce.Code == "" || ce.Message == "" {
		t.Errorf("error lacks code, message or request id: %+v", ce)
	}
	return ce
}

func TestEndToEnd(t *testing.T) {
	e := start(t, t.TempDir())
	ctx := context.Background()
	c := e.client(t, "shop-a")

	t.Run("valid transaction is scored and stored", func(t *testing.T) {
		d, err := c.ScoreTransaction(ctx, order("ord-1", 4999))
		if err != nil {
			t.Fatal(err)
		}
		if d.ID == "" || d.Action != client.ActionAllow || d.RulesVersion != 1 || d.Reasons == nil || d.ExternalID != "ord-1" {
			t.Errorf("decision = %+v", d)
		}
		ev, err := c.Event(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ExternalID != "ord-1" || ev.AmountMinor != 4999 || ev.Assessment.Action != d.Action ||
			!strings.Contains(string(ev.Features), `"count_1h":1`) || !ev.OccurredAt.Equal(at) {
			t.Errorf("stored event = %+v", ev)
		}
		again, err := c.ScoreTransaction(ctx, order("ord-1", 4999))
		if err != nil || !again.Replayed || again.ID != d.ID {
			t.Errorf("repeat = %+v, %v", again, err)
		}
		_, err = c.ScoreTransaction(ctx, order("ord-1", 5000))
		wantStatus(t, err, http.StatusConflict, "")
	})

	t.Run("invalid transactions get 400 naming the field", func(t *testing.T) {
		bad := order("ord-bad", 100)
		bad.Currency = "EURO"
		_, err := c.ScoreTransaction(ctx, bad)
		wantStatus(t, err, 400, "currency")
		bad = order("ord-bad", -5)
		_, err = c.ScoreTransaction(ctx, bad)
		wantStatus(t, err, 400, "amount_minor")
		bad = order("ord-bad", 100)
		bad.Payment.CardFingerprint = "4111111111111111"
		_, err = c.ScoreTransaction(ctx, bad)
		wantStatus(t, err, 400, "payment.card_fingerprint")
	})

	t.Run("unauthenticated and unauthorised", func(t *testing.T) {
		anon, _ := client.New(e.srv.URL, "sg_not-a-key", client.WithRetries(0))
		_, err := anon.ScoreTransaction(ctx, order("ord-2", 100))
		wantStatus(t, err, 401, "")
		resp, err := http.Post(e.srv.URL+"/v1/transactions", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("no key: status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		scorer := e.client(t, "shop-a", apikey.ScopeEventsWrite)
		if _, err := scorer.ScoreTransaction(ctx, order("ord-3", 100)); err != nil {
			t.Fatal(err)
		}
		_, err = scorer.Rules(ctx)
		wantStatus(t, err, 403, "")
	})

	t.Run("other tenant sees nothing", func(t *testing.T) {
		d, err := c.ScoreTransaction(ctx, order("ord-4", 100))
		if err != nil {
			t.Fatal(err)
		}
		other := e.client(t, "shop-b")
		_, err = other.Event(ctx, d.ID)
		wantStatus(t, err, 404, "")
		_, err = other.SendFeedback(ctx, client.Feedback{EventID: d.ID, Label: "fraud"})
		wantStatus(t, err, 404, "")
		// The same order id is free in another tenant.
		od, err := other.ScoreTransaction(ctx, order("ord-4", 100))
		if err != nil || od.Replayed {
			t.Errorf("other tenant's order = %+v, %v", od, err)
		}
	})

	t.Run("rule match, shadow rule, list hit", func(t *testing.T) {
		_, err := c.CreateRule(ctx, client.Rule{Name: "huge_order", Kind: "transaction", Expression: "amount_minor >= 500000", Action: client.ActionReview,
			Description: "order of {{ amount }} {{ currency }}"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateRule(ctx, client.Rule{Name: "draft_night", Kind: "transaction", Expression: "amount_minor >= 100", Score: 60, Mode: "shadow", Description: "draft"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CreateRule(ctx, client.Rule{Name: "huge_order", Kind: "transaction", Expression: "true", Score: 1})
		wantStatus(t, err, 409, "")
		_, err = c.CreateRule(ctx, client.Rule{Name: "typo", Kind: "transaction", Expression: "amount_minr > 5", Score: 1})
		ce := wantStatus(t, err, 400, "expression")
		if len(ce.Details) != 1 || ce.Details[0].Line != 1 || ce.Details[0].Column == 0 {
			t.Errorf("compile error details = %+v", ce.Details)
		}

		d, err := c.ScoreTransaction(ctx, order("ord-big", 600000))
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != client.ActionReview || d.Reasons[0].Code != "rule:huge_order" || d.Reasons[0].Message != "order of 6000 EUR" {
			t.Errorf("rule decision = %+v", d)
		}
		ev, _ := c.Event(ctx, d.ID)
		if len(ev.Assessment.Shadow) != 1 || ev.Assessment.Shadow[0].Code != "rule:draft_night" || d.Score >= 60 {
			t.Errorf("shadow rule changed the score or was not recorded: score %d, shadow %+v", d.Score, ev.Assessment.Shadow)
		}

		if _, err := c.CreateList(ctx, client.NewList{Name: "blocked-ips", Kind: "ip", Effect: "block", Values: []string{"198.51.100.0/24"}}); err != nil {
			t.Fatal(err)
		}
		o := order("ord-listed", 100)
		o.IP = "198.51.100.42"
		d, err = c.ScoreTransaction(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != client.ActionBlock || !slices.ContainsFunc(d.Reasons, func(r client.Reason) bool { return r.Code == "list:blocked-ips" }) {
			t.Errorf("list decision = %+v", d)
		}
		_, err = c.AddListValues(ctx, "blocked-ips", "not-an-ip")
		wantStatus(t, err, 400, "values[0]")
		n, err := c.RemoveListValues(ctx, "blocked-ips", "198.51.100.0/24")
		if err != nil || n != 1 {
			t.Errorf("remove = %d, %v", n, err)
		}
		o.ID = "ord-unlisted"
		if d, _ := c.ScoreTransaction(ctx, o); d.Action == client.ActionBlock {
			t.Errorf("removed list entry still blocks: %+v", d)
		}
		if _, err := c.DeleteRule(ctx, "draft_night"); err != nil {
			t.Fatal(err)
		}
		_, err = c.Rule(ctx, "draft_night")
		wantStatus(t, err, 404, "")
	})

	t.Run("backtest with feedback", func(t *testing.T) {
		for i := range 6 {
			o := order(fmt.Sprintf("bt-%d", i), int64(1000*(i+1)))
			o.User.ID = fmt.Sprintf("bt-user-%d", i)
			d, err := c.ScoreTransaction(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			label := "legit"
			if i >= 4 {
				label = "fraud"
			}
			if _, err := c.SendFeedback(ctx, client.Feedback{EventID: d.ID, Label: label, Source: "test"}); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := c.Backtest(ctx, client.BacktestRequest{From: at.Add(-time.Minute), To: at.Add(time.Minute),
			Rules: []client.Rule{{Name: "ge40", Expression: `amount >= 40 && user.id startsWith "bt-"`, Score: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		r := rep.Rules[0]
		if r.MatchedTotal != 3 || r.Matched.Bad != 2 || r.Matched.Good != 1 || *r.Precision < 0.66 || *r.Recall != 1 {
			t.Errorf("backtest = %+v", rep)
		}
		_, err = c.Backtest(ctx, client.BacktestRequest{From: at, To: at.Add(-time.Hour), Rules: []client.Rule{{Name: "x", Expression: "true", Score: 1}}})
		wantStatus(t, err, 400, "to")
	})

	t.Run("routing and health", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			status       int
		}{
			{"GET", "/healthz", 200}, {"GET", "/readyz", 200}, {"GET", "/metrics", 200}, {"GET", "/v1/openapi.yaml", 200},
			{"GET", "/v1/nothing", 404}, {"DELETE", "/v1/transactions", 405},
		} {
			req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
			}
			if tc.status >= 400 && !strings.Contains(string(body), `"error"`) {
				t.Errorf("%s %s answered %q, want the JSON error shape", tc.method, tc.path, body)
			}
			if tc.path == "/metrics" && !strings.Contains(string(body), `shopguard_decisions_total{action="allow",kind="transaction"}`) {
				t.Errorf("/metrics lacks decision counts")
			}
		}
	})
}
