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

// countryLayout says where a database keeps the country code.
type countryLayout uint8

const (
	countryNone   countryLayout = iota
	countryNested               // country.iso_code, registered_country.iso_code (GeoIP2)
	countryFlat                 // country_code (ip-location-db)
)

// source is one opened database file and the fields it was found to carry.
type source struct {
	path     string
	reader   *maxminddb.Reader
	country  countryLayout
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
	pools   recordPools
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
	switch {
	case fields.nested:
		src.country = countryNested
	case fields.flat:
		src.country = countryFlat
	}
	src.asn = fields.asn
	if src.country == countryNone && !src.asn {
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

// probeFields records which known fields the probed records carried.
type probeFields struct {
	nested, flat, asn bool
	records           int
}

// summary describes what probing saw, for error messages.
func (p probeFields) summary() string {
	if p.records == 0 {
		return "no data records"
	}
	return fmt.Sprintf("none of the first %d data records has a usable known field", p.records)
}

// probe walks the first networks of the search tree and checks which known
// fields their records carry. Networks without data and IPv4 aliases are
// visited too, so that every step of the walk is counted against
// probeMaxLeaves, however the tree is shaped.
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
		p.observe(res)
		if (p.nested || p.flat) && p.asn {
			break
		}
	}
	return p, nil
}

// observe notes the known fields of one record. A field counts only when it
// decodes to a usable value; malformed or mistyped values are ignored here,
// and Lookup treats them as unknown.
func (p *probeFields) observe(res maxminddb.Result) {
	var code *string
	if !p.nested {
		if res.DecodePath(&code, "country", "iso_code") == nil && code != nil && normalizeCountry(*code) != "" {
			p.nested = true
		}
		code = nil
		if res.DecodePath(&code, "registered_country", "iso_code") == nil && code != nil && normalizeCountry(*code) != "" {
			p.nested = true
		}
	}
	if !p.flat {
		code = nil
		if res.DecodePath(&code, "country_code") == nil && code != nil && normalizeCountry(*code) != "" {
			p.flat = true
		}
	}
	if !p.asn {
		var asn *uint64
		if res.DecodePath(&asn, "autonomous_system_number") == nil && asn != nil && *asn > 0 && *asn <= math.MaxUint32 {
			p.asn = true
		}
	}
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
		if s.country != countryNone {
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
		switch s.country {
		case countryNested:
			kinds = append(kinds, "country")
		case countryFlat:
			kinds = append(kinds, "country (country_code)")
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
		wantCountry := loc.Country == "" && s.country != countryNone
		wantASN := loc.ASN == 0 && s.asn
		if !wantCountry && !wantASN {
			continue
		}
		if s.ipv4Only && !ip.Is4() {
			continue
		}
		got := s.lookup(ip, &db.pools)
		if wantCountry {
			loc.Country = got.Country
		}
		if wantASN {
			loc.ASN, loc.ASOrg = got.ASN, got.ASOrg
		}
	}
	return loc
}

// routable reports whether ip could be in a geolocation database at all.
func routable(ip netip.Addr) bool {
	return !(ip.IsPrivate() || ip.IsLoopback() || ip.IsUnspecified() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast())
}

// lookup decodes the record for ip from one file, into the smallest struct
// that holds the fields the file provides. A record that does not decode is
// treated as unknown.
func (s *source) lookup(ip netip.Addr, pools *recordPools) Location {
	res := s.reader.Lookup(ip)
	if !res.Found() {
		return Location{}
	}
	switch {
	case s.country == countryNested && s.asn:
		return pools.nestedASN.decode(res)
	case s.country == countryNested:
		return pools.nested.decode(res)
	case s.country == countryFlat && s.asn:
		return pools.flatASN.decode(res)
	case s.country == countryFlat:
		return pools.flat.decode(res)
	default:
		return pools.asn.decode(res)
	}
}

// recordPools keeps decoded records for reuse: the reader decodes through
// reflection, so a record would otherwise escape to the heap on every lookup.
type recordPools struct {
	nested    recordPool[nestedRecord, *nestedRecord]
	nestedASN recordPool[nestedASNRecord, *nestedASNRecord]
	flat      recordPool[flatRecord, *flatRecord]
	flatASN   recordPool[flatASNRecord, *flatASNRecord]
	asn       recordPool[asnRecord, *asnRecord]
}

// record is a struct that a database record decodes into.
type record[T any] interface {
	*T
	location() Location
}

// recordPool is a pool of records of one type.
type recordPool[T any, P record[T]] struct {
	pool sync.Pool
}

// decode decodes res into a pooled T and returns what it says.
func (p *recordPool[T, P]) decode(res maxminddb.Result) Location {
	rec, _ := p.pool.Get().(P)
	if rec == nil {
		rec = new(T)
	}
	var loc Location
	if err := res.Decode(rec); err == nil {
		loc = rec.location()
	}
	*rec = *new(T)
	p.pool.Put(rec)
	return loc
}

// isoCode is the part of a GeoIP2 country object that is needed.
type isoCode struct {
	ISOCode string `maxminddb:"iso_code"`
}

// nestedRecord is a GeoLite2/GeoIP2 Country or City record.
type nestedRecord struct {
	Country           isoCode `maxminddb:"country"`
	RegisteredCountry isoCode `maxminddb:"registered_country"`
}

func (r *nestedRecord) location() Location {
	return Location{Country: nestedCountry(r.Country, r.RegisteredCountry)}
}

// nestedASNRecord is a GeoIP2-style record that also carries ASN fields.
type nestedASNRecord struct {
	Country           isoCode `maxminddb:"country"`
	RegisteredCountry isoCode `maxminddb:"registered_country"`
	ASN               uint32  `maxminddb:"autonomous_system_number"`
	ASOrg             string  `maxminddb:"autonomous_system_organization"`
}

func (r *nestedASNRecord) location() Location {
	return withASN(Location{Country: nestedCountry(r.Country, r.RegisteredCountry)}, r.ASN, r.ASOrg)
}

// flatRecord is an ip-location-db country (or city) record.
type flatRecord struct {
	CountryCode string `maxminddb:"country_code"`
}

func (r *flatRecord) location() Location {
	return Location{Country: normalizeCountry(r.CountryCode)}
}

// flatASNRecord is an ip-location-db-style record with both kinds of field.
type flatASNRecord struct {
	CountryCode string `maxminddb:"country_code"`
	ASN         uint32 `maxminddb:"autonomous_system_number"`
	ASOrg       string `maxminddb:"autonomous_system_organization"`
}

func (r *flatASNRecord) location() Location {
	return withASN(Location{Country: normalizeCountry(r.CountryCode)}, r.ASN, r.ASOrg)
}

// asnRecord is a GeoLite2-ASN, GeoIP2-ISP or ip-location-db asn record.
type asnRecord struct {
	ASN   uint32 `maxminddb:"autonomous_system_number"`
	ASOrg string `maxminddb:"autonomous_system_organization"`
}

func (r *asnRecord) location() Location {
	return withASN(Location{}, r.ASN, r.ASOrg)
}

// nestedCountry returns the country, falling back to the registered country
// (GeoLite2 leaves country empty for some networks, e.g. satellite providers).
func nestedCountry(country, registered isoCode) string {
	if c := normalizeCountry(country.ISOCode); c != "" {
		return c
	}
	return normalizeCountry(registered.ISOCode)
}

// withASN sets the autonomous system on loc; the organisation only comes
// with a known number.
func withASN(loc Location, asn uint32, org string) Location {
	if asn != 0 {
		loc.ASN, loc.ASOrg = asn, org
	}
	return loc
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
