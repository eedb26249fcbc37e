package tlsprint

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// chunkConn is a net.Conn whose Read returns data in chunks of the given
// sizes (the last size repeats), like a slow or fragmenting network.
type chunkConn struct {
	net.Conn // nil: only Read is used
	data     []byte
	sizes    []int
	reads    int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), c.sizes[min(c.reads, len(c.sizes)-1)])
	c.reads++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readThrough reads everything from a capturing Conn over inner in reads of
// bufSize bytes and returns what the reader saw.
func readThrough(t *testing.T, c *Conn, bufSize int) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestConnCapturesAcrossReads(t *testing.T) {
	records := loadHex(t, "cyberchef_ja4_chrome")
	want, err := ParseClientHello(records)
	if err != nil {
		t.Fatal(err)
	}
	// The ClientHello split over records, followed by more traffic that the
	// capture must ignore but still deliver.
	stream := append(splitRecords(messageOf(t, records), 100, 300), bytes.Repeat([]byte{23, 3, 3, 0, 1, 'x'}, 10)...)
	for _, sizes := range [][]int{{1}, {5}, {5, 7, 1000}, {4096}} {
		c := &Conn{Conn: &chunkConn{data: stream, sizes: sizes}, limit: DefaultMaxCaptureBytes}
		if _, err := c.ClientHello(); err != ErrNeedMore {
			t.Fatalf("before any read: %v, want ErrNeedMore", err)
		}
		if got := readThrough(t, c, 512); !bytes.Equal(got, stream) {
			t.Fatalf("chunks %v: bytes changed on the way through", sizes)
		}
		got, err := c.ClientHello()
		if err != nil {
			t.Fatalf("chunks %v: %v", sizes, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chunks %v: got %+v, want %+v", sizes, got, want)
		}
		if c.buf != nil {
			t.Errorf("chunks %v: capture buffer not released", sizes)
		}
	}
}

func TestConnCaptureFailures(t *testing.T) {
	chrome := loadHex(t, "cyberchef_ja4_chrome")
	tests := []struct {
		name  string
		data  []byte
		limit int
		want  error
	}{
		{"plain http", []byte("GET / HTTP/1.1\r\nHost: shop.example\r\n\r\n"), DefaultMaxCaptureBytes, ErrNotClientHello},
		{"over the capture limit", chrome, 300, ErrTooLarge},
		{"tiny records over the limit", splitRecords(messageOf(t, chrome), 1), 1000, ErrTooLarge},
		{"connection closed early", chrome[:200], DefaultMaxCaptureBytes, ErrNeedMore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Conn{Conn: &chunkConn{data: tt.data, sizes: []int{64}}, limit: tt.limit}
			if got := readThrough(t, c, 100); !bytes.Equal(got, tt.data) {
				t.Fatal("bytes changed on the way through")
			}
			h, err := c.ClientHello()
			if !errors.Is(err, tt.want) || h != nil {
				t.Errorf("got %v, %v; want %v", h, err, tt.want)
			}
			if _, ok := FromConn(c); ok {
				t.Error("FromConn reported a ClientHello")
			}
		})
	}
}

func TestConnCloseReleasesCapture(t *testing.T) {
	chrome := loadHex(t, "cyberchef_ja4_chrome")
	a, b := net.Pipe()
	defer b.Close()
	c := &Conn{Conn: a, limit: DefaultMaxCaptureBytes}
	go func() { _, _ = b.Write(chrome[:100]) }()
	buf := make([]byte, 100)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if c.buf == nil {
		t.Fatal("partial ClientHello not buffered")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c.buf != nil {
		t.Error("buffer kept after Close")
	}
	if _, err := c.ClientHello(); !errors.Is(err, ErrNeedMore) {
		t.Errorf("after Close: %v, want ErrNeedMore", err)
	}
}

func TestFromConnWithoutCapture(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, ok := FromConn(a); ok {
		t.Error("plain conn gave a ClientHello")
	}
	if _, ok := FromConn(tls.Server(a, &tls.Config{})); ok {
		t.Error("tls conn over a plain conn gave a ClientHello")
	}
	if _, ok := FromConn(nil); ok {
		t.Error("nil conn gave a ClientHello")
	}
	if _, ok := FromContext(context.Background()); ok {
		t.Error("empty context gave a ClientHello")
	}
}

// testCert returns a self-signed certificate for shop.example and 127.0.0.1
// and a pool that trusts it.
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "shop.example"},
		DNSNames:              []string{"shop.example"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// recordingConn keeps a copy of the first bytes written through it: the
// ClientHello exactly as the client sent it.
type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	written []byte
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if len(c.written) < 64<<10 {
		c.written = append(c.written, p...)
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) sent() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.written)
}

