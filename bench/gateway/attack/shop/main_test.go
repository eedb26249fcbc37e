package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func testConfig() config {
	return config{slots: 2, serviceTime: 0, maxConns: 16, products: 10, bucket: time.Second}
}

func TestShopAnswers(t *testing.T) {
	s := newShop(testConfig())
	tests := []struct {
		name       string
		method     string
		path       string
		form       url.Values
		role       string // X-Bench-Role
		cookie     string // bench_role cookie
		wantStatus int
		wantRole   string
	}{
		{name: "home", method: "GET", path: "/", role: "legit", wantStatus: 200, wantRole: roleLegit},
		{name: "product", method: "GET", path: "/product/10", role: "attack", wantStatus: 200, wantRole: roleAttack},
		{name: "no such product", method: "GET", path: "/product/11", wantStatus: 404, wantRole: roleOther},
		{name: "product not a number", method: "GET", path: "/product/x", wantStatus: 404, wantRole: roleOther},
		{name: "static", method: "GET", path: "/static/app.css", cookie: "attack", wantStatus: 200, wantRole: roleAttack},
		{name: "post to a page", method: "POST", path: "/", wantStatus: 405, wantRole: roleOther},
		{name: "right password", method: "POST", path: "/login", form: url.Values{"email": {"user42@example.com"}, "password": {"pw-42"}}, wantStatus: 200, wantRole: roleOther},
		{name: "wrong password", method: "POST", path: "/login", form: url.Values{"email": {"user42@example.com"}, "password": {"pw-43"}}, wantStatus: 401, wantRole: roleOther},
		{name: "password of another site's user", method: "POST", path: "/login", form: url.Values{"email": {"user42@example.org"}, "password": {"pw-42"}}, wantStatus: 401, wantRole: roleOther},
		{name: "no e-mail", method: "POST", path: "/login", form: url.Values{"password": {"pw-"}}, wantStatus: 401, wantRole: roleOther},
		{name: "get login", method: "GET", path: "/login", wantStatus: 405, wantRole: roleOther},
		{name: "good card", method: "POST", path: "/checkout", form: url.Values{"card": {"4242424242424242"}}, wantStatus: 200, wantRole: roleOther},
		{name: "declined card", method: "POST", path: "/checkout", form: url.Values{"card": {"5105105105105100"}}, wantStatus: 402, wantRole: roleOther},
		{name: "short card", method: "POST", path: "/checkout", form: url.Values{"card": {"4242"}}, wantStatus: 402, wantRole: roleOther},
		{name: "unknown role is other", method: "GET", path: "/", role: "admin", wantStatus: 200, wantRole: roleOther},
		{name: "elsewhere", method: "GET", path: "/admin", wantStatus: 404, wantRole: roleOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body *strings.Reader
			if tt.form != nil {
				body = strings.NewReader(tt.form.Encode())
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(tt.method, tt.path, body)
			if tt.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.role != "" {
				req.Header.Set("X-Bench-Role", tt.role)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "bench_role", Value: tt.cookie})
			}
			before := s.counts.Arrived[tt.wantRole]
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if w.Header().Get("X-Bench-Shop") != "1" {
				t.Error("answer without X-Bench-Shop")
			}
			if got := s.counts.Arrived[tt.wantRole]; got != before+1 {
				t.Errorf("arrivals of %s %d, want %d", tt.wantRole, got, before+1)
			}
		})
	}
}

// TestShopQueues checks the hard capacity: with 2 slots of 50 ms, 6
// requests at once take at least 3 rounds.
func TestShopQueues(t *testing.T) {
	cfg := testConfig()
	cfg.serviceTime = 50 * time.Millisecond
	s := newShop(cfg)
	srv := httptest.NewServer(s)
	defer srv.Close()
	start := time.Now()
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("6 requests on 2 slots of 50 ms took %v, want ≥ 150 ms", took)
	}
	if s.counts.MaxWaiting < 3 {
		t.Errorf("max waiting %d, want ≥ 3", s.counts.MaxWaiting)
	}
}

func TestShopStats(t *testing.T) {
	s := newShop(testConfig())
	h := s.statsHandler()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Bench-Role", "attack")
	req.Header.Set("X-Shopguard-Client-Mismatch", "claims a browser, no Accept-Language")
	s.ServeHTTP(httptest.NewRecorder(), req)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/stats", nil))
	var c counts
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Arrived[roleAttack] != 1 || len(c.Buckets[roleAttack]) != 1 || c.Buckets[roleAttack][0] != 1 || c.Statuses[roleAttack][200] != 1 || c.Flagged[roleAttack] != 1 {
		t.Errorf("stats = %+v", c)
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/reset", nil))
	if w.Code != http.StatusNoContent || len(s.counts.Arrived) != 0 {
		t.Errorf("reset: %d, arrivals %v", w.Code, s.counts.Arrived)
	}
}
