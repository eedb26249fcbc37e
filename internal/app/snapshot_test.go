package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
)

// cardEntity is the card's part of a decision's features.
type cardEntity struct {
	Count1h   float64 `json:"count_1h"`
	Frauds30d float64 `json:"frauds_30d"`
}

// cardFeatures scores an order of the test customer's card made at
// createdAt and returns the card's features as the decision saw them.
func cardFeatures(t *testing.T, c *client.Client, id string, createdAt time.Time) cardEntity {
	t.Helper()
	o := order(id, 2999)
	o.CreatedAt = createdAt
	ctx := context.Background()
	d, err := c.ScoreTransaction(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.Event(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Features struct {
			Card cardEntity `json:"card"`
		} `json:"features"`
	}
	if err := json.Unmarshal(ev.Features, &env); err != nil {
		t.Fatal(err)
	}
	return env.Features.Card
}

// cardCount is the card's count in the last hour for an order at createdAt.
func cardCount(t *testing.T, c *client.Client, id string, createdAt time.Time) float64 {
	t.Helper()
	return cardFeatures(t, c, id, createdAt).Count1h
}

// accountFailures scores l as a failed sign-in (a wrong password; at the
// package's time and from a test address unless l says) and returns the
// account's failures in the last hour as the decision saw them.
func accountFailures(t *testing.T, c *client.Client, l client.Login) int64 {
	t.Helper()
	if l.CreatedAt.IsZero() {
		l.CreatedAt = at
	}
	if l.IP == "" {
		l.IP = "198.51.100.7"
	}
	l.Outcome = client.LoginBadPassword
	ctx := context.Background()
	d, err := c.ScoreLogin(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := c.Event(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Features struct {
			Account struct {
				Failures1h int64 `json:"failures_1h"`
			} `json:"account"`
		} `json:"features"`
	}
	if err := json.Unmarshal(ev.Features, &env); err != nil {
		t.Fatal(err)
	}
	return env.Features.Account.Failures1h
}

// TestRestartKeepsCounts: orders whose own time lies in the past (an hour,
// most of a day) keep counting after a restart from the feature snapshot,
// as they do without one. The snapshot's sweep used to forget them.
func TestRestartKeepsCounts(t *testing.T) {
	for _, ago := range []time.Duration{time.Minute, time.Hour, 20 * time.Hour} {
		t.Run(ago.String(), func(t *testing.T) {
			cfg := config.Default()
			cfg.Storage.DataDir = t.TempDir()
			ctx := context.Background()
			at := time.Now().UTC().Add(-ago).Truncate(time.Second)
			var key string
			run := func(from, n int) float64 {
				a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
				if err != nil {
					t.Fatal(err)
				}
				if key == "" {
					if key, err = a.CreateKey(ctx, "shop", "test", apikey.AllScopes); err != nil {
						t.Fatal(err)
					}
				}
				srv := httptest.NewServer(a.Handler())
				defer func() {
					srv.Close()
					if err := a.Close(); err != nil {
						t.Error(err)
					}
				}()
				c, err := client.New(srv.URL, key, client.WithRetries(0))
				if err != nil {
					t.Fatal(err)
				}
				var got float64
				for i := from; i < from+n; i++ {
					got = cardCount(t, c, fmt.Sprintf("ord-%d", i), at)
				}
				return got
			}
			if n := run(0, 3); n != 3 {
				t.Fatalf("before the restart: card count %v, want 3", n)
			}
			if n := run(3, 1); n != 4 {
				t.Errorf("after the restart: card count %v, want 4", n)
			}
		})
	}
}
