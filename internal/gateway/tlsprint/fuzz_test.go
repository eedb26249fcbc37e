package tlsprint

import (
	"bytes"
	"crypto/md5" //nolint:gosec // JA3 is defined over MD5.
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var (
	ja3Pattern    = regexp.MustCompile(`^\d+,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?,(\d+(-\d+)*)?$`)
	ja4Pattern    = regexp.MustCompile(`^[tq](13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{4}[0-9A-Za-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)
	ja4RawPattern = regexp.MustCompile(`^[tq](13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{4}[0-9A-Za-z]{2}_([0-9a-f]{4}(,[0-9a-f]{4})*)?_([0-9a-f]{4}(,[0-9a-f]{4})*(_[0-9a-f]{4}(,[0-9a-f]{4})*)?)?$`)
)

// seedCorpus adds the published fixtures, record-split and cut variants of
// them and a few synthetic hellos.
func seedCorpus(f *testing.F, add func(data []byte)) {
	for _, name := range fixtureNames {
		records := loadHex(f, name)
		msg := messageOf(f, records)
		add(records)
		add(splitRecords(msg, 3, 60))
		add(records[:len(records)/2])
		add(msg)
	}
	add(splitRecords(helloSpec{version: 0x0300, suites: u16s(0x002f), noExts: true}.message(), 1<<14))
	add(splitRecords(helloSpec{version: 0x0303, suites: u16s(0x1301), extensions: [][]byte{
		ext(ExtALPN, vec16(vec8([]byte{0x30, 0xab}))...),
		ext(ExtServerName, vec16(append([]byte{0}, vec16([]byte("shop.example"))...))...),
	}}.message(), 1<<14))
	add([]byte("GET / HTTP/1.1\r\n\r\n"))
}

// FuzzParseClientHello checks that no input panics, that errors are the
// documented sentinels, that a parse does not alias its input and that the
// fingerprints of every successful parse are well-formed and consistent.
func FuzzParseClientHello(f *testing.F) {
	seedCorpus(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseClientHelloMessage(data); err != nil {
			checkSentinel(t, err)
		}
		own := bytes.Clone(data)
		h, err := ParseClientHello(own)
		size, sizeErr := ClientHelloSize(data)
		if err != nil {
			checkSentinel(t, err)
			if h != nil {
				t.Fatal("ClientHello returned with an error")
			}
			switch {
			case err == ErrNeedMore:
				if sizeErr != ErrNeedMore || size <= len(data) {
					t.Fatalf("incomplete input: size %d, %v", size, sizeErr)
				}
			case sizeErr == nil:
				// The records are complete; the message inside is bad.
				if size > len(data) {
					t.Fatalf("size %d beyond input %d", size, len(data))
				}
			case unwrapSentinel(sizeErr) != unwrapSentinel(err):
				t.Fatalf("ClientHelloSize error %v, ParseClientHello error %v", sizeErr, err)
			}
			return
		}
		if sizeErr != nil || size > len(data) {
			t.Fatalf("parsed, but size %d, %v", size, sizeErr)
		}
		if again, err := ParseClientHello(data[:size]); err != nil || !reflect.DeepEqual(again, h) {
			t.Fatalf("reparse of the first %d bytes: %v", size, err)
		}
		before := *h
		beforeJA4 := h.JA4Raw(ProtocolTCP)
		clear(own)
		if !reflect.DeepEqual(*h, before) || h.JA4Raw(ProtocolTCP) != beforeJA4 {
			t.Fatal("ClientHello aliases the input buffer")
		}

		raw, hash := h.JA3()
		if !ja3Pattern.MatchString(raw) {
			t.Fatalf("malformed JA3 %q", raw)
		}
		if sum := md5.Sum([]byte(raw)); hex.EncodeToString(sum[:]) != hash { //nolint:gosec // JA3
			t.Fatalf("JA3 hash %s is not the MD5 of %q", hash, raw)
		}
		for _, proto := range []byte{ProtocolTCP, ProtocolQUIC} {
			fp, rawFP := h.JA4(proto), h.JA4Raw(proto)
			if !ja4Pattern.MatchString(fp) {
				t.Fatalf("malformed JA4 %q", fp)
			}
			if !ja4RawPattern.MatchString(rawFP) {
				t.Fatalf("malformed JA4_r %q", rawFP)
			}
			if want := hashJA4Raw(rawFP); fp != want {
				t.Fatalf("JA4 %s does not match JA4_r %s (hashes to %s)", fp, rawFP, want)
			}
		}
	})
}

// hashJA4Raw derives JA4 from JA4_r by the spec's rules, independently of
// the code under test: sections b and c are the truncated SHA-256 of the raw
// lists, or twelve zeros when a list is empty.
func hashJA4Raw(raw string) string {
	a, rest, _ := strings.Cut(raw, "_")
	ciphers, exts, _ := strings.Cut(rest, "_")
	h := func(s string) string {
		if s == "" {
			return "000000000000"
		}
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])[:12]
	}
	return a + "_" + h(ciphers) + "_" + h(exts)
}

func checkSentinel(t *testing.T, err error) {
	t.Helper()
	for _, s := range []error{ErrNeedMore, ErrNotClientHello, ErrTruncated, ErrMalformed, ErrTooLarge} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("error %v wraps no sentinel", err)
}

// FuzzConnCapture checks that capturing through a Conn with arbitrary read
// sizes and capture limits delivers the bytes unchanged and agrees with a
// one-shot ParseClientHello of the bytes within the limit.
func FuzzConnCapture(f *testing.F) {
	seedCorpus(f, func(b []byte) { f.Add(b, uint8(5), uint8(200), uint16(0)) })
	f.Add(loadHex(f, "cyberchef_ja4_chrome"), uint8(1), uint8(1), uint16(300))
	f.Fuzz(func(t *testing.T, data []byte, first, next uint8, limit uint16) {
		sizes := []int{max(int(first), 1), max(int(next), 1)}
		lim := int(limit)
		if lim == 0 {
			lim = DefaultMaxCaptureBytes
		}
		c := &Conn{Conn: &chunkConn{data: data, sizes: sizes}, limit: lim}
		var got []byte
		buf := make([]byte, 300)
		for {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
		}
		if !bytes.Equal(got, data) {
			t.Fatal("bytes changed on the way through")
		}
		h, err := c.ClientHello()
		want, wantErr := ParseClientHello(data[:min(len(data), lim)])
		switch {
		case wantErr == nil:
			if err != nil || !reflect.DeepEqual(h, want) {
				t.Fatalf("capture gave %+v, %v; one-shot parse %+v", h, err, want)
			}
		case errors.Is(wantErr, ErrNeedMore) && len(data) >= lim:
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("capture over the limit gave %v, want ErrTooLarge", err)
			}
		default:
			if err == nil || !errors.Is(err, unwrapSentinel(wantErr)) {
				t.Fatalf("capture gave %v, one-shot parse %v", err, wantErr)
			}
		}
	})
}

// unwrapSentinel returns the sentinel that err wraps.
func unwrapSentinel(err error) error {
	for _, s := range []error{ErrNeedMore, ErrNotClientHello, ErrTruncated, ErrMalformed, ErrTooLarge} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}
