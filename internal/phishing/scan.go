package phishing

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Formats of a list of observed domains.
const (
	// ObservedAuto tells the format from the first 64 KiB.
	ObservedAuto = "auto"
	// ObservedPlain is one domain or URL a line, # comments.
	ObservedPlain = "plain"
	// ObservedZone is a DNS zone file in BIND's master format (RFC 1035
	// section 5): the owner names of its records.
	ObservedZone = "zone"
	// ObservedCT is a certificate-transparency export: crt.sh's JSON (an
	// array, or one object a line) or a CSV with a header, the names in
	// name_value and common_name (several a field, one a line; *.
	// wildcards).
	ObservedCT = "ct"
)

// ObservedFormats lists the formats ReadObserved takes.
var ObservedFormats = []string{ObservedAuto, ObservedPlain, ObservedZone, ObservedCT}

// Bounds of ReadObserved when ReadOptions leaves them 0.
const (
	DefaultMaxLineBytes = 4096
	DefaultMaxRecords   = 10_000_000
	DefaultMaxDomains   = 1_000_000
	// maxRecordBytes bounds one CT entry (JSON object or CSV row, which
	// may span lines).
	maxRecordBytes = 1 << 20
	// maxBadSamples bounds the bad records ReadObserved describes.
	maxBadSamples = 20
	// sniffBytes is how much ObservedAuto looks at.
	sniffBytes = 64 << 10
)

// ReadOptions tunes ReadObserved.
type ReadOptions struct {
	// Format is one of ObservedFormats ("" is ObservedAuto).
	Format string
	// MaxLineBytes bounds a line of a plain list or zone file; longer
	// lines are bad records.
	MaxLineBytes int
	// MaxRecords bounds the lines (plain, zone) or entries (CT) read, and
	// MaxDomains the distinct domains kept: reading stops there.
	MaxRecords int
	MaxDomains int
}

// BadRecord describes a record ReadObserved could not use.
type BadRecord struct {
	// Record is the line number (plain, zone, CT CSV) or the entry
	// number (CT JSON), from 1.
	Record int    `json:"record"`
	Reason string `json:"reason"`
}

// Observed is a list of observed domains as read.
type Observed struct {
	// Format is the format read (never ObservedAuto).
	Format string `json:"format"`
	// Domains are the distinct host names found, in ASCII, in the order
	// first seen.
	Domains []string `json:"-"`
	// Records counts the lines or entries read, Names the names they
	// held (repeats included), Bad the records or names that were not
	// usable; BadSamples describes the first few.
	Records    int         `json:"records"`
	Names      int         `json:"names"`
	Bad        int         `json:"bad"`
	BadSamples []BadRecord `json:"bad_samples,omitempty"`
	// Stopped says why reading stopped before the end ("" if it did
	// not): a bound reached, or a CT JSON file broken past repair.
	Stopped string `json:"stopped,omitempty"`
}

// ReadObserved reads a list of observed domains (certificate-transparency
// exports, zone files, newly registered domain feeds). Bad records are
// counted and described, not fatal; the error is for an unknown format,
// a CT CSV without a name column, or a failed read.
func ReadObserved(r io.Reader, opts ReadOptions) (Observed, error) {
	o := &observedReader{opts: opts, seen: map[string]bool{}}
	if o.opts.MaxLineBytes <= 0 {
		o.opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.opts.MaxRecords <= 0 {
		o.opts.MaxRecords = DefaultMaxRecords
	}
	if o.opts.MaxDomains <= 0 {
		o.opts.MaxDomains = DefaultMaxDomains
	}
	format := opts.Format
	if format == "" {
		format = ObservedAuto
	}
	if !slices.Contains(ObservedFormats, format) {
		return Observed{}, fmt.Errorf("phishing: observed domains: unknown format %q (known: %s)", format, strings.Join(ObservedFormats, ", "))
	}
	br := bufio.NewReaderSize(r, max(sniffBytes, o.opts.MaxLineBytes+2))
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Observed{}, fmt.Errorf("phishing: observed domains: %w", err)
	}
	if format == ObservedAuto {
		format = sniffFormat(head)
	}
	o.out.Format = format
	switch {
	case format == ObservedPlain:
		err = o.readLines(br, o.plainLine)
	case format == ObservedZone:
		z := &zoneState{}
		err = o.readLines(br, func(n int, line string) bool { return o.zoneLine(z, n, line) })
	case jsonStart(head):
		err = o.readCTJSON(br)
	default:
		err = o.readCTCSV(br)
	}
	if err != nil {
		return Observed{}, fmt.Errorf("phishing: observed domains (%s): %w", format, err)
	}
	return o.out, nil
}

