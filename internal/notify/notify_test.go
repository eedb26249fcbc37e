package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/notify"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

// clock is a settable time source.
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

// receiver is a shop's webhook endpoint: it verifies every request with
// the secret it was given and answers with the status its script says.
type receiver struct {
	t      *testing.T
	clock  *clock
	mu     sync.Mutex
	secret string
	status []int // answers in turn; 204 after the script ends
	got    []received
	srv    *httptest.Server
}

type received struct {
	id   string
	n    client.Notification
	body []byte
	err  error // the verification's verdict
}

func newReceiver(t *testing.T, c *clock) *receiver {
	r := &receiver{t: t, clock: c}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		rec := received{id: req.Header.Get(client.WebhookIDHeader), body: body,
			err: client.VerifyWebhook(req.Header, body, r.secret, r.clock.Now())}
		if err := json.Unmarshal(body, &rec.n); err != nil {
			rec.err = errors.Join(rec.err, err)
		}
		r.got = append(r.got, rec)
		status := http.StatusNoContent
		if len(r.status) > 0 {
			status, r.status = r.status[0], r.status[1:]
		}
		switch status {
		case http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "3600")
		case http.StatusFound:
			w.Header().Set("Location", "https://shop.example/new-hooks")
		}
		w.WriteHeader(status)
		fmt.Fprint(w, "answer from the shop")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// testSource notices every login event whose payload says "notify".
var testSource = notify.Source{
	Kind:  risk.EventLogin,
	Types: []notify.TypeInfo{{Name: "login.unrecognized", Description: "test"}, {Name: "login.step_up_failed", Description: "test"}},
	Notices: func(ev *storage.Event) ([]notify.Notice, error) {
		var p struct {
			Notify string `json:"notify"`
			User   string `json:"user"`
		}
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			return nil, err
		}
		if p.Notify == "" {
			return nil, nil
		}
		return []notify.Notice{{Type: p.Notify, Dedupe: p.User, Data: map[string]string{"user": p.User, "event": ev.ID}}}, nil
	},
}

type fixture struct {
	t     *testing.T
	store *memory.Store
	clock *clock
	n     *notify.Notifier
	seq   int
}

func newFixture(t *testing.T, cfg notify.Config) *fixture {
	f := &fixture{t: t, store: memory.New(), clock: &clock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}}
	cfg.Sources = append(cfg.Sources, testSource)
	cfg.Now = f.clock.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	n, err := notify.New(cfg, f.store)
	if err != nil {
		t.Fatal(err)
	}
	f.n = n
	return f
}

// login saves a login event as the engine would.
func (f *fixture) login(tenant, user, notice string) storage.Event {
	f.t.Helper()
	f.seq++
	e := storagetest.NewEvent(tenant, fmt.Sprintf("ev_%d", f.seq), fmt.Sprintf("lg_%d", f.seq), f.clock.Now())
	e.Kind, e.AmountMinor, e.Currency = risk.EventLogin, 0, ""
	e.ReceivedAt = f.clock.Now()
	e.Payload = json.RawMessage(fmt.Sprintf(`{"user":%q,"notify":%q}`, user, notice))
	if err := f.store.SaveEvent(context.Background(), &e); err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) scan() int {
	f.t.Helper()
	n, err := f.n.Scan(context.Background())
	if err != nil {
		f.t.Fatalf("Scan: %v", err)
	}
	return n
}

func (f *fixture) deliver() int {
	f.t.Helper()
	n, err := f.n.Deliver(context.Background())
	if err != nil {
		f.t.Fatalf("Deliver: %v", err)
	}
	return n
}

func (f *fixture) webhook(tenant, url string, types ...string) storage.Webhook {
	f.t.Helper()
	w, err := f.n.CreateWebhook(context.Background(), tenant, notify.WebhookInput{URL: url, Types: types})
	if err != nil {
		f.t.Fatalf("CreateWebhook: %v", err)
	}
	return w
}

