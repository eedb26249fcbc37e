package phishing

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// FeedFormat names the file format of a list of known-bad URLs.
type FeedFormat string

// Feed formats ReadFeed reads. Operators download the files themselves;
// shopguard never fetches them.
const (
	// FeedURLhaus is abuse.ch URLhaus's CSV export (the full dump or the
	// "online" one): comment lines starting with #, then quoted columns
	// id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter.
	FeedURLhaus FeedFormat = "urlhaus"
	// FeedPhishTankJSON is PhishTank's JSON export: an array of objects
	// with phish_id, url, phish_detail_url, submission_time, verified,
	// verification_time, online, target and details.
	FeedPhishTankJSON FeedFormat = "phishtank-json"
	// FeedPhishTankCSV is PhishTank's CSV export: a header line naming
	// the same columns, then one phish a line.
	FeedPhishTankCSV FeedFormat = "phishtank-csv"
	// FeedOpenPhish is OpenPhish's feed: one URL a line.
	FeedOpenPhish FeedFormat = "openphish"
	// FeedPlain is a plain list: one URL or host name a line; blank lines
	// and text from a # that starts a line or follows a space are
	// comments. A bare host name lists the whole host.
	FeedPlain FeedFormat = "plain"
	// FeedAuto tells ReadFeed to recognise the format from the content.
	FeedAuto FeedFormat = "auto"
)

// FeedFormats lists the formats ReadFeed reads, FeedAuto last.
var FeedFormats = []FeedFormat{FeedURLhaus, FeedPhishTankJSON, FeedPhishTankCSV, FeedOpenPhish, FeedPlain, FeedAuto}

// ErrFeed means a feed cannot be read as a whole: its format is not the
// one given, it is larger than allowed, or it breaks off. Bad lines are
// not this error: ReadFeed counts and skips them.
var ErrFeed = errors.New("phishing: unreadable feed")

// ParseFeedFormat returns the format named s, or an error wrapping ErrFeed.
func ParseFeedFormat(s string) (FeedFormat, error) {
	for _, f := range FeedFormats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(FeedFormats))
	for i, f := range FeedFormats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("%w: format %q is not one of %s", ErrFeed, s, strings.Join(names, ", "))
}

// Defaults of FeedLimits.
const (
	// DefaultFeedMaxLine fits a URL of MaxURLLength with the other
	// columns of a CSV line.
	DefaultFeedMaxLine = 16 << 10
	// DefaultFeedMaxBytes is well above the largest feed (URLhaus's full
	// dump is a few hundred megabytes).
	DefaultFeedMaxBytes = 2 << 30
	// DefaultFeedMaxProblems is how many bad lines are described.
	DefaultFeedMaxProblems = 10
)

// FeedLimits bounds what ReadFeed reads; a zero field takes its default.
type FeedLimits struct {
	// MaxLine bounds the bytes of one line (or one PhishTank JSON
	// element); a longer one is a bad line.
	MaxLine int
	// MaxBytes bounds the bytes of the whole feed; a larger feed is an
	// error wrapping ErrFeed.
	MaxBytes int64
	// MaxProblems bounds how many bad lines FeedStats.Problems describes
	// (all are counted).
	MaxProblems int
}

func (l FeedLimits) withDefaults() FeedLimits {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultFeedMaxLine
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultFeedMaxBytes
	}
	if l.MaxProblems <= 0 {
		l.MaxProblems = DefaultFeedMaxProblems
	}
	return l
}

// FeedEntry is one URL (or host) a feed lists, as the expression that
// lists it (see URLExpression) and that expression's hash.
type FeedEntry struct {
	// Line is where the feed lists it: the line number, or for PhishTank
	// JSON the number of the array element (both from 1).
	Line       int
	Expression string
	Hash       [32]byte
}

// FeedProblem is a bad line (or PhishTank JSON element), skipped.
type FeedProblem struct {
	// Line is the line number; for PhishTank JSON, Element is the number
	// of the array element instead (both from 1).
	Line    int
	Element int
	Reason  string
}

