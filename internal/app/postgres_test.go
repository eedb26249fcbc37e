package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/risk"
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

// TestInstancesCountEachOthersDecisions: each instance counts the other's
// decisions and labels in its own feature store: a card's orders spread
// over two instances count as one history on both (after three orders on
// A, B's first sees four), failed sign-ins against one account alternating
// between them count as one run, and a chargeback recorded through A
// counts against the card on B.
func TestInstancesCountEachOthersDecisions(t *testing.T) {
	url := pgtest.Schema(t)
	usePG := func(c *config.Config) { c.Storage.Driver, c.Storage.URL = config.DriverPostgres, url }
	a, srvA := apptest.StartWith(t, "", usePG)
	b, srvB := apptest.StartWith(t, "", usePG)
	key := apptest.Key(t, a, "shop")
	ctx := context.Background()
	ca, _ := client.New(srvA.URL, key, client.WithRetries(0))
	cb, _ := client.New(srvB.URL, key, client.WithRetries(0))
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// caughtUp waits up to a second for inst to have counted every stored decision.
	caughtUp := func(name string, inst *app.App) {
		t.Helper()
		var last int64
		if err := conn.QueryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&last); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(time.Second); inst.Engine().Followed() < last; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("instance %s has counted up to %d of %d a second later", name, inst.Engine().Followed(), last)
			}
		}
	}
	for i := range 3 {
		if n := cardCount(t, ca, fmt.Sprintf("ord-a%d", i), at); n != float64(i+1) {
			t.Fatalf("order %d on A: card count %v, want %d", i+1, n, i+1)
		}
	}
	caughtUp("B", b)
	if n := cardCount(t, cb, "ord-b1", at); n != 4 {
		t.Errorf("B's first order of the card: card count %v, want 4 (three on A and this one)", n)
	}
	// B's metrics say what it counted from A and when it last caught up.
	resp, err := http.Get(srvB.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`shopguard_follow_counted_total{what="events"} 3`, "shopguard_follow_errors_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("B's /metrics lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^shopguard_follow_last_success_timestamp_seconds [1-9]`).Match(body) {
		t.Error("B's /metrics has no successful catch-up time")
	}
	caughtUp("A", a)
	if n := cardCount(t, ca, "ord-a4", at); n != 5 {
		t.Errorf("A's order after B's: card count %v, want 5", n)
	}

	// Failed sign-ins against one account, alternating between the
	// instances, count as one run on both.
	for i := range 6 {
		c, other, name := ca, b, "B"
		if i%2 == 1 {
			c, other, name = cb, a, "A"
		}
		if n := accountFailures(t, c, client.Login{ID: fmt.Sprintf("login-%d", i), UserID: "victim"}); n != int64(i+1) {
			t.Fatalf("failed sign-in %d: the account's failures_1h %d, want %d", i+1, n, i+1)
		}
		caughtUp(name, other)
	}

	// A chargeback recorded through A counts against the card on B.
	if _, err := ca.SendFeedback(ctx, client.Feedback{Kind: "transaction", ExternalID: "ord-a0", Label: "chargeback"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for i := 0; ; i++ {
		// Labels count when recorded: an order made now sees them.
		if f := cardFeatures(t, cb, fmt.Sprintf("ord-b-now%d", i), time.Now().UTC()); f.Frauds30d == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("B's order a second after A's chargeback: card frauds_30d %v, want 1", f.Frauds30d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFollowerSnapshotCountsOnce: an instance that stops (writing its
// feature snapshot) and starts again, while another goes on deciding,
// counts every decision exactly once: its own from before the snapshot,
// the other's from before and after it.
func TestFollowerSnapshotCountsOnce(t *testing.T) {
	url := pgtest.Schema(t)
	cfg := config.Default()
	cfg.Storage.Driver, cfg.Storage.URL, cfg.Storage.DataDir = config.DriverPostgres, url, t.TempDir()
	ctx := context.Background()
	a, srvA := apptest.StartWith(t, "", func(c *config.Config) { c.Storage.Driver, c.Storage.URL = config.DriverPostgres, url })
	key := apptest.Key(t, a, "shop")
	ca, _ := client.New(srvA.URL, key, client.WithRetries(0))
	startB := func() (*app.App, *client.Client, func()) {
		b, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(b.Handler())
		cb, _ := client.New(srv.URL, key, client.WithRetries(0))
		return b, cb, func() {
			srv.Close()
			if err := b.Close(); err != nil {
				t.Error(err)
			}
		}
	}
	b, cb, stopB := startB()
	cardCount(t, ca, "ord-1", at)
	cardCount(t, ca, "ord-2", at)
	waitFollowed(t, b, a)
	if n := cardCount(t, cb, "ord-3", at); n != 3 {
		t.Fatalf("B's order: card count %v, want 3", n)
	}
	stopB() // writes B's snapshot
	if n := cardCount(t, ca, "ord-4", at); n != 4 {
		t.Fatalf("A's order while B is stopped: card count %v, want 4", n)
	}
	_, cb, stopB = startB()
	defer stopB()
	if n := cardCount(t, cb, "ord-5", at); n != 5 {
		t.Errorf("B's first order after its restart: card count %v, want 5 (each order once)", n)
	}
}

// waitFollowed waits up to a second for follower to have counted what
// leader's log holds, by their cursors.
func waitFollowed(t *testing.T, follower, leader *app.App) {
	t.Helper()
	for deadline := time.Now().Add(time.Second); ; time.Sleep(5 * time.Millisecond) {
		_, _, _ = leader.Engine().CatchUp(context.Background()) // moves the leader's cursor past its own
		if follower.Engine().Followed() >= leader.Engine().Followed() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("follower at %d, leader at %d a second later", follower.Engine().Followed(), leader.Engine().Followed())
		}
	}
}

// TestModelPromotionReachesEveryInstance: instances share a database and
// keep their models in it (the default with PostgreSQL), or in a shared
// directory (models.dir); a model promoted through A's API scores on B
// within a second, long before B's own poll.
func TestModelPromotionReachesEveryInstance(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  bool
	}{{"models in PostgreSQL", false}, {"models in a shared directory", true}} {
		t.Run(tc.name, func(t *testing.T) {
			url, models := pgtest.Schema(t), ""
			if tc.dir {
				models = t.TempDir()
			}
			shared := func(c *config.Config) {
				c.Storage.Driver, c.Storage.URL, c.Models.Dir = config.DriverPostgres, url, models
			}
			a, srvA := apptest.StartWith(t, "", shared)
			b, _ := apptest.StartWith(t, "", shared)
			ctx := context.Background()
			kind := risk.EventTransaction
			version := app.NewVersion(kind, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
			cfg := config.Default()
			shared(&cfg)
			st, err := app.OpenStorage(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			reg, ok := app.Models(cfg, st)
			if !ok {
				t.Fatal("no model registry")
			}
			where, err := reg.Save("shop", kind, version, smallModel(t))
			if err != nil {
				t.Fatal(err)
			}
			if inDir := strings.HasPrefix(where, models+string(os.PathSeparator)); tc.dir != inDir {
				t.Errorf("saved to %q", where)
			}
			ca, err := client.New(srvA.URL, apptest.Key(t, a, "shop"), client.WithRetries(0))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ca.PromoteModel(ctx, string(kind), version); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
				if v, _ := b.Engine().ModelVersion(ctx, "shop", kind); v == version {
					break
				}
				if time.Now().After(deadline) {
					v, _ := b.Engine().ModelVersion(ctx, "shop", kind)
					t.Fatalf("B scores with model %q a second after A's promotion, want %q", v, version)
				}
			}
			if champ, err := reg.Champion("shop", kind); err != nil || champ != version {
				t.Errorf("the registry's champion: %q %v", champ, err)
			}
			// An instance started later scores with it from its start.
			c, _ := apptest.StartWith(t, "", shared)
			if v, _ := c.Engine().ModelVersion(ctx, "shop", kind); v != version {
				t.Errorf("an instance started after the promotion scores with %q, want %q", v, version)
			}
		})
	}
}
