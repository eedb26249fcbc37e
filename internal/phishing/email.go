package phishing

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// Limits of ParseEmail. A message past MaxEmailSize or MaxHeaderFields is
// refused; parts nested deeper than MaxMIMEDepth or past MaxMIMEParts are
// left out and the Email says it is Truncated.
const (
	MaxEmailSize    = 1 << 20
	MaxHeaderFields = 500
	MaxMIMEDepth    = 8
	MaxMIMEParts    = 200
)

const (
	// maxPartHeaderFields bounds the header fields of one MIME part.
	maxPartHeaderFields = 100
	// maxTextSize bounds Email.Text and Email.HTML, in bytes.
	maxTextSize = 1 << 20
	// maxDefects bounds the defects one Email lists.
	maxDefects = 50
	// maxAddresses bounds the addresses read from one field.
	maxAddresses = 100
	// maxAuthResults bounds the results read from one
	// Authentication-Results field, maxAuthProps the properties of one.
	maxAuthResults = 50
	maxAuthProps   = 20
)

var (
	// ErrNotEmail means the input is not an e-mail message (RFC 5322).
	ErrNotEmail = errors.New("phishing: not an e-mail")
	// ErrEmailLimit means the message is past one of ParseEmail's limits.
	ErrEmailLimit = errors.New("phishing: e-mail past a limit")
	// ErrNotAuthResults means a text is not an Authentication-Results
	// field (RFC 8601).
	ErrNotAuthResults = errors.New("phishing: not Authentication-Results")
)

// Email is what an e-mail message shows of itself: who it says it is
// from, where replies and bounces go, what the reader sees and where its
// links lead, what is attached, and what the receiving servers found of
// its authentication.
type Email struct {
	// From is the first author (nil when the message has none that can
	// be read); Sender the Sender field, if any.
	From   *Address  `json:"from,omitempty"`
	Sender *Address  `json:"sender,omitempty"`
	To     []Address `json:"to,omitempty"`
	// ReplyTo are the addresses replies go to.
	ReplyTo []Address `json:"reply_to,omitempty"`
	// ReturnPath is the envelope sender, where bounces go ("" for none
	// or the null sender "<>").
	ReturnPath string `json:"return_path,omitempty"`
	// Subject is decoded (RFC 2047), in UTF-8.
	Subject string `json:"subject"`
	// Date is zero when the message has none that can be read.
	Date      time.Time `json:"date"`
	MessageID string    `json:"message_id,omitempty"`
	// Received counts the Received fields: the hops the message made.
	Received int `json:"received"`
	// Text is what the reader sees, in UTF-8: the text/plain parts, or,
	// when there are none, the text of the HTML parts.
	Text string `json:"text"`
	// HTML is the HTML parts, decoded to UTF-8.
	HTML string `json:"html,omitempty"`
	// Links are the links of the text and HTML parts: the offsets of
	// Kind LinkText links are in Text, those of the others in HTML.
	Links []Link `json:"links"`
	// Attachments are the attached files (their names and types only).
	Attachments []Attachment `json:"attachments,omitempty"`
	// Auth are the Authentication-Results fields, in the order of the
	// header (the first was added last, by the server nearest the reader).
	Auth []AuthResults `json:"authentication_results,omitempty"`
	// Attached are messages attached whole (message/rfc822: a phishing
	// e-mail forwarded as an attachment).
	Attached []*Email `json:"attached_messages,omitempty"`
	// Header holds every header field, values as written (unfolded).
	Header mail.Header `json:"-"`
	// Defects say how the message departs from the standards where it
	// could still be read ("lines end in a bare LF").
	Defects []string `json:"defects,omitempty"`
	// Truncated says parts, links or text were left out at a limit.
	Truncated bool `json:"truncated"`
}

// Address is a mailbox: the display name the reader sees and the address.
type Address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

