package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/shopguard/shopguard/internal/assistant"
	"github.com/shopguard/shopguard/internal/storage"
)

// Conversations keeps the support assistant's conversations in Redis,
// shared by every instance: one JSON value per conversation that expires
// once it has been idle for the TTL. An update runs under a lock of its
// conversation, whichever instance takes it, so that one message is
// answered at a time (an answer may file a report or start a step-up:
// never twice).
type Conversations struct {
	s   *State
	ttl time.Duration
	// lockTTL outlives the longest update (a language model's answer is
	// bounded by a minute); wait is how long an update waits for another.
	lockTTL, wait time.Duration
	// timeout bounds each call to Redis.
	timeout time.Duration
}

var _ assistant.Conversations = (*Conversations)(nil)

// ErrBusy means a conversation stayed locked by another update for
// longer than an update waits.
var ErrBusy = fmt.Errorf("%w: the conversation is busy with another message", storage.ErrConflict)

// Conversations returns the conversations kept under s's prefix, each for
// ttl after its last update.
func (s *State) Conversations(ttl time.Duration) *Conversations {
	return &Conversations{s: s, ttl: ttl, lockTTL: 2 * time.Minute, wait: 10 * time.Second, timeout: max(s.timeout, time.Second)}
}

// conversationID is the form assistant.Start gives ids; anything else is
// not a conversation (and never reaches a key).
var conversationID = regexp.MustCompile(`^conv_[0-9a-f]{16}$`)

// key returns the conversation's key: the tenant length-prefixed, so no
// tenant and id can spell another's key.
func (c *Conversations) key(tenant, id string) string {
	return c.s.prefix + "conv:" + strconv.Itoa(len(tenant)) + ":" + tenant + ":" + id
}

func (c *Conversations) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// Put implements assistant.Conversations.
func (c *Conversations) Put(ctx context.Context, conv *assistant.Conversation) error {
	if !conversationID.MatchString(conv.ID) {
		return fmt.Errorf("redis: conversation id %q is not one the assistant makes", conv.ID)
	}
	b, err := json.Marshal(conv)
	if err != nil {
		return fmt.Errorf("redis: conversation: %w", err)
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	ok, err := c.s.rdb.SetNX(ctx, c.key(conv.Tenant, conv.ID), b, c.ttl).Result()
	if err != nil {
		return fmt.Errorf("redis: store conversation: %w: %w", storage.ErrUnavailable, err)
	}
	if !ok {
		return fmt.Errorf("%w: conversation %s", storage.ErrConflict, conv.ID)
	}
	return nil
}

// Get implements assistant.Conversations.
func (c *Conversations) Get(ctx context.Context, tenant, id string) (*assistant.Conversation, error) {
	if !conversationID.MatchString(id) {
		return nil, fmt.Errorf("%w: conversation %q", storage.ErrNotFound, id)
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	return c.read(ctx, tenant, id)
}

func (c *Conversations) read(ctx context.Context, tenant, id string) (*assistant.Conversation, error) {
	b, err := c.s.rdb.Get(ctx, c.key(tenant, id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("%w: conversation %s (or it has expired)", storage.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: read conversation: %w: %w", storage.ErrUnavailable, err)
	}
	var conv assistant.Conversation
	if err := json.Unmarshal(b, &conv); err != nil {
		return nil, fmt.Errorf("redis: conversation %s does not decode: %w", id, err)
	}
	conv.Tenant = tenant
	return &conv, nil
}

// unlock deletes the lock only if it is still the caller's.
var unlock = goredis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// Update implements assistant.Conversations.
func (c *Conversations) Update(ctx context.Context, tenant, id string, fn func(*assistant.Conversation) error) error {
	if !conversationID.MatchString(id) {
		return fmt.Errorf("%w: conversation %q", storage.ErrNotFound, id)
	}
	key := c.key(tenant, id)
	lock := key + ":lock"
	var tok [12]byte
	rand.Read(tok[:])
	token := hex.EncodeToString(tok[:])
	deadline := time.Now().Add(c.wait)
	for {
		cctx, cancel := c.call(ctx)
		ok, err := c.s.rdb.SetNX(cctx, lock, token, c.lockTTL).Result()
		cancel()
		if err != nil {
			return fmt.Errorf("redis: lock conversation: %w: %w", storage.ErrUnavailable, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return ErrBusy
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	defer func() {
		cctx, cancel := c.call(context.WithoutCancel(ctx))
		defer cancel()
		unlock.Run(cctx, c.s.rdb, []string{lock}, token)
	}()
	cctx, cancel := c.call(ctx)
	conv, err := c.read(cctx, tenant, id)
	cancel()
	if err != nil {
		return err
	}
	if err := fn(conv); err != nil {
		return err
	}
	b, err := json.Marshal(conv)
	if err != nil {
		return fmt.Errorf("redis: conversation: %w", err)
	}
	cctx, cancel = c.call(ctx)
	defer cancel()
	// XX: a conversation that expired meanwhile is not brought back.
	if err := c.s.rdb.SetArgs(cctx, key, b, goredis.SetArgs{Mode: "XX", TTL: c.ttl}).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis: store conversation: %w: %w", storage.ErrUnavailable, err)
	}
	return nil
}