// String says where the problem is and what it is.
func (p FeedProblem) String() string {
	if p.Element > 0 {
		return fmt.Sprintf("element %d: %s", p.Element, p.Reason)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
}

// FeedStats counts what ReadFeed read: Read = Listed + Skipped + Bad.
type FeedStats struct {
	// Format is the format read (the one recognised, for FeedAuto).
	Format FeedFormat
	// Read counts the feed's entries: its lines other than comments,
	// blank lines and headers, or its JSON array's elements.
	Read int
	// Listed counts the entries passed to fn.
	Listed int
	// Skipped counts entries the feed itself marks as unconfirmed
	// (PhishTank's verified "no").
	Skipped int
	// Bad counts entries that could not be read; Problems describes the
	// first few.
	Bad      int
	Problems []FeedProblem
}

// ReadFeed reads a feed of known-bad URLs in format from r and calls fn
// with each entry it lists, in order, stopping at the first error fn
// returns (which ReadFeed returns as it is). A bad line (not a URL, the
// wrong number of columns, too long) is counted and skipped. ReadFeed
// never fetches anything. The error wraps ErrFeed when the feed cannot
// be read as a whole; the stats then count what was read before.
func ReadFeed(r io.Reader, format FeedFormat, limits FeedLimits, fn func(FeedEntry) error) (FeedStats, error) {
	if _, err := ParseFeedFormat(string(format)); err != nil {
		return FeedStats{}, err
	}
	limits = limits.withDefaults()
	fr := &feedReader{limits: limits, fn: fn}
	fr.in = bufio.NewReaderSize(&limitedFeed{r: r, left: limits.MaxBytes}, limits.MaxLine+2)
	fr.stats.Format = format
	// A UTF-8 byte order mark is no part of the content.
	bom, err := fr.in.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return fr.stats, fr.readErr(err)
	}
	if bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = fr.in.Discard(3)
	}
	if format == FeedAuto {
		head, err := fr.in.Peek(fr.in.Size())
		if err != nil && !errors.Is(err, io.EOF) {
			return fr.stats, fr.readErr(err)
		}
		format = detectFeed(head)
		fr.stats.Format = format
	}
	switch format {
	case FeedURLhaus:
		err = fr.urlhaus()
	case FeedPhishTankJSON:
		err = fr.phishTankJSON()
	case FeedPhishTankCSV:
		err = fr.phishTankCSV()
	default: // FeedOpenPhish, FeedPlain
		err = fr.plain()
	}
	return fr.stats, err
}

// feedReader reads one feed.
type feedReader struct {
	in     *bufio.Reader
	limits FeedLimits
	fn     func(FeedEntry) error
	stats  FeedStats
	line   int // the number of the line last read
}

// errFeedTooLarge is what limitedFeed returns past the limit.
var errFeedTooLarge = errors.New("too large")

// limitedFeed reads r until left bytes have been read, then fails.
type limitedFeed struct {
	r    io.Reader
	left int64
}

func (l *limitedFeed) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a feed of exactly the limit from a larger one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errFeedTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// readErr turns a read error into a feed error.
func (fr *feedReader) readErr(err error) error {
	if errors.Is(err, errFeedTooLarge) {
		return fmt.Errorf("%w: %s is larger than %d bytes", ErrFeed, fr.stats.Format, fr.limits.MaxBytes)
	}
	if fr.line > 0 {
		return fmt.Errorf("%w: %s: after line %d: %w", ErrFeed, fr.stats.Format, fr.line, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrFeed, fr.stats.Format, err)
}

// nextLine returns the next line without its line end; long is set when
// the line is longer than MaxLine (it is then cut short). At the end it
// returns io.EOF.
func (fr *feedReader) nextLine() (line string, long bool, err error) {
	b, err := fr.in.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long = true
		line = string(b[:fr.limits.MaxLine])
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = fr.in.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, fr.readErr(err)
		}
		fr.line++
		return line, true, nil
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fr.readErr(err)
	}
	if len(b) == 0 && errors.Is(err, io.EOF) {
		return "", false, io.EOF
	}
	fr.line++
	b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
	if len(b) > fr.limits.MaxLine {
		return string(b[:fr.limits.MaxLine]), true, nil
	}
	return string(b), false, nil
}

// bad counts a bad entry.
func (fr *feedReader) bad(element int, format string, args ...any) {
	fr.stats.Bad++
	if len(fr.stats.Problems) < fr.limits.MaxProblems {
		p := FeedProblem{Line: fr.line, Element: element, Reason: fmt.Sprintf(format, args...)}
		if element > 0 {
			p.Line = 0
		}
		fr.stats.Problems = append(fr.stats.Problems, p)
	}
}

// list turns raw, a URL or host name from entry at (a line or element
// number), into its expression and passes it on, or counts it as bad.
func (fr *feedReader) list(at, element int, raw string) error {
	expr, err := FeedExpression(raw)
	if err != nil {
		fr.bad(element, "%.80q: %s", raw, strings.TrimPrefix(err.Error(), ErrNotURL.Error()+": "))
		return nil
	}
	fr.stats.Listed++
	return fr.fn(FeedEntry{Line: at, Expression: expr, Hash: HashExpression(expr)})
}

