package gateway

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestForwardHopByHop: hop-by-hop headers (named or listed in Connection)
// and the client's copies of the gateway's own headers do not reach the
// shop, in either direction; everything else does, in order, with the
// host and the query the client asked for.
func TestForwardHopByHop(t *testing.T) {
	var got http.Header
	var gotHost, gotURI string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotHost, gotURI = r.Header.Clone(), r.Host, r.RequestURI
		h := w.Header()
		h.Set("Connection", "X-Resp-Hop")
		h.Set("X-Resp-Hop", "1")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("X-Kept", "yes")
		fmt.Fprint(w, "ok")
	}))
	defer up.Close()
	g, base := startGateway(t, up.URL, nil)
	if g.upstream == nil {
		t.Fatal("a plain-HTTP shop at the root is not forwarded by the pool")
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/p/a%20b?q=1&r=%2F", nil)
	req.Host = "shop.example"
	req.Header.Set("Connection", "keep-alive, X-Hop")
	req.Header.Set("X-Hop", "1")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("Proxy-Authorization", "Basic eDp5")
	req.Header.Set(HeaderBot, "Googlebot")
	req.Header.Set(HeaderBotScore, "0")
	req.Header.Set(HeaderDecision, "allow")
	req.Header.Set("X-Forwarded-For", "1.2.3.4")
	req.Header.Add("X-Custom", "a")
	req.Header.Add("X-Custom", "b")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if gotHost != "shop.example" || gotURI != "/p/a%20b?q=1&r=%2F" {
		t.Errorf("shop saw host %q uri %q", gotHost, gotURI)
	}
	for _, h := range []string{"X-Hop", "Keep-Alive", "Proxy-Authorization", HeaderBot, HeaderBotScore, HeaderDecision} {
		if v := got.Get(h); v != "" {
			t.Errorf("shop saw %s: %q", h, v)
		}
	}
	if v := got.Values("X-Custom"); len(v) != 2 || v[0] != "a" || v[1] != "b" {
		t.Errorf("X-Custom %q, want [a b]", v)
	}
	if v := got.Get("X-Forwarded-For"); v != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want the peer only", v)
	}
	if resp.Header.Get("X-Resp-Hop") != "" || resp.Header.Get("Keep-Alive") != "" || resp.Header.Get("X-Kept") != "yes" {
		t.Errorf("client saw answer headers %v", resp.Header)
	}
}

// TestForwardBodies: bodies of known and unknown length, large and empty,
// arrive whole; a body the client cuts short never reaches the shop as a
// whole request.
func TestForwardBodies(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(w, "%s len=%d cl=%d te=%v sha=%s", r.Method, len(b), r.ContentLength, r.TransferEncoding, hex.EncodeToString(sum[:4]))
	}))
	defer up.Close()
	_, base := startGateway(t, up.URL, nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	sha := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:4]) }
	for _, c := range []struct {
		name   string
		method string
		body   io.Reader
		want   string
	}{
		{"get", http.MethodGet, nil, "GET len=0 cl=0 te=[] sha=" + sha(nil)},
		{"put without a body", http.MethodPut, nil, "PUT len=0 cl=0 te=[] sha=" + sha(nil)},
		{"small post", http.MethodPost, strings.NewReader("qty=2"), "POST len=5 cl=5 te=[] sha=" + sha([]byte("qty=2"))},
		{"large post", http.MethodPost, bytes.NewReader(big), fmt.Sprintf("POST len=%d cl=%d te=[] sha=%s", len(big), len(big), sha(big))},
		{"chunked post", http.MethodPost, io.MultiReader(bytes.NewReader(big[:100000])), // unknown length: sent chunked
			"POST len=100000 cl=-1 te=[chunked] sha=" + sha(big[:100000])},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, base+"/x", c.body)
			status, body := get(t, nil, req)
			if status != 200 || body != c.want {
				t.Errorf("got %d %q, want 200 %q", status, body, c.want)
			}
		})
	}
}

