package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopguard/shopguard/client"
)

// WebhookPath is where the demo shop receives shopguard's notifications.
const WebhookPath = "/shopguard/webhooks"

// noticeTypes returns the notification types the demo shop subscribes to.
func noticeTypes() []string {
	return []string{client.NotificationLoginUnrecognized, client.NotificationLoginStepUpFailed}
}

// WebhookRegistrar is what the shop needs to receive shopguard's
// notifications (a *client.Client): an endpoint made at start, its
// deliveries watched at the end, and the endpoint removed.
type WebhookRegistrar interface {
	Webhooks(ctx context.Context) ([]client.Webhook, error)
	CreateWebhook(ctx context.Context, w client.NewWebhook) (*client.Webhook, error)
	WebhookDeliveries(ctx context.Context, id string, limit int) ([]client.Delivery, error)
	DeleteWebhook(ctx context.Context, id string) error
}

var _ WebhookRegistrar = (*client.Client)(nil)

// ReceivedNotice is a notification the shop received and verified.
type ReceivedNotice struct {
	// ID is the Webhook-Id: the same on every retry of one notification.
	ID   string
	Type string
	// At is when shopguard made the notification.
	At time.Time
	// Login is the notice's data for the login types.
	Login client.LoginNotice
}

// InboxStats counts what reached the shop's webhook endpoint.
type InboxStats struct {
	// Received counts the notifications kept (verified, once each).
	Received int `json:"received"`
	// Refused counts requests whose signature or timestamp did not verify.
	Refused int `json:"refused"`
	// Duplicates counts verified retries of a notification already kept.
	Duplicates int `json:"duplicates"`
}

// Inbox is the shop's webhook endpoint: it verifies each request with the
// endpoint's secret (401 when it does not verify), answers a retry of a
// notification it already has with 204 without keeping it twice, and keeps
// the rest. It is safe for concurrent use.
type Inbox struct {
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	secret  string
	seen    map[string]bool
	notices []ReceivedNotice
	stats   InboxStats
}

// NewInbox returns an inbox without a secret; it answers 503 until
// SetSecret, so that shopguard retries later.
func NewInbox(now func() time.Time, log *slog.Logger) *Inbox {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Inbox{now: now, log: log, seen: map[string]bool{}}
}

// SetSecret sets the endpoint's secret ("whsec_..."), as CreateWebhook
// returned it.
func (in *Inbox) SetSecret(secret string) {
	in.mu.Lock()
	in.secret = secret
	in.mu.Unlock()
}

// ServeHTTP receives one notification.
func (in *Inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "body unreadable or too large", http.StatusBadRequest)
		return
	}
	in.mu.Lock()
	secret := in.secret
	in.mu.Unlock()
	if secret == "" {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	if err := client.VerifyWebhook(r.Header, body, secret, in.now()); err != nil {
		in.mu.Lock()
		in.stats.Refused++
		in.mu.Unlock()
		in.log.Warn("webhook refused", "error", err)
		http.Error(w, "signature does not verify", http.StatusUnauthorized)
		return
	}
	n, err := decodeNotice(r.Header.Get(client.WebhookIDHeader), body)
	if err != nil {
		// Signed by shopguard yet unreadable: a bug on one side; a 4xx
		// makes it visible in the delivery log.
		in.log.Error("webhook unreadable", "error", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	in.mu.Lock()
	if in.seen[n.ID] {
		in.stats.Duplicates++
	} else {
		in.seen[n.ID] = true
		in.notices = append(in.notices, n)
		in.stats.Received++
	}
	in.mu.Unlock()
	// A real shop would now e-mail the customer "was this you?", with
	// links that label the sign-in legit or account_takeover.
	w.WriteHeader(http.StatusNoContent)
}

// decodeNotice reads a verified notification body.
func decodeNotice(id string, body []byte) (ReceivedNotice, error) {
	var env client.Notification
	if err := json.Unmarshal(body, &env); err != nil {
		return ReceivedNotice{}, fmt.Errorf("demo: notification %s: %w", id, err)
	}
	n := ReceivedNotice{ID: id, Type: env.Type, At: env.Timestamp}
	if slices.Contains(noticeTypes(), env.Type) {
		if err := json.Unmarshal(env.Data, &n.Login); err != nil {
			return ReceivedNotice{}, fmt.Errorf("demo: notification %s (%s) data: %w", id, env.Type, err)
		}
	}
	return n, nil
}

// Notices returns the notifications kept, in arrival order.
func (in *Inbox) Notices() []ReceivedNotice {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.notices)
}

// Stats returns the counts so far.
func (in *Inbox) Stats() InboxStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stats
}

