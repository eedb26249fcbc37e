package storagetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

func newWebhook(tenant, id string, at time.Time) storage.Webhook {
	return storage.Webhook{ID: id, Tenant: tenant, URL: "https://shop.example/hooks/" + id,
		Types: []string{"login.unrecognized", "webhook.test"}, Description: "sign-in notices",
		Secret: "whsec_" + id, CreatedAt: at, UpdatedAt: at}
}

func testWebhooks(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	w1 := newWebhook("t1", "wh_1", base)
	w2 := newWebhook("t1", "wh_2", base.Add(time.Second))
	w3 := newWebhook("t2", "wh_3", base.Add(2*time.Second))
	for _, w := range []storage.Webhook{w2, w1, w3} {
		if err := b.CreateWebhook(ctx, w); err != nil {
			t.Fatalf("CreateWebhook %s: %v", w.ID, err)
		}
	}
	if err := b.CreateWebhook(ctx, newWebhook("t2", "wh_1", base)); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("CreateWebhook with a taken id = %v, want ErrConflict", err)
	}
	got, err := b.Webhook(ctx, "t1", "wh_1")
	if err != nil || !reflect.DeepEqual(got, w1) {
		t.Errorf("Webhook = %+v, %v; want %+v", got, err, w1)
	}
	if _, err := b.Webhook(ctx, "t2", "wh_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another tenant's webhook = %v, want ErrNotFound", err)
	}
	ids := func(ws []storage.Webhook) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.ID)
		}
		return out
	}
	if ws, err := b.Webhooks(ctx, "t1"); err != nil || !reflect.DeepEqual(ids(ws), []string{"wh_1", "wh_2"}) {
		t.Errorf("Webhooks(t1) = %v, %v", ids(ws), err)
	}
	if ws, err := b.Webhooks(ctx, ""); err != nil || !reflect.DeepEqual(ids(ws), []string{"wh_1", "wh_2", "wh_3"}) {
		t.Errorf("Webhooks(all) = %v, %v", ids(ws), err)
	}

	u := w1
	u.URL, u.Types, u.Description, u.Disabled = "https://shop.example/v2", []string{"login.step_up_failed"}, "", true
	u.Secret, u.PreviousSecret, u.PreviousUntil = "whsec_new", "whsec_wh_1", base.Add(24*time.Hour)
	u.UpdatedAt, u.CreatedAt = base.Add(time.Hour), base.Add(time.Hour) // the creation time must not change
	if err := b.UpdateWebhook(ctx, u); err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	u.CreatedAt = base
	if got, err := b.Webhook(ctx, "t1", "wh_1"); err != nil || !reflect.DeepEqual(got, u) {
		t.Errorf("after UpdateWebhook = %+v, %v; want %+v", got, err, u)
	}
	if err := b.UpdateWebhook(ctx, newWebhook("t2", "wh_2", base)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UpdateWebhook of another tenant's = %v, want ErrNotFound", err)
	}
	if err := b.DeleteWebhook(ctx, "t2", "wh_2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteWebhook of another tenant's = %v, want ErrNotFound", err)
	}
	if err := b.DeleteWebhook(ctx, "t1", "wh_2"); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	if _, err := b.Webhook(ctx, "t1", "wh_2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted webhook = %v, want ErrNotFound", err)
	}
}

func newDelivery(tenant, hook, id string, due time.Time) storage.Delivery {
	return storage.Delivery{ID: id, Tenant: tenant, WebhookID: hook, Type: "login.unrecognized", EventID: "ev_" + id,
		Payload: []byte(`{"id":"` + id + `"}`), CreatedAt: due, NextAttemptAt: due}
}

