package tlsprint

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"
)

func TestParseClientHelloFixtures(t *testing.T) {
	tests := []struct {
		fixture    string
		version    uint16
		sni        string
		alpn       []string
		versions   []uint16
		nSuites    int
		extensions []uint16
	}{
		{"cyberchef_ja3_tls10", 0x0301, "", nil, nil, 46, []uint16{11, 10, 35, 15}},
		{"cyberchef_ja3_tls12", 0x0303, "", nil, nil, 74, []uint16{11, 10, 35, 13, 15}},
		{
			"cyberchef_ja3_tls13", 0x0303, "blog.cloudflare.com", []string{"h2", "http/1.1"},
			[]uint16{0xcaca, 0x7f12, 0x0303, 0x0302, 0x0301}, 19,
			[]uint16{0xdada, 0xff01, 0, 23, 35, 13, 5, 18, 16, 0x7550, 11, 40, 45, 43, 10, 0x0a0a, 21},
		},
		{
			"cyberchef_ja4_chrome", 0x0303, "content-autofill.googleapis.com", []string{"h2", "http/1.1"},
			[]uint16{0x0a0a, 0x0304, 0x0303}, 16,
			[]uint16{0xfafa, 0, 51, 13, 35, 11, 0xff01, 10, 27, 0x4469, 18, 45, 16, 5, 43, 23, 0x1a1a, 21},
		},
		{
			"cyberchef_ja4_firefox", 0x0303, "contile.services.mozilla.com", []string{"h2", "http/1.1"},
			[]uint16{0x0304, 0x0303}, 17,
			[]uint16{0, 23, 0xff01, 10, 11, 35, 16, 5, 34, 51, 43, 13, 45, 28, 21},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h, err := ParseClientHello(loadHex(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if h.Version != tt.version || h.ServerName != tt.sni || len(h.CipherSuites) != tt.nSuites {
				t.Errorf("version %#04x sni %q suites %d, want %#04x %q %d",
					h.Version, h.ServerName, len(h.CipherSuites), tt.version, tt.sni, tt.nSuites)
			}
			if !slices.Equal(h.ALPN, tt.alpn) || !slices.Equal(h.SupportedVersions, tt.versions) {
				t.Errorf("alpn %q versions %#04x, want %q %#04x", h.ALPN, h.SupportedVersions, tt.alpn, tt.versions)
			}
			if !slices.Equal(h.Extensions, tt.extensions) {
				t.Errorf("extensions %v, want %v", h.Extensions, tt.extensions)
			}
			if h.HasExtension(ExtServerName) != (tt.sni != "") {
				t.Errorf("HasExtension(SNI) = %v", h.HasExtension(ExtServerName))
			}
		})
	}
}

// TestParseClientHelloAcrossRecords splits published hellos over several
// records, including a handshake header cut in two, and expects the same
// result as the single-record original.
func TestParseClientHelloAcrossRecords(t *testing.T) {
	for _, name := range fixtureNames {
		records := loadHex(t, name)
		want, err := ParseClientHello(records)
		if err != nil {
			t.Fatal(err)
		}
		msg := messageOf(t, records)
		for _, sizes := range [][]int{{1}, {2, 100}, {3}, {200}, {len(msg) - 1}} {
			got, err := ParseClientHello(splitRecords(msg, sizes...))
			if err != nil {
				t.Fatalf("%s split %v: %v", name, sizes, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s split %v: got %+v, want %+v", name, sizes, got, want)
			}
		}
	}
}

// TestParseClientHelloPrefixes checks that every proper prefix of a valid
// record stream asks for more bytes rather than failing, and that bytes after
// the ClientHello are ignored.
func TestParseClientHelloPrefixes(t *testing.T) {
	for _, name := range fixtureNames {
		records := loadHex(t, name)
		msg := messageOf(t, records)
		for _, stream := range [][]byte{records, splitRecords(msg, 7, 50)} {
			for i := range len(stream) {
				if _, err := ParseClientHello(stream[:i]); err != ErrNeedMore {
					t.Fatalf("%s prefix %d/%d: err %v, want ErrNeedMore", name, i, len(stream), err)
				}
			}
			// A following record (say, early data) must not disturb the parse.
			extra := append(slices.Clip(stream), 23, 3, 3, 0, 1, 0)
			if _, err := ParseClientHello(extra); err != nil {
				t.Fatalf("%s with trailing record: %v", name, err)
			}
		}
	}
}

func TestParseClientHelloMessage(t *testing.T) {
	records := loadHex(t, "cyberchef_ja4_chrome")
	msg := messageOf(t, records)
	h, err := ParseClientHelloMessage(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.JA4(ProtocolQUIC); got != "q13d1516h2_8daaf6152771_e5627efa2ab1" {
		t.Errorf("JA4(QUIC) = %s", got)
	}
	if _, err := ParseClientHelloMessage(msg[:len(msg)-1]); err != ErrNeedMore {
		t.Errorf("short message: %v, want ErrNeedMore", err)
	}
	if _, err := ParseClientHelloMessage(records); !errors.Is(err, ErrNotClientHello) {
		t.Errorf("record instead of message: %v, want ErrNotClientHello", err)
	}
	if _, err := ParseClientHelloMessage(nil); err != ErrNeedMore {
		t.Errorf("empty: %v, want ErrNeedMore", err)
	}
}

func TestParseClientHelloErrors(t *testing.T) {
	chrome := loadHex(t, "cyberchef_ja4_chrome")
	suites := u16s(0x1301, 0xc02f)
	base := helloSpec{version: 0x0303, suites: suites}
	withExt := func(e ...[]byte) []byte {
		s := base
		s.extensions = e
		return splitRecords(s.message(), 1<<14)
	}
	mutate := func(b []byte, at int, v byte) []byte {
		b = bytes.Clone(b)
		b[at] = v
		return b
	}
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"application data record", mutate(chrome, 0, 23), ErrNotClientHello},
		{"plain http", []byte("GET / HTTP/1.1\r\nHost: shop\r\n\r\n"), ErrNotClientHello},
		{"sslv2 framing", []byte{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15}, ErrNotClientHello},
		{"record version major", mutate(chrome, 1, 2), ErrNotClientHello},
		{"server hello", mutate(chrome, 5, 2), ErrNotClientHello},
		{"empty record", []byte{22, 3, 1, 0, 0}, ErrMalformed},
		{"record too long", []byte{22, 3, 1, 0xff, 0xff}, ErrMalformed},
		{"handshake too long", []byte{22, 3, 1, 0, 4, 1, 0x01, 0, 0}, ErrTooLarge},
		{"alert inside hello", append(splitRecords(messageOf(t, chrome)[:10], 10), 21, 3, 3, 0, 2, 2, 40), ErrMalformed},
		{"second record version", append(splitRecords(messageOf(t, chrome)[:10], 10), 22, 4, 3, 0, 2, 2, 40), ErrMalformed},
		{"body shorter than version", splitRecords([]byte{1, 0, 0, 1, 3}, 5), ErrTruncated},
		{"body shorter than random", splitRecords(append([]byte{1, 0, 0, 10, 3, 3}, make([]byte, 8)...), 20), ErrTruncated},
		{"session id too long", splitRecords(helloSpec{version: 0x0303, sessionID: make([]byte, 33), suites: suites}.message(), 1<<14), ErrMalformed},
		{"odd cipher suites", splitRecords(helloSpec{version: 0x0303, suites: suites, oddSuites: true}.message(), 1<<14), ErrMalformed},
		{"trailing bytes", splitRecords(helloSpec{version: 0x0303, suites: suites, trailing: []byte{0}}.message(), 1<<14), ErrMalformed},
		{"extension overruns block", withExt([]byte{0, 0, 0, 9, 0}), ErrTruncated},
		{"extension type cut", withExt([]byte{0}), ErrTruncated},
		{"sni list overruns", withExt(ext(ExtServerName, 0, 9, 0)), ErrTruncated},
		{"sni trailing bytes", withExt(ext(ExtServerName, append(vec16(append([]byte{0}, vec16([]byte("a"))...)), 0)...)), ErrMalformed},
		{"sni entry cut", withExt(ext(ExtServerName, vec16([]byte{0, 0, 5, 'a'})...)), ErrTruncated},
		{"groups odd", withExt(ext(ExtSupportedGroups, vec16([]byte{0, 29, 0})...)), ErrMalformed},
		{"groups trailing", withExt(ext(ExtSupportedGroups, append(vec16(u16s(29)), 1)...)), ErrMalformed},
		{"points overrun", withExt(ext(ExtECPointFormats, 3, 0)), ErrTruncated},
		{"sigalgs missing length", withExt(ext(ExtSignatureAlgorithms, 0)), ErrTruncated},
		{"alpn protocol overruns", withExt(ext(ExtALPN, vec16([]byte{5, 'h', '2'})...)), ErrTruncated},
		{"alpn trailing", withExt(ext(ExtALPN, append(vec16(vec8([]byte("h2"))), 7)...)), ErrMalformed},
		{"versions odd", withExt(ext(ExtSupportedVersions, vec8([]byte{3, 4, 3})...)), ErrMalformed},
		{"versions empty body", withExt(ext(ExtSupportedVersions)), ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseClientHello(tt.input)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if h != nil {
				t.Errorf("got a ClientHello with an error")
			}
		})
	}
}

