// Command upstream is the stand-in shop behind the proxies in the gateway
// benchmark (bench/gateway/run.sh). It answers GET / with a fixed HTML body
// of -body-bytes bytes, like a small product-page fragment, after waiting
// -service-time, so that what the benchmark measures is the proxy in front
// of it. Any other path is a 404 and any other method a 405.
//
//	go run ./gateway/upstream -addr 127.0.0.1:3000 -body-bytes 2048 -service-time 0
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on, host:port")
	bodyBytes := flag.Int("body-bytes", 2048, "size of the body answered to GET /, in bytes")
	serviceTime := flag.Duration("service-time", 0, "time to wait before answering, as the shop's own work")
	flag.Parse()
	if *bodyBytes < 0 || *serviceTime < 0 {
		fmt.Fprintln(os.Stderr, "upstream: -body-bytes and -service-time must not be negative")
		os.Exit(2)
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           page{body: fragment(*bodyBytes), serviceTime: *serviceTime},
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}

// page answers GET / with body after serviceTime.
type page struct {
	body        []byte
	serviceTime time.Duration
}

func (p page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if p.serviceTime > 0 {
		time.Sleep(p.serviceTime)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(p.body)))
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodGet {
		_, _ = w.Write(p.body)
	}
}

// fragment returns n bytes of product-list HTML, cut to length.
func fragment(n int) []byte {
	var b strings.Builder
	for i := 1; b.Len() < n; i++ {
		fmt.Fprintf(&b, "<li class=\"product\"><a href=\"/p/%d\">Product %d</a> <span class=\"price\">%d.99 EUR</span></li>\n", i, i, 10+i%90)
	}
	return []byte(b.String()[:n])
}
