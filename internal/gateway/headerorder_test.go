package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestHeaderOrderPrint: the shop is told the print of the client's header
// order: the same for one order whatever the values and case, another
// for another order; a client's own copy is dropped. A fingerprint limit
// applies on plain HTTP through it.
func TestHeaderOrderPrint(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get(HeaderHeaderOrder))
	}))
	defer up.Close()
	policy, err := ReadPolicy(strings.NewReader(`limits:
  - {name: per_tool, key: fingerprint, rate: 1/1h, burst: 3}
routes:
  - {name: api, path: /api/*, limits: [per_tool]}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, base := startGateway(t, up.URL, func(c *Config) { c.Policy, c.MaxLimitKeys = policy, 1000 })
	addr := strings.TrimPrefix(base, "http://")
	send := func(path string, fields ...string) (int, string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\n%s\r\nConnection: close\r\n\r\n", path, strings.Join(fields, "\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	curl := []string{"Host: shop", "User-Agent: curl/8.5.0", "Accept: */*"}
	_, p1 := send("/", curl...)
	_, p2 := send("/", "host: shop", "user-agent: Mozilla/5.0 Chrome/131", "accept: text/html", HeaderHeaderOrder+": h1_01_forged")
	_, p3 := send("/", "Host: shop", "Accept: */*", "User-Agent: curl/8.5.0")
	if !regexp.MustCompile(`^h1_04_[0-9a-f]{16}$`).MatchString(p1) {
		t.Fatalf("print %q", p1)
	}
	if p2 == p1 || !strings.HasPrefix(p2, "h1_05_") {
		t.Errorf("another field (the forged one) gives %q, want a print of five fields other than %q", p2, p1)
	}
	if p3 == p1 {
		t.Errorf("another order gives the same print %q", p1)
	}
	_, p4 := send("/", "HOST: other", "User-Agent: python-requests/2.31", "Accept: application/json")
	if p4 != p1 {
		t.Errorf("the same order with other values and case: %q, want %q", p4, p1)
	}
	var statuses []int
	for range 4 {
		s, _ := send("/api/items", curl...)
		statuses = append(statuses, s)
	}
	if fmt.Sprint(statuses) != "[200 200 200 429]" {
		t.Errorf("fingerprint limit over plain HTTP: %v, want three allowed and the fourth refused", statuses)
	}
	if s, _ := send("/api/items", "Host: shop", "Accept: */*", "User-Agent: curl/8.5.0"); s != 200 {
		t.Errorf("another tool's order: %d, want its own bucket", s)
	}
}