// FeedExpression returns the expression that lists raw, a URL or a bare
// host name from a feed (see URLExpression): "evil.test/login.php?id=1"
// for a URL, "evil.test/" for a host. A text that is not a URL is an
// error wrapping ErrNotURL, and so are a whole public suffix
// ("github.io", "co.uk"), which would list every site beneath it, and a
// text with an @ but no scheme ("mailto:a@evil.test", "a@evil.test"),
// which is an e-mail address and would list its domain.
func FeedExpression(raw string) (string, error) {
	u, err := Parse(raw)
	if err != nil {
		return "", err
	}
	if lower := strings.ToLower(strings.TrimSpace(raw)); u.Userinfo && !strings.HasPrefix(lower, "http://") &&
		!strings.HasPrefix(lower, "https://") {
		return "", fmt.Errorf("%w: %s has no scheme and an @: an e-mail address, not a URL", ErrNotURL, u.Host)
	}
	if !u.IP.IsValid() && u.RegisteredDomain == "" && u.PublicSuffix == u.Host && u.Path == "/" && u.Query == "" {
		return "", fmt.Errorf("%w: %s is a public suffix: listing it would list every site under it", ErrNotURL, u.Host)
	}
	return URLExpression(u), nil
}

// plain reads a plain list or OpenPhish's feed.
func (fr *feedReader) plain() error {
	for {
		line, long, err := fr.nextLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		text := strings.TrimSpace(line)
		if text == "" || text[0] == '#' {
			continue
		}
		fr.stats.Read++
		if long {
			fr.bad(0, "longer than %d bytes", fr.limits.MaxLine)
			continue
		}
		target, rest := text, ""
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			target, rest = text[:i], strings.TrimSpace(text[i+1:])
		}
		if rest != "" && rest[0] != '#' {
			fr.bad(0, "more than one URL on the line (then %.40q)", rest)
			continue
		}
		if err := fr.list(fr.line, 0, target); err != nil {
			return err
		}
	}
}

// urlhaus reads URLhaus's CSV export. Its header is a comment
// ("# id,dateadded,url,..."); the URL is in the column it names url, the
// third when there is no header.
func (fr *feedReader) urlhaus() error {
	urlCol, cols := 2, 0
	for {
		line, long, err := fr.nextLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		text := strings.TrimSpace(line)
		if text == "" {
			continue
		}
		if text[0] == '#' {
			if h, err := splitCSVLine(strings.TrimSpace(text[1:])); err == nil && len(h) > 2 && h[0] == "id" {
				if i := columnOf(h, "url"); i >= 0 {
					urlCol, cols = i, len(h)
				}
			}
			continue
		}
		fr.stats.Read++
		if long {
			fr.bad(0, "longer than %d bytes", fr.limits.MaxLine)
			continue
		}
		fields, err := splitCSVLine(text)
		switch {
		case err != nil:
			fr.bad(0, "%v", err)
			continue
		case len(fields) <= urlCol || (cols > 0 && len(fields) != cols):
			fr.bad(0, "%d columns, want %d", len(fields), max(cols, urlCol+1))
			continue
		}
		if err := fr.list(fr.line, 0, fields[urlCol]); err != nil {
			return err
		}
	}
}

// phishTankCSV reads PhishTank's CSV export; its first line is the header.
func (fr *feedReader) phishTankCSV() error {
	var header []string
	urlCol, verifiedCol := -1, -1
	for {
		line, long, err := fr.nextLine()
		if errors.Is(err, io.EOF) {
			if header == nil {
				return fmt.Errorf("%w: phishtank-csv: no header line (phish_id,url,...)", ErrFeed)
			}
			return nil
		}
		if err != nil {
			return err
		}
		text := strings.TrimSpace(line)
		if text == "" {
			continue
		}
		if header == nil {
			h, err := splitCSVLine(text)
			if long || err != nil || columnOf(h, "url") < 0 {
				return fmt.Errorf("%w: phishtank-csv: line %d is not the header (phish_id,url,...): %.60q", ErrFeed, fr.line, text)
			}
			header, urlCol, verifiedCol = h, columnOf(h, "url"), columnOf(h, "verified")
			continue
		}
		fr.stats.Read++
		if long {
			fr.bad(0, "longer than %d bytes", fr.limits.MaxLine)
			continue
		}
		fields, err := splitCSVLine(text)
		switch {
		case err != nil:
			fr.bad(0, "%v", err)
			continue
		case len(fields) != len(header):
			fr.bad(0, "%d columns, want %d", len(fields), len(header))
			continue
		case verifiedCol >= 0 && strings.EqualFold(strings.TrimSpace(fields[verifiedCol]), "no"):
			fr.stats.Skipped++
			continue
		}
		if err := fr.list(fr.line, 0, fields[urlCol]); err != nil {
			return err
		}
	}
}

