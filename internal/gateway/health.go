package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// HealthCheck configures the active health check of the upstream: a GET
// of Path every Interval; Failures failures in a row mark the upstream
// down (the gateway then answers 503 at once instead of piling requests
// on it) and one success marks it up again.
type HealthCheck struct {
	// Path is the upstream path to GET ("" disables the check).
	Path string
	// Interval between checks, Timeout of one check.
	Interval, Timeout time.Duration
	// Failures in a row that mark the upstream down.
	Failures int
}

// health is the upstream's state as the checks see it.
type health struct {
	down     atomic.Bool
	failures int // consecutive, read and written by the check loop only
}

// Healthy reports whether the upstream is up (always, with no check).
func (h *health) Healthy() bool { return !h.down.Load() }

// run checks url every cfg.Interval until ctx ends.
func (h *health) run(ctx context.Context, client *http.Client, url string, cfg HealthCheck, log *slog.Logger) {
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		h.check(ctx, client, url, cfg, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check runs one check and updates the state, logging each change.
func (h *health) check(ctx context.Context, client *http.Client, url string, cfg HealthCheck, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	ok := false
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err == nil {
		req.Header.Set("User-Agent", "shopguard-gateway-health")
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			ok = resp.StatusCode < 500
			if !ok {
				err = &statusError{resp.StatusCode}
			}
		}
	}
	if ok {
		h.failures = 0
		if h.down.Swap(false) {
			log.Info("upstream healthy again; proxying", "url", url)
		}
		return
	}
	if h.failures++; h.failures >= cfg.Failures && !h.down.Swap(true) {
		log.Warn("upstream failed its health checks; answering 503 until it recovers", "url", url, "failures", h.failures, "error", err)
	}
}

// statusError is a health check answered with a 5xx status.
type statusError struct{ status int }

func (e *statusError) Error() string {
	return "upstream health check answered " + http.StatusText(e.status)
}