func testDeliveries(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	if _, ok, err := b.NotifyCursor(ctx); err != nil || ok {
		t.Fatalf("NotifyCursor on an empty store = %v, %v; want unset", ok, err)
	}
	d1 := newDelivery("t1", "wh_1", "dl_1", base)
	d2 := newDelivery("t1", "wh_1", "dl_2", base.Add(time.Second))
	d2.DedupeKey = "login.unrecognized|u1|0"
	d3 := newDelivery("t2", "wh_3", "dl_3", base.Add(2*time.Second))
	n, err := b.AddDeliveries(ctx, []storage.Delivery{d1, d2, d3}, &storage.CursorMove{From: 0, To: 10})
	if err != nil || n != 3 {
		t.Fatalf("AddDeliveries = %d, %v; want 3", n, err)
	}
	if seq, ok, err := b.NotifyCursor(ctx); err != nil || !ok || seq != 10 {
		t.Errorf("NotifyCursor = %d, %v, %v; want 10", seq, ok, err)
	}
	// A mover that read an old cursor adds nothing.
	stale := newDelivery("t1", "wh_1", "dl_stale", base)
	if _, err := b.AddDeliveries(ctx, []storage.Delivery{stale}, &storage.CursorMove{From: 0, To: 12}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("AddDeliveries behind the cursor = %v, want ErrConflict", err)
	}
	if _, err := b.Delivery(ctx, "t1", "dl_stale"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a refused move added its delivery: %v", err)
	}
	// The same dedupe key on the same endpoint is skipped; on another endpoint it is not.
	dup := newDelivery("t1", "wh_1", "dl_4", base)
	dup.DedupeKey = d2.DedupeKey
	other := newDelivery("t1", "wh_2", "dl_5", base.Add(time.Hour))
	other.DedupeKey = d2.DedupeKey
	if n, err := b.AddDeliveries(ctx, []storage.Delivery{dup, other}, &storage.CursorMove{From: 10, To: 12}); err != nil || n != 1 {
		t.Errorf("AddDeliveries with a repeated dedupe key = %d, %v; want 1", n, err)
	}
	if n, err := b.AddDeliveries(ctx, []storage.Delivery{newDelivery("t1", "wh_1", "dl_1", base)}, nil); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("AddDeliveries with a taken id = %d, %v; want ErrConflict", n, err)
	}

	// Claims: due ones, earliest first, pushed back by the lease.
	now := base.Add(1500 * time.Millisecond)
	got, err := b.ClaimDeliveries(ctx, now, time.Minute, 10)
	if err != nil || len(got) != 2 || got[0].ID != "dl_1" || got[1].ID != "dl_2" {
		t.Fatalf("ClaimDeliveries = %v, %v; want dl_1, dl_2", deliveryIDs(got), err)
	}
	if !reflect.DeepEqual(got[0], d1) {
		t.Errorf("claimed %+v, want %+v", got[0], d1)
	}
	if again, err := b.ClaimDeliveries(ctx, now, time.Minute, 10); err != nil || len(again) != 0 {
		t.Errorf("second claim within the lease = %v, %v; want none", deliveryIDs(again), err)
	}
	if one, err := b.ClaimDeliveries(ctx, base.Add(2*time.Hour), time.Minute, 1); err != nil || len(one) != 1 || one[0].ID != "dl_3" {
		t.Errorf("claim of one after the lease = %v, %v; want dl_3", deliveryIDs(one), err)
	}

	// A delivered one is done; a failed attempt is retried when due.
	d1.Attempts, d1.NextAttemptAt, d1.LastAttemptAt, d1.LastStatus, d1.DeliveredAt = 1, time.Time{}, now, 204, now
	d2.Attempts, d2.NextAttemptAt, d2.LastAttemptAt, d2.LastStatus, d2.LastError = 1, now.Add(10*time.Second), now, 500, "status 500"
	for _, d := range []storage.Delivery{d1, d2} {
		if err := b.RecordAttempt(ctx, d); err != nil {
			t.Fatalf("RecordAttempt %s: %v", d.ID, err)
		}
	}
	if err := b.RecordAttempt(ctx, newDelivery("t1", "wh_1", "dl_gone", base)); err != nil {
		t.Errorf("RecordAttempt of an unknown delivery = %v, want nil", err)
	}
	if got, err := b.Delivery(ctx, "t1", "dl_1"); err != nil || !reflect.DeepEqual(got, d1) {
		t.Errorf("Delivery after success = %+v, %v; want %+v", got, err, d1)
	}
	if got, err := b.ClaimDeliveries(ctx, now.Add(10*time.Second), time.Minute, 10); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], d2) {
		t.Errorf("claim of the retry = %+v, %v; want %+v", got, err, d2)
	}
	if _, err := b.Delivery(ctx, "t2", "dl_1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another tenant's delivery = %v, want ErrNotFound", err)
	}

	if ds, err := b.Deliveries(ctx, "t1", "wh_1", 10); err != nil || !reflect.DeepEqual(deliveryIDs(ds), []string{"dl_2", "dl_1"}) {
		t.Errorf("Deliveries = %v, %v; want newest first", deliveryIDs(ds), err)
	}
	if ds, err := b.Deliveries(ctx, "t1", "wh_1", 1); err != nil || len(ds) != 1 {
		t.Errorf("Deliveries with limit 1 = %v, %v", deliveryIDs(ds), err)
	}

	// Redelivery on request, pruning of finished ones.
	if err := b.RetryDelivery(ctx, "t1", "dl_1", now.Add(time.Hour)); err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	if got, _ := b.Delivery(ctx, "t1", "dl_1"); !got.DeliveredAt.IsZero() || !got.NextAttemptAt.Equal(now.Add(time.Hour)) {
		t.Errorf("after RetryDelivery: %+v", got)
	}
	if err := b.RetryDelivery(ctx, "t2", "dl_1", now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("RetryDelivery of another tenant's = %v, want ErrNotFound", err)
	}
	d1.NextAttemptAt, d1.Attempts, d1.DeliveredAt = time.Time{}, 2, now.Add(time.Hour)
	if err := b.RecordAttempt(ctx, d1); err != nil {
		t.Fatal(err)
	}
	d2.NextAttemptAt, d2.FailedAt = time.Time{}, now
	if err := b.RecordAttempt(ctx, d2); err != nil {
		t.Fatal(err)
	}
	if n, err := b.PruneDeliveries(ctx, now.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("PruneDeliveries = %d, %v; want 1 (the failed one)", n, err)
	}
	if _, err := b.Delivery(ctx, "t1", "dl_2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("pruned delivery = %v, want ErrNotFound", err)
	}
	// Its dedupe key is free again once it is gone.
	again := newDelivery("t1", "wh_1", "dl_6", base)
	again.DedupeKey = d2.DedupeKey
	if n, err := b.AddDeliveries(ctx, []storage.Delivery{again}, nil); err != nil || n != 1 {
		t.Errorf("AddDeliveries after pruning = %d, %v; want 1", n, err)
	}

	// Deleting an endpoint removes its deliveries.
	if err := b.CreateWebhook(ctx, newWebhook("t1", "wh_1", base)); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteWebhook(ctx, "t1", "wh_1"); err != nil {
		t.Fatal(err)
	}
	if ds, err := b.Deliveries(ctx, "t1", "wh_1", 10); err != nil || len(ds) != 0 {
		t.Errorf("deliveries of a deleted webhook = %v, %v", deliveryIDs(ds), err)
	}
	if ds, err := b.Deliveries(ctx, "t1", "wh_2", 10); err != nil || len(ds) != 1 {
		t.Errorf("another webhook's deliveries = %v, %v", deliveryIDs(ds), err)
	}
}

func deliveryIDs(ds []storage.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