// webhookDescription names the demo shop's endpoints in shopguard.
const webhookDescription = "demo shop: was this you?"

// registerWebhook makes the shop's endpoint in shopguard and gives the
// inbox its secret. Endpoints of earlier demo runs that ended before they
// could remove theirs (their shops are gone) are removed first.
func registerWebhook(ctx context.Context, wr WebhookRegistrar, shopURL string, in *Inbox) (*client.Webhook, error) {
	old, err := wr.Webhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: list webhooks: %w", err)
	}
	for _, h := range old {
		if h.Description == webhookDescription && strings.HasSuffix(h.URL, WebhookPath) {
			if err := wr.DeleteWebhook(ctx, h.ID); err != nil {
				return nil, fmt.Errorf("demo: remove an earlier run's webhook: %w", err)
			}
		}
	}
	h, err := wr.CreateWebhook(ctx, client.NewWebhook{URL: shopURL + WebhookPath, Types: noticeTypes(),
		Description: webhookDescription})
	if err != nil {
		return nil, fmt.Errorf("demo: register the shop's webhook: %w", err)
	}
	in.SetSecret(h.Secret)
	return h, nil
}

// After the traffic the demo waits noticeSettle for shopguard, which reads
// its event log every second, to make the notices of the last sign-ins,
// then at most noticeDrain for their first delivery.
const (
	noticeSettle = 1500 * time.Millisecond
	noticeDrain  = 5 * time.Second
)

// awaitNotices waits until shopguard has had time to read the last
// events and has no first delivery attempt left for the endpoint (a retry
// is not waited for), at most noticeDrain.
func awaitNotices(ctx context.Context, wr WebhookRegistrar, id string) error {
	if !sleep(ctx, noticeSettle) {
		return ctx.Err()
	}
	deadline := time.Now().Add(noticeDrain)
	for {
		ds, err := wr.WebhookDeliveries(ctx, id, 100)
		if err != nil {
			return fmt.Errorf("demo: webhook deliveries: %w", err)
		}
		if !slices.ContainsFunc(ds, func(d client.Delivery) bool { return d.Status == "pending" && d.Attempts == 0 }) ||
			time.Now().After(deadline) {
			return nil
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// NoticeSummary is what the shop's notifications said, joined with the
// simulator's truth.
type NoticeSummary struct {
	InboxStats
	// ByType counts the notifications kept by type.
	ByType map[string]int `json:"by_type"`
	// ForAttackers and ForCustomers count the login notices whose sign-in
	// (found by the shop's id for it) an attacker or a customer made;
	// Unmatched those whose sign-in is not among the simulator's requests.
	ForAttackers int `json:"for_attackers"`
	ForCustomers int `json:"for_customers"`
	Unmatched    int `json:"unmatched"`
}

// summarizeNotices joins the notices with the requests' truth by the
// sign-in's id.
func summarizeNotices(notices []ReceivedNotice, stats InboxStats, reqs []RequestRecord) NoticeSummary {
	truth := map[string]Truth{}
	for _, q := range reqs {
		if q.Login != "" {
			truth[q.Login] = q.Truth
		}
	}
	s := NoticeSummary{InboxStats: stats, ByType: map[string]int{}}
	for _, n := range notices {
		s.ByType[n.Type]++
		if n.Login.ExternalID == "" {
			continue
		}
		t, ok := truth[strings.TrimSuffix(n.Login.ExternalID, LoginResultSuffix)]
		switch {
		case !ok:
			s.Unmatched++
		case t.Fraud:
			s.ForAttackers++
		default:
			s.ForCustomers++
		}
	}
	return s
}

// write prints the notices line of the results.
func (s NoticeSummary) write(w io.Writer) {
	fmt.Fprintf(w, "Was this you? notices the shop received: %d (%s: %d, %s: %d); for attackers' sign-ins: %d, for customers' own: %d",
		s.Received, client.NotificationLoginUnrecognized, s.ByType[client.NotificationLoginUnrecognized],
		client.NotificationLoginStepUpFailed, s.ByType[client.NotificationLoginStepUpFailed], s.ForAttackers, s.ForCustomers)
	if s.Unmatched > 0 {
		fmt.Fprintf(w, ", not matched to a sign-in: %d", s.Unmatched)
	}
	fmt.Fprintf(w, "; refused (signature did not verify): %d.\n", s.Refused)
}
