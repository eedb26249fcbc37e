package http1

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// A parse error says what answer the client gets: 400 for a malformed
// request, 431 for headers over the limit, 505 for an HTTP version other
// than 1.0 and 1.1, 501 for a transfer coding other than chunked.
type parseError struct {
	status int
	msg    string
}

func (e *parseError) Error() string { return e.msg }

func badRequest(msg string) error { return &parseError{http.StatusBadRequest, msg} }

// errHeadersTooLarge is the 431 answer.
var errHeadersTooLarge = &parseError{http.StatusRequestHeaderFieldsTooLarge, "request headers too large"}

// head is one request's head as read: the request line and the header
// fields in the order sent, every string a slice of one copy of the
// bytes.
type head struct {
	method, target, proto string
	major, minor          int
	// names and values are the fields in order; names as sent (any case).
	names, values []string
}

// readHead reads a request head from br: lines up to an empty one, at
// most max bytes of them (request line included), into buf (reused; the
// returned head's strings do not point into it). It returns io.EOF
// unwrapped when the connection ended before a request began.
func readHead(br *bufio.Reader, buf []byte, max int) (head, []byte, error) {
	buf, err := readHeadBytes(br, buf, max)
	switch {
	case err == errTooLong:
		return head{}, buf, errHeadersTooLarge
	case err == errBlankLines:
		return head{}, buf, badRequest("empty lines instead of a request")
	case err != nil && (len(buf) == 0 || errors.Is(err, os.ErrDeadlineExceeded)):
		return head{}, buf, err // nothing of a request, or too slow: the caller tells which
	case err != nil:
		return head{}, buf, badRequest("incomplete request head: " + err.Error())
	}
	h, err := parseHead(string(buf))
	return h, buf, err
}

var (
	errTooLong    = errors.New("http1: head longer than the limit")
	errBlankLines = errors.New("http1: empty lines instead of a head")
)

// readHeadBytes reads a message head from br into buf[:0]: lines up to an
// empty one, at most max bytes of them. A few empty lines before the
// first are skipped (RFC 9112, section 2.2). It returns errTooLong,
// errBlankLines, or br's error as it is, with what was read of the head.
func readHeadBytes(br *bufio.Reader, buf []byte, max int) ([]byte, error) {
	buf = buf[:0]
	for blank := 0; ; {
		start := len(buf)
		for {
			frag, err := br.ReadSlice('\n')
			if len(buf)+len(frag) > max {
				return buf, errTooLong
			}
			buf = append(buf, frag...)
			if err == bufio.ErrBufferFull {
				continue // a line longer than the reader's buffer
			}
			if err != nil {
				return buf, err
			}
			break
		}
		if line := buf[start:]; len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			if start > 0 {
				return buf, nil // the empty line that ends the head
			}
			if blank++; blank > 4 {
				return buf, errBlankLines
			}
			buf = buf[:0]
		}
	}
}

// parseHead parses a request head ending in an empty line.
func parseHead(s string) (head, error) {
	var h head
	line, rest := cutLine(s)
	var ok bool
	if h.method, line, ok = strings.Cut(line, " "); !ok || !validMethod(h.method) {
		return h, badRequest("malformed request line")
	}
	if h.target, h.proto, ok = strings.Cut(line, " "); !ok || h.target == "" || strings.IndexFunc(h.target, notTargetByte) >= 0 {
		return h, badRequest("malformed request line")
	}
	switch h.proto {
	case "HTTP/1.1":
		h.major, h.minor = 1, 1
	case "HTTP/1.0":
		h.major, h.minor = 1, 0
	default:
		if !strings.HasPrefix(h.proto, "HTTP/") || strings.ContainsAny(h.proto, " \t") {
			return h, badRequest("malformed HTTP version")
		}
		return h, &parseError{http.StatusHTTPVersionNotSupported, "unsupported HTTP version " + h.proto}
	}
	n := strings.Count(rest, "\n")
	h.names, h.values = make([]string, 0, n), make([]string, 0, n)
	for {
		line, rest = cutLine(rest)
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return h, badRequest("obsolete line folding in the headers")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) { // also refuses "Name :" (RFC 9112, section 5.1)
			return h, badRequest("malformed header line")
		}
		value = strings.Trim(value, " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return h, badRequest("invalid header value of " + name)
		}
		h.names = append(h.names, name)
		h.values = append(h.values, value)
	}
	return h, nil
}

// cutLine returns s's first line without its CRLF or LF, and the rest.
func cutLine(s string) (line, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, ""
	}
	line, rest = s[:i], s[i+1:]
	return strings.TrimSuffix(line, "\r"), rest
}

// validMethod reports whether m is a token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !httpguts.IsTokenRune(rune(m[i])) {
			return false
		}
	}
	return true
}

// notTargetByte reports a rune that cannot be in a request target:
// controls, spaces and non-ASCII.
func notTargetByte(r rune) bool { return r <= ' ' || r >= 0x7f }

// framing is how a request's body is delimited.
type framing struct {
	length  int64 // -1: chunked
	chunked bool
}

