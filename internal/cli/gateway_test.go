package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestGatewayCommand runs shopguard gateway in front of a shop, sends a
// request through it and stops it as a signal would.
func TestGatewayCommand(t *testing.T) {
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "shop saw %s from %s", r.URL.Path, r.Header.Get("X-Forwarded-For"))
	}))
	defer shop.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(Env{Args: []string{"gateway", "--upstream", shop.URL, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"},
			Stdout: &stdout, Stderr: &stderr, Context: ctx})
	}()
	addr := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address printed; stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get(base + "/product/7")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "shop saw /product/7 from 127.0.0.1" {
		t.Errorf("through the gateway: %q", body)
	}
	m := regexp.MustCompile(`metrics on (http://127\.0\.0\.1:\d+/metrics)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no metrics address printed: %q", stdout.String())
	}
	resp, err = http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`shopguard_gateway_requests_total{outcome="proxied"} 1`, `shopguard_gateway_upstream_duration_seconds_count{code="2xx",route="none"} 1`,
		"shopguard_gateway_upstream_up 1", "go_goroutines"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d, stderr %q", code, stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the gateway did not stop")
	}
}

func TestGatewayCommandUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"gateway"}, 2, "gateway.upstream is required"},
		{[]string{"gateway", "--upstream", "ftp://shop"}, 1, "not an http or https URL"},
		{[]string{"gateway", "--upstream", "http://127.0.0.1:1", "--trusted-proxies", "10.0.0.0/99"}, 1, "gateway.trusted_proxies"},
	} {
		var stdout, stderr bytes.Buffer
		code := Run(Env{Args: c.args, Stdout: &stdout, Stderr: &stderr, Context: context.Background()})
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}
