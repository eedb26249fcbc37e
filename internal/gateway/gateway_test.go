package gateway

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// testConfig is a configuration as the defaults of config.Gateway make
// it, without an upstream.
func testConfig() Config {
	return Config{
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       90 * time.Second,
		BodyGrace:         10 * time.Second,
		MinBodyRate:       512,
		MaxHeaderBytes:    32 << 10,
		MaxBodyBytes:      16 << 20,
		MaxConns:          10000,
		MaxConnsPerIP:     64,
		UpstreamTimeout:   60 * time.Second,
		Health:            HealthCheck{Interval: 5 * time.Second, Timeout: 2 * time.Second, Failures: 3},
		ShutdownTimeout:   30 * time.Second,
	}
}

// startGateway runs a gateway for upstream with cfg's changes on a
// loopback port and returns its base URL; it stops with the test.
func startGateway(t testing.TB, upstream string, change func(*Config)) (*Gateway, string) {
	t.Helper()
	cfg := testConfig()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upstream = u
	if change != nil {
		change(&cfg)
	}
	g, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	return g, scheme + "://" + ln.Addr().String()
}

// echo is an upstream that answers with what it received.
func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s host=%s xff=%s proto=%s fhost=%s forwarded=%s ja4=%s body=%d\n", r.Method, r.URL.RequestURI(), r.Host,
		r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("Forwarded"),
		r.Header.Get(HeaderJA4), len(body))
}

func get(t *testing.T, c *http.Client, req *http.Request) (int, string) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestProxy(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	_, base := startGateway(t, up.URL+"/shop", nil)
	req, _ := http.NewRequest(http.MethodPost, base+"/cart/add?sku=1", strings.NewReader("qty=2"))
	req.Host = "shop.example"
	req.Header.Set("X-Forwarded-For", "1.2.3.4")
	req.Header.Set("Forwarded", "for=1.2.3.4")
	req.Header.Set(HeaderJA4, "t13d1516h2_forged")
	status, body := get(t, nil, req)
	want := "POST /shop/cart/add?sku=1 host=shop.example xff=127.0.0.1 proto=http fhost=shop.example forwarded= ja4= body=5\n"
	if status != 200 || body != want {
		t.Errorf("got %d %q, want 200 %q", status, body, want)
	}
}

