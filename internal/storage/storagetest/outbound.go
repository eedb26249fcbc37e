package storagetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// outboundMessage returns an outbound message with every field set.
func outboundMessage(tenant, id, code string, sent time.Time) storage.OutboundMessage {
	return storage.OutboundMessage{
		Tenant:        tenant,
		ID:            id,
		Channel:       storage.OutboundEmail,
		RecipientHash: strings.Repeat("ab", 32),
		UserID:        "u_42",
		Template:      "order_confirmation",
		Summary:       "Order 8812 confirmed — 129,00 € ✓",
		Links:         []string{"https://northwind.shop/orders/8812", "https://northwind.shop/help"},
		Code:          code,
		SentAt:        sent,
		CreatedAt:     sent.Add(time.Second),
	}
}

func mustCreateOutbound(t *testing.T, b storage.Backend, m storage.OutboundMessage) {
	t.Helper()
	if err := b.CreateOutbound(context.Background(), m); err != nil {
		t.Fatalf("CreateOutbound %s/%s: %v", m.Tenant, m.ID, err)
	}
}

func outboundIDs(ms []storage.OutboundMessage) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Tenant+"/"+m.ID)
	}
	return out
}

func testOutboundRoundTrip(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	m := outboundMessage("t1", "out_1", "7KQ4-MD2X", base)
	mustCreateOutbound(t, b, m)
	for name, get := range map[string]func() (storage.OutboundMessage, error){
		"by id":   func() (storage.OutboundMessage, error) { return b.Outbound(ctx, "t1", "out_1") },
		"by code": func() (storage.OutboundMessage, error) { return b.OutboundByCode(ctx, "t1", "7KQ4-MD2X") },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, m)
		}
	}
	bare := storage.OutboundMessage{Tenant: "t1", ID: "out_2", Channel: storage.OutboundSMS, Template: "otp", Code: "AAAA-BBBB",
		SentAt: base, CreatedAt: base}
	mustCreateOutbound(t, b, bare)
	if got, err := b.Outbound(ctx, "t1", "out_2"); err != nil || !reflect.DeepEqual(got, bare) {
		t.Errorf("bare message: got %+v, %v; want %+v", got, err, bare)
	}
	for _, c := range []struct{ tenant, id, code string }{{"t2", "out_1", "7KQ4-MD2X"}, {"t1", "out_9", "ZZZZ-ZZZZ"}} {
		if _, err := b.Outbound(ctx, c.tenant, c.id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Outbound(%s, %s) = %v, want ErrNotFound", c.tenant, c.id, err)
		}
		if _, err := b.OutboundByCode(ctx, c.tenant, c.code); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("OutboundByCode(%s, %s) = %v, want ErrNotFound", c.tenant, c.code, err)
		}
	}
}

func testOutboundConflicts(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	mustCreateOutbound(t, b, outboundMessage("t1", "out_1", "CODE-0001", base))
	for name, m := range map[string]storage.OutboundMessage{
		"same id":   outboundMessage("t1", "out_1", "CODE-0002", base),
		"same code": outboundMessage("t1", "out_2", "CODE-0001", base),
	} {
		if err := b.CreateOutbound(ctx, m); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", name, err)
		}
	}
	// Another tenant may use the same id and code.
	mustCreateOutbound(t, b, outboundMessage("t2", "out_1", "CODE-0001", base))
	invalid := map[string]func(*storage.OutboundMessage){
		"no id":            func(m *storage.OutboundMessage) { m.ID = "" },
		"no code":          func(m *storage.OutboundMessage) { m.Code = "" },
		"unknown channel":  func(m *storage.OutboundMessage) { m.Channel = "fax" },
		"no template":      func(m *storage.OutboundMessage) { m.Template = "" },
		"bad hash":         func(m *storage.OutboundMessage) { m.RecipientHash = "alice@example.com" },
		"too many links":   func(m *storage.OutboundMessage) { m.Links = make([]string, storage.MaxOutboundLinks+1) },
		"empty link":       func(m *storage.OutboundMessage) { m.Links = []string{""} },
		"long summary":     func(m *storage.OutboundMessage) { m.Summary = strings.Repeat("é", storage.MaxOutboundSummary+1) },
		"no sending time":  func(m *storage.OutboundMessage) { m.SentAt = time.Time{} },
		"invalid UTF-8":    func(m *storage.OutboundMessage) { m.Summary = "\xff" },
		"user id too long": func(m *storage.OutboundMessage) { m.UserID = strings.Repeat("u", storage.MaxOutboundUserID+1) },
	}
	for name, edit := range invalid {
		m := outboundMessage("t1", "out_new", "CODE-NEW1", base)
		edit(&m)
		if err := b.CreateOutbound(ctx, m); !errors.Is(err, storage.ErrInvalidOutbound) {
			t.Errorf("%s: %v, want ErrInvalidOutbound", name, err)
		}
	}
	if _, err := b.Outbound(ctx, "t1", "out_new"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an invalid message was stored: %v", err)
	}
}

