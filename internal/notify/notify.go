// Package notify tells the shop what it should tell its customers: "was
// this you?" after a sign-in from an unfamiliar device, "someone failed
// your step-up" after a failed second factor. It turns stored events into
// notifications and delivers them to the tenant's webhook endpoints,
// signed as the Standard Webhooks specification says, retried with
// backoff until the endpoint accepts them.
//
// The event log is the outbox: a cursor over event sequence numbers moves
// in the same transaction as the deliveries it made are stored, so an
// acknowledged event's notification is neither lost nor made twice across
// a crash, and nothing is added to the decision's hot path.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Notice is a notification an event warrants.
type Notice struct {
	// Type is the notification type ("login.unrecognized").
	Type string
	// Dedupe, if not empty, makes a second notice with the same Type and
	// Dedupe to the same endpoint be dropped while the first is kept (e.g.
	// "account|hour": one notice per account and hour however often an
	// attacker tries).
	Dedupe string
	// Data is the type's content, encoded as the body's "data".
	Data any
}

// Source makes the notices of one event kind.
type Source struct {
	// Kind is the event kind whose events it reads.
	Kind risk.EventKind
	// Types lists the notification types it makes, with what each means.
	Types []TypeInfo
	// Notices returns the notices ev warrants (none for most events).
	Notices func(ev *storage.Event) ([]Notice, error)
}

// TypeInfo describes a notification type to the shop.
type TypeInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Store is the storage the notifier needs.
type Store interface {
	EventsAfter(ctx context.Context, seq int64, fn func(*storage.Event) error) error
	MaxSeq(ctx context.Context) (int64, error)
	storage.WebhookStore
}

// Observer is told the outcome of every delivery attempt ("delivered",
// "retry", "gave_up"), e.g. for metrics.
type Observer interface {
	ObserveDelivery(result string)
}

// Config configures a Notifier. It is passed by value; zero values take defaults.
type Config struct {
	// Sources make the notices, one per event kind.
	Sources []Source
	// Timeout bounds one delivery attempt (default 10s).
	Timeout time.Duration
	// Attempts is how many times a delivery is tried before it is given up
	// (default 12: the backoff spreads them over about two days).
	Attempts int
	// Workers is how many deliveries are sent at once (default 4).
	Workers int
	// Poll is how often the event log and the outbox are read (default 1s).
	Poll time.Duration
	// Retention is how long finished deliveries are kept (default 30 days).
	Retention time.Duration
	// AllowHTTP lets endpoints use plain http:// on any host (default:
	// only on loopback addresses; https elsewhere).
	AllowHTTP bool
	// MaxWebhooks caps a tenant's endpoints (default 16).
	MaxWebhooks int
	// HTTP sends the requests (default: a client that follows no redirects).
	HTTP *http.Client
	// UserAgent names the sender (default "shopguard-webhooks").
	UserAgent string
	// Now returns the wall-clock time (default time.Now).
	Now func() time.Time
	// Logger receives operational messages (default slog.Default()).
	Logger   *slog.Logger
	Observer Observer
}

// batch caps the events read and the deliveries claimed in one pass.
const batch = 1000

// Notifier makes and delivers notifications. It is safe for concurrent use.
type Notifier struct {
	cfg     Config
	store   Store
	sources map[risk.EventKind]Source
	types   []TypeInfo
	log     *slog.Logger
	wake    chan struct{}
	// scanMu serialises Scan within the process (the cursor's
	// compare-and-set guards against other processes).
	scanMu sync.Mutex
}

