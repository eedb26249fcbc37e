package tlsprint

import (
	"testing"
)

// TestFingerprintPublishedVectors checks JA3 and JA4 of published ClientHello
// byte dumps against their published fingerprints.
//
// Sources:
//   - JA3 hashes: gchq/CyberChef tests/operations/tests/JA3Fingerprint.mjs
//     (the testdata/cyberchef_ja3_*.hex inputs).
//   - JA4 values: gchq/CyberChef tests/operations/tests/JA4Fingerprint.mjs
//     (the testdata/cyberchef_ja4_*.hex inputs).
//   - JA4_r of the Chrome hello: FoxIO-LLC/ja4 technical_details/JA4.md,
//     "Raw Output" (the worked example t13d1516h2_8daaf6152771_e5627efa2ab1).
//   - JA3 string of the TLS 1.2 hello: its MD5 is the published hash above.
func TestFingerprintPublishedVectors(t *testing.T) {
	tests := []struct {
		fixture string
		ja3Raw  string // "" when only the hash is published
		ja3Hash string // "" when not published
		ja4     string // "" when not published
		ja4Raw  string // "" when not published
	}{
		{fixture: "cyberchef_ja3_tls10", ja3Hash: "503053a0c5b2bd9b9334bf7f3d3b8852"},
		{fixture: "cyberchef_ja3_tls11", ja3Hash: "a314eb64cee6cb832aaaa372c8295bab"},
		{
			fixture: "cyberchef_ja3_tls12",
			ja3Raw: "771,49200-49196-49192-49188-49172-49162-163-159-107-106-57-56-136-135-49202-49198-49194-49190-49167-49157-157-61-53-132-49170-49160" +
				"-22-19-49165-49155-10-49199-49195-49191-49187-49171-49161-162-158-103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156" +
				"-156-60-47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,24-23,0-1-2",
			ja3Hash: "c1a36e1a870786cc75edddc0009eaf3a",
		},
		// GREASE in ciphers (0x4a4a), extensions (0xdada, 0x0a0a) and groups (0x5a5a).
		{fixture: "cyberchef_ja3_tls13", ja3Hash: "4826a90ec2daf4f7b4b64cc1c8bd343b"},
		{
			fixture: "cyberchef_ja4_chrome",
			ja4:     "t13d1516h2_8daaf6152771_e5627efa2ab1",
			ja4Raw: "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_" +
				"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601",
		},
		{fixture: "cyberchef_ja4_firefox", ja4: "t13d1715h2_5b57614c22b0_3d5424432f57"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h, err := ParseClientHello(loadHex(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			raw, hash := h.JA3()
			if tt.ja3Raw != "" && raw != tt.ja3Raw {
				t.Errorf("JA3 raw\n got %s\nwant %s", raw, tt.ja3Raw)
			}
			if tt.ja3Hash != "" && hash != tt.ja3Hash {
				t.Errorf("JA3 hash = %s, want %s (raw %s)", hash, tt.ja3Hash, raw)
			}
			if got := h.JA4(ProtocolTCP); tt.ja4 != "" && got != tt.ja4 {
				t.Errorf("JA4 = %s, want %s", got, tt.ja4)
			}
			if got := h.JA4Raw(ProtocolTCP); tt.ja4Raw != "" && got != tt.ja4Raw {
				t.Errorf("JA4_r\n got %s\nwant %s", got, tt.ja4Raw)
			}
		})
	}
}

// specExample is the ClientHello of the worked example in FoxIO-LLC/ja4
// technical_details/JA4.md, rebuilt from the lists the spec prints.
func specExample() *ClientHello {
	return &ClientHello{
		Version: 0x0303,
		CipherSuites: []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
			0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005,
			0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015},
		ServerName:          "example.com",
		SignatureAlgorithms: []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		ALPN:                []string{"h2"},
		SupportedVersions:   []uint16{0x0304, 0x0303},
	}
}

// TestJA4SpecExample checks the worked example and the no-signature-
// algorithms variant published in FoxIO-LLC/ja4 technical_details/JA4.md,
// with GREASE values added to every list to show they are ignored.
func TestJA4SpecExample(t *testing.T) {
	h := specExample()
	if got := h.JA4(ProtocolTCP); got != "t13d1516h2_8daaf6152771_e5627efa2ab1" {
		t.Errorf("JA4 = %s", got)
	}

	g := specExample()
	g.CipherSuites = append([]uint16{0x2a2a}, g.CipherSuites...)
	g.Extensions = append(g.Extensions, 0xbaba)
	g.SignatureAlgorithms = append([]uint16{0x9a9a}, g.SignatureAlgorithms...)
	g.SupportedVersions = append([]uint16{0xfafa}, g.SupportedVersions...)
	if got, want := g.JA4Raw(ProtocolTCP), h.JA4Raw(ProtocolTCP); got != want {
		t.Errorf("GREASE changed JA4_r:\n got %s\nwant %s", got, want)
	}

	// "If there are no signature algorithms in the hello packet, then the
	// string ends without an underscore and is hashed ... = 6d807ffa2a79".
	h.SignatureAlgorithms = nil
	if got := h.JA4(ProtocolTCP); got != "t13d1516h2_8daaf6152771_6d807ffa2a79" {
		t.Errorf("JA4 without signature algorithms = %s", got)
	}
	// Only GREASE signature algorithms count as none.
	h.SignatureAlgorithms = []uint16{0x0a0a}
	if got := h.JA4(ProtocolTCP); got != "t13d1516h2_8daaf6152771_6d807ffa2a79" {
		t.Errorf("JA4 with GREASE-only signature algorithms = %s", got)
	}
}