// TestParseClientHelloSynthetic covers shapes the published captures lack:
// no extensions block, empty lists, duplicate extensions, several SNI names.
func TestParseClientHelloSynthetic(t *testing.T) {
	suites := u16s(0x002f)
	tests := []struct {
		name  string
		spec  helloSpec
		check func(t *testing.T, h *ClientHello)
	}{
		{"no extensions block", helloSpec{version: 0x0300, suites: suites, noExts: true}, func(t *testing.T, h *ClientHello) {
			if h.Extensions != nil || h.SupportedGroups != nil || h.ALPN != nil {
				t.Errorf("got %+v", h)
			}
			// printf 002f | sha256sum -> ba72b8082249...
			if got := h.JA4(ProtocolTCP); got != "ts3i010000_ba72b8082249_000000000000" {
				t.Errorf("JA4 = %s", got)
			}
		}},
		{"no cipher suites", helloSpec{version: 0x0303}, func(t *testing.T, h *ClientHello) {
			if got := h.JA4(ProtocolTCP); got != "t12i000000_000000000000_000000000000" {
				t.Errorf("JA4 = %s", got)
			}
			if raw, _ := h.JA3(); raw != "771,,,," {
				t.Errorf("JA3 raw = %q", raw)
			}
		}},
		{"empty lists present", helloSpec{version: 0x0303, suites: suites, extensions: [][]byte{
			ext(ExtSupportedGroups, 0, 0), ext(ExtALPN, 0, 0), ext(ExtServerName, 0, 0),
		}}, func(t *testing.T, h *ClientHello) {
			if h.SupportedGroups == nil || len(h.SupportedGroups) != 0 || h.ALPN == nil || len(h.ALPN) != 0 {
				t.Errorf("empty extensions should give empty, non-nil lists: %+v", h)
			}
			if h.ServerName != "" || !h.HasExtension(ExtServerName) {
				t.Errorf("server name %q", h.ServerName)
			}
		}},
		{"duplicates keep first", helloSpec{version: 0x0303, suites: suites, extensions: [][]byte{
			ext(ExtALPN, vec16(vec8([]byte("h2")))...),
			ext(ExtALPN, vec16(vec8([]byte("x")))...),
			ext(ExtServerName, vec16(append(append([]byte{7}, vec16([]byte("other"))...), append([]byte{0}, vec16([]byte("shop.example"))...)...))...),
			ext(ExtServerName, vec16(append([]byte{0}, vec16([]byte("second.example"))...))...),
		}}, func(t *testing.T, h *ClientHello) {
			if !slices.Equal(h.ALPN, []string{"h2"}) || h.ServerName != "shop.example" {
				t.Errorf("alpn %q sni %q", h.ALPN, h.ServerName)
			}
			if !slices.Equal(h.Extensions, []uint16{ExtALPN, ExtALPN, ExtServerName, ExtServerName}) {
				t.Errorf("extensions %v", h.Extensions)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseClientHello(splitRecords(tt.spec.message(), 1<<14))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, h)
		})
	}
}