// Domain is the address's domain, lower-case ("" when it has none).
func (a Address) Domain() string {
	i := strings.LastIndexByte(a.Address, '@')
	if i < 0 {
		return ""
	}
	return strings.Trim(strings.ToLower(a.Address[i+1:]), ".[] ")
}

// String writes the mailbox the way a mail client shows it.
func (a Address) String() string {
	if a.Name == "" {
		return "<" + a.Address + ">"
	}
	return fmt.Sprintf("%q <%s>", a.Name, a.Address)
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type"`
	// Disposition is "attachment", "inline" or "" (none given).
	Disposition string `json:"disposition,omitempty"`
}

// AuthResults is one Authentication-Results field (RFC 8601): the server
// that checked the message and what it found.
type AuthResults struct {
	// AuthServID names the server that wrote the field ("mx.google.com").
	AuthServID string       `json:"authserv_id"`
	Results    []AuthResult `json:"results"`
}

// AuthResult is the outcome of one method (spf, dkim, dmarc, arc, ...).
type AuthResult struct {
	// Method and Result are lower-case ("dkim", "pass").
	Method string `json:"method"`
	Result string `json:"result"`
	Reason string `json:"reason,omitempty"`
	// Props are the properties the method checked, keyed "ptype.property"
	// in lower case: "smtp.mailfrom", "header.d", "header.from".
	Props map[string]string `json:"properties,omitempty"`
}

// ParseEmail reads a raw e-mail message (RFC 5322, with MIME parts):
// header fields, addresses, subject, text and HTML bodies in UTF-8 with
// their links, attachments, attached messages and Authentication-Results.
// Mail as it is found in the wild is read as far as it can be (bare LF
// line endings, no MIME-Version, unknown charsets, broken base64), each
// departure noted in Defects. A message past MaxEmailSize or
// MaxHeaderFields is ErrEmailLimit; one without header fields ErrNotEmail.
func ParseEmail(raw []byte) (*Email, error) {
	if len(raw) > MaxEmailSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrEmailLimit, len(raw), MaxEmailSize)
	}
	data, bareLF := normalizeNewlines(raw)
	p := &emailParser{bareLF: bareLF}
	p.dec = &mime.WordDecoder{CharsetReader: p.charsetReader}
	return p.message(data, 0)
}

// normalizeNewlines turns CRLF into LF, so that mail with either or both
// line endings reads the same, and reports bare LFs.
func normalizeNewlines(raw []byte) ([]byte, bool) {
	lf := bytes.Count(raw, []byte("\n"))
	crlf := bytes.Count(raw, []byte("\r\n"))
	if crlf == 0 {
		return raw, lf > 0
	}
	return bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), lf > crlf
}

// emailParser holds what one ParseEmail call shares across the message
// and the messages attached to it.
type emailParser struct {
	bareLF bool // the message's lines end in LF, not CRLF
	parts  int
	dec    *mime.WordDecoder
	cur    *Email // the message whose Defects get the charset decoder's
}

// bodies gathers the text and HTML parts of one message.
type bodies struct {
	plain, html []string
}

func (e *Email) defect(format string, args ...any) {
	switch {
	case len(e.Defects) < maxDefects:
		e.Defects = append(e.Defects, fmt.Sprintf(format, args...))
	case len(e.Defects) == maxDefects:
		e.Defects = append(e.Defects, "more defects not listed")
	}
}

// message reads one message (the top one or an attached one).
func (p *emailParser) message(data []byte, depth int) (*Email, error) {
	e := &Email{Links: []Link{}}
	if p.bareLF && depth == 0 {
		e.defect("lines end in a bare LF, not CRLF")
	}
	prev := p.cur
	p.cur = e
	defer func() { p.cur = prev }()
	h, body, err := p.header(e, data, MaxHeaderFields, depth == 0)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("%w: no header fields (a raw e-mail starts with fields such as From: and Subject:)", ErrNotEmail)
	}
	e.Header = mail.Header(h)
	p.fields(e, h)
	var b bodies
	p.entity(e, &b, h, body, depth)
	p.finish(e, &b)
	return e, nil
}