func testOutboundQueries(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	hashA, hashB := strings.Repeat("a", 64), strings.Repeat("b", 64)
	add := func(tenant, id, user, hash string, at time.Time, links ...string) {
		m := outboundMessage(tenant, id, "C-"+tenant+"-"+id, at)
		m.UserID, m.RecipientHash, m.Links = user, hash, links
		mustCreateOutbound(t, b, m)
	}
	link := "https://northwind.shop/track/123"
	add("t1", "out_a", "u1", hashA, base, link)
	add("t1", "out_b", "u1", "", base.Add(time.Hour), "https://northwind.shop/other")
	add("t1", "out_c", "", hashA, base.Add(2*time.Hour), link, link) // a link twice in one message
	add("t1", "out_d", "u2", hashB, base.Add(3*time.Hour), link)
	add("t2", "out_e", "u1", hashA, base.Add(4*time.Hour), link)
	add("t1", "out_f", "u1", hashA, base.Add(time.Hour)) // as old as out_b: ID breaks the tie
	for _, c := range []struct {
		name string
		got  func() ([]storage.OutboundMessage, error)
		want []string
	}{
		{"by link", func() ([]storage.OutboundMessage, error) { return b.OutboundByLink(ctx, "t1", link, 0) },
			[]string{"t1/out_d", "t1/out_c", "t1/out_a"}},
		{"by link, limited", func() ([]storage.OutboundMessage, error) { return b.OutboundByLink(ctx, "t1", link, 2) },
			[]string{"t1/out_d", "t1/out_c"}},
		{"by link, other tenant", func() ([]storage.OutboundMessage, error) { return b.OutboundByLink(ctx, "t2", link, 0) },
			[]string{"t2/out_e"}},
		{"unknown link", func() ([]storage.OutboundMessage, error) {
			return b.OutboundByLink(ctx, "t1", "https://northwind.shop/track", 0)
		}, []string{}},
		{"by user", func() ([]storage.OutboundMessage, error) {
			return b.OutboundMessages(ctx, storage.OutboundQuery{Tenant: "t1", UserID: "u1"})
		}, []string{"t1/out_f", "t1/out_b", "t1/out_a"}},
		{"by recipient", func() ([]storage.OutboundMessage, error) {
			return b.OutboundMessages(ctx, storage.OutboundQuery{Tenant: "t1", RecipientHash: hashA})
		}, []string{"t1/out_c", "t1/out_f", "t1/out_a"}},
		{"by user or recipient, once each", func() ([]storage.OutboundMessage, error) {
			return b.OutboundMessages(ctx, storage.OutboundQuery{Tenant: "t1", UserID: "u1", RecipientHash: hashA})
		}, []string{"t1/out_c", "t1/out_f", "t1/out_b", "t1/out_a"}},
		{"since, limited", func() ([]storage.OutboundMessage, error) {
			return b.OutboundMessages(ctx, storage.OutboundQuery{Tenant: "t1", UserID: "u1", RecipientHash: hashA, Since: base.Add(time.Hour), Limit: 2})
		}, []string{"t1/out_c", "t1/out_f"}},
		{"nobody", func() ([]storage.OutboundMessage, error) {
			return b.OutboundMessages(ctx, storage.OutboundQuery{Tenant: "t1"})
		}, []string{}},
	} {
		got, err := c.got()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if ids := outboundIDs(got); !reflect.DeepEqual(ids, c.want) {
			t.Errorf("%s: %v, want %v", c.name, ids, c.want)
		}
	}
}

func testOutboundPurge(t *testing.T, b storage.Backend) {
	ctx := context.Background()
	mustCreateOutbound(t, b, outboundMessage("t1", "out_old", "CODE-OLD1", base))
	mustCreateOutbound(t, b, outboundMessage("t2", "out_old", "CODE-OLD2", base.Add(time.Minute)))
	mustCreateOutbound(t, b, outboundMessage("t1", "out_new", "CODE-NEW1", base.Add(time.Hour)))
	n, err := b.PurgeOutbound(ctx, base.Add(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PurgeOutbound = %d, %v; want 2", n, err)
	}
	if _, err := b.OutboundByCode(ctx, "t1", "CODE-OLD1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("purged message still found by code: %v", err)
	}
	got, err := b.OutboundByLink(ctx, "t1", "https://northwind.shop/help", 0)
	if err != nil || !reflect.DeepEqual(outboundIDs(got), []string{"t1/out_new"}) {
		t.Errorf("by link after the purge: %v, %v", outboundIDs(got), err)
	}
	// A purged code is free again.
	mustCreateOutbound(t, b, outboundMessage("t1", "out_again", "CODE-OLD1", base.Add(2*time.Hour)))
}

func testOutboundClosed(t *testing.T, b storage.Backend) {
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checks := map[string]error{}
	checks["CreateOutbound"] = b.CreateOutbound(ctx, outboundMessage("t1", "out_1", "CODE-0001", base))
	_, checks["Outbound"] = b.Outbound(ctx, "t1", "out_1")
	_, checks["OutboundByCode"] = b.OutboundByCode(ctx, "t1", "CODE-0001")
	_, checks["OutboundByLink"] = b.OutboundByLink(ctx, "t1", "https://northwind.shop/help", 0)
	_, checks["OutboundMessages"] = b.OutboundMessages(ctx, storage.OutboundQuery{Tenant: "t1", UserID: "u_42"})
	_, checks["PurgeOutbound"] = b.PurgeOutbound(ctx, base)
	for name, err := range checks {
		if !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}
