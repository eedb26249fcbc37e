package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/storage"
)

// backoff is the wait after the n-th failed attempt (1-based); later
// attempts wait as long as the last entry. Twelve attempts span about two
// days, so an endpoint that is down over a weekend still gets its notices.
var backoff = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// maxRetryAfter caps how long an endpoint's Retry-After can delay a delivery.
const maxRetryAfter = 24 * time.Hour

// wait returns how long to wait after the attempts-th failed attempt,
// with ±10% jitter so endpoints that failed together are not retried
// together; retryAfter, an endpoint's own request, wins when longer.
func wait(attempts int, retryAfter time.Duration) time.Duration {
	b := backoff[min(attempts, len(backoff))-1]
	b += time.Duration((rand.Float64()*0.2 - 0.1) * float64(b))
	return max(b, min(retryAfter, maxRetryAfter))
}

// Deliver sends the deliveries that are due (at most one batch), Workers
// at a time, and records each attempt. It returns how many it attempted.
func (n *Notifier) Deliver(ctx context.Context) (int, error) {
	lease := 2*n.cfg.Timeout + time.Minute
	due, err := n.store.ClaimDeliveries(ctx, n.cfg.Now(), lease, batch)
	if err != nil {
		return 0, fmt.Errorf("notify: claim deliveries: %w", err)
	}
	hooks := map[string]storage.Webhook{}
	sem := make(chan struct{}, n.cfg.Workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, d := range due {
		h, ok := hooks[d.Tenant+"|"+d.WebhookID]
		if !ok {
			h, err = n.store.Webhook(ctx, d.Tenant, d.WebhookID)
			if errors.Is(err, storage.ErrNotFound) {
				continue // deleted with its deliveries meanwhile
			}
			if err != nil {
				// The rest wait for their lease to run out.
				mu.Lock()
				errs = append(errs, fmt.Errorf("notify: read webhook: %w", err))
				mu.Unlock()
				break
			}
			hooks[d.Tenant+"|"+d.WebhookID] = h
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := n.attempt(ctx, h, d); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(due), errors.Join(errs...)
}

// attempt sends d to h once and records the outcome. An endpoint that was
// disabled meanwhile keeps its deliveries waiting (checked every 10
// minutes) without spending attempts; a test is sent all the same.
func (n *Notifier) attempt(ctx context.Context, h storage.Webhook, d storage.Delivery) error {
	now := n.cfg.Now()
	if h.Disabled && d.Type != client.NotificationTest {
		d.NextAttemptAt = now.Add(10 * time.Minute)
		return n.record(ctx, d)
	}
	status, retryAfter, err := n.send(ctx, h, d, now)
	if ctx.Err() != nil {
		return nil // shutting down: the lease runs out and the delivery is tried again
	}
	d.Attempts++
	d.LastAttemptAt, d.LastStatus = now, status
	switch {
	case err == nil:
		d.NextAttemptAt, d.DeliveredAt, d.LastError = time.Time{}, n.cfg.Now(), ""
		n.observe("delivered")
	case d.Attempts >= n.cfg.Attempts:
		d.NextAttemptAt, d.FailedAt, d.LastError = time.Time{}, n.cfg.Now(), err.Error()
		n.observe("gave_up")
		n.log.Warn("notifications: delivery given up", "tenant", d.Tenant, "webhook", d.WebhookID, "delivery", d.ID,
			"attempts", d.Attempts, "error", err)
	default:
		d.NextAttemptAt, d.LastError = n.cfg.Now().Add(wait(d.Attempts, retryAfter)), err.Error()
		n.observe("retry")
		n.log.Info("notifications: delivery failed; will retry", "tenant", d.Tenant, "webhook", d.WebhookID, "delivery", d.ID,
			"attempts", d.Attempts, "next", d.NextAttemptAt, "error", err)
	}
	return n.record(ctx, d)
}

func (n *Notifier) record(ctx context.Context, d storage.Delivery) error {
	if err := n.store.RecordAttempt(ctx, d); err != nil {
		return fmt.Errorf("notify: record attempt of %s: %w", d.ID, err)
	}
	return nil
}

func (n *Notifier) observe(result string) {
	if n.cfg.Observer != nil {
		n.cfg.Observer.ObserveDelivery(result)
	}
}

// maxErrorBody caps how much of a refusing endpoint's answer is kept.
const maxErrorBody = 512

// send POSTs d's payload to h, signed at now with h's secrets. It returns
// the status (0 without an answer), the endpoint's Retry-After and an
// error unless the endpoint answered 2xx.
func (n *Notifier) send(ctx context.Context, h storage.Webhook, d storage.Delivery, now time.Time) (int, time.Duration, error) {
	secrets := []string{h.Secret}
	if h.PreviousSecret != "" && now.Before(h.PreviousUntil) {
		secrets = append(secrets, h.PreviousSecret)
	}
	sig, err := client.SignWebhook(d.ID, now, d.Payload, secrets...)
	if err != nil {
		return 0, 0, fmt.Errorf("sign: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.cfg.UserAgent)
	req.Header.Set(client.WebhookIDHeader, d.ID)
	req.Header.Set(client.WebhookTimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(client.WebhookSignatureHeader, sig)
	resp, err := n.cfg.HTTP.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("no answer: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, 0, nil
	}
	var retryAfter time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	msg := fmt.Sprintf("status %d", resp.StatusCode)
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		msg += " (redirects are not followed; the endpoint moved to " + loc + ")"
	}
	if s := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); s != "" {
		msg += ": " + s
	}
	return resp.StatusCode, retryAfter, errors.New(msg)
}