func TestConfigValidate(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:3000")
	for _, c := range []struct {
		name   string
		change func(*Config)
		want   string // in the error; "" valid
	}{
		{"defaults with an upstream", func(*Config) {}, ""},
		{"no upstream", func(c *Config) { c.Upstream = nil }, "upstream: required"},
		{"ftp upstream", func(c *Config) { c.Upstream = &url.URL{Scheme: "ftp", Host: "x"} }, "not an http or https URL"},
		{"query", func(c *Config) { c.Upstream = &url.URL{Scheme: "http", Host: "x", RawQuery: "a=1"} }, "query or fragment"},
		{"cert without key", func(c *Config) { c.TLSCert = "c.pem" }, "tls_cert, tls_key"},
		{"zero timeout", func(c *Config) { c.ReadHeaderTimeout = 0 }, "read_header_timeout"},
		{"rate", func(c *Config) { c.MinBodyRate = -1 }, "min_body_rate"},
		{"conns", func(c *Config) { c.MaxConnsPerIP = c.MaxConns + 1 }, "max_conns_per_ip"},
		{"health path", func(c *Config) { c.Health.Path = "healthz" }, "health.path"},
		{"health timeout", func(c *Config) { c.Health.Path, c.Health.Timeout = "/healthz", time.Hour }, "health: interval"},
		{"every problem at once", func(c *Config) { c.Upstream, c.MaxBodyBytes, c.MaxHeaderBytes = nil, 0, 10 }, "max_body_bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Upstream = u
			c.change(&cfg)
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("valid config refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrConfig)):
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

// TestStreaming: a response the upstream writes bit by bit reaches the
// client bit by bit, not when the upstream is done.
func TestStreaming(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		<-release
		fmt.Fprint(w, "data: second\n\n")
	}))
	defer up.Close()
	defer close(release)
	_, base := startGateway(t, up.URL, nil)
	resp, err := http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "data: first\n" {
		t.Fatalf("first event %q, %v", line, err)
	}
}

// TestWebSocket: an Upgrade passes through and the connection carries
// bytes both ways.
func TestWebSocket(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(rw, buf); err == nil {
			rw.Write([]byte(strings.ToUpper(string(buf))))
			rw.Flush()
		}
	}))
	defer up.Close()
	_, base := startGateway(t, up.URL, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprint(conn, "GET /ws HTTP/1.1\r\nHost: shop.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %v, %v", resp, err)
	}
	conn.Write([]byte("hello"))
	got := make([]byte, 5)
	if _, err := io.ReadFull(br, got); err != nil || string(got) != "HELLO" {
		t.Fatalf("echo %q, %v", got, err)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gateway test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSAndHTTP2: the gateway terminates TLS, speaks HTTP/2 to a client
// that offers it, and tells the upstream the request came over https.
func TestTLSAndHTTP2(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	certFile, keyFile, pool := writeCert(t)
	_, base := startGateway(t, up.URL, func(c *Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.ProtoMajor != 2 || !strings.Contains(string(body), "proto=https") {
		t.Errorf("%s, %q: want HTTP/2 and proto=https upstream", resp.Proto, body)
	}
	// Go's client offers TLS 1.3 with SNI absent (an IP address), h2 first.
	if !regexp.MustCompile(`ja4=t13i\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12} `).Match(body) {
		t.Errorf("the shop was not told the JA4 fingerprint: %q", body)
	}
	// HTTP/1.1 over TLS (served by http1): the same, with http/1.1 offered.
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: false,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	defer h1.CloseIdleConnections()
	for range 2 { // twice: the second on the kept-alive connection
		req, _ = http.NewRequest(http.MethodPost, base+"/form", strings.NewReader("a=1"))
		resp, err = h1.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 1 || !strings.Contains(string(body), "proto=https") || !strings.Contains(string(body), "body=3") ||
			!regexp.MustCompile(`ja4=t13i\d{4}00_[0-9a-f]{12}_[0-9a-f]{12} `).Match(body) { // no ALPN offered
			t.Errorf("HTTP/1.1 over TLS: %s, %q", resp.Proto, body)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	var upstreamBodies atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err == nil {
			upstreamBodies.Add(1)
		}
	}))
	defer up.Close()
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.MaxBodyBytes = 1000
		c.BodyGrace, c.MinBodyRate = 300*time.Millisecond, 1000
	})
	// Declared too large: refused before anything is read.
	req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader(strings.Repeat("x", 2000)))
	if status, _ := get(t, nil, req); status != http.StatusRequestEntityTooLarge {
		t.Errorf("declared 2000 bytes: %d", status)
	}
	// Chunked, too large once read.
	req, _ = http.NewRequest(http.MethodPost, base+"/", io.MultiReader(strings.NewReader(strings.Repeat("x", 2000))))
	req.ContentLength = -1
	if status, _ := get(t, nil, req); status != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 2000 bytes: %d", status)
	}
	// Within the limit: proxied.
	req, _ = http.NewRequest(http.MethodPost, base+"/", strings.NewReader("small"))
	if status, _ := get(t, nil, req); status != 200 {
		t.Errorf("small body: %d", status)
	}
	// Slow POST: 10 bytes, then nothing.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprint(conn, "POST /slow HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 900\r\n\r\n0123456789")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow POST: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow POST answered %d, want 408", resp.StatusCode)
	}
	if s := g.Snapshot(); s.TooLarge != 2 || s.TooSlow != 1 || upstreamBodies.Load() != 1 {
		t.Errorf("stats %+v, upstream got %d whole bodies; want 2 too large, 1 too slow, 1 body", s, upstreamBodies.Load())
	}
}

// TestSlowHeaders: a client that never finishes its headers is cut off.
func TestSlowHeaders(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	_, base := startGateway(t, up.URL, func(c *Config) { c.ReadHeaderTimeout = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: shop.example\r\nX-Slow: 1")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn) // the server closes the connection (perhaps after a 408)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the connection with unfinished headers stayed open")
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 408") {
		t.Errorf("answered %q", b)
	}
}

// TestConnCapPerIP: a client's connections beyond its cap are closed at
// once; others' are not affected, and closing one frees its slot.
func TestConnCapPerIP(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	g, base := startGateway(t, up.URL, func(c *Config) { c.MaxConnsPerIP = 2 })
	addr := strings.TrimPrefix(base, "http://")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	roundTrip := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns[:2] {
		if err := roundTrip(c); err != nil {
			t.Fatalf("connection %d within the cap: %v", i, err)
		}
	}
	if err := roundTrip(conns[2]); err == nil {
		t.Fatal("third connection from one address served")
	}
	conns[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if roundTrip(c) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's slot was not freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if g.Snapshot().ConnsDropped < 1 {
		t.Error("no dropped connection counted")
	}
}

