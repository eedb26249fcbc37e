package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/risk"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"empty", ``, 400, "invalid_json", ""},
		{"syntax", `{"id": }`, 400, "invalid_json", ""},
		{"truncated", `{"id": "x"`, 400, "invalid_json", ""},
		{"array body", `[1,2]`, 400, "invalid_json", ""},
		{"trailing data", `{"id":"x"} {}`, 400, "invalid_json", ""},
		{"string for int", `{"amount_minor": "5"}`, 400, "invalid_field", "amount_minor"},
		{"float for int", `{"amount_minor": 5.5}`, 400, "invalid_field", "amount_minor"},
		{"nested type", `{"user": {"id": 7}}`, 400, "invalid_field", "user.id"},
		{"object for string", `{"ip": {"v": 4}}`, 400, "invalid_field", "ip"},
		{"array element type", `{"items": [{"quantity": 1}, {"quantity": 1}, {"quantity": "2"}]}`, 400, "invalid_field", "items[2].quantity"},
		{"unknown top-level", `{"id": "x", "colour": "red"}`, 400, "unknown_field", "colour"},
		{"unknown nested", `{"payment": {"method": "card", "cvv": "123"}}`, 400, "unknown_field", "payment.cvv"},
		{"unknown in array", `{"items": [{"quantity": 1}, {"sku": "a", "colour": 1}]}`, 400, "unknown_field", "items[1].colour"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tx fraud.Transaction
			err := decodeBytes([]byte(tc.body), &tx)
			var se *statusError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a statusError", err)
			}
			if se.status != tc.status || se.code != tc.code || se.field != tc.field {
				t.Errorf("got %d %s field %q (%s), want %d %s field %q", se.status, se.code, se.field, se.msg, tc.status, tc.code, tc.field)
			}
		})
	}
}

func TestDecodeSecretsAreNamed(t *testing.T) {
	var tx fraud.Transaction
	err := decodeBytes([]byte(`{"payment": {"card_number": "4111111111111111"}}`), &tx)
	if err == nil || !strings.Contains(err.Error(), "never accepts card numbers") {
		t.Errorf("err = %v, want a message that card numbers are never accepted", err)
	}
}

func TestDecodeJSONLimitsAndContentType(t *testing.T) {
	big := `{"id": "` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name, ct, body string
		status         int
	}{
		{"too large", "application/json", big, http.StatusRequestEntityTooLarge},
		{"form", "application/x-www-form-urlencoded", `{}`, http.StatusUnsupportedMediaType},
		{"json with charset", "application/json; charset=utf-8", `{"id":"x"}`, 0},
		{"vendor json", "application/vnd.shop+json", `{"id":"x"}`, 0},
		{"no content type", "", `{"id":"x"}`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/v1/transactions", strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			var tx fraud.Transaction
			err := decodeJSON(httptest.NewRecorder(), r, 1024, &tx)
			var se *statusError
			switch {
			case tc.status == 0 && err != nil:
				t.Errorf("err = %v, want success", err)
			case tc.status != 0 && (!errors.As(err, &se) || se.status != tc.status):
				t.Errorf("err = %v, want status %d", err, tc.status)
			}
		})
	}
}

// FuzzDecodeTransaction feeds arbitrary bodies through the transaction
// decoder and validator: they must never panic, and every refusal must be
// a client error (4xx) — nothing a client sends may become a 5xx.
func FuzzDecodeTransaction(f *testing.F) {
	seeds := []string{
		`{"id":"o1","created_at":"2026-03-01T12:00:00Z","amount_minor":100,"currency":"EUR"}`,
		`{"id":"o1","created_at":"2026-03-01T12:00:00Z","amount_minor":100,"currency":"EUR","user":{"id":"u","email":"a@b.co"},"ip":"::1","payment":{"method":"card","card_fingerprint":"f","bin":"424242","last4":"4242","card_country":"DE"},"items":[{"sku":"a","price_minor":1,"quantity":1}],"shipping_address":{"country":"FR"}}`,
		`{"items":[{"quantity":"x"}]}`, `{"payment":{"cvv":1}}`, `[]`, `null`, `{"amount_minor":1e400}`, `{"user":null}`,
		"{\"id\":\"\\ud800\"}", `{"created_at":"2026-02-30T00:00:00Z"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	s := &Server{}
	f.Fuzz(func(t *testing.T, body []byte) {
		var tx fraud.Transaction
		err := decodeBytes(body, &tx)
		if err == nil {
			err = tx.Validate(now)
			if err == nil {
				if tx.AmountMinor == nil || tx.Time().IsZero() || tx.ID == "" {
					t.Fatalf("validated transaction lacks required fields: %+v", tx)
				}
				return
			}
			if len(risk.FieldErrors(err)) == 0 {
				t.Fatalf("validation error without field errors: %v", err)
			}
		}
		if status, _ := s.classify(err); status < 400 || status > 499 {
			t.Fatalf("body %q gives status %d (%v)", body, status, err)
		}
	})
}