// New returns a notifier over store.
func New(cfg Config, store Store) (*Notifier, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 12
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.MaxWebhooks <= 0 {
		cfg.MaxWebhooks = 16
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "shopguard-webhooks"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	n := &Notifier{cfg: cfg, store: store, sources: map[risk.EventKind]Source{}, log: cfg.Logger, wake: make(chan struct{}, 1),
		types: []TypeInfo{{Name: client.NotificationTest, Description: "a test sent on request (POST /v1/webhooks/{id}/test)"}}}
	for _, s := range cfg.Sources {
		if _, dup := n.sources[s.Kind]; dup {
			return nil, fmt.Errorf("notify: two sources for event kind %q", s.Kind)
		}
		n.sources[s.Kind] = s
		n.types = append(n.types, s.Types...)
	}
	return n, nil
}

// Types lists the notification types endpoints may subscribe to.
func (n *Notifier) Types() []TypeInfo { return slices.Clone(n.types) }

// Wake makes Run look for new events and due deliveries now.
func (n *Notifier) Wake() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run makes and delivers notifications until ctx is done: every Poll (or
// Wake) it turns new events into deliveries and sends those that are due;
// once an hour it prunes finished deliveries older than Retention.
func (n *Notifier) Run(ctx context.Context) error {
	t := time.NewTicker(n.cfg.Poll)
	defer t.Stop()
	var pruned time.Time
	for {
		if _, err := n.Scan(ctx); err != nil && ctx.Err() == nil {
			n.log.Error("notifications: reading new events failed", "error", err)
		}
		for {
			sent, err := n.Deliver(ctx)
			if err != nil && ctx.Err() == nil {
				n.log.Error("notifications: delivering failed", "error", err)
			}
			if sent < batch || err != nil || ctx.Err() != nil {
				break
			}
		}
		if now := n.cfg.Now(); now.Sub(pruned) > time.Hour {
			pruned = now
			if k, err := n.store.PruneDeliveries(ctx, now.Add(-n.cfg.Retention)); err != nil && ctx.Err() == nil {
				n.log.Error("notifications: pruning old deliveries failed", "error", err)
			} else if k > 0 {
				n.log.Info("notifications: pruned old deliveries", "count", k)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-n.wake:
		}
	}
}

// errBatchFull stops an event scan after batch events.
var errBatchFull = errors.New("notify: batch full")

// Scan turns the events after the cursor (at most one batch) into
// deliveries and moves the cursor past them; it returns how many
// deliveries it added. The first Scan on a store only sets the cursor to
// the latest event: notifications start with the events after it.
func (n *Notifier) Scan(ctx context.Context) (int, error) {
	n.scanMu.Lock()
	defer n.scanMu.Unlock()
	cursor, ok, err := n.store.NotifyCursor(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: read cursor: %w", err)
	}
	if !ok {
		latest, err := n.store.MaxSeq(ctx)
		if err != nil {
			return 0, fmt.Errorf("notify: latest event: %w", err)
		}
		_, err = n.store.AddDeliveries(ctx, nil, &storage.CursorMove{From: 0, To: latest})
		return 0, ignoreConflict(err)
	}
	// The latest event is read before the endpoints, so an endpoint made
	// meanwhile cannot miss an event that the skip below passes over.
	latest, err := n.store.MaxSeq(ctx)
	if err != nil {
		return 0, fmt.Errorf("notify: latest event: %w", err)
	}
	hooks, err := n.subscribed(ctx)
	if err != nil {
		return 0, err
	}
	if len(hooks) == 0 { // nobody listens: skip the events unread
		if latest <= cursor {
			return 0, nil
		}
		_, err = n.store.AddDeliveries(ctx, nil, &storage.CursorMove{From: cursor, To: latest})
		return 0, ignoreConflict(err)
	}
	last := cursor
	var ds []storage.Delivery
	now := n.cfg.Now()
	err = n.store.EventsAfter(ctx, cursor, func(ev *storage.Event) error {
		if last-cursor >= batch && ev.Seq > last {
			return errBatchFull
		}
		last = ev.Seq
		src, ok := n.sources[ev.Kind]
		if !ok || len(hooks[ev.Tenant]) == 0 {
			return nil
		}
		notices, err := src.Notices(ev)
		if err != nil {
			n.log.Warn("notifications: event skipped", "tenant", ev.Tenant, "event", ev.ID, "error", err)
			return nil
		}
		for _, nt := range notices {
			for _, h := range hooks[ev.Tenant] {
				if !slices.Contains(h.Types, nt.Type) || ev.ReceivedAt.Before(h.CreatedAt) {
					continue
				}
				d, err := n.delivery(h, nt, ev.ID, now)
				if err != nil {
					return err
				}
				ds = append(ds, d)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		return 0, fmt.Errorf("notify: read events: %w", err)
	}
	if last == cursor {
		return 0, nil
	}
	added, err := n.store.AddDeliveries(ctx, ds, &storage.CursorMove{From: cursor, To: last})
	if err != nil {
		return 0, ignoreConflict(err)
	}
	if added > 0 {
		n.log.Debug("notifications: made deliveries", "count", added, "through_seq", last)
	}
	return added, nil
}

// ignoreConflict drops the error of a cursor another process moved first.
func ignoreConflict(err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}

// subscribed returns each tenant's enabled endpoints.
func (n *Notifier) subscribed(ctx context.Context) (map[string][]storage.Webhook, error) {
	all, err := n.store.Webhooks(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("notify: read webhooks: %w", err)
	}
	out := map[string][]storage.Webhook{}
	for _, h := range all {
		if !h.Disabled {
			out[h.Tenant] = append(out[h.Tenant], h)
		}
	}
	return out, nil
}

// envelope is the body of every notification.
type envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// delivery makes the pending delivery of nt to h, due at now.
func (n *Notifier) delivery(h storage.Webhook, nt Notice, eventID string, now time.Time) (storage.Delivery, error) {
	body, err := json.Marshal(envelope{Type: nt.Type, Timestamp: now.UTC().Truncate(time.Millisecond), Data: nt.Data})
	if err != nil {
		return storage.Delivery{}, fmt.Errorf("notify: encode %s: %w", nt.Type, err)
	}
	d := storage.Delivery{ID: engine.NewID("msg_", now), Tenant: h.Tenant, WebhookID: h.ID, Type: nt.Type, EventID: eventID,
		Payload: body, CreatedAt: now.UTC().Truncate(time.Microsecond), NextAttemptAt: now.UTC().Truncate(time.Microsecond)}
	if nt.Dedupe != "" {
		d.DedupeKey = nt.Type + "|" + nt.Dedupe
	}
	return d, nil
}