// observedReader collects domains as the records are read.
type observedReader struct {
	opts ReadOptions
	out  Observed
	seen map[string]bool
}

// bad records a bad record or name.
func (o *observedReader) bad(record int, format string, args ...any) {
	o.out.Bad++
	if len(o.out.BadSamples) < maxBadSamples {
		o.out.BadSamples = append(o.out.BadSamples, BadRecord{Record: record, Reason: fmt.Sprintf(format, args...)})
	}
}

// record counts a record read and says whether more may be.
func (o *observedReader) record() bool {
	if o.out.Records >= o.opts.MaxRecords {
		o.out.Stopped = fmt.Sprintf("more than %d records", o.opts.MaxRecords)
		return false
	}
	o.out.Records++
	return true
}

// addName adds a name found in a record: a host name or URL, maybe a
// wildcard (*.example.com) or with a trailing dot. Names that are a
// public suffix alone are bad, or skipped when quiet (a zone's apex in a
// TLD zone file). It says whether more names may be added.
func (o *observedReader) addName(record int, raw string, quiet bool) bool {
	name := strings.TrimSpace(raw)
	for strings.HasPrefix(name, "*.") {
		name = name[2:]
	}
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return true
	}
	o.out.Names++
	u, err := Parse(name)
	switch {
	case err != nil:
		o.bad(record, "%q: %v", clipText(raw), err)
		return true
	case u.IP.IsValid():
		o.bad(record, "%q is an IP address, not a domain", clipText(raw))
		return true
	case u.RegisteredDomain == "":
		if !quiet {
			o.bad(record, "%q has no registered domain (a public suffix or a bare name)", clipText(raw))
		}
		return true
	case o.seen[u.Host]:
		return true
	case len(o.out.Domains) >= o.opts.MaxDomains:
		o.out.Stopped = fmt.Sprintf("more than %d distinct domains", o.opts.MaxDomains)
		return false
	}
	o.seen[u.Host] = true
	o.out.Domains = append(o.out.Domains, u.Host)
	return true
}