// helloSeen is what the server learned from one ClientHello.
type helloSeen struct {
	info     tls.ClientHelloInfo
	captured *ClientHello
	ok       bool
}

// TestGoClientCrossCheck runs Go TLS clients against a tls.Server behind
// NewListener and checks the captured ClientHello against what crypto/tls
// itself parsed (tls.ClientHelloInfo) and against the bytes the client wrote.
func TestGoClientCrossCheck(t *testing.T) {
	cert, pool := testCert(t)
	tests := []struct {
		name   string
		client *tls.Config
	}{
		{"tls13 with sni and alpn", &tls.Config{ServerName: "shop.example", NextProtos: []string{"h2", "http/1.1"}}},
		{"tls12 only", &tls.Config{ServerName: "shop.example", MaxVersion: tls.VersionTLS12}},
		{"ip address, no sni", &tls.Config{ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}},
		{"custom curves and ciphers", &tls.Config{
			ServerName: "shop.example", MaxVersion: tls.VersionTLS12,
			CurvePreferences: []tls.CurveID{tls.CurveP384, tls.X25519},
			CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			seen := make(chan helloSeen, 1)
			srvCfg := &tls.Config{
				Certificates: []tls.Certificate{cert},
				NextProtos:   []string{"h2", "http/1.1"},
				GetConfigForClient: func(hi *tls.ClientHelloInfo) (*tls.Config, error) {
					// crypto/tls has read the whole ClientHello by now, so
					// the capture on hi.Conn must be complete.
					h, ok := FromConn(hi.Conn)
					seen <- helloSeen{info: *hi, captured: h, ok: ok}
					return nil, nil
				},
			}
			ln := tls.NewListener(NewListener(inner, ListenerConfig{}), srvCfg)
			defer ln.Close()
			served := make(chan error, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					served <- err
					return
				}
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					served <- err
					return
				}
				// After the handshake the *tls.Conn leads to the capture too.
				if _, ok := FromConn(c); !ok {
					served <- errors.New("FromConn(*tls.Conn) after handshake found no ClientHello")
					return
				}
				_, err = io.Copy(c, c)
				served <- err
			}()

			raw, err := net.Dial("tcp", inner.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			rec := &recordingConn{Conn: raw}
			clientCfg := tt.client.Clone()
			clientCfg.RootCAs = pool
			client := tls.Client(rec, clientCfg)
			if err := client.Handshake(); err != nil {
				t.Fatalf("handshake: %v", err)
			}
			_ = client.Close()
			if err := <-served; err != nil {
				t.Fatalf("server: %v", err)
			}

			got := <-seen
			if !got.ok {
				t.Fatal("no ClientHello captured when GetConfigForClient ran")
			}
			compareWithGo(t, got.captured, &got.info)

			fromClient, err := ParseClientHello(rec.sent())
			if err != nil {
				t.Fatalf("parsing the bytes the client wrote: %v", err)
			}
			if !reflect.DeepEqual(fromClient, got.captured) {
				t.Errorf("server-side capture differs from client bytes:\n got %+v\nwant %+v", got.captured, fromClient)
			}
			t.Logf("JA4 %s", got.captured.JA4(ProtocolTCP))
		})
	}
}