// request fills r (whose context is already set) from h: the URL, the
// header map with canonical keys, the host and the body's framing. The
// checks against request smuggling are here: a Transfer-Encoding other
// than a single chunked, with a Content-Length beside it, or in HTTP/1.0;
// Content-Lengths that are not one decimal number; several Hosts, or none
// in HTTP/1.1.
func request(r *http.Request, h *head) (framing, error) {
	r.Method, r.RequestURI, r.Proto, r.ProtoMajor, r.ProtoMinor = h.method, h.target, h.proto, h.major, h.minor
	var err error
	if h.method == http.MethodConnect && !strings.HasPrefix(h.target, "/") {
		// Authority form: it becomes the request's host, so it must be one.
		if h.target == "" || !httpguts.ValidHostHeader(h.target) {
			return framing{}, badRequest("malformed CONNECT target")
		}
		r.URL = &url.URL{Host: h.target}
	} else if r.URL, err = url.ParseRequestURI(h.target); err != nil {
		return framing{}, badRequest("malformed request target")
	}
	hdr := make(http.Header, len(h.names))
	var strs []string // one backing array for the values, as net/http does
	if n := len(h.names); n > 0 {
		strs = make([]string, n)
	}
	hosts := 0
	for i, raw := range h.names {
		key, v := canonical(raw), h.values[i]
		if key == "Host" {
			hosts++
			r.Host = v
			continue // promoted to r.Host, as net/http does
		}
		addField(hdr, strs, i, key, v)
	}
	r.Header = hdr
	switch {
	case hosts > 1:
		return framing{}, badRequest("more than one Host header")
	case hosts == 0 && h.minor == 1:
		return framing{}, badRequest("missing required Host header")
	case !httpguts.ValidHostHeader(r.Host):
		return framing{}, badRequest("malformed Host header")
	}
	if r.URL.Host != "" {
		r.Host = r.URL.Host // absolute form: its authority wins (RFC 9112, section 3.2.2)
	}
	r.Close = closeRequested(hdr, h.minor)
	f, fe := bodyFraming(hdr, h.minor)
	switch {
	case fe != nil && fe.unsupported:
		return framing{}, &parseError{http.StatusNotImplemented, fe.msg}
	case fe != nil:
		return framing{}, badRequest(fe.msg)
	case f.chunked:
		r.TransferEncoding = []string{"chunked"}
	case f.length < 0:
		f.length = 0 // a request without a length has no body
	}
	r.ContentLength = f.length
	return f, nil
}

// addField adds a header field under its canonical key; a key's first
// value is backed by strs[i] (one array for all the fields, as net/http
// does), later ones are appended.
func addField(hdr http.Header, strs []string, i int, key, v string) {
	if prior, ok := hdr[key]; ok {
		hdr[key] = append(prior, v)
		return
	}
	strs[i] = v
	hdr[key] = strs[i : i+1 : i+1]
}

// framingError is a message framing that requests and answers both
// refuse; unsupported marks a transfer coding other than chunked.
type framingError struct {
	unsupported bool
	msg         string
}

// bodyFraming reads how a message's body is delimited from its header,
// refusing the framings request smuggling relies on: a Transfer-Encoding
// other than a single chunked, one in HTTP/1.0 or beside a
// Content-Length, Content-Lengths that are not one decimal number or
// that differ. A chunked body's Transfer-Encoding is removed from hdr
// (the body is read de-chunked) and repeated equal Content-Lengths
// become one. Without either the length is -1.
func bodyFraming(hdr http.Header, minor int) (framing, *framingError) {
	te, cl := hdr["Transfer-Encoding"], hdr["Content-Length"]
	if len(te) > 0 {
		switch {
		case minor == 0:
			return framing{}, &framingError{msg: "Transfer-Encoding in HTTP/1.0"}
		case len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked"):
			return framing{}, &framingError{unsupported: true, msg: "unsupported transfer encoding " + strconv.Quote(truncate(strings.Join(te, ", "), 64))}
		case len(cl) > 0:
			return framing{}, &framingError{msg: "both Transfer-Encoding and Content-Length"}
		}
		delete(hdr, "Transfer-Encoding")
		return framing{length: -1, chunked: true}, nil
	}
	if len(cl) == 0 {
		return framing{length: -1}, nil
	}
	n, err := parseLength(cl[0])
	if err != nil {
		return framing{}, &framingError{msg: "malformed Content-Length " + strconv.Quote(truncate(cl[0], 32))}
	}
	for _, v := range cl[1:] {
		if v != cl[0] {
			return framing{}, &framingError{msg: "conflicting Content-Length headers"}
		}
	}
	hdr["Content-Length"] = cl[:1]
	return framing{length: n}, nil
}

// parseLength reads a Content-Length: decimal digits only.
func parseLength(v string) (int64, error) {
	if v == "" || len(v) > 18 || strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, badRequest("malformed Content-Length")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, badRequest("malformed Content-Length")
	}
	return n, nil
}

// closeRequested reports whether the client asks to close the
// connection after this request: Connection: close, or HTTP/1.0 without
// Connection: keep-alive.
func closeRequested(hdr http.Header, minor int) bool {
	c := hdr["Connection"]
	return HasToken(c, "close") || minor == 0 && !HasToken(c, "keep-alive")
}

// canonical returns the canonical form of a header name (as
// http.CanonicalHeaderKey), without allocating for common names.
func canonical(name string) string {
	if c, ok := common[name]; ok {
		return c
	}
	var buf [64]byte
	if len(name) <= len(buf) {
		b := buf[:len(name)]
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[i] = c
			upper = c == '-'
		}
		if c, ok := common[string(b)]; ok {
			return c
		}
		if bytes.Equal(b, []byte(name)) {
			return name
		}
	}
	return http.CanonicalHeaderKey(name)
}

// common interns the header names browsers and shops send most.
var common = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Length", "Content-Type", "Cookie", "Dnt", "Expect", "Host",
		"If-Modified-Since", "If-None-Match", "Origin", "Pragma", "Priority", "Referer", "Sec-Ch-Ua",
		"Sec-Ch-Ua-Mobile", "Sec-Ch-Ua-Platform", "Sec-Fetch-Dest", "Sec-Fetch-Mode", "Sec-Fetch-Site",
		"Sec-Fetch-User", "Te", "Transfer-Encoding", "Upgrade", "Upgrade-Insecure-Requests", "User-Agent",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Requested-With"} {
		m[n] = n
	}
	return m
}()
