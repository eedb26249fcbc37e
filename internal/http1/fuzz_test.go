package http1

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// FuzzReadRequest: any bytes give a request or an error with a status,
// never a panic; an accepted request has a token method, a parsed URL,
// canonical valid header names, valid values, a valid host, and one
// framing of its body.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /x?y=1 HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET http://b/c HTTP/1.1\r\nHost: a\r\n\r\n",
		"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
		"\r\nGET / HTTP/1.0\n\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, _, err := readHead(bufio.NewReaderSize(strings.NewReader(s), 16), nil, 4096)
		if err != nil {
			return
		}
		r := &http.Request{}
		fr, err := request(r, &h)
		if err != nil {
			if _, ok := err.(*parseError); !ok {
				t.Fatalf("error %v is not a parse error", err)
			}
			return
		}
		if !validMethod(r.Method) || r.URL == nil || r.ProtoMajor != 1 || r.ProtoMinor > 1 {
			t.Fatalf("accepted %q %v %s", r.Method, r.URL, r.Proto)
		}
		if r.Method != http.MethodConnect {
			if _, err := url.ParseRequestURI(r.RequestURI); err != nil {
				t.Fatalf("accepted target %q: %v", r.RequestURI, err)
			}
		}
		for name, values := range r.Header {
			if name != http.CanonicalHeaderKey(name) || !httpguts.ValidHeaderFieldName(name) || name == "Host" {
				t.Fatalf("header name %q", name)
			}
			for _, v := range values {
				if !httpguts.ValidHeaderFieldValue(v) {
					t.Fatalf("header %s value %q", name, v)
				}
			}
		}
		if !httpguts.ValidHostHeader(r.Host) {
			t.Fatalf("host %q", r.Host)
		}
		if fr.chunked && (fr.length != -1 || r.Header.Get("Content-Length") != "") || !fr.chunked && fr.length < 0 {
			t.Fatalf("framing %+v with %v", fr, r.Header)
		}
		if len(h.names) != len(h.values) {
			t.Fatalf("%d names, %d values", len(h.names), len(h.values))
		}
	})
}