func TestNotificationsAreSignedDeliveredOnceAndOnlyToSubscribers(t *testing.T) {
	f := newFixture(t, notify.Config{})
	ctx := context.Background()
	f.login("shop", "u0", "login.unrecognized") // before shopguard's first look: never notified
	if f.scan() != 0 {
		t.Fatal("the first scan made deliveries for old events")
	}
	r := newReceiver(t, f.clock)
	w := f.webhook("shop", r.srv.URL, "login.unrecognized")
	r.secret = w.Secret
	other := newReceiver(t, f.clock)
	ow := f.webhook("shop", other.srv.URL, "login.step_up_failed")
	other.secret = ow.Secret

	f.clock.Add(time.Second)
	ev := f.login("shop", "u1", "login.unrecognized")
	f.login("shop", "u2", "")                        // nothing to notify
	f.login("elsewhere", "u3", "login.unrecognized") // another tenant, no endpoints
	f.login("shop", "u1", "login.unrecognized")      // same account and dedupe key: dropped
	if got := f.scan(); got != 1 {
		t.Fatalf("Scan made %d deliveries, want 1", got)
	}
	if got := f.scan(); got != 0 {
		t.Fatalf("a second Scan made %d deliveries, want 0", got)
	}
	if got := f.deliver(); got != 1 {
		t.Fatalf("Deliver attempted %d, want 1", got)
	}
	got := r.received()
	if len(got) != 1 || got[0].err != nil {
		t.Fatalf("received %+v", got)
	}
	if got[0].n.Type != "login.unrecognized" || !strings.Contains(string(got[0].n.Data), ev.ID) || !strings.HasPrefix(got[0].id, "msg_") {
		t.Errorf("notification %s: %+v %s", got[0].id, got[0].n, got[0].n.Data)
	}
	if len(other.received()) != 0 {
		t.Errorf("an endpoint not subscribed to the type got %d notifications", len(other.received()))
	}
	if f.deliver() != 0 || len(r.received()) != 1 {
		t.Error("a delivered notification was sent again")
	}
	ds, err := f.n.Deliveries(ctx, "shop", w.ID, 10)
	if err != nil || len(ds) != 1 || ds[0].DeliveredAt.IsZero() || ds[0].LastStatus != http.StatusNoContent || ds[0].Attempts != 1 {
		t.Errorf("delivery record: %+v, %v", ds, err)
	}
	// The test notification goes out at once.
	if _, err := f.n.SendTest(ctx, "shop", ow.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	if got := other.received(); len(got) != 1 || got[0].err != nil || got[0].n.Type != client.NotificationTest {
		t.Errorf("test notification: %+v", got)
	}
}

func TestFailedDeliveriesAreRetriedWithBackoffThenGivenUp(t *testing.T) {
	f := newFixture(t, notify.Config{Attempts: 4})
	ctx := context.Background()
	f.scan()
	r := newReceiver(t, f.clock)
	w := f.webhook("shop", r.srv.URL, "login.unrecognized")
	r.secret = w.Secret
	r.status = []int{500, http.StatusTooManyRequests, 302}

	f.login("shop", "u1", "login.unrecognized")
	f.scan()
	f.deliver() // 500
	ds, _ := f.n.Deliveries(ctx, "shop", w.ID, 1)
	d := ds[0]
	if d.Attempts != 1 || d.LastStatus != 500 || !strings.Contains(d.LastError, "status 500: answer from the shop") {
		t.Fatalf("after a 500: %+v", d)
	}
	if wait := d.NextAttemptAt.Sub(f.clock.Now()); wait < 4*time.Second || wait > 6*time.Second {
		t.Errorf("first retry in %s, want about 5s", wait)
	}
	if f.deliver() != 0 {
		t.Error("a delivery was retried before it was due")
	}
	f.clock.Add(6 * time.Second)
	f.deliver() // 429 with Retry-After: 3600
	ds, _ = f.n.Deliveries(ctx, "shop", w.ID, 1)
	if wait := ds[0].NextAttemptAt.Sub(f.clock.Now()); wait != time.Hour {
		t.Errorf("after Retry-After 3600 the retry is in %s, want 1h", wait)
	}
	f.clock.Add(time.Hour)
	f.deliver() // 302: redirects are not followed
	ds, _ = f.n.Deliveries(ctx, "shop", w.ID, 1)
	if !strings.Contains(ds[0].LastError, "redirects are not followed") {
		t.Errorf("after a redirect: %q", ds[0].LastError)
	}
	r.srv.Close() // the shop is down: no answer at all
	f.clock.Add(3 * time.Minute)
	f.deliver()
	ds, _ = f.n.Deliveries(ctx, "shop", w.ID, 1)
	d = ds[0]
	if d.Attempts != 4 || d.FailedAt.IsZero() || !d.NextAttemptAt.IsZero() || d.LastStatus != 0 || !strings.Contains(d.LastError, "no answer") {
		t.Fatalf("after the last attempt: %+v", d)
	}
	// The shop fixes its endpoint and asks for the notification again.
	r2 := newReceiver(t, f.clock)
	r2.secret = w.Secret
	url := r2.srv.URL
	if _, err := f.n.UpdateWebhook(ctx, "shop", w.ID, notify.WebhookPatch{URL: &url}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.n.RetryDelivery(ctx, "shop", w.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	if got := r2.received(); len(got) != 1 || got[0].err != nil || got[0].id != d.ID {
		t.Errorf("redelivery: %+v (want id %s)", got, d.ID)
	}
	if _, err := f.n.RetryDelivery(ctx, "shop", "wh_other", d.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RetryDelivery through another webhook = %v, want ErrNotFound", err)
	}
}

func TestRotatedSecretSignsAlongsideTheOldOneForADay(t *testing.T) {
	f := newFixture(t, notify.Config{})
	ctx := context.Background()
	r := newReceiver(t, f.clock)
	w := f.webhook("shop", r.srv.URL, "login.unrecognized")
	rotated, err := f.n.RotateSecret(ctx, "shop", w.ID)
	if err != nil || rotated.Secret == w.Secret || rotated.PreviousSecret != w.Secret {
		t.Fatalf("RotateSecret = %+v, %v", rotated, err)
	}
	send := func() received {
		t.Helper()
		if _, err := f.n.SendTest(ctx, "shop", w.ID); err != nil {
			t.Fatal(err)
		}
		f.deliver()
		got := r.received()
		return got[len(got)-1]
	}
	for _, secret := range []string{w.Secret, rotated.Secret} {
		r.secret = secret
		if got := send(); got.err != nil {
			t.Errorf("within a day of the rotation, %s... does not verify: %v", secret[:10], got.err)
		}
	}
	f.clock.Add(25 * time.Hour)
	r.secret = w.Secret
	if got := send(); !errors.Is(got.err, client.ErrWebhookSignature) {
		t.Errorf("a day after the rotation the old secret still verifies: %v", got.err)
	}
}

func TestDisabledAndLateEndpointsGetNothing(t *testing.T) {
	f := newFixture(t, notify.Config{})
	ctx := context.Background()
	f.scan()
	r := newReceiver(t, f.clock)
	w := f.webhook("shop", r.srv.URL, "login.unrecognized")
	off := false
	if _, err := f.n.UpdateWebhook(ctx, "shop", w.ID, notify.WebhookPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	f.login("shop", "u1", "login.unrecognized")
	f.login("shop", "u2", "login.unrecognized")
	f.clock.Add(time.Second)
	late := newReceiver(t, f.clock)
	f.webhook("shop", late.srv.URL, "login.unrecognized") // created after the events
	if got := f.scan(); got != 0 {
		t.Errorf("Scan made %d deliveries for a disabled endpoint and events older than an endpoint", got)
	}
	f.deliver()
	if len(r.received())+len(late.received()) != 0 {
		t.Error("notifications were sent")
	}
	// A test goes out to a disabled endpoint all the same.
	r.secret = w.Secret
	if _, err := f.n.SendTest(ctx, "shop", w.ID); err != nil {
		t.Fatal(err)
	}
	f.deliver()
	if got := r.received(); len(got) != 1 || got[0].err != nil || got[0].n.Type != client.NotificationTest {
		t.Errorf("test to a disabled endpoint: %+v", got)
	}
}

func TestConcurrentNotifiersMakeEachDeliveryOnce(t *testing.T) {
	f := newFixture(t, notify.Config{})
	f.scan()
	r := newReceiver(t, f.clock)
	r.secret = f.webhook("shop", r.srv.URL, "login.unrecognized").Secret
	second, err := notify.New(notify.Config{Sources: []notify.Source{testSource}, Now: f.clock.Now}, f.store)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		f.login("shop", fmt.Sprintf("u%d", i), "login.unrecognized")
	}
	var wg sync.WaitGroup
	for _, n := range []*notify.Notifier{f.n, second} {
		wg.Go(func() {
			for range 5 {
				if _, err := n.Scan(context.Background()); err != nil {
					t.Error(err)
				}
				if _, err := n.Deliver(context.Background()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for _, g := range r.received() {
		if g.err != nil {
			t.Fatal(g.err)
		}
		var d map[string]string
		_ = json.Unmarshal(g.n.Data, &d)
		seen[d["user"]]++
	}
	if len(seen) != 300 {
		t.Errorf("%d accounts notified, want 300", len(seen))
	}
	for u, k := range seen {
		if k != 1 {
			t.Errorf("%s notified %d times", u, k)
		}
	}
}

func TestWebhookValidation(t *testing.T) {
	f := newFixture(t, notify.Config{MaxWebhooks: 2})
	ctx := context.Background()
	tests := []struct {
		name  string
		in    notify.WebhookInput
		field string
	}{
		{"no url", notify.WebhookInput{Types: []string{"login.unrecognized"}}, "url"},
		{"relative url", notify.WebhookInput{URL: "/hooks", Types: []string{"login.unrecognized"}}, "url"},
		{"ftp", notify.WebhookInput{URL: "ftp://shop.example/x", Types: []string{"login.unrecognized"}}, "url"},
		{"http elsewhere", notify.WebhookInput{URL: "http://shop.example/x", Types: []string{"login.unrecognized"}}, "url"},
		{"credentials", notify.WebhookInput{URL: "https://a:b@shop.example/x", Types: []string{"login.unrecognized"}}, "url"},
		{"fragment", notify.WebhookInput{URL: "https://shop.example/x#y", Types: []string{"login.unrecognized"}}, "url"},
		{"bad port", notify.WebhookInput{URL: "https://shop.example:99999/x", Types: []string{"login.unrecognized"}}, "url"},
		{"huge url", notify.WebhookInput{URL: "https://shop.example/" + strings.Repeat("a", 3000), Types: []string{"login.unrecognized"}}, "url"},
		{"no types", notify.WebhookInput{URL: "https://shop.example/x"}, "types"},
		{"unknown type", notify.WebhookInput{URL: "https://shop.example/x", Types: []string{"login.unrecognized", "order.paid"}}, "types[1]"},
		{"repeated type", notify.WebhookInput{URL: "https://shop.example/x", Types: []string{"webhook.test", "webhook.test"}}, "types[1]"},
		{"long description", notify.WebhookInput{URL: "https://shop.example/x", Types: []string{"webhook.test"}, Description: strings.Repeat("d", 300)}, "description"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.n.CreateWebhook(ctx, "shop", tc.in)
			fes := risk.FieldErrors(err)
			if len(fes) == 0 || fes[0].Field != tc.field {
				t.Errorf("CreateWebhook = %v, want an error naming %s", err, tc.field)
			}
		})
	}
	for _, u := range []string{"https://shop.example/hooks", "http://127.0.0.1:9/x"} {
		if _, err := f.n.CreateWebhook(ctx, "shop", notify.WebhookInput{URL: u, Types: []string{"webhook.test"}}); err != nil {
			t.Errorf("CreateWebhook(%s): %v", u, err)
		}
	}
	if _, err := f.n.CreateWebhook(ctx, "shop", notify.WebhookInput{URL: "https://shop.example/3", Types: []string{"webhook.test"}}); !errors.Is(err, notify.ErrTooMany) {
		t.Errorf("a third endpoint over a cap of 2: %v", err)
	}
	bad := []string{}
	if _, err := f.n.UpdateWebhook(ctx, "shop", "wh_missing", notify.WebhookPatch{Types: &bad}); len(risk.FieldErrors(err)) == 0 {
		t.Errorf("UpdateWebhook with no types = %v, want a field error first", err)
	}
	if _, err := f.n.UpdateWebhook(ctx, "shop", "wh_missing", notify.WebhookPatch{}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateWebhook of a missing endpoint = %v", err)
	}
	allow := newFixture(t, notify.Config{AllowHTTP: true})
	if _, err := allow.n.CreateWebhook(ctx, "shop", notify.WebhookInput{URL: "http://shop.internal/x", Types: []string{"webhook.test"}}); err != nil {
		t.Errorf("http with AllowHTTP: %v", err)
	}
}
