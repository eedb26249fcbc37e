package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
)

// The reference vector published with the Standard Webhooks specification.
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vecTime = time.Unix(1614265330, 0)

func TestSignWebhookMatchesTheStandardVector(t *testing.T) {
	got, err := client.SignWebhook(vecID, vecTime, []byte(vecBody), vecSecret)
	if err != nil || got != vecSig {
		t.Fatalf("SignWebhook = %q, %v; want %q", got, err, vecSig)
	}
	two, err := client.SignWebhook(vecID, vecTime, []byte(vecBody), vecSecret, "whsec_"+strings.Repeat("A", 32))
	if err != nil || !strings.HasPrefix(two, vecSig+" v1,") {
		t.Errorf("two secrets: %q, %v", two, err)
	}
	for _, bad := range []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_!!!"} {
		if _, err := client.SignWebhook(vecID, vecTime, []byte(vecBody), bad); err == nil {
			t.Errorf("SignWebhook accepted the secret %q", bad)
		}
	}
}

func TestVerifyWebhook(t *testing.T) {
	headers := func(id, ts, sig string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{client.WebhookIDHeader: id, client.WebhookTimestampHeader: ts, client.WebhookSignatureHeader: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		return h
	}
	const ts = "1614265330"
	other := "whsec_" + strings.Repeat("B", 32)
	tests := []struct {
		name   string
		h      http.Header
		body   string
		secret string
		now    time.Time
		want   error
	}{
		{"the vector", headers(vecID, ts, vecSig), vecBody, vecSecret, vecTime, nil},
		{"a minute late", headers(vecID, ts, vecSig), vecBody, vecSecret, vecTime.Add(time.Minute), nil},
		{"one of several signatures", headers(vecID, ts, "v1,AAAA "+vecSig), vecBody, vecSecret, vecTime, nil},
		{"unknown versions are skipped", headers(vecID, ts, "v2,xyz "+vecSig), vecBody, vecSecret, vecTime, nil},
		{"changed body", headers(vecID, ts, vecSig), `{"test": 2432232315}`, vecSecret, vecTime, client.ErrWebhookSignature},
		{"re-encoded body", headers(vecID, ts, vecSig), `{"test":2432232314}`, vecSecret, vecTime, client.ErrWebhookSignature},
		{"changed id", headers("msg_other", ts, vecSig), vecBody, vecSecret, vecTime, client.ErrWebhookSignature},
		{"changed timestamp", headers(vecID, "1614265331", vecSig), vecBody, vecSecret, vecTime, client.ErrWebhookSignature},
		{"wrong secret", headers(vecID, ts, vecSig), vecBody, other, vecTime, client.ErrWebhookSignature},
		{"replayed later", headers(vecID, ts, vecSig), vecBody, vecSecret, vecTime.Add(6 * time.Minute), client.ErrWebhookTimestamp},
		{"from the future", headers(vecID, ts, vecSig), vecBody, vecSecret, vecTime.Add(-6 * time.Minute), client.ErrWebhookTimestamp},
		{"no signature", headers(vecID, ts, ""), vecBody, vecSecret, vecTime, client.ErrWebhookSignature},
		{"no id", headers("", ts, vecSig), vecBody, vecSecret, vecTime, client.ErrWebhookSignature},
		{"timestamp not a number", headers(vecID, "soon", vecSig), vecBody, vecSecret, vecTime, client.ErrWebhookSignature},
		{"signature not base64", headers(vecID, ts, "v1,%%%"), vecBody, vecSecret, vecTime, client.ErrWebhookSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := client.VerifyWebhook(tc.h, []byte(tc.body), tc.secret, tc.now)
			if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("VerifyWebhook = %v, want %v", err, tc.want)
			}
		})
	}
	if err := client.VerifyWebhook(headers(vecID, ts, vecSig), []byte(vecBody), "not-a-secret", vecTime); err == nil {
		t.Error("VerifyWebhook accepted a malformed secret")
	}
}

// FuzzVerifyWebhook checks that no header value makes verification panic
// or accept a signature made with another secret.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add(vecID, "1614265330", vecSig, vecBody)
	f.Add("", "-1", "v1,", "")
	f.Add("x", "99999999999999999999", "v1,=== v1,AAAA", "{}")
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{}
		h.Set(client.WebhookIDHeader, id)
		h.Set(client.WebhookTimestampHeader, ts)
		h.Set(client.WebhookSignatureHeader, sig)
		if err := client.VerifyWebhook(h, []byte(body), "whsec_"+strings.Repeat("C", 32), vecTime); err == nil {
			t.Fatalf("accepted id %q ts %q sig %q body %q under an unrelated secret", id, ts, sig, body)
		}
	})
}