// TestForwardReusesConnections: sequential requests share one connection
// to the shop.
func TestForwardReusesConnections(t *testing.T) {
	var conns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	_, base := startGateway(t, up.URL, nil)
	for range 20 {
		req, _ := http.NewRequest(http.MethodPost, base+"/", strings.NewReader("a=1"))
		if status, _ := get(t, nil, req); status != 200 {
			t.Fatalf("status %d", status)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections to the shop for 20 sequential requests, want 1", n)
	}
}

// closingShop is a shop that answers each connection's first request and
// then closes it without saying so, as a server does whose idle timeout
// ran out; each close is reported on closed.
func closingShop(t *testing.T, answer string) (addr string, closed <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan struct{}, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { c.Close(); ch <- struct{}{} }()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				io.WriteString(c, answer)
			}()
		}
	}()
	return "http://" + ln.Addr().String(), ch
}

// TestForwardStaleConnection: a connection the shop closed while it was
// idle is noticed before a request goes out on it (with a body, which
// could not be sent again), and a request without a body that found it
// closed anyway is sent again on a new one.
func TestForwardStaleConnection(t *testing.T) {
	for _, c := range []struct {
		name   string
		probe  time.Duration
		method string
		body   string
	}{
		{"probed before a post", 0, http.MethodPost, "card=4242"},
		{"get retried", time.Hour, http.MethodGet, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			shop, closed := closingShop(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			g, base := startGateway(t, shop, nil)
			g.upstream.probeAfter = c.probe
			for i := range 3 {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				req, _ := http.NewRequest(c.method, base+"/", body)
				status, got := get(t, nil, req)
				if status != 200 || got != "ok" {
					t.Fatalf("request %d: %d %q", i, status, got)
				}
				select {
				case <-closed:
				case <-time.After(5 * time.Second):
					t.Fatal("the shop did not close the connection")
				}
			}
		})
	}
}

// TestForwardTruncatedAnswer: an answer the shop cuts off reaches the
// client as a broken response, never as a shorter whole one.
func TestForwardTruncatedAnswer(t *testing.T) {
	shop, _ := closingShop(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")
	_, base := startGateway(t, shop, nil)
	resp, err := http.Get(base + "/")
	if err != nil {
		return // broken before the headers: not whole either
	}
	defer resp.Body.Close()
	if b, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("read %q whole, want an error", b)
	}
}

// TestForwardUpstreamTimeout: a shop that does not answer within the
// upstream timeout gets the client a 504.
func TestForwardUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer up.Close()
	defer close(release)
	_, base := startGateway(t, up.URL, func(c *Config) { c.UpstreamTimeout = 100 * time.Millisecond })
	req, _ := http.NewRequest(http.MethodGet, base+"/slow", nil)
	if status, _ := get(t, nil, req); status != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", status)
	}
}

// TestForwardTimeoutIsForTheHead: the upstream timeout bounds the wait
// for the answer's head only: a body that streams for longer reaches the
// client whole, and a connection idle past the timeout after an answer
// read whole with its head is still reused (probed or not).
func TestForwardTimeoutIsForTheHead(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, c := range []struct {
		name  string
		probe time.Duration
	}{
		{"not probed", time.Hour},
		{"probed", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var conns atomic.Int64
			up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/stream" {
					fmt.Fprint(w, "ok")
					return
				}
				for i := range 3 {
					fmt.Fprintf(w, "part %d\n", i)
					w.(http.Flusher).Flush()
					time.Sleep(timeout)
				}
			}))
			up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			up.Start()
			defer up.Close()
			g, base := startGateway(t, up.URL, func(c *Config) { c.UpstreamTimeout = timeout })
			g.upstream.probeAfter = c.probe
			req, _ := http.NewRequest(http.MethodGet, base+"/stream", nil)
			if status, body := get(t, nil, req); status != 200 || body != "part 0\npart 1\npart 2\n" {
				t.Fatalf("streamed answer: %d %q", status, body)
			}
			for i := range 2 {
				time.Sleep(2 * timeout) // idle past the deadline set for the last head
				req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
				if status, body := get(t, nil, req); status != 200 || body != "ok" {
					t.Fatalf("request %d after idling: %d %q", i, status, body)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("%d connections to the shop, want 1 (reused after idling)", n)
			}
		})
	}
}