// TestHealth: an upstream failing its health check is answered with 503
// by the gateway itself; once it recovers, requests flow again.
func TestHealth(t *testing.T) {
	var sick atomic.Bool
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && sick.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		echo(w, r)
	}))
	defer up.Close()
	g, base := startGateway(t, up.URL, func(c *Config) {
		c.Health = HealthCheck{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: 20 * time.Millisecond, Failures: 2}
	})
	wait := func(healthy bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for g.Healthy() != healthy {
			if time.Now().After(deadline) {
				t.Fatalf("health stayed %v", !healthy)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	if status, _ := get(t, nil, req); status != 200 {
		t.Fatalf("healthy upstream: %d", status)
	}
	sick.Store(true)
	wait(false)
	req, _ = http.NewRequest(http.MethodGet, base+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("down upstream: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	admin := g.AdminHandler(http.NotFoundHandler())
	rec := httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("admin /healthz while down: %d", rec.Code)
	}
	sick.Store(false)
	wait(true)
	rec = httptest.NewRecorder()
	admin.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("admin /healthz when up: %d", rec.Code)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/", nil)
	if status, _ := get(t, nil, req); status != 200 {
		t.Errorf("recovered upstream: %d", status)
	}
}

// TestUpstreamDown: a refused upstream connection is a 502, not a hang.
func TestUpstreamDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	g, base := startGateway(t, "http://"+addr, nil)
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	if status, _ := get(t, nil, req); status != http.StatusBadGateway {
		t.Errorf("refused upstream: %d", status)
	}
	if g.Snapshot().UpstreamErrors != 1 {
		t.Errorf("stats %+v", g.Snapshot())
	}
}

// TestHeaderLimit: headers over the limit are refused with 431.
func TestHeaderLimit(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	_, base := startGateway(t, up.URL, func(c *Config) { c.MaxHeaderBytes = 4096 })
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// 12 KiB: over the limit and the 4 KiB net/http allows beyond it.
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: shop.example\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 12<<10))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("12 KiB of headers: %d, want 431", resp.StatusCode)
	}
}

