package http1

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Response is an HTTP/1.x answer read from a server by ReadResponse: the
// status, the header fields and the body, delimited as its head says.
type Response struct {
	// StatusCode is the answer's status, 100–999.
	StatusCode int
	// Header holds the fields with canonical names, Transfer-Encoding
	// removed once the body is de-chunked; a Content-Length stays.
	Header http.Header
	// ContentLength is the body's length, or -1 when it is chunked or
	// runs until the connection closes.
	ContentLength int64
	// Close reports that the connection cannot carry another exchange
	// after this answer: the server said so, spoke HTTP/1.0 without
	// keep-alive, or the body runs until the connection closes.
	Close bool
	// Body reads the body, de-chunked (http.NoBody when there is none).
	// It reports io.ErrUnexpectedEOF when the connection ends before a
	// declared length or the last chunk.
	Body io.Reader

	lr      io.LimitedReader
	br      *bufio.Reader
	chunks  io.Reader
	chunked bool
	eof     bool
}

// ErrMalformedResponse is wrapped by every error ReadResponse returns for
// an answer that breaks HTTP/1.1's syntax or framing rules.
var ErrMalformedResponse = errors.New("malformed HTTP response")

func malformed(msg string) error { return fmt.Errorf("%w: %s", ErrMalformedResponse, msg) }

// ReadResponse reads the head of the answer to a request with the given
// method from br into resp (whose previous contents it replaces), using
// buf as scratch space (returned for reuse) and refusing a head longer
// than max bytes. It refuses the framings a request-smuggling attack
// relies on: a Transfer-Encoding other than a single chunked, a
// Transfer-Encoding beside a Content-Length, conflicting or malformed
// Content-Lengths. An answer without a body (to HEAD, 1xx, 204, 304) gets
// http.NoBody whatever its head declares.
//
// It allocates one string holding the whole head, of which the header's
// names and values are slices, and one slice of the values. It refills
// resp's header map when resp has one (the caller is done with the
// previous answer's map, though not with its values), else makes one.
func ReadResponse(br *bufio.Reader, buf []byte, method string, max int, resp *Response) ([]byte, error) {
	buf, err := readHeadBytes(br, buf, max)
	switch {
	case err == errTooLong:
		return buf, malformed("head longer than " + strconv.Itoa(max) + " bytes")
	case err == errBlankLines:
		return buf, malformed("empty lines instead of an answer")
	case err == io.EOF && len(buf) > 0:
		return buf, io.ErrUnexpectedEOF
	case err != nil:
		return buf, err
	}
	hdr := resp.Header
	clear(hdr)
	*resp = Response{br: br, Header: hdr}
	return buf, resp.parse(string(buf), method)
}

// parse fills r from the head s.
func (r *Response) parse(s, method string) error {
	line, rest := cutLine(s)
	proto, status, ok := strings.Cut(line, " ")
	minor := 1
	switch proto {
	case "HTTP/1.1":
	case "HTTP/1.0":
		minor = 0
	default:
		return malformed("status line " + strconv.Quote(truncate(line, 64)))
	}
	code, _, _ := strings.Cut(status, " ")
	if !ok || len(code) != 3 || code[0] < '1' || code[0] > '9' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
		return malformed("status line " + strconv.Quote(truncate(line, 64)))
	}
	r.StatusCode = int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0')
	n := strings.Count(rest, "\n")
	hdr := r.Header
	if hdr == nil {
		hdr = make(http.Header, n)
	}
	strs := make([]string, n) // one backing array for the values, as net/http does
	for i := 0; ; i++ {
		line, rest = cutLine(rest)
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return malformed("obsolete line folding in the headers")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return malformed("header line " + strconv.Quote(truncate(line, 64)))
		}
		value = strings.Trim(value, " \t")
		if !httpguts.ValidHeaderFieldValue(value) {
			return malformed("invalid value of header " + name)
		}
		addField(hdr, strs, i, canonical(name), value)
	}
	r.Header = hdr
	r.Close = HasToken(hdr["Connection"], "close") || minor == 0 && !HasToken(hdr["Connection"], "keep-alive")
	r.ContentLength = -1
	if method == http.MethodHead || r.StatusCode < 200 || r.StatusCode == http.StatusNoContent || r.StatusCode == http.StatusNotModified {
		// No body, whatever the head says (RFC 9112, section 6.3); a
		// Content-Length here describes the body a GET would have had.
		r.Body = http.NoBody
		if cl := hdr["Content-Length"]; len(cl) > 0 {
			if n, err := parseLength(cl[0]); err == nil {
				r.ContentLength = n
			}
		}
		return nil
	}
	f, fe := bodyFraming(hdr, minor)
	switch {
	case fe != nil:
		return malformed(fe.msg)
	case f.chunked:
		r.chunked = true
		r.chunks = httputil.NewChunkedReader(r.br)
	case f.length == 0:
		r.ContentLength, r.Body = 0, http.NoBody
		return nil
	case f.length > 0:
		r.ContentLength = f.length
		r.lr = io.LimitedReader{R: r.br, N: f.length}
	default:
		r.Close = true // the body runs until the server closes the connection
	}
	r.Body = (*responseBody)(r)
	return nil
}

// truncate returns s cut to at most n bytes, for error messages.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// responseBody is Response.Body for an answer that has one.
type responseBody Response

func (b *responseBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	switch {
	case b.chunked:
		n, err := b.chunks.Read(p)
		if err == io.EOF {
			if err = skipTrailer(b.br); err == nil {
				b.eof, err = true, io.EOF
			}
		}
		return n, err
	case b.ContentLength >= 0:
		n, err := b.lr.Read(p)
		switch {
		case err == io.EOF && b.lr.N > 0:
			err = io.ErrUnexpectedEOF
		case b.lr.N == 0:
			b.eof, err = true, io.EOF
		}
		return n, err
	default:
		n, err := b.br.Read(p)
		if err == io.EOF {
			b.eof = true
		}
		return n, err
	}
}

// writeThenRead writes w to c and then reads into p.
func writeThenRead(c net.Conn, w, p []byte) (written, n int, err error) {
	if written, err = c.Write(w); err != nil {
		return written, 0, err
	}
	n, err = c.Read(p)
	return written, n, err
}