// header reads a header section: fields until an empty line, folded
// lines unfolded. A line that is no field ends the header (a defect); a
// header past maxFields is ErrEmailLimit. An mbox "From " line may come
// first in the top one.
func (p *emailParser) header(e *Email, data []byte, maxFields int, top bool) (textproto.MIMEHeader, []byte, error) {
	h := textproto.MIMEHeader{}
	var (
		last    string // canonical name of the field being read
		fields  int
		latin1  bool
		pos     int
		unfolds []string
	)
	flush := func() {
		if last != "" {
			v := strings.TrimSpace(strings.Join(unfolds, ""))
			if !utf8.ValidString(v) {
				v, _ = charmap.Windows1252.NewDecoder().String(v)
				latin1 = true
			}
			h[last] = append(h[last], v)
		}
		last, unfolds = "", unfolds[:0]
	}
	defer func() {
		if latin1 {
			e.defect("header fields hold 8-bit text, read as windows-1252")
		}
	}()
	for pos < len(data) {
		end := bytes.IndexByte(data[pos:], '\n')
		next := pos + end + 1
		if end < 0 {
			end, next = len(data)-pos, len(data)
		}
		line := bytes.TrimSuffix(data[pos:pos+end], []byte("\r"))
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			flush()
			return h, data[next:], nil
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				e.defect("header starts with a folded line %.60q", line)
			} else {
				unfolds = append(unfolds, string(line))
			}
		default:
			name, value, ok := bytes.Cut(line, []byte(":"))
			name = bytes.TrimRight(name, " \t")
			switch {
			case ok && validFieldName(name):
				flush()
				if fields++; fields > maxFields {
					return nil, nil, fmt.Errorf("%w: more than %d header fields", ErrEmailLimit, maxFields)
				}
				last = textproto.CanonicalMIMEHeaderKey(string(name))
				unfolds = append(unfolds, string(value))
			case top && pos == 0 && bytes.HasPrefix(line, []byte("From ")):
				e.defect("an mbox From line before the header")
			case ok && len(name) > 0 && !bytes.ContainsAny(name, " \t"):
				flush()
				e.defect("header field with an invalid name %.60q skipped", name)
			default:
				flush()
				if fields > 0 {
					e.defect("the header ends without an empty line, at %.60q", line)
				}
				return h, data[pos:], nil
			}
		}
		pos = next
	}
	flush()
	return h, nil, nil
}

// validFieldName reports whether name is a header field name: printable
// ASCII without colon (RFC 5322 section 2.2).
func validFieldName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// fields reads the header fields the Email names.
func (p *emailParser) fields(e *Email, h textproto.MIMEHeader) {
	if from := p.addresses(e, h, "From"); len(from) > 0 {
		e.From = &from[0]
		if len(from) > 1 {
			e.defect("From names %d authors; the first is taken", len(from))
		}
	}
	if s := p.addresses(e, h, "Sender"); len(s) > 0 {
		e.Sender = &s[0]
	}
	e.ReplyTo = p.addresses(e, h, "Reply-To")
	e.To = p.addresses(e, h, "To")
	if rp := h.Get("Return-Path"); rp != "" {
		if i := strings.IndexByte(rp, '<'); i >= 0 {
			rp = rp[i+1:]
			if j := strings.IndexByte(rp, '>'); j >= 0 {
				rp = rp[:j]
			}
		}
		e.ReturnPath = strings.TrimSpace(rp)
	}
	e.Subject = p.decodeWords(e, h.Get("Subject"))
	if d := h.Get("Date"); d != "" {
		t, err := mail.ParseDate(d)
		if err != nil {
			e.defect("Date %.60q cannot be read: %v", d, err)
		}
		e.Date = t
	}
	e.MessageID = h.Get("Message-Id")
	e.Received = len(h["Received"])
	for _, v := range h["Authentication-Results"] {
		ar, err := ParseAuthResults(v)
		if err != nil {
			e.defect("%v", err)
			continue
		}
		e.Auth = append(e.Auth, ar)
	}
	if h.Get("Content-Type") != "" && h.Get("Mime-Version") == "" {
		e.defect("Content-Type without MIME-Version")
	}
}