// TestRateLimits: failed logins are counted by their 401 answers and
// successes are not; requests beyond a per-address limit get 429 with
// Retry-After; the shop never sees the refused ones.
func TestRateLimits(t *testing.T) {
	var seen atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		if r.URL.Path == "/account/login" && r.FormValue("password") != "right" {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader(`
limits:
  - {name: failed_logins, key: ip, rate: 1/1h, burst: 3, counts: responses, statuses: [401]}
  - {name: pages, key: ip, rate: 1/1h, burst: 8}
routes:
  - {name: login, methods: [POST], path: /account/login, limits: [failed_logins]}
  - {name: everything, path: /*, limits: [pages]}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, base := startGateway(t, up.URL, func(c *Config) { c.Policy, c.MaxLimitKeys = policy, 1000 })
	login := func(password string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/account/login", strings.NewReader("password="+password))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		status, _ := get(t, nil, req)
		return status
	}
	for i := range 5 { // successes take nothing
		if s := login("right"); s != 200 {
			t.Fatalf("good login %d: %d", i, s)
		}
	}
	for i := range 3 {
		if s := login("wrong"); s != http.StatusUnauthorized {
			t.Fatalf("failed login %d: %d", i, s)
		}
	}
	before := seen.Load()
	if s := login("right"); s != http.StatusTooManyRequests {
		t.Errorf("after 3 failures: %d, want 429", s)
	}
	if seen.Load() != before {
		t.Error("the refused login reached the shop")
	}
	for i := range 8 {
		req, _ := http.NewRequest(http.MethodGet, base+"/product/1", nil)
		if s, _ := get(t, nil, req); s != 200 {
			t.Fatalf("page %d: %d", i, s)
		}
	}
	resp, err := http.Get(base + "/product/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("9th page: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if s := g.Snapshot(); s.RateLimited != 2 {
		t.Errorf("stats %+v, want 2 rate limited", s)
	}
}

// TestShutdownAtConnectionCap: a gateway whose connections are all taken
// (one held by a client that never sends) still shuts down.
func TestShutdownAtConnectionCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := limitConns(ln, 1, 1, nil, nil)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	held := <-accepted
	defer held.Close()
	second := make(chan error, 1)
	go func() { _, err := l.Accept(); second <- err }() // waits for a slot
	time.Sleep(50 * time.Millisecond)
	l.Close()
	select {
	case err := <-second:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept waiting for a slot did not return on Close")
	}
}

// TestAccountLimits: failed sign-ins are counted per account whatever
// address they come from (a stuffing or spraying run spread over many
// addresses), read from a form or a JSON body that still reaches the
// shop whole; other accounts are not affected.
func TestAccountLimits(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var password string
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			body, _ := io.ReadAll(r.Body)
			if m := regexp.MustCompile(`"password":"([^"]*)"`).FindSubmatch(body); m != nil {
				password = string(m[1])
			}
		} else {
			password = r.FormValue("password")
		}
		if password != "right" {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "welcome")
	}))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader(`
limits:
  - {name: failed_per_account, key: account, rate: 1/1h, burst: 3, counts: responses, statuses: [401]}
routes:
  - {name: login, methods: [POST], path: /login, account_field: email, limits: [failed_per_account]}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, base := startGateway(t, up.URL, func(c *Config) {
		c.Policy, c.MaxLimitKeys = policy, 1000
		c.Trusted = Trusted{netip.MustParsePrefix("127.0.0.0/8")} // the test's requests name their client in X-Forwarded-For
		c.BodyGrace, c.MinBodyRate = 300*time.Millisecond, 1000
	})
	login := func(from, email, password string, asJSON bool) (int, string) {
		body, ctype := "email="+url.QueryEscape(email)+"&password="+password, "application/x-www-form-urlencoded"
		if asJSON {
			body, ctype = fmt.Sprintf(`{"email":%q,"password":%q}`, email, password), "application/json"
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("X-Forwarded-For", from)
		return get(t, nil, req)
	}
	for i, from := range []string{"198.51.100.1", "198.51.100.2", "203.0.113.3"} { // three addresses, one account
		if s, _ := login(from, "Ana@Shop.example", "guess", i == 1); s != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, s)
		}
	}
	if s, _ := login("192.0.2.4", " ana@shop.example", "right", true); s != http.StatusTooManyRequests {
		t.Errorf("the account after 3 failures from 3 addresses: %d, want 429", s)
	}
	if s, body := login("198.51.100.1", "bo@shop.example", "right", false); s != 200 || body != "welcome" {
		t.Errorf("another account: %d %q (the body must reach the shop whole)", s, body)
	}
	// A sign-in body that trickles in is cut off while the gateway reads
	// it for the account, as anywhere else.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprint(conn, "POST /login HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 900\r\n\r\nemail=ana")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow sign-in: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow sign-in answered %d, want 408", resp.StatusCode)
	}
}

// TestShadowLimit: a limit in shadow mode refuses nothing but counts
// what it would have refused; an enforced limit beside it still bites.
func TestShadowLimit(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(echo))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader(`
limits:
  - {name: strict, key: ip, rate: 1/1h, burst: 2, shadow: true}
  - {name: loose, key: ip, rate: 1/1h, burst: 5}
routes:
  - {name: everything, path: /*, limits: [strict, loose]}
`))
	if err != nil {
		t.Fatal(err)
	}
	g, base := startGateway(t, up.URL, func(c *Config) { c.Policy, c.MaxLimitKeys = policy, 100 })
	var statuses []int
	for range 6 {
		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		s, _ := get(t, nil, req)
		statuses = append(statuses, s)
	}
	if fmt.Sprint(statuses) != "[200 200 200 200 200 429]" {
		t.Errorf("statuses %v: the shadow limit must refuse nothing, the enforced one the 6th", statuses)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(g.Collector())
	rec := httptest.NewRecorder()
	g.AdminHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	// Requests 3, 4 and 5 went through the shadow limit's refusal; the
	// 6th was refused by the enforced limit after it, also counted.
	for _, want := range []string{`shopguard_gateway_shadow_limited_total{limit="strict"} 4`, `shopguard_gateway_requests_total{outcome="rate_limited"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, rec.Body.String())
		}
	}
}