// compareWithGo checks every field against crypto/tls's own parse.
func compareWithGo(t *testing.T, h *ClientHello, hi *tls.ClientHelloInfo) {
	t.Helper()
	curves := make([]uint16, len(hi.SupportedCurves))
	for i, c := range hi.SupportedCurves {
		curves[i] = uint16(c)
	}
	schemes := make([]uint16, len(hi.SignatureSchemes))
	for i, s := range hi.SignatureSchemes {
		schemes[i] = uint16(s)
	}
	checks := []struct {
		field     string
		got, want any
		equal     bool
	}{
		{"CipherSuites", h.CipherSuites, hi.CipherSuites, slices.Equal(h.CipherSuites, hi.CipherSuites)},
		{"Extensions", h.Extensions, hi.Extensions, slices.Equal(h.Extensions, hi.Extensions)},
		{"SupportedGroups", h.SupportedGroups, curves, slices.Equal(h.SupportedGroups, curves)},
		{"PointFormats", h.PointFormats, hi.SupportedPoints, slices.Equal(h.PointFormats, hi.SupportedPoints)},
		{"SignatureAlgorithms", h.SignatureAlgorithms, schemes, slices.Equal(h.SignatureAlgorithms, schemes)},
		{"ALPN", h.ALPN, hi.SupportedProtos, slices.Equal(h.ALPN, hi.SupportedProtos)},
		{"ServerName", h.ServerName, hi.ServerName, h.ServerName == hi.ServerName},
	}
	// Without the extension, Go extrapolates SupportedVersions from the
	// legacy version; compare the list only when the client sent it.
	if h.HasExtension(ExtSupportedVersions) {
		checks = append(checks, struct {
			field     string
			got, want any
			equal     bool
		}{"SupportedVersions", h.SupportedVersions, hi.SupportedVersions, slices.Equal(h.SupportedVersions, hi.SupportedVersions)})
	} else if len(hi.SupportedVersions) == 0 || hi.SupportedVersions[0] != h.Version {
		t.Errorf("legacy version %#04x, Go extrapolated %#04x", h.Version, hi.SupportedVersions)
	}
	for _, c := range checks {
		if !c.equal {
			t.Errorf("%s: captured %v, crypto/tls saw %v", c.field, c.got, c.want)
		}
	}
	if len(h.CipherSuites) == 0 || len(h.Extensions) == 0 {
		t.Errorf("suspiciously empty ClientHello: %+v", h)
	}
}

// TestHTTPServerFingerprint serves HTTPS (HTTP/2 and HTTP/1.1) behind
// NewListener and checks that handlers see the fingerprint of the client
// that connected, via http.Server.ConnContext and FromContext.
func TestHTTPServerFingerprint(t *testing.T) {
	cert, pool := testCert(t)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h, ok := FromContext(r.Context())
			if !ok {
				http.Error(w, "no fingerprint", http.StatusInternalServerError)
				return
			}
			_, ja3 := h.JA3()
			_, _ = io.WriteString(w, r.Proto+" "+h.JA4(ProtocolTCP)+" "+ja3)
		}),
		ConnContext:       ConnContext,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() { _ = srv.ServeTLS(NewListener(inner, ListenerConfig{}), "", "") }()
	defer srv.Close()

	for _, h2 := range []bool{true, false} {
		var (
			mu   sync.Mutex
			recs []*recordingConn
		)
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: "shop.example"},
			ForceAttemptHTTP2: h2,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				rc := &recordingConn{Conn: c}
				mu.Lock()
				recs = append(recs, rc)
				mu.Unlock()
				return rc, nil
			},
		}
		if !h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		for range 2 { // the second request reuses the connection
			resp, err := client.Get("https://" + inner.Addr().String() + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d body %q err %v", resp.StatusCode, body, err)
			}
			mu.Lock()
			if len(recs) != 1 {
				t.Fatalf("%d connections, want 1", len(recs))
			}
			sent := recs[0].sent()
			mu.Unlock()
			want, err := ParseClientHello(sent)
			if err != nil {
				t.Fatal(err)
			}
			_, ja3 := want.JA3()
			proto := "HTTP/1.1"
			if h2 {
				proto = "HTTP/2.0"
			}
			if got, want := string(body), proto+" "+want.JA4(ProtocolTCP)+" "+ja3; got != want {
				t.Errorf("handler saw %q, client sent %q", got, want)
			}
		}
		tr.CloseIdleConnections()
	}
}

func TestNewListenerConfig(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	for _, tt := range []struct{ cfg, want int }{{0, DefaultMaxCaptureBytes}, {-1, DefaultMaxCaptureBytes}, {1000, 1000}} {
		ln := NewListener(inner, ListenerConfig{MaxCaptureBytes: tt.cfg})
		if got := ln.(*listener).limit; got != tt.want {
			t.Errorf("MaxCaptureBytes %d: limit %d, want %d", tt.cfg, got, tt.want)
		}
		if ln.Addr() != inner.Addr() {
			t.Error("Addr not passed through")
		}
	}
}

// BenchmarkConnCapture measures the capture cost a wrapped connection adds
// to reading a Chrome ClientHello in crypto/tls-like small reads.
func BenchmarkConnCapture(b *testing.B) {
	data := loadHex(b, "cyberchef_ja4_chrome")
	buf := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		c := &Conn{Conn: &chunkConn{data: data, sizes: []int{5, 512}}, limit: DefaultMaxCaptureBytes}
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		if _, err := c.ClientHello(); err != nil {
			b.Fatal(err)
		}
	}
}