// TestParseClientHelloDoesNotAlias makes sure the result stays valid after
// the caller reuses its read buffer.
func TestParseClientHelloDoesNotAlias(t *testing.T) {
	buf := loadHex(t, "cyberchef_ja4_chrome")
	h, err := ParseClientHello(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := h.JA4Raw(ProtocolTCP) + h.ServerName + h.ALPN[0]
	clear(buf)
	if got := h.JA4Raw(ProtocolTCP) + h.ServerName + h.ALPN[0]; got != want {
		t.Errorf("result changed after buffer reuse: %s", got)
	}
}

// TestClientHelloSize checks that the size of a complete ClientHello is the
// length of its records, and that the bound returned for every prefix is
// sound: larger than the prefix, reached by the full stream, and no longer
// prefix below it parses.
func TestClientHelloSize(t *testing.T) {
	for _, name := range fixtureNames {
		records := loadHex(t, name)
		for _, hello := range [][]byte{records, splitRecords(messageOf(t, records), 3, 40)} {
			stream := append(slices.Clip(hello), 23, 3, 3, 0, 1, 'x')
			if n, err := ClientHelloSize(stream); err != nil || n != len(hello) {
				t.Fatalf("%s: size %d, %v; want %d", name, n, err, len(hello))
			}
			for i := range len(hello) {
				n, err := ClientHelloSize(hello[:i])
				if err != ErrNeedMore || n <= i || n > len(hello) {
					t.Fatalf("%s prefix %d: size %d, %v", name, i, n, err)
				}
				for k := i; k < n; k++ {
					if _, err := ParseClientHello(hello[:k]); err != ErrNeedMore {
						t.Fatalf("%s: prefix %d parsed (%v) below the bound %d given at %d", name, k, err, n, i)
					}
				}
			}
		}
	}
	if n, err := ClientHelloSize([]byte("GET /")); n != 0 || !errors.Is(err, ErrNotClientHello) {
		t.Errorf("http: %d, %v", n, err)
	}
}