func TestJA4Prefix(t *testing.T) {
	many := make([]uint16, 150)
	for i := range many {
		many[i] = uint16(i + 1)
	}
	tests := []struct {
		name     string
		hello    ClientHello
		protocol byte
		want     string // the part before the first '_'
	}{
		{"legacy version without supported_versions", ClientHello{Version: 0x0301}, ProtocolTCP, "t10i000000"},
		{"ssl3", ClientHello{Version: 0x0300}, ProtocolTCP, "ts3i000000"},
		{"ssl2", ClientHello{Version: 0x0002}, ProtocolTCP, "ts2i000000"},
		{"unknown version", ClientHello{Version: 0x7f12}, ProtocolTCP, "t00i000000"},
		{"highest supported version wins", ClientHello{Version: 0x0303, SupportedVersions: []uint16{0x0302, 0x0304, 0x0303}}, ProtocolTCP, "t13i000000"},
		{"GREASE-only supported_versions falls back", ClientHello{Version: 0x0303, SupportedVersions: []uint16{0x0a0a}}, ProtocolTCP, "t12i000000"},
		{"quic", ClientHello{Version: 0x0303}, ProtocolQUIC, "q12i000000"},
		{"unknown protocol is tcp", ClientHello{Version: 0x0303}, 'x', "t12i000000"},
		{"counts capped at 99", ClientHello{Version: 0x0303, CipherSuites: many, Extensions: many}, ProtocolTCP, "t12i999900"},
		{"GREASE not counted", ClientHello{Version: 0x0303, CipherSuites: []uint16{0x0a0a, 1}, Extensions: []uint16{0xfafa, 5}}, ProtocolTCP, "t12i010100"},
		{"sni extension makes d", ClientHello{Version: 0x0303, Extensions: []uint16{0}}, ProtocolTCP, "t12d000100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.hello.JA4(tt.protocol)
			if len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Errorf("JA4 = %s, want prefix %s", got, tt.want)
			}
		})
	}
}

// TestJA4ALPN covers the examples of JA4.md "ALPN Extension Value".
func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		alpn []string
		want string
	}{
		{nil, "00"},
		{[]string{}, "00"},
		{[]string{""}, "00"},
		{[]string{"h2"}, "h2"},
		{[]string{"http/1.1", "h2"}, "h1"},
		{[]string{"h"}, "hh"},
		{[]string{"\xab"}, "ab"},
		{[]string{"\xab\xcd"}, "ad"},
		{[]string{"\x30\xab"}, "3b"},
		{[]string{"\x30\x31\xab\xcd"}, "3d"},
		{[]string{"\x30\xab\xcd\x31"}, "01"},
	}
	for _, tt := range tests {
		h := ClientHello{Version: 0x0303, ALPN: tt.alpn}
		if got := h.JA4(ProtocolTCP)[8:10]; got != tt.want {
			t.Errorf("ALPN %q: got %s, want %s", tt.alpn, got, tt.want)
		}
	}
}

func TestIsGREASE(t *testing.T) {
	n := 0
	for v := range 1 << 16 {
		if IsGREASE(uint16(v)) {
			n++
			if v&0x0f0f != 0x0a0a || v>>8 != v&0xff {
				t.Errorf("%#04x reported as GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, RFC 8701 reserves 16", n)
	}
	for _, v := range []uint16{0x1a2a, 0x0a1a, 0xca34} {
		if IsGREASE(v) {
			t.Errorf("%#04x is not GREASE", v)
		}
	}
}

// BenchmarkFingerprint measures parse + JA3 + JA4 of a Chrome ClientHello
// (the CyberChef JA4 fixture: GREASE, 16 extensions, padding).
func BenchmarkFingerprint(b *testing.B) {
	data := loadHex(b, "cyberchef_ja4_chrome")
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			h, err := ParseClientHello(data)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = h.JA3()
			_ = h.JA4(ProtocolTCP)
		}
	})
	h, err := ParseClientHello(data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseClientHello(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ja3", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = h.JA3()
		}
	})
	b.Run("ja4", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.JA4(ProtocolTCP)
		}
	})
}
