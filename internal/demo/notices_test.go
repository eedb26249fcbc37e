package demo_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/demo"
)

// TestShopVerifiesWebhooks posts notifications to the shop's webhook
// endpoint one after the other: only those signed with the endpoint's
// secret, recently, over the exact body are kept, each once.
func TestShopVerifiesWebhooks(t *testing.T) {
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	shop, err := demo.NewShop(demo.ShopConfig{Name: "Test shop", OrderPrefix: "t", PasswordCost: 4, Now: func() time.Time { return now }},
		demo.NewCatalog(), nil, demo.NewProcessor())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(shop)
	t.Cleanup(srv.Close)
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
	notice := client.LoginNotice{EventID: "evt_1", ExternalID: "login-1" + demo.LoginResultSuffix, UserID: "cus_1",
		IP: "84.1.2.3", DeviceID: "dev_1", New: []string{"device"}, Action: client.ActionAllow, Score: 12}
	data, _ := json.Marshal(notice)
	body, _ := json.Marshal(client.Notification{Type: client.NotificationLoginUnrecognized, Timestamp: now, Data: data})

	tests := []struct {
		name     string
		ready    bool // the shop knows its secret
		id       string
		at       time.Time
		secret   string
		body     string
		sent     string // the body sent, when not the one signed
		want     int
		wantKept int
		wantStat demo.InboxStats
	}{
		{name: "before the shop has its secret", id: "msg_1", at: now, secret: secret, body: string(body),
			want: http.StatusServiceUnavailable},
		{name: "signed", ready: true, id: "msg_1", at: now, secret: secret, body: string(body),
			want: http.StatusNoContent, wantKept: 1, wantStat: demo.InboxStats{Received: 1}},
		{name: "a retry of the same notification", ready: true, id: "msg_1", at: now.Add(5 * time.Second), secret: secret, body: string(body),
			want: http.StatusNoContent, wantKept: 1, wantStat: demo.InboxStats{Received: 1, Duplicates: 1}},
		{name: "another secret", ready: true, id: "msg_2", at: now, secret: other, body: string(body),
			want: http.StatusUnauthorized, wantKept: 1, wantStat: demo.InboxStats{Received: 1, Duplicates: 1, Refused: 1}},
		{name: "body changed after signing", ready: true, id: "msg_3", at: now, secret: secret, body: string(body), sent: strings.Replace(string(body), "cus_1", "cus_2", 1),
			want: http.StatusUnauthorized, wantKept: 1, wantStat: demo.InboxStats{Received: 1, Duplicates: 1, Refused: 2}},
		{name: "replayed an hour later", ready: true, id: "msg_4", at: now.Add(-time.Hour), secret: secret, body: string(body),
			want: http.StatusUnauthorized, wantKept: 1, wantStat: demo.InboxStats{Received: 1, Duplicates: 1, Refused: 3}},
		{name: "unsigned", ready: true, id: "msg_5", body: string(body),
			want: http.StatusUnauthorized, wantKept: 1, wantStat: demo.InboxStats{Received: 1, Duplicates: 1, Refused: 4}},
		{name: "a second notification", ready: true, id: "msg_6", at: now, secret: secret, body: string(body),
			want: http.StatusNoContent, wantKept: 2, wantStat: demo.InboxStats{Received: 2, Duplicates: 1, Refused: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ready {
				shop.Inbox().SetSecret(secret)
			}
			sent := tc.body
			if tc.sent != "" {
				sent = tc.sent
			}
			req, err := http.NewRequest(http.MethodPost, srv.URL+demo.WebhookPath, strings.NewReader(sent))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.secret != "" {
				sig, err := client.SignWebhook(tc.id, tc.at, []byte(tc.body), tc.secret)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set(client.WebhookIDHeader, tc.id)
				req.Header.Set(client.WebhookTimestampHeader, strconv.FormatInt(tc.at.Unix(), 10))
				req.Header.Set(client.WebhookSignatureHeader, sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("the webhook endpoint set a cookie: %s", resp.Header.Get("Set-Cookie"))
			}
			if got := shop.Inbox().Stats(); got != tc.wantStat {
				t.Errorf("stats %+v, want %+v", got, tc.wantStat)
			}
			kept := shop.Inbox().Notices()
			if len(kept) != tc.wantKept {
				t.Fatalf("%d notices kept, want %d", len(kept), tc.wantKept)
			}
			if len(kept) > 0 {
				n := kept[0]
				if n.ID != "msg_1" || n.Type != client.NotificationLoginUnrecognized || n.Login.UserID != "cus_1" || n.Login.ExternalID != notice.ExternalID {
					t.Errorf("first notice kept: %+v", n)
				}
			}
		})
	}
}