// addresses reads an address field, leniently when it breaks the rules.
func (p *emailParser) addresses(e *Email, h textproto.MIMEHeader, name string) []Address {
	vs := h[name]
	if len(vs) == 0 || vs[0] == "" {
		return nil
	}
	if len(vs) > 1 {
		e.defect("%d %s fields; the first is taken", len(vs), name)
	}
	ap := mail.AddressParser{WordDecoder: p.dec}
	list, err := ap.ParseList(vs[0])
	var out []Address
	if err == nil {
		for _, a := range list[:min(len(list), maxAddresses)] {
			out = append(out, Address{Name: strings.ToValidUTF8(a.Name, "\uFFFD"), Address: strings.ToValidUTF8(a.Address, "\uFFFD")})
		}
		return out
	}
	e.defect("%s %.80q breaks RFC 5322 (%v); read leniently", name, vs[0], err)
	if strings.Count(vs[0], "@") == 1 { // one mailbox, its name unquoted ("Shop, Support <a@b>")
		if a, ok := p.lenientAddress(e, vs[0]); ok {
			return []Address{a}
		}
	}
	for _, piece := range splitOutside(vs[0], ',', maxAddresses) {
		if a, err := ap.Parse(piece); err == nil {
			out = append(out, Address{Name: strings.ToValidUTF8(a.Name, "\uFFFD"), Address: strings.ToValidUTF8(a.Address, "\uFFFD")})
		} else if a, ok := p.lenientAddress(e, piece); ok {
			out = append(out, a)
		}
	}
	return out
}

// lenientAddress reads a mailbox the way mail clients do when it breaks
// the rules: the address in the last <...>, or the word with an @.
func (p *emailParser) lenientAddress(e *Email, s string) (Address, bool) {
	var a Address
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		addr, _, _ := strings.Cut(s[i+1:], ">")
		a = Address{Name: s[:i], Address: strings.TrimSpace(addr)}
	} else {
		words := strings.Fields(s)
		for i, w := range words {
			if strings.Contains(w, "@") {
				a.Address = strings.Trim(w, "<>()\"',;")
				a.Name = strings.Join(append(slices.Clone(words[:i]), words[i+1:]...), " ")
				break
			}
		}
	}
	a.Name = p.decodeWords(e, strings.Trim(strings.TrimSpace(a.Name), "\"'() "))
	a.Address = strings.ToValidUTF8(a.Address, "\uFFFD")
	return a, strings.Contains(a.Address, "@")
}

