package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/assistant"
	"github.com/shopguard/shopguard/internal/storage"
)

// TestConversations: conversations round-trip, stay apart by tenant,
// expire when idle, and concurrent updates (as from two instances)
// run one at a time.
func TestConversations(t *testing.T) {
	s := testState(t)
	ctx := context.Background()
	cs := s.Conversations(time.Minute)
	now := time.Now().UTC().Truncate(time.Millisecond)
	conv := &assistant.Conversation{Tenant: "shop", ID: "conv_0123456789abcdef", UserID: "u1", CreatedAt: now, UpdatedAt: now,
		Turns: []assistant.Turn{{Role: assistant.RoleAssistant, Text: "Hello", At: now}}}
	if err := cs.Put(ctx, conv); err != nil {
		t.Fatal(err)
	}
	if err := cs.Put(ctx, conv); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("a second Put: %v, want ErrConflict", err)
	}
	got, err := cs.Get(ctx, "shop", conv.ID)
	if err != nil || got.Tenant != "shop" || got.UserID != "u1" || len(got.Turns) != 1 || !got.CreatedAt.Equal(now) {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	for _, c := range []struct{ tenant, id string }{{"other", conv.ID}, {"shop", "conv_ffffffffffffffff"}, {"sh", "op:conv_0123456789abcdef"}, {"shop", "../x"}} {
		if _, err := cs.Get(ctx, c.tenant, c.id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q, %q) = %v, want ErrNotFound", c.tenant, c.id, err)
		}
		if err := cs.Update(ctx, c.tenant, c.id, func(*assistant.Conversation) error { return nil }); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Update(%q, %q) = %v, want ErrNotFound", c.tenant, c.id, err)
		}
	}

	// Updates from many goroutines, each slow, lose none.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cs.Update(ctx, "shop", conv.ID, func(c *assistant.Conversation) error {
				n := c.Manipulations
				time.Sleep(10 * time.Millisecond)
				c.Manipulations = n + 1
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := cs.Get(ctx, "shop", conv.ID); got.Manipulations != 8 {
		t.Errorf("after 8 concurrent updates: %d", got.Manipulations)
	}
	// An update that fails changes nothing.
	boom := errors.New("boom")
	if err := cs.Update(ctx, "shop", conv.ID, func(c *assistant.Conversation) error { c.UserID = "x"; return boom }); !errors.Is(err, boom) {
		t.Errorf("failing update: %v", err)
	}
	if got, _ := cs.Get(ctx, "shop", conv.ID); got.UserID != "u1" {
		t.Errorf("a failed update was kept: %q", got.UserID)
	}

	// A conversation locked by another instance for too long is busy.
	busy := s.Conversations(time.Minute)
	busy.wait = 100 * time.Millisecond
	s.rdb.Set(ctx, busy.key("shop", conv.ID)+":lock", "someone", time.Minute)
	if err := busy.Update(ctx, "shop", conv.ID, func(*assistant.Conversation) error { return nil }); !errors.Is(err, ErrBusy) {
		t.Errorf("a locked conversation: %v, want ErrBusy", err)
	}

	// Redis not answering: unavailable, not "not found".
	down, err := Open(Options{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", freePort(t)), Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	if _, err := down.Conversations(time.Minute).Get(ctx, "shop", conv.ID); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Get with Redis down: %v, want ErrUnavailable", err)
	}
	if err := down.Conversations(time.Minute).Update(ctx, "shop", conv.ID, func(*assistant.Conversation) error { return nil }); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Update with Redis down: %v, want ErrUnavailable", err)
	}

	// Idle past the TTL: gone.
	short := s.Conversations(300 * time.Millisecond)
	idle := &assistant.Conversation{Tenant: "shop", ID: "conv_aaaaaaaaaaaaaaaa", CreatedAt: now, UpdatedAt: now}
	if err := short.Put(ctx, idle); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := short.Get(ctx, "shop", idle.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an idle conversation: %v, want ErrNotFound", err)
	}
}

// TestAssistantAcrossInstances: a conversation started on one instance
// goes on on another, through Redis.
func TestAssistantAcrossInstances(t *testing.T) {
	s := testState(t)
	ctx := context.Background()
	ex, err := assistant.TrainingExamples()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := assistant.TrainClassifier(ex)
	if err != nil {
		t.Fatal(err)
	}
	one, _ := assistant.New(assistant.Config{}, assistant.Deps{Classifier: cl, Conversations: s.Conversations(time.Hour)})
	two, _ := assistant.New(assistant.Config{}, assistant.Deps{Classifier: cl, Conversations: s.Conversations(time.Hour)})
	c, err := one.Start(ctx, "shop", assistant.StartInput{})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := two.Post(ctx, "shop", c.ID, assistant.MessageInput{Text: "I want to talk to a real person"}); err != nil || r.Intent != assistant.IntentHumanAgent {
		t.Fatalf("on the second instance: %+v, %v", r, err)
	}
	got, err := one.Conversation(ctx, "shop", c.ID)
	if err != nil || len(got.Turns) != 3 || !got.Handoff {
		t.Errorf("back on the first: %d turns, handoff %v, %v", len(got.Turns), got.Handoff, err)
	}
}

// TestConversationsRedisDown: with Redis stopped every conversation call
// fails fast with storage.ErrUnavailable (the API's 503), never hangs or
// claims success; once Redis is back, conversations work again without a
// restart (those kept in the stopped Redis are gone: it kept nothing).
func TestConversationsRedisDown(t *testing.T) {
	port, srv, s := ownRedis(t)
	cs := s.Conversations(time.Minute)
	ctx := context.Background()
	now := time.Now().UTC()
	conv := func(id string) *assistant.Conversation {
		return &assistant.Conversation{Tenant: "shop", ID: id, CreatedAt: now, UpdatedAt: now}
	}
	if err := cs.Put(ctx, conv("conv_00000000000000a1")); err != nil {
		t.Fatal(err)
	}

	srv.Process.Kill()
	srv.Wait()
	began := time.Now()
	calls := map[string]error{
		"Put": cs.Put(ctx, conv("conv_00000000000000a2")),
		"Update": cs.Update(ctx, "shop", "conv_00000000000000a1", func(*assistant.Conversation) error {
			t.Error("Update ran its function with Redis down")
			return nil
		}),
	}
	_, calls["Get"] = cs.Get(ctx, "shop", "conv_00000000000000a1")
	for name, err := range calls {
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("three calls with Redis down took %v", took)
	}

	startRedis(t, port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cs.Put(ctx, conv("conv_00000000000000a3"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Put 10 s after Redis came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, err := cs.Get(ctx, "shop", "conv_00000000000000a3"); err != nil || got.ID != "conv_00000000000000a3" {
		t.Errorf("Get after the restart = %+v, %v", got, err)
	}
}
