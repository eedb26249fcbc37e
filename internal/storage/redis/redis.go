// Package redis keeps the state that several shopguard instances share
// in Redis: the gateway's token buckets, the support assistant's
// conversations and, with features.store redis, the feature store (whose
// counters also carry account protection's sign-in history). Every key
// carries a TTL, so Redis's memory stays bounded by what is live. Step-up
// challenges and WebAuthn ceremonies stay in the durable store.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds one call to Redis when Options.Timeout is zero: a
// rate limit that waits longer than this for its shared state answers
// from the gateway's own buckets instead (see Limits).
const DefaultTimeout = 50 * time.Millisecond

// DefaultPrefix starts every key shopguard writes when Options.Prefix is
// empty.
const DefaultPrefix = "shopguard:"

// Options configure a State.
type Options struct {
	// URL is the Redis to use: redis://[user:password@]host:port/db, or
	// rediss:// for TLS.
	URL string
	// Timeout bounds each call (DefaultTimeout when zero).
	Timeout time.Duration
	// Prefix starts every key (DefaultPrefix when empty): instances that
	// share state use the same prefix, unrelated ones on the same Redis
	// different ones.
	Prefix string
}

// State is a connection pool to one Redis and the key prefix shopguard
// uses there. It connects lazily: a Redis that is down when shopguard
// starts is used once it is up.
type State struct {
	rdb     *goredis.Client
	prefix  string
	timeout time.Duration
}

// Open returns a State for o. It fails only when o is invalid, not when
// Redis cannot be reached (see Ping).
func Open(o Options) (*State, error) {
	opt, err := goredis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if o.Timeout < 0 {
		return nil, errors.New("redis: negative timeout")
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, errors.New("redis: the prefix may not contain braces (they would pick a cluster slot)")
	}
	// Each call is bounded by the caller's context; the socket timeouts
	// follow it, and a failed call is not retried here: the caller falls
	// back at once instead of waiting through retries.
	opt.DialTimeout = max(o.Timeout, 250*time.Millisecond)
	opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	opt.DisableIdentity = true
	return &State{rdb: goredis.NewClient(opt), prefix: o.Prefix, timeout: o.Timeout}, nil
}

// Ping checks that Redis answers.
func (s *State) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, max(s.timeout, time.Second))
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Close closes the connections.
func (s *State) Close() error { return s.rdb.Close() }

// Purge deletes every key under the State's prefix (all the shared state
// of the instances using it) and returns how many it deleted.
func (s *State) Purge(ctx context.Context) (int, error) {
	pattern := globEscaper.Replace(s.prefix) + "*"
	n := 0
	iter := s.rdb.Scan(ctx, 0, pattern, 500).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		d, err := s.rdb.Del(ctx, batch...).Result()
		n += int(d)
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			if err := flush(); err != nil {
				return n, fmt.Errorf("redis: purge: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, fmt.Errorf("redis: purge: %w", err)
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("redis: purge: %w", err)
	}
	return n, nil
}

// globEscaper escapes the characters SCAN's MATCH treats as a pattern.
var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
