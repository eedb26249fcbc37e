package app_test

import (
	"context"
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