// clipText shortens text quoted in a reason.
func clipText(s string) string {
	if len(s) <= 80 {
		return s
	}
	i := 77
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// readLines hands each line (numbered from 1, without its end) to fn
// until fn returns false, a bound is reached or the input ends. Lines
// longer than MaxLineBytes are bad and skipped.
func (o *observedReader) readLines(br *bufio.Reader, fn func(n int, line string) bool) error {
	for n := 1; ; n++ {
		line, long, err := readBoundedLine(br, o.opts.MaxLineBytes)
		if len(line) == 0 && !long && errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if !o.record() {
			return nil
		}
		switch {
		case long:
			o.bad(n, "line longer than %d bytes", o.opts.MaxLineBytes)
		case !utf8.Valid(line):
			o.bad(n, "not UTF-8")
		default:
			if !fn(n, string(line)) {
				return nil
			}
		}
		if err != nil { // io.EOF after a last line without an end
			return nil
		}
	}
}

// readBoundedLine reads a line of at most max bytes, without its "\n" or
// "\r\n"; a longer one is read to its end, dropped and reported long.
func readBoundedLine(br *bufio.Reader, max int) (line []byte, long bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !long {
			line = append(line, chunk...)
			if len(line) > max+1 { // +1: the "\n"
				long, line = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if long {
			return nil, true, err
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) > max {
			return nil, true, err
		}
		return line, false, err
	}
}

// plainLine reads a line of a plain list: a domain or URL, the first
// field of the line (a feed's date after it is ignored); blank lines and
// # comments skipped.
func (o *observedReader) plainLine(n int, line string) bool {
	line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
	if line == "" || line[0] == '#' {
		return true
	}
	field, _, _ := strings.Cut(strings.Fields(line)[0], ",")
	return o.addName(n, field, false)
}

// zoneState is what a zone file's earlier lines set.
type zoneState struct {
	origin string // without the final dot
	owner  string // the last owner name, absolute, without the final dot
	parens int    // open parentheses: a record continues on the next line
}

// zoneLine reads a line of a zone file: directives ($ORIGIN, $TTL),
// records whose owner is the first field, or blank (the previous owner),
// relative to $ORIGIN unless it ends in a dot, @ the origin; comments
// after ; and records continued in parentheses.
func (o *observedReader) zoneLine(z *zoneState, n int, line string) bool {
	fields, open, err := zoneFields(line)
	if err != nil {
		o.bad(n, "%v", err)
		return true
	}
	continued := z.parens > 0
	z.parens += open
	if z.parens < 0 {
		z.parens = 0
		o.bad(n, "unbalanced )")
		return true
	}
	if continued || len(fields) == 0 {
		return true
	}
	first := fields[0]
	if strings.HasPrefix(first, "$") {
		switch strings.ToUpper(first) {
		case "$ORIGIN":
			if len(fields) < 2 {
				o.bad(n, "$ORIGIN without a name")
				return true
			}
			origin, err := z.absolute(fields[1])
			if err != nil {
				o.bad(n, "$ORIGIN: %v", err)
				return true
			}
			z.origin = origin
		case "$TTL":
		case "$INCLUDE", "$GENERATE":
			o.bad(n, "%s is not followed", strings.ToUpper(first))
		default:
			o.bad(n, "unknown directive %s", first)
		}
		return true
	}
	blank := line[0] == ' ' || line[0] == '\t'
	rest := fields
	if !blank {
		rest = fields[1:]
	}
	if !hasRRType(rest) {
		o.bad(n, "no record type (owner [TTL] [class] type data)")
		return true
	}
	if blank {
		if z.owner == "" {
			o.bad(n, "a record with no owner and no previous one")
			return true
		}
		return true // the previous owner, already added
	}
	owner, err := z.absolute(first)
	if err != nil {
		o.bad(n, "owner: %v", err)
		return true
	}
	z.owner = owner
	return o.addName(n, owner, true)
}

// absolute makes a zone file's name absolute (without the final dot).
func (z *zoneState) absolute(name string) (string, error) {
	switch {
	case strings.Contains(name, `\`):
		return "", fmt.Errorf("%q: escaped characters are not read", clipText(name))
	case name == "@":
		if z.origin == "" {
			return "", errors.New("@ with no $ORIGIN")
		}
		return z.origin, nil
	case strings.HasSuffix(name, "."):
		return strings.TrimSuffix(name, "."), nil
	case z.origin == "":
		return "", fmt.Errorf("relative name %q with no $ORIGIN", clipText(name))
	}
	return name + "." + z.origin, nil
}

// zoneFields splits a zone file line into fields, dropping the comment
// and parentheses; open is the parentheses it opens less those it closes.
func zoneFields(line string) (fields []string, open int, err error) {
	var cur strings.Builder
	in, quoted := false, false
	flush := func() {
		if in {
			fields = append(fields, cur.String())
			cur.Reset()
			in = false
		}
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted:
			if c == '\\' && i+1 < len(line) {
				i++
			} else if c == '"' {
				quoted = false
			}
			in = true
			cur.WriteByte(c)
		case c == '"':
			quoted, in = true, true
			cur.WriteByte(c)
		case c == '\\':
			cur.WriteByte(c)
			if i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			}
			in = true
		case c == ';':
			flush()
			return fields, open, nil
		case c == '(' || c == ')':
			flush()
			if c == '(' {
				open++
			} else {
				open--
			}
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quoted {
		return nil, 0, errors.New("unterminated quoted string")
	}
	flush()
	return fields, open, nil
}

// rrTypes are the DNS record types a zone file names.
var rrTypes = map[string]bool{
	"A": true, "AAAA": true, "NS": true, "CNAME": true, "SOA": true, "MX": true, "TXT": true, "PTR": true, "SRV": true,
	"CAA": true, "DS": true, "DNSKEY": true, "RRSIG": true, "NSEC": true, "NSEC3": true, "NSEC3PARAM": true, "TLSA": true,
	"HTTPS": true, "SVCB": true, "SPF": true, "NAPTR": true, "HINFO": true, "LOC": true, "SSHFP": true, "DNAME": true,
	"CDS": true, "CDNSKEY": true, "OPENPGPKEY": true, "SMIMEA": true, "URI": true, "ZONEMD": true, "CERT": true, "RP": true,
	"AFSDB": true, "KX": true, "APL": true, "DHCID": true, "IPSECKEY": true, "EUI48": true, "EUI64": true, "CSYNC": true,
	"HIP": true, "NULL": true, "WKS": true, "MINFO": true, "MB": true, "MG": true, "MR": true, "RT": true, "NSAP": true,
	"A6": true, "SIG": true, "KEY": true, "NXT": true, "DLV": true, "TA": true, "L32": true, "L64": true, "LP": true, "NID": true,
}

// hasRRType says whether the fields after an owner start with a record
// type, after an optional TTL and class in either order.
func hasRRType(fields []string) bool {
	for i := 0; i < len(fields) && i < 3; i++ {
		f := strings.ToUpper(fields[i])
		if rrTypes[f] || (strings.HasPrefix(f, "TYPE") && len(f) > 4 && allDigits(f[4:])) {
			return true
		}
		if !(isTTL(f) || f == "IN" || f == "CH" || f == "HS" || f == "CS" || f == "ANY") {
			return false
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isTTL says whether s is a TTL: seconds, or BIND's 1W2D3H4M5S.
func isTTL(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || strings.IndexByte("WDHMS", s[i]) >= 0) {
			return false
		}
	}
	return true
}

// jsonStart says whether the input starts (after a BOM and space) with a
// JSON array or object.
func jsonStart(head []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	return len(b) > 0 && (b[0] == '[' || b[0] == '{')
}

// sniffFormat tells a list's format from its start: JSON, or a CSV header
// naming name_value or common_name, is CT; $ORIGIN, $TTL or lines that
// read as records are a zone file; anything else a plain list.
func sniffFormat(head []byte) string {
	if jsonStart(head) {
		return ObservedCT
	}
	var records, lines int
	for i, line := range strings.Split(string(head), "\n") {
		line = strings.TrimPrefix(line, "\ufeff")
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' || t[0] == ';' || strings.HasPrefix(t, "//") {
			continue
		}
		lower := strings.ToLower(t)
		if lines == 0 && strings.Contains(lower, ",") && (strings.Contains(lower, "name_value") || strings.Contains(lower, "common_name")) {
			return ObservedCT
		}
		if strings.HasPrefix(lower, "$origin") || strings.HasPrefix(lower, "$ttl") {
			return ObservedZone
		}
		lines++
		fields, _, _ := zoneFields(line)
		if len(fields) >= 3 && (hasRRType(fields[1:]) || line[0] == ' ' || line[0] == '\t') {
			records++
		}
		if lines >= 50 || i > 1000 {
			break
		}
	}
	if lines > 0 && records*2 > lines {
		return ObservedZone
	}
	return ObservedPlain
}

// limitedReader fails once more than limit bytes were read since reset:
// it bounds one CT entry, however the JSON or CSV reader buffers.
type limitedReader struct {
	r     io.Reader
	n     int
	limit int
}

var errRecordTooLong = fmt.Errorf("an entry longer than %d bytes", maxRecordBytes)

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n >= l.limit {
		return 0, errRecordTooLong
	}
	if len(p) > l.limit-l.n {
		p = p[:l.limit-l.n]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// ctEntry is what a crt.sh JSON entry says of names.
type ctEntry struct {
	NameValue  *string `json:"name_value"`
	CommonName *string `json:"common_name"`
}

// readCTJSON reads crt.sh's JSON: an array of entries or one entry a
// line. A broken entry is bad; broken JSON ends the reading.
func (o *observedReader) readCTJSON(br *bufio.Reader) error {
	head, _ := br.Peek(sniffBytes)
	if bytes.HasPrefix(head, []byte("\ufeff")) {
		_, _ = br.Discard(3) // the decoder does not skip a BOM
	}
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	array := len(head) > 0 && head[0] == '['
	lr := &limitedReader{r: br, limit: maxRecordBytes}
	dec := json.NewDecoder(lr)
	if array {
		if _, err := dec.Token(); err != nil {
			return o.brokenJSON(err)
		}
	}
	for n := 1; ; n++ {
		if array && !dec.More() {
			return nil
		}
		lr.n = 0
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if !array && errors.Is(err, io.EOF) {
				return nil
			}
			return o.brokenJSON(err)
		}
		if !o.record() {
			return nil
		}
		var e ctEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			o.bad(n, "entry %d: %v", n, err)
			continue
		}
		if e.NameValue == nil && e.CommonName == nil {
			o.bad(n, "entry %d has no name_value nor common_name", n)
			continue
		}
		for _, s := range []*string{e.NameValue, e.CommonName} {
			if s != nil && !o.names(n, *s) {
				return nil
			}
		}
	}
}

// brokenJSON ends the reading of CT JSON that cannot be read on: the
// names so far are kept, the break reported.
func (o *observedReader) brokenJSON(err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn), errors.Is(err, errRecordTooLong), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		o.out.Stopped = "broken JSON: " + err.Error()
		o.bad(o.out.Records+1, "broken JSON: %v", err)
		return nil
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		o.out.Stopped = "not crt.sh's JSON: " + err.Error()
		o.bad(o.out.Records+1, "%v", err)
		return nil
	}
	return err
}

// names adds the names of a CT field: several, one a line (crt.sh's
// name_value) or separated by spaces, commas or semicolons.
func (o *observedReader) names(record int, field string) bool {
	for _, name := range strings.FieldsFunc(field, func(r rune) bool {
		return r == '\n' || r == '\r' || r == ' ' || r == '\t' || r == ',' || r == ';'
	}) {
		if !o.addName(record, name, false) {
			return false
		}
	}
	return true
}

// ctNameColumns are the CSV columns that hold names.
var ctNameColumns = []string{"name_value", "common_name"}

// readCTCSV reads a CSV export of CT entries with a header row.
func (o *observedReader) readCTCSV(br *bufio.Reader) error {
	lr := &limitedReader{r: br, limit: maxRecordBytes}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("CSV header: %w", err)
	}
	var cols []int
	for i, h := range header {
		if slices.Contains(ctNameColumns, strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))) {
			cols = append(cols, i)
		}
	}
	if len(cols) == 0 {
		return fmt.Errorf("CSV header %q has no name_value or common_name column", clipText(strings.Join(header, ",")))
	}
	for {
		lr.n = 0
		rec, err := cr.Read()
		line, _ := cr.FieldPos(0)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, errRecordTooLong):
			o.out.Stopped = err.Error()
			o.bad(line, "%v", err)
			return nil
		case err != nil:
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			if !o.record() {
				return nil
			}
			o.bad(line, "%v", err)
			continue
		}
		if !o.record() {
			return nil
		}
		found := false
		for _, c := range cols {
			if c >= len(rec) {
				continue
			}
			found = true
			if !utf8.ValidString(rec[c]) {
				o.bad(line, "not UTF-8")
				continue
			}
			if !o.names(line, rec[c]) {
				return nil
			}
		}
		if !found {
			o.bad(line, "%d fields: no %s", len(rec), strings.Join(ctNameColumns, " nor "))
		}
	}
}

// LookalikeMatch is an observed domain that imitates a protected one, and why.
type LookalikeMatch struct {
	// Domain is the observed host name (ASCII); Unicode is how a reader
	// sees it ("" when the same).
	Domain  string `json:"domain"`
	Unicode string `json:"unicode,omitempty"`
	// Brand is the protected domain imitated.
	Brand string `json:"brand"`
	// Fuzzer is set when the domain, or its registered domain
	// (Permutation), is one of the brand's permutations: the class that
	// made it.
	Fuzzer      string `json:"fuzzer,omitempty"`
	Permutation string `json:"permutation,omitempty"`
	// Lookalike is what FindLookalike finds, if anything.
	Lookalike *Lookalike `json:"lookalike,omitempty"`
	// Why says it to a person, a sentence a finding.
	Why []string `json:"why"`
}

// LookalikeScanner matches observed domains against protected ones: the
// permutations of each (Permutations) and FindLookalike.
type LookalikeScanner struct {
	protected []string
	brands    []URL
	perms     map[string]permRef
	total     int
	truncated []string
}

// permRef is a permutation: the brand (index) and class that made it.
type permRef struct {
	brand  int
	fuzzer string
}

// NewLookalikeScanner makes the permutations of the protected domains. A
// protected domain whose permutations were cut at opts.Max is scanned
// with those made, and listed by Truncated.
func NewLookalikeScanner(protected []string, opts PermuteOptions) (*LookalikeScanner, error) {
	if len(protected) == 0 {
		return nil, errors.New("phishing: scanner: no protected domain")
	}
	s := &LookalikeScanner{perms: map[string]permRef{}}
	for _, d := range protected {
		u, err := Parse(d)
		if err != nil || u.RegisteredDomain == "" {
			return nil, fmt.Errorf("phishing: scanner: protected domain %q is not a domain name under a public suffix", d)
		}
		perms, err := Permutations(d, opts)
		switch {
		case errors.Is(err, ErrTruncated):
			s.truncated = append(s.truncated, u.Host)
		case err != nil:
			return nil, fmt.Errorf("phishing: scanner: %w", err)
		}
		s.protected = append(s.protected, u.Host)
		s.brands = append(s.brands, u)
		for _, p := range perms {
			if _, ok := s.perms[p.Domain]; !ok {
				s.perms[p.Domain] = permRef{brand: len(s.brands) - 1, fuzzer: p.Fuzzer}
				s.total++
			}
		}
	}
	return s, nil
}

// Permutations counts the distinct permutations the scanner matches.
func (s *LookalikeScanner) Permutations() int { return s.total }

// Truncated lists the protected domains whose permutations were cut at
// PermuteOptions.Max.
func (s *LookalikeScanner) Truncated() []string { return slices.Clone(s.truncated) }

// Check says whether an observed domain (a host name or URL) imitates a
// protected one, and why. Names under a protected registered domain do
// not.
func (s *LookalikeScanner) Check(domain string) (LookalikeMatch, bool) {
	u, err := Parse(domain)
	if err != nil || u.IP.IsValid() || u.RegisteredDomain == "" {
		return LookalikeMatch{}, false
	}
	for _, b := range s.brands {
		if u.RegisteredDomain == b.RegisteredDomain {
			return LookalikeMatch{}, false
		}
	}
	m := LookalikeMatch{Domain: u.Host, Unicode: u.UnicodeHost}
	ref, ok := s.perms[u.Host]
	m.Permutation = u.Host
	if !ok && u.RegisteredDomain != u.Host {
		ref, ok = s.perms[u.RegisteredDomain]
		m.Permutation = u.RegisteredDomain
	}
	if ok {
		m.Brand, m.Fuzzer = s.protected[ref.brand], ref.fuzzer
		shown := m.Permutation
		if uni, err := idnaToUnicode(shown); err == nil && uni != shown {
			shown = fmt.Sprintf("%s (%s)", uni, shown)
		}
		what := fmt.Sprintf("%s %s permutation of %s", indefiniteArticle(ref.fuzzer), ref.fuzzer, m.Brand)
		if m.Permutation == u.Host {
			m.Why = append(m.Why, fmt.Sprintf("%s is %s", shown, what))
		} else {
			m.Why = append(m.Why, fmt.Sprintf("its registered domain %s is %s", shown, what))
		}
	} else {
		m.Permutation = ""
	}
	if l, found := findLookalike(u, s.brands); found {
		m.Lookalike = &l
		if m.Brand == "" {
			m.Brand = l.Brand
		}
		m.Why = append(m.Why, fmt.Sprintf("it imitates %s (%s): %s", l.Brand, l.Kind, l.Reason))
	}
	if len(m.Why) == 0 {
		return LookalikeMatch{}, false
	}
	return m, true
}

// indefiniteArticle is "a" or "an" before a word.
func indefiniteArticle(word string) string {
	if word != "" && strings.ContainsRune("aeio", rune(word[0])) {
		return "an"
	}
	return "a"
}

// Scan checks observed domains in order and returns the matches.
func (s *LookalikeScanner) Scan(domains []string) []LookalikeMatch {
	var out []LookalikeMatch
	for _, d := range domains {
		if m, ok := s.Check(d); ok {
			out = append(out, m)
		}
	}
	return out
}
