package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/storage/postgres/pgtest"
)

// TestInstancesShareOnePostgres runs two API instances on one PostgreSQL
// database: a key made on one works on the other, a decision made on one
// is read on the other, and a rule or list changed through one decides on
// the other within a second.
func TestInstancesShareOnePostgres(t *testing.T) {
	url := pgtest.Schema(t)
	usePG := func(c *config.Config) { c.Storage.Driver, c.Storage.URL = config.DriverPostgres, url }
	a, srvA := apptest.StartWith(t, "", usePG)
	_, srvB := apptest.StartWith(t, "", usePG)
	key := apptest.Key(t, a, "shop")
	ctx := context.Background()
	ca, err := client.New(srvA.URL, key, client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := client.New(srvB.URL, key, client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}

	d, err := ca.ScoreTransaction(ctx, order("ord-1", 4999))
	if err != nil {
		t.Fatalf("instance A: %v", err)
	}
	ev, err := cb.Event(ctx, d.ID)
	if err != nil || ev.ID != d.ID {
		t.Fatalf("instance B reading A's decision %s: %+v, %v", d.ID, ev, err)
	}
	if d, err := cb.ScoreTransaction(ctx, order("ord-2", 4999)); err != nil || d.Action == client.ActionBlock {
		t.Fatalf("instance B before the rule: %+v, %v", d, err)
	}

	// decidesOnB waits up to a second for B to block an order of amount.
	decidesOnB := func(what, id string, amount int64) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for i := 0; ; i++ {
			o := order(id+"-"+time.Now().Format("150405.000000"), amount)
			d, err := cb.ScoreTransaction(ctx, o)
			if err != nil {
				t.Fatalf("%s: instance B: %v", what, err)
			}
			if d.Action == client.ActionBlock {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: instance B still decides %s a second later", what, d.Action)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if _, err := ca.CreateRule(ctx, client.Rule{Name: "huge_orders", Kind: "transaction", Expression: "amount_minor > 900000",
		Action: client.ActionBlock, Description: "Order above 9,000"}); err != nil {
		t.Fatal(err)
	}
	decidesOnB("a rule made on A", "ord-huge", 950000)

	if _, err := ca.CreateList(ctx, client.NewList{Name: "banned_emails", Kind: "email", Effect: "block"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.AddListValues(ctx, "banned_emails", "ana@example.com"); err != nil {
		t.Fatal(err)
	}
	decidesOnB("a list entry added on A", "ord-listed", 4999)
}

// TestPostgresCrashLosesNoAcknowledgedDecision: decisions keep arriving
// while the PostgreSQL server crashes and comes back. While it is down
// every decision is refused with 503 (never acknowledged) and /readyz
// says so; afterwards decisions are accepted again by themselves, and
// every decision ever acknowledged is there. Runs a server of its own.
func TestPostgresCrashLosesNoAcknowledgedDecision(t *testing.T) {
	pg := pgtest.StartServer(t)
	a, srv := apptest.StartWith(t, "", func(c *config.Config) {
		c.Storage.Driver, c.Storage.URL = config.DriverPostgres, pg.URL()
	})
	c, err := client.New(srv.URL, apptest.Key(t, a, "shop"), client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var (
		mu       sync.Mutex
		acked    []string
		statuses = map[int]int{}
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				d, err := c.ScoreTransaction(ctx, order(fmt.Sprintf("ord-%d-%d", w, i), 1999))
				mu.Lock()
				var ce *client.Error
				switch {
				case err == nil:
					acked = append(acked, d.ID)
					statuses[200]++
				case errors.As(err, &ce):
					statuses[ce.Status]++
				default:
					t.Errorf("order %d-%d: %v", w, i, err)
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	count := func(status int) int {
		mu.Lock()
		defer mu.Unlock()
		return statuses[status]
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 20s (statuses %v)", what, statuses)
			}
		}
	}
	waitFor("decisions before the crash", func() bool { return count(200) >= 20 })
	pg.Crash()
	waitFor("503s while PostgreSQL is down", func() bool { return count(503) >= 20 })
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with PostgreSQL down = %d, want 503", resp.StatusCode)
	}
	okBefore := count(200)
	pg.Start()
	waitFor("decisions after the restart", func() bool { return count(200) >= okBefore+20 })
	close(stop)
	wg.Wait()
	for status, n := range statuses {
		if status != 200 && status != 503 {
			t.Errorf("%d answers with status %d: a database outage must answer 503", n, status)
		}
	}
	for _, id := range acked {
		if _, err := c.Event(ctx, id); err != nil {
			t.Errorf("acknowledged decision %s: %v", id, err)
		}
	}
	t.Logf("answers: %v; %d acknowledged decisions all stored", statuses, len(acked))
}