// splitOutside splits s at sep outside quoted strings and angle
// brackets, into at most n pieces.
func splitOutside(s string, sep byte, n int) []string {
	var out []string
	quoted, angle, start := false, false, 0
	for i := 0; i < len(s) && len(out) < n-1; i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			angle = true
		case c == '>' && !quoted:
			angle = false
		case c == sep && !quoted && !angle:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// decodeWords decodes RFC 2047 encoded words ("=?utf-8?q?...?=").
func (p *emailParser) decodeWords(e *Email, s string) string {
	d, err := p.dec.DecodeHeader(s)
	if err != nil {
		e.defect("encoded words in %.60q cannot be read: %v", s, err)
		d = s
	}
	return strings.ToValidUTF8(d, "\uFFFD")
}

// charsetReader lets the word decoder read every charset toUTF8 reads.
func (p *emailParser) charsetReader(charset string, in io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(io.LimitReader(in, MaxEmailSize))
	if err != nil {
		return nil, err
	}
	return strings.NewReader(p.toUTF8(p.cur, b, charset)), nil
}

// toUTF8 decodes text in the named charset. Text without a charset, in
// us-ascii or in one unknown is taken as UTF-8 when it is valid UTF-8,
// else as windows-1252 (what mail clients do); the departure is a defect.
func (p *emailParser) toUTF8(e *Email, b []byte, charset string) string {
	cs := strings.ToLower(strings.Trim(charset, " \t\"'"))
	switch cs {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		if utf8.Valid(b) {
			return string(b)
		}
		if cs == "utf-8" || cs == "utf8" {
			e.defect("text declared utf-8 is not valid UTF-8")
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		if cs == "" {
			e.defect("8-bit text without a charset, read as windows-1252")
		} else {
			e.defect("8-bit text declared %s, read as windows-1252", cs)
		}
		s, _ := charmap.Windows1252.NewDecoder().Bytes(b)
		return string(s)
	}
	enc, err := htmlindex.Get(cs)
	if err != nil {
		if utf8.Valid(b) {
			e.defect("unknown charset %.40q, read as UTF-8", cs)
			return string(b)
		}
		e.defect("unknown charset %.40q, read as windows-1252", cs)
		s, _ := charmap.Windows1252.NewDecoder().Bytes(b)
		return string(s)
	}
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		e.defect("text in %s cannot be decoded: %v", cs, err)
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(s), "\uFFFD")
}

// entity reads one MIME entity: a multipart's parts in turn, a text or
// HTML body, an attached message, or an attachment.
func (p *emailParser) entity(e *Email, b *bodies, h textproto.MIMEHeader, body []byte, depth int) {
	if p.parts++; p.parts > MaxMIMEParts {
		if !e.Truncated {
			e.defect("more than %d MIME parts: the rest left out", MaxMIMEParts)
		}
		e.Truncated = true
		return
	}
	ct, params := p.mediaType(e, h, "Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	disp, dparams := p.mediaType(e, h, "Content-Disposition")
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = p.decodeWords(e, name)
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		p.multipart(e, b, ct, params["boundary"], body, depth)
	case ct == "message/rfc822" || ct == "message/global":
		e.Attachments = append(e.Attachments, Attachment{Name: name, ContentType: ct, Disposition: disp})
		if depth+1 > MaxMIMEDepth {
			e.defect("an attached message nested deeper than %d left out", MaxMIMEDepth)
			e.Truncated = true
			return
		}
		inner, err := p.message(p.decode(e, h, body), depth+1)
		if err != nil {
			e.defect("attached message: %v", err)
			e.Truncated = e.Truncated || errors.Is(err, ErrEmailLimit)
			return
		}
		e.Attached = append(e.Attached, inner)
	case disp == "attachment" || ct != "text/plain" && ct != "text/html":
		e.Attachments = append(e.Attachments, Attachment{Name: name, ContentType: ct, Disposition: disp})
	case ct == "text/html":
		b.html = append(b.html, p.toUTF8(e, p.decode(e, h, body), params["charset"]))
	default:
		b.plain = append(b.plain, p.toUTF8(e, p.decode(e, h, body), params["charset"]))
	}
}

// multipart reads the parts of a multipart entity.
func (p *emailParser) multipart(e *Email, b *bodies, ct, boundary string, body []byte, depth int) {
	if depth+1 > MaxMIMEDepth {
		e.defect("MIME parts nested deeper than %d left out", MaxMIMEDepth)
		e.Truncated = true
		return
	}
	if boundary == "" {
		e.defect("%s without a boundary, read as text", ct)
		b.plain = append(b.plain, p.toUTF8(e, body, ""))
		return
	}
	parts, closed := splitMultipart(body, boundary, MaxMIMEParts+1)
	if len(parts) == 0 {
		e.defect("%s has no part with boundary %.70q, read as text", ct, boundary)
		b.plain = append(b.plain, p.toUTF8(e, body, ""))
		return
	}
	if !closed {
		e.defect("%s is not closed by its final boundary", ct)
	}
	for _, part := range parts {
		if p.parts >= MaxMIMEParts {
			if !e.Truncated {
				e.defect("more than %d MIME parts: the rest left out", MaxMIMEParts)
			}
			e.Truncated = true
			return
		}
		ph, pbody, err := p.header(e, part, maxPartHeaderFields, false)
		if err != nil {
			e.defect("a MIME part: %v; left out", err)
			e.Truncated = true
			continue
		}
		p.entity(e, b, ph, pbody, depth+1)
	}
}

// splitMultipart cuts a multipart body at its boundary lines (RFC 2046
// section 5.1.1) into at most n parts, and reports whether the closing
// boundary was found.
func splitMultipart(body []byte, boundary string, n int) (parts [][]byte, closed bool) {
	delim := []byte("--" + boundary)
	start := -1
	for pos := 0; pos < len(body) && len(parts) < n; {
		i := bytes.Index(body[pos:], delim)
		if i < 0 {
			break
		}
		i += pos
		pos = i + len(delim)
		if i > 0 && body[i-1] != '\n' {
			continue
		}
		lineEnd := len(body)
		if j := bytes.IndexByte(body[pos:], '\n'); j >= 0 {
			lineEnd = pos + j
		}
		rest := body[pos:lineEnd]
		isClose := bytes.HasPrefix(rest, []byte("--"))
		if !isClose && len(bytes.TrimRight(rest, " \t\r")) > 0 {
			continue // a longer boundary that starts with this one
		}
		if start >= 0 {
			end := i
			if end > start && body[end-1] == '\n' {
				end--
			}
			parts = append(parts, body[start:end])
		}
		if isClose {
			return parts, true
		}
		start = min(lineEnd+1, len(body))
		pos = start
	}
	if start >= 0 && len(parts) < n {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// mediaType reads a Content-Type or Content-Disposition field: its
// value in lower case and its parameters, leniently when it breaks the
// rules (duplicate or malformed parameters, RFC 2231 values in charsets
// mime.ParseMediaType does not read).
func (p *emailParser) mediaType(e *Email, h textproto.MIMEHeader, field string) (string, map[string]string) {
	v := h.Get(field)
	if v == "" {
		return "", map[string]string{}
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || strings.Contains(v, "*=") || strings.Contains(v, "*0=") {
		if err != nil {
			e.defect("%s %.80q: %v; read leniently", field, v, err)
		}
		lmt, lparams := p.lenientParams(e, v)
		for k, val := range params { // what the standard parser read stands
			lparams[k] = val
		}
		if mt == "" {
			mt = lmt
		}
		params = lparams
	}
	if field == "Content-Type" && !strings.Contains(mt, "/") {
		e.defect("Content-Type %.60q is not a media type, read as text/plain", mt)
		mt = "text/plain"
	}
	return mt, params
}

// lenientParams reads "type; a=1; b*=utf-8'en'x%20y" without refusing
// anything: the first of duplicate parameters stands; RFC 2231 values
// and continuations are decoded in any charset toUTF8 reads.
func (p *emailParser) lenientParams(e *Email, v string) (string, map[string]string) {
	pieces := splitOutside(v, ';', 64)
	mt := strings.ToLower(strings.TrimSpace(pieces[0]))
	type segment struct {
		index     int
		ext, cont bool // an RFC 2231 value, a continuation
		value     string
	}
	segs := map[string][]segment{}
	for _, piece := range pieces[1:] {
		k, val, ok := strings.Cut(piece, "=")
		if !ok {
			continue
		}
		k, val = strings.ToLower(strings.TrimSpace(k)), unquoteMIME(strings.TrimSpace(val))
		ext := strings.HasSuffix(k, "*")
		k = strings.TrimSuffix(k, "*")
		index, cont := 0, false
		if i := strings.LastIndexByte(k, '*'); i >= 0 {
			if n, err := strconv.Atoi(k[i+1:]); err == nil && n >= 0 && n < 64 {
				k, index, cont = k[:i], n, true
			}
		}
		segs[k] = append(segs[k], segment{index, ext, cont, val})
	}
	params := map[string]string{}
	for k, ss := range segs {
		if !slices.ContainsFunc(ss, func(s segment) bool { return s.ext || s.cont }) {
			params[k] = ss[0].value // plain, or the first of duplicates
			continue
		}
		slices.SortStableFunc(ss, func(a, b segment) int { return a.index - b.index })
		var raw []byte
		charset := ""
		for i, s := range ss {
			val := s.value
			if s.ext {
				if i == 0 {
					if parts := strings.SplitN(val, "'", 3); len(parts) == 3 {
						charset, val = parts[0], parts[2]
					}
				}
				raw = append(raw, unescape(val)...)
			} else {
				raw = append(raw, val...)
			}
		}
		params[k] = p.toUTF8(e, raw, charset)
	}
	return mt, params
}

// unquoteMIME removes the quotes of a quoted string and its escapes.
func unquoteMIME(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// decode undoes an entity's Content-Transfer-Encoding, as far as it can.
func (p *emailParser) decode(e *Email, h textproto.MIMEHeader, body []byte) []byte {
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "base64":
		return decodeBase64(e, body)
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			e.defect("quoted-printable: %v; read as far as it goes", err)
		}
		return b
	case "", "7bit", "8bit", "binary":
		return body
	default:
		e.defect("unknown Content-Transfer-Encoding %.40q, read as it is", cte)
		return body
	}
}

// decodeBase64 decodes base64 the way mail clients do: characters
// outside the alphabet skipped, each run between padding decoded on its
// own (mailers that join encoded chunks), a dangling character dropped.
func decodeBase64(e *Email, body []byte) []byte {
	out := make([]byte, 0, len(body)*3/4)
	run := make([]byte, 0, 76)
	bad, dangling := false, false
	flush := func() {
		if len(run)%4 == 1 {
			run, dangling = run[:len(run)-1], true
		}
		n := len(out)
		out = out[:n+base64.RawStdEncoding.DecodedLen(len(run))]
		m, _ := base64.RawStdEncoding.Decode(out[n:], run) // the alphabet is checked: no error
		out = out[:n+m]
		run = run[:0]
	}
	for _, c := range body {
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/':
			run = append(run, c)
		case c == '=':
			flush()
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			bad = true
		}
	}
	flush()
	if bad {
		e.defect("base64 with characters outside its alphabet (skipped)")
	}
	if dangling {
		e.defect("base64 cut short (a dangling character dropped)")
	}
	return out
}

// finish sets the message's text, HTML and links from its bodies.
func (p *emailParser) finish(e *Email, b *bodies) {
	plain, cutPlain := joinAtMost(b.plain, "\n\n", maxTextSize)
	h, cutHTML := joinAtMost(b.html, "\n", maxTextSize)
	e.Truncated = e.Truncated || cutPlain || cutHTML
	e.Text, e.HTML = plain, h
	noPlain := strings.TrimSpace(plain) == "" // an empty text part beside the HTML
	var cut bool
	if !noPlain {
		e.Links, cut = appendTextLinks(e.Links, plain, 0, LinkText, MaxLinks)
		e.Truncated = e.Truncated || cut
	}
	if h != "" {
		s := scanHTML(h, noPlain, MaxLinks-len(e.Links))
		e.Links = append(e.Links, s.links...)
		e.Truncated = e.Truncated || s.linksCut || s.textCut
		if noPlain {
			e.Text = s.text
		}
	}
	if cutPlain || cutHTML {
		e.defect("text past %d bytes left out", maxTextSize)
	}
}

// joinAtMost joins parts with sep into at most max bytes (valid UTF-8),
// reporting whether some was left out.
func joinAtMost(parts []string, sep string, max int) (string, bool) {
	s := strings.Join(parts, sep)
	if len(s) <= max {
		return s, false
	}
	return strings.ToValidUTF8(s[:max], ""), true
}