// phishTankEntry is what shopguard reads of a PhishTank JSON element.
type phishTankEntry struct {
	URL      *string         `json:"url"`
	Verified json.RawMessage `json:"verified"`
}

// phishTankJSON reads PhishTank's JSON export: an array of objects. An
// element that is not an object with a url string is bad; a syntax error
// ends the feed (what comes after it cannot be found).
func (fr *feedReader) phishTankJSON() error {
	dec := json.NewDecoder(fr.in)
	tok, err := dec.Token()
	if err != nil {
		return fr.jsonErr(dec, 0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: phishtank-json: not a JSON array (starts with %v)", ErrFeed, tok)
	}
	for n := 1; dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fr.jsonErr(dec, n, err)
		}
		fr.stats.Read++
		if len(raw) > fr.limits.MaxLine {
			fr.bad(n, "longer than %d bytes", fr.limits.MaxLine)
			continue
		}
		var e phishTankEntry
		if err := json.Unmarshal(raw, &e); err != nil || e.URL == nil {
			fr.bad(n, "not an object with a url string")
			continue
		}
		switch v := strings.ToLower(string(bytes.TrimSpace(e.Verified))); v {
		case `"no"`, `false`:
			fr.stats.Skipped++
			continue
		}
		if err := fr.list(n, n, *e.URL); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fr.jsonErr(dec, 0, err)
	}
	if tok, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return fr.jsonErr(dec, 0, err)
		}
		return fmt.Errorf("%w: phishtank-json: %v after the array", ErrFeed, tok)
	}
	return nil
}

// jsonErr describes a JSON error at element n (0: outside elements).
func (fr *feedReader) jsonErr(dec *json.Decoder, n int, err error) error {
	if errors.Is(err, errFeedTooLarge) {
		return fr.readErr(err)
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	where := fmt.Sprintf("byte %d", dec.InputOffset())
	if n > 0 {
		where = fmt.Sprintf("element %d (byte %d)", n, dec.InputOffset())
	}
	return fmt.Errorf("%w: phishtank-json: %s: %w", ErrFeed, where, err)
}

// columnOf returns the index of the column named name, or -1.
func columnOf(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}

// splitCSVLine splits one line of CSV (RFC 4180: fields separated by
// commas, optionally quoted with "", a quote inside doubled).
func splitCSVLine(s string) ([]string, error) {
	var fields []string
	for {
		if !strings.HasPrefix(s, `"`) {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				return append(fields, s), nil
			}
			fields, s = append(fields, s[:i]), s[i+1:]
			continue
		}
		var b strings.Builder
		i := 1
		for {
			j := strings.IndexByte(s[i:], '"')
			if j < 0 {
				return nil, fmt.Errorf("the quoted field %d does not end", len(fields)+1)
			}
			b.WriteString(s[i : i+j])
			i += j + 1
			if i < len(s) && s[i] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			break
		}
		fields = append(fields, b.String())
		switch s = s[i:]; {
		case s == "":
			return fields, nil
		case s[0] != ',':
			return nil, fmt.Errorf("text after the quoted field %d", len(fields))
		}
		s = s[1:]
	}
}

// detectFeed recognises a feed's format from its first bytes: a JSON
// array is PhishTank's; a PhishTank header line, or lines of quoted
// columns after comments naming URLhaus, are CSV; anything else is a
// plain list (OpenPhish's feed is one).
func detectFeed(head []byte) FeedFormat {
	text := strings.TrimLeft(string(head), " \t\r\n")
	if strings.HasPrefix(text, "[") {
		return FeedPhishTankJSON
	}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case line[0] == '#':
			lower := strings.ToLower(line)
			if strings.Contains(lower, "urlhaus") || strings.HasPrefix(strings.ReplaceAll(lower, " ", ""), "#id,dateadded,url") {
				return FeedURLhaus
			}
			continue
		}
		fields, err := splitCSVLine(line)
		switch {
		case err != nil:
			return FeedPlain
		case columnOf(fields, "phish_id") >= 0 && columnOf(fields, "url") >= 0:
			return FeedPhishTankCSV
		case len(fields) >= 8 && strings.HasPrefix(line, `"`) && strings.Contains(fields[min(2, len(fields)-1)], "://"):
			return FeedURLhaus
		}
		return FeedPlain
	}
	return FeedPlain
}
