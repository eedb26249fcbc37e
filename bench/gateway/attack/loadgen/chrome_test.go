package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// orderServer answers every request "ok" on keep-alive connections and
// records each request's field names in the order sent, its body, and
// how many connections it accepted.
type orderServer struct {
	ln    net.Listener
	mu    sync.Mutex
	names [][]string
	// bodies holds each request's body.
	bodies []string
	conns  int
}

func startOrderServer(t *testing.T) *orderServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &orderServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	return s
}

func (s *orderServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		if _, err := br.ReadString('\n'); err != nil { // the request line
			return
		}
		var names []string
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			name, value, _ := strings.Cut(line, ": ")
			names = append(names, name)
			if strings.EqualFold(name, "Content-Length") {
				length, _ = strconv.Atoi(value)
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		s.mu.Lock()
		s.names = append(s.names, names)
		s.bodies = append(s.bodies, string(body))
		s.mu.Unlock()
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: sid=1; Path=/\r\nContent-Length: 2\r\n\r\nok")
	}
}

// TestChromeTransport: the simulated browsers write Host and Connection
// first and Accept-Language right after Accept-Encoding, as Chrome does
// (shopguard's header order check), send form bodies whole, keep their
// connections alive and free them when an answer is dropped unread.
func TestChromeTransport(t *testing.T) {
	s := startOrderServer(t)
	base, _ := url.Parse("http://" + s.ln.Addr().String())
	b := newBrowser(base, net.ParseIP("127.0.0.1"), 5*time.Second)
	defer b.close()
	ctx := context.Background()
	steps := []struct {
		method, path string
		form         url.Values
		page         bool
	}{
		{http.MethodGet, "/", nil, true},
		{http.MethodGet, "/style.css", nil, false},
		{http.MethodPost, "/login", url.Values{"user": {"ann"}, "password": {"x"}}, true},
	}
	for _, st := range steps {
		resp, body, err := b.do(ctx, st.method, st.path, st.form, st.page)
		if err != nil || resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("%s %s: %v %v %q", st.method, st.path, resp, err, body)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.names) != len(steps) {
		t.Fatalf("%d requests reached the server, want %d", len(s.names), len(steps))
	}
	for i, names := range s.names {
		order := strings.Join(names, ", ")
		if len(names) < 2 || names[0] != "Host" || names[1] != "Connection" {
			t.Errorf("request %d: %s; want Host, Connection first", i, order)
		}
		for j, n := range names {
			if n == "Accept-Encoding" && (j+1 == len(names) || names[j+1] != "Accept-Language") {
				t.Errorf("request %d: %s; want Accept-Language right after Accept-Encoding", i, order)
			}
		}
		if i > 0 && !strings.Contains(order, "Cookie") {
			t.Errorf("request %d: %s; want the cookie set by the first answer", i, order)
		}
	}
	if got := s.bodies[2]; got != "password=x&user=ann" {
		t.Errorf("form body %q", got)
	}
	if s.conns != 1 {
		t.Errorf("%d connections for %d requests in a row, want 1", s.conns, len(steps))
	}
}

// An answer closed unread closes its connection and frees its slot: more
// such requests than the transport has connections do not hang.
func TestChromeTransportDroppedAnswers(t *testing.T) {
	s := startOrderServer(t)
	tr := newChromeTransport((&net.Dialer{}).DialContext, 2)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for i := range 5 {
		resp, err := client.Get("http://" + s.ln.Addr().String() + "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp.Body.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns != 5 {
		t.Errorf("%d connections, want 5 (none reused after an answer dropped unread)", s.conns)
	}
}
