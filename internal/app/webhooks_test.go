package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
)

// shopEndpoint is the shop's webhook receiver: it accepts a notification
// only when its signature verifies, as the integration docs say.
type shopEndpoint struct {
	mu      sync.Mutex
	secret  string
	notices []client.Notification
	ids     []string
	refused int
	arrived chan struct{}
}

func newShopEndpoint(t *testing.T) (*shopEndpoint, *httptest.Server) {
	e := &shopEndpoint{arrived: make(chan struct{}, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		defer e.mu.Unlock()
		if err := client.VerifyWebhook(r.Header, body, e.secret, time.Now()); err != nil {
			e.refused++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var n client.Notification
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if slices.Contains(e.ids, r.Header.Get(client.WebhookIDHeader)) {
			w.WriteHeader(http.StatusOK) // a retry of one already handled
			return
		}
		e.ids = append(e.ids, r.Header.Get(client.WebhookIDHeader))
		e.notices = append(e.notices, n)
		w.WriteHeader(http.StatusNoContent)
		e.arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return e, srv
}

// next waits for the next notification.
func (e *shopEndpoint) next(t *testing.T) client.Notification {
	t.Helper()
	select {
	case <-e.arrived:
	case <-time.After(15 * time.Second):
		t.Fatal("no notification arrived within 15s")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.notices[len(e.notices)-1]
}

// TestWasThisYouNotifications follows a sign-in from a new device through
// the signed webhook to the customer's answer: the shop registers an
// endpoint, a customer signs in from a laptop the account never used, the
// shop gets login.unrecognized, the customer says it was not them, and the
// label makes the laptop the attacker's.
func TestWasThisYouNotifications(t *testing.T) {
	e := start(t, t.TempDir())
	c := e.client(t, "shop")
	ctx := context.Background()
	shop, srv := newShopEndpoint(t)
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.app.RunNotifications(run) }()
	t.Cleanup(func() { stop(); <-done })

	_, err := c.CreateWebhook(ctx, client.NewWebhook{URL: "http://shop.example/hooks", Types: []string{client.NotificationLoginUnrecognized}})
	wantStatus(t, err, http.StatusBadRequest, "url")
	_, err = c.CreateWebhook(ctx, client.NewWebhook{URL: srv.URL, Types: []string{"order.paid"}})
	wantStatus(t, err, http.StatusBadRequest, "types[0]")
	_, err = c.TestWebhook(ctx, "wh_missing")
	wantStatus(t, err, http.StatusNotFound, "")
	hook, err := c.CreateWebhook(ctx, client.NewWebhook{URL: srv.URL, Description: "customer notices",
		Types: []string{client.NotificationLoginUnrecognized, client.NotificationLoginStepUpFailed, client.NotificationTest}})
	if err != nil {
		t.Fatal(err)
	}
	if hook.Secret == "" || !hook.Enabled {
		t.Fatalf("created webhook: %+v", hook)
	}
	shop.mu.Lock()
	shop.secret = hook.Secret
	shop.mu.Unlock()
	if ws, err := c.Webhooks(ctx); err != nil || len(ws) != 1 || ws[0].Secret != "" {
		t.Errorf("Webhooks = %+v, %v (the secret is shown only once)", ws, err)
	}
	if _, err := c.TestWebhook(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	if n := shop.next(t); n.Type != client.NotificationTest {
		t.Errorf("test notification: %+v", n)
	}

	now := time.Now().UTC().Add(-3 * time.Minute)
	login := func(id, device, ip, outcome string, at time.Duration) *client.Decision {
		t.Helper()
		d, err := c.ScoreLogin(ctx, client.Login{ID: id, CreatedAt: now.Add(at), UserID: "u_ana", IP: ip, DeviceID: device,
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			Outcome:   outcome})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	login("home-1", "ana-phone", "198.51.100.4", client.LoginSuccess, 0)
	login("home-2", "ana-phone", "198.51.100.4", client.LoginSuccess, time.Minute)
	// The account's usual device: nothing to tell the customer.
	select {
	case <-shop.arrived:
		t.Fatalf("a usual sign-in was notified: %+v", shop.notices)
	case <-time.After(1500 * time.Millisecond):
	}

	d := login("laptop-1", "laptop-x", "203.0.113.50", client.LoginSuccess, 2*time.Minute)
	n := shop.next(t)
	var notice client.LoginNotice
	if err := json.Unmarshal(n.Data, &notice); err != nil {
		t.Fatal(err)
	}
	if n.Type != client.NotificationLoginUnrecognized || notice.EventID != d.ID || notice.UserID != "u_ana" ||
		notice.DeviceID != "laptop-x" || notice.IP != "203.0.113.50" || notice.Browser != "Chrome 131" || notice.OS != "Windows" ||
		!slices.Contains(notice.New, "device") || notice.Action != d.Action {
		t.Errorf("login.unrecognized: %+v %+v (decision %+v)", n, notice, d)
	}

	// "It was not me": the shop labels the sign-in (labels count from when
	// they arrive, so the later attempts are dated after it).
	if _, err := c.SendFeedback(ctx, client.Feedback{EventID: notice.EventID, Label: "account_takeover", Source: "customer"}); err != nil {
		t.Fatal(err)
	}
	if again := login("laptop-2", "laptop-x", "203.0.113.50", client.LoginAttempt, 4*time.Minute); again.Action == client.ActionAllow {
		t.Errorf("the laptop the customer disowned: %+v", again)
	}

	login("mfa-1", "laptop-x", "203.0.113.50", client.LoginMFAFailed, 5*time.Minute)
	if n := shop.next(t); n.Type != client.NotificationLoginStepUpFailed {
		t.Errorf("after a failed step-up: %+v", n)
	}
	// The endpoint answered; the answer is recorded a moment later.
	ds := waitDeliveries(t, c, hook.ID, func(ds []client.Delivery) bool {
		return len(ds) == 3 && ds[0].Status == "delivered"
	})
	for _, d := range ds {
		if d.Status != "delivered" || d.Attempts != 1 || d.LastStatus != http.StatusNoContent {
			t.Errorf("delivery %+v", d)
		}
	}
	_, err = c.WebhookDeliveries(ctx, hook.ID, 501)
	wantStatus(t, err, http.StatusBadRequest, "limit")

	// A rotated secret: the shop switches to the new one at once.
	rotated, err := c.RotateWebhookSecret(ctx, hook.ID)
	if err != nil || rotated.Secret == hook.Secret {
		t.Fatalf("rotate: %+v, %v", rotated, err)
	}
	shop.mu.Lock()
	shop.secret = rotated.Secret
	shop.mu.Unlock()
	if _, err := c.RetryWebhookDelivery(ctx, hook.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	waitDeliveries(t, c, hook.ID, func(ds []client.Delivery) bool {
		return ds[0].Status == "delivered" && ds[0].Attempts == 2
	})
	shop.mu.Lock()
	if shop.refused != 0 {
		t.Errorf("the shop refused %d notifications as badly signed", shop.refused)
	}
	shop.mu.Unlock()

	off := false
	if u, err := c.UpdateWebhook(ctx, hook.ID, client.WebhookUpdate{Enabled: &off}); err != nil || u.Enabled {
		t.Errorf("disable: %+v, %v", u, err)
	}
	if err := c.DeleteWebhook(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.WebhookDeliveries(ctx, hook.ID, 0)
	wantStatus(t, err, http.StatusNotFound, "")
}

// waitDeliveries polls the endpoint's delivery log until ok says it is as
// expected, and returns it.
func waitDeliveries(t *testing.T, c *client.Client, id string, ok func([]client.Delivery) bool) []client.Delivery {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ds, err := c.WebhookDeliveries(context.Background(), id, 10)
		if err == nil && len(ds) > 0 && ok(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries = %+v, %v", ds, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
