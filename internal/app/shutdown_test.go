package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
)

// TestGracefulShutdownLosesNothing stops a serving shopguard while clients
// keep sending: every request answered with a decision must be stored,
// and the server must finish in time.
func TestGracefulShutdownLosesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Storage.DataDir = dir
	cfg.Server.Addr = "127.0.0.1:0"
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	key, err := a.CreateKey(ctx, "shop", "test", apikey.AllScopes)
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	addr := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- a.Serve(serveCtx, func(ad net.Addr) { addr <- ad }) }()
	c, _ := client.New("http://"+(<-addr).String(), key, client.WithRetries(0))

	var mu sync.Mutex
	var answered []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				d, err := c.ScoreTransaction(ctx, client.Transaction{ID: fmt.Sprintf("o-%d-%d", w, i),
					CreatedAt: time.Now().UTC(), AmountMinor: 100, Currency: "EUR", DeviceID: fmt.Sprint("d", w)})
				if err != nil {
					return // the server has stopped accepting
				}
				mu.Lock()
				answered = append(answered, d.ID)
				mu.Unlock()
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if len(answered) < 10 {
		t.Fatalf("only %d requests were answered before shutdown", len(answered))
	}

	// Reopen the data directory: every answered decision is there.
	b, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, id := range answered {
		if _, err := b.Engine().Event(ctx, "shop", id); err != nil {
			t.Fatalf("answered event %s is not stored: %v", id, err)
		}
	}
}
