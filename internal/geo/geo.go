// Package geo maps IP addresses to their country and autonomous system using
// MaxMind DB (.mmdb) files that the operator downloads and points shopguard
// at; shopguard ships no database of its own.
//
// Two record layouts are understood, and one file may carry either kind of
// field or both:
//
//   - MaxMind GeoLite2/GeoIP2 (and DB-IP's compatible files): the country is
//     country.iso_code, falling back to registered_country.iso_code; the
//     autonomous system is autonomous_system_number and
//     autonomous_system_organization (GeoLite2-ASN, GeoIP2-ISP).
//   - ip-location-db (github.com/sapics/ip-location-db): the country is the
//     flat string country_code; the autonomous system uses the same two
//     field names as GeoLite2-ASN.
//
// Which fields a file provides is found by probing its records when it is
// opened, so a file is accepted for what it contains rather than for what
// its metadata claims.
package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/netip"
	"os"
	"strings"
	"sync"

	maxminddb "github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// ErrInvalidDatabase reports that a file is not a readable MaxMind DB file.
// Errors from Open wrap it together with the reader's own error.
var ErrInvalidDatabase = errors.New("geo: not a valid MaxMind DB file")

// ErrNoGeoFields reports that a readable MaxMind DB file carries neither a
// country field nor an autonomous system field that this package knows.
var ErrNoGeoFields = errors.New("geo: database provides neither country nor ASN fields")

// Location is what is known about where an IP address is routed from.
// Its zero value means nothing is known.
type Location struct {
	// Country is the ISO 3166-1 alpha-2 code of the country, in upper case
	// ("DE"), or "" when it is unknown.
	Country string
	// ASN is the number of the autonomous system that announces the
	// address, or 0 when it is unknown.
	ASN uint32
	// ASOrg is the name of the organisation that holds ASN, or "" when it
	// is unknown. It is set only together with ASN, from the same database.
	ASOrg string
}

// Probing limits: how many search-tree leaves and how many data records Open
// looks at to learn which fields a file provides. They bound the work spent
// on a hostile or corrupt file while being far more than a real database
// needs (its first records already carry its fields).
const (
	probeMaxLeaves  = 1 << 16
	probeMaxRecords = 2048
)

// source is one opened database file and the kinds of field it was found to
// carry.
type source struct {
	path     string
	reader   *maxminddb.Reader
	country  bool
	asn      bool
	ipv4Only bool
}

// DB looks up IP addresses in zero or more opened .mmdb files. It is
// immutable after Open and safe for concurrent use by multiple goroutines,
// except that Close must not run concurrently with, or before, other
// methods. A nil *DB is valid: it knows nothing, and every Lookup returns
// the zero Location, so callers can hold a nil DB when no database is
// configured.
type DB struct {
	sources []source
	// records holds *record values for reuse: Result.Decode takes an
	// interface, so a record would otherwise escape to the heap per lookup.
	records sync.Pool
}

// Open opens each path as a MaxMind DB file and learns which fields it
// provides. Files are consulted in the order given: for each kind of field
// the first file that knows the address wins, so a country file and an ASN
// file can be combined, as can an IPv4 and an IPv6 file of the same kind.
// Open with no paths returns an empty DB that knows nothing.
//
// A path that cannot be read, is not a valid MaxMind DB file
// (ErrInvalidDatabase), or provides neither country nor ASN fields
// (ErrNoGeoFields) is refused with an error naming the path; files already
// opened are closed again. The files are memory-mapped: replace a file by
// renaming a new one over it, never by rewriting it in place, and Open it
// again to use the new data.
func Open(paths ...string) (*DB, error) {
	db := &DB{sources: make([]source, 0, len(paths))}
	for _, path := range paths {
		src, err := openSource(path)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		db.sources = append(db.sources, src)
	}
	return db, nil
}

// openSource opens and probes one file.
func openSource(path string) (source, error) {
	if path == "" {
		return source{}, errors.New("geo: open: empty database path")
	}
	info, err := os.Stat(path)
	if err != nil {
		return source{}, fmt.Errorf("geo: open %s: %w", path, unwrapPathError(err))
	}
	switch {
	case info.IsDir():
		return source{}, fmt.Errorf("geo: open %s: is a directory, want an .mmdb file", path)
	case !info.Mode().IsRegular():
		return source{}, fmt.Errorf("geo: open %s: not a regular file, want an .mmdb file", path)
	}
	r, err := maxminddb.Open(path)
	if err != nil {
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return source{}, fmt.Errorf("geo: open %s: %w", path, unwrapPathError(err))
		}
		return source{}, fmt.Errorf("%w: %s: %w", ErrInvalidDatabase, path, err)
	}
	src := source{path: path, reader: r, ipv4Only: r.Metadata.IPVersion == 4}
	fields, err := probe(r)
	if err != nil {
		_ = r.Close()
		return source{}, fmt.Errorf("%w: %s: %w", ErrInvalidDatabase, path, err)
	}
	src.country, src.asn = fields.country, fields.asn
	if !src.country && !src.asn {
		_ = r.Close()
		return source{}, fmt.Errorf(
			"%w: %s: database type %q, %s (want country.iso_code, "+
				"registered_country.iso_code or country_code, or autonomous_system_number)",
			ErrNoGeoFields, path, r.Metadata.DatabaseType, fields.summary())
	}
	return src, nil
}

// unwrapPathError drops the *fs.PathError around err, whose operation and
// path the caller states itself.
func unwrapPathError(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}

// probeFields records which kinds of field the probed records carried.
type probeFields struct {
	country, asn bool
	records      int
}

// summary describes what probing saw, for error messages.
func (p probeFields) summary() string {
	if p.records == 0 {
		return "no data records"
	}
	return fmt.Sprintf("none of the first %d data records has a usable known field", p.records)
}

// probe walks the first networks of the search tree and checks which known
// fields their records carry. A field counts only when it holds a usable
// value (a two-letter country code, a non-zero 32-bit ASN). Networks without
// data and IPv4 aliases are visited too, so that every step of the walk is
// counted against probeMaxLeaves, however the tree is shaped.
func probe(r *maxminddb.Reader) (probeFields, error) {
	var p probeFields
	leaves := 0
	for res := range r.Networks(maxminddb.IncludeNetworksWithoutData(), maxminddb.IncludeAliasedNetworks()) {
		if err := res.Err(); err != nil {
			return p, fmt.Errorf("reading search tree: %w", err)
		}
		leaves++
		if leaves > probeMaxLeaves {
			break
		}
		if !res.Found() {
			continue
		}
		p.records++
		if p.records > probeMaxRecords {
			break
		}
		var rec record
		if res.Decode(&rec) != nil {
			continue // a malformed record; Lookup treats it as unknown
		}
		p.country = p.country || rec.countryCode() != ""
		p.asn = p.asn || rec.asnumber() != 0
		if p.country && p.asn {
			break
		}
	}
	return p, nil
}

// Close releases every opened file. After Close the DB must not be used.
// Close on a nil DB does nothing.
func (db *DB) Close() error {
	if db == nil {
		return nil
	}
	var errs []error
	for _, s := range db.sources {
		if err := s.reader.Close(); err != nil {
			errs = append(errs, fmt.Errorf("geo: close %s: %w", s.path, err))
		}
	}
	db.sources = nil
	return errors.Join(errs...)
}

// HasCountry reports whether some opened file provides countries, so that a
// caller can tell "country unknown" from "no country database".
func (db *DB) HasCountry() bool {
	if db == nil {
		return false
	}
	for _, s := range db.sources {
		if s.country {
			return true
		}
	}
	return false
}

// HasASN reports whether some opened file provides autonomous systems.
func (db *DB) HasASN() bool {
	if db == nil {
		return false
	}
	for _, s := range db.sources {
		if s.asn {
			return true
		}
	}
	return false
}

// Describe returns one line naming each opened file with its database type,
// the fields it provides and its build date, for a startup log line.
func (db *DB) Describe() string {
	if db == nil || len(db.sources) == 0 {
		return "no geolocation database"
	}
	var b strings.Builder
	for i, s := range db.sources {
		if i > 0 {
			b.WriteString("; ")
		}
		var kinds []string
		if s.country {
			kinds = append(kinds, "country")
		}
		if s.asn {
			kinds = append(kinds, "asn")
		}
		md := s.reader.Metadata
		dbType := md.DatabaseType
		if dbType == "" {
			dbType = "untyped"
		}
		fmt.Fprintf(&b, "%s: %s, IPv%d, %s, built %s", s.path, dbType, md.IPVersion,
			strings.Join(kinds, "+"), md.BuildTime().UTC().Format("2006-01-02"))
	}
	return b.String()
}

// Lookup returns the country and autonomous system of ip. It returns the
// zero Location for an invalid, private, loopback, link-local, multicast or
// unspecified address, for an address no file knows, and for a nil DB. An
// IPv4-mapped IPv6 address is looked up as the IPv4 address it carries.
// Lookup does not allocate for well-formed databases.
func (db *DB) Lookup(ip netip.Addr) Location {
	var loc Location
	if db == nil || !ip.IsValid() {
		return loc
	}
	ip = ip.Unmap()
	if !routable(ip) {
		return loc
	}
	for i := range db.sources {
		s := &db.sources[i]
		wantCountry := loc.Country == "" && s.country
		wantASN := loc.ASN == 0 && s.asn
		if !wantCountry && !wantASN {
			continue
		}
		if s.ipv4Only && !ip.Is4() {
			continue
		}
		res := s.reader.Lookup(ip)
		if !res.Found() {
			continue
		}
		rec := db.record()
		if res.Decode(rec) == nil {
			if wantCountry {
				loc.Country = rec.countryCode()
			}
			if asn := rec.asnumber(); wantASN && asn != 0 {
				loc.ASN, loc.ASOrg = asn, rec.asOrg
			}
		}
		*rec = record{}
		db.records.Put(rec)
	}
	return loc
}

// record returns a zeroed record from the pool.
func (db *DB) record() *record {
	if rec, ok := db.records.Get().(*record); ok {
		return rec
	}
	return new(record)
}

// routable reports whether ip could be in a geolocation database at all.
func routable(ip netip.Addr) bool {
	return !(ip.IsPrivate() || ip.IsLoopback() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast())
}

// record is the part of a database record that Lookup needs, in either
// layout. It decodes itself in one pass over the record's map, skipping
// every other field; a known field holding a value of an unexpected kind is
// skipped too, so one odd field does not hide the others.
type record struct {
	country     string // country.iso_code (GeoIP2)
	registered  string // registered_country.iso_code (GeoIP2)
	flatCountry string // country_code (ip-location-db)
	asn         uint64 // autonomous_system_number
	asOrg       string // autonomous_system_organization
}

var _ mmdbdata.CursorUnmarshaler = (*record)(nil)

// countryCode returns the record's country: country.iso_code, else
// registered_country.iso_code (GeoLite2 leaves country empty for some
// networks, such as satellite providers), else country_code.
func (r *record) countryCode() string {
	for _, code := range [...]string{r.country, r.registered, r.flatCountry} {
		if c := normalizeCountry(code); c != "" {
			return c
		}
	}
	return ""
}

// asnumber returns the record's ASN, or 0 when it is missing or does not
// fit in 32 bits.
func (r *record) asnumber() uint32 {
	if r.asn > math.MaxUint32 {
		return 0
	}
	return uint32(r.asn)
}

// UnmarshalMaxMindDBCursor decodes a record from the map at cursor and
// returns the cursor after it. The reader calls it from Result.Decode.
// The traversal is bounded: two map levels, and skipping a value walks only
// its own bytes, never following pointers.
func (r *record) UnmarshalMaxMindDBCursor(cursor mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	entries, err := cursor.Map()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[record](err)
	}
	var next mmdbdata.Cursor
	for {
		key, value, ok := entries.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "country":
			r.country, next, err = readISOCode(value)
		case "registered_country":
			r.registered, next, err = readISOCode(value)
		case "country_code":
			r.flatCountry, next, err = readString(value)
		case "autonomous_system_number":
			r.asn, next, err = readUint(value)
		case "autonomous_system_organization":
			r.asOrg, next, err = readString(value)
		default:
			next, err = value.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return entries.End()
}

// readISOCode reads the iso_code of a GeoIP2 country object at cursor; a
// value that is not a map yields "".
func readISOCode(cursor mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
	if kind, err := cursor.Kind(); err != nil || kind != mmdbdata.KindMap {
		next, err := skip(cursor, err)
		return "", next, err
	}
	entries, err := cursor.Map()
	if err != nil {
		return "", mmdbdata.Cursor{}, err
	}
	var (
		code string
		next mmdbdata.Cursor
	)
	for {
		key, value, ok := entries.Next(next)
		if !ok {
			break
		}
		if string(key) == "iso_code" {
			code, next, err = readString(value)
		} else {
			next, err = value.Skip()
		}
		if err != nil {
			return "", mmdbdata.Cursor{}, err
		}
	}
	next, err = entries.End()
	return code, next, err
}

// readString reads the string at cursor; a value of another kind yields "".
func readString(cursor mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
	if kind, err := cursor.Kind(); err != nil || kind != mmdbdata.KindString {
		next, err := skip(cursor, err)
		return "", next, err
	}
	return cursor.ReadString()
}

// readUint reads the unsigned integer at cursor; a value of another kind
// yields 0.
func readUint(cursor mmdbdata.Cursor) (uint64, mmdbdata.Cursor, error) {
	kind, err := cursor.Kind()
	if err != nil || (kind != mmdbdata.KindUint16 && kind != mmdbdata.KindUint32 && kind != mmdbdata.KindUint64) {
		next, err := skip(cursor, err)
		return 0, next, err
	}
	return cursor.ReadUint()
}

// skip skips the value at cursor, unless finding its kind already failed.
func skip(cursor mmdbdata.Cursor, kindErr error) (mmdbdata.Cursor, error) {
	if kindErr != nil {
		return mmdbdata.Cursor{}, kindErr
	}
	return cursor.Skip()
}

// normalizeCountry returns code as an upper-case ISO 3166-1 alpha-2 code, or
// "" when it is not two ASCII letters or is "ZZ" (used for "unknown").
// It allocates only when code is not already upper case.
func normalizeCountry(code string) string {
	if len(code) != 2 {
		return ""
	}
	upper := true
	for i := 0; i < 2; i++ {
		switch c := code[i]; {
		case c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			upper = false
		default:
			return ""
		}
	}
	if !upper {
		code = strings.ToUpper(code)
	}
	if code == "ZZ" {
		return ""
	}
	return code
}
