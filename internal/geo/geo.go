// Package geo maps IP addresses to their country, autonomous system and
// city-level location using MaxMind DB (.mmdb) files that the operator
// downloads and points shopguard at; shopguard ships no database of its own.
//
// Two record layouts are understood, and one file may carry any mix of the
// kinds of field:
//
//   - MaxMind GeoLite2/GeoIP2 (and DB-IP's compatible files): the country is
//     country.iso_code, falling back to registered_country.iso_code; the
//     autonomous system is autonomous_system_number and
//     autonomous_system_organization (GeoLite2-ASN, GeoIP2-ISP); the city is
//     city.names.en and the coordinates are location.latitude and
//     location.longitude, with location.accuracy_radius in kilometres
//     (GeoLite2-City, GeoIP2-City).
//   - ip-location-db (github.com/sapics/ip-location-db): the country is the
//     flat string country_code; the autonomous system uses the same two
//     field names as GeoLite2-ASN; the city files (dbip-city,
//     geolite2-city) carry the flat fields city, latitude and longitude
//     beside country_code (and state1, state2, postcode and timezone, which
//     are not read); every field but country_code is optional. The project
//     documents latitude and longitude as decimal strings, "" when unknown,
//     while files built with its older ip-location-to-mmdb converter store
//     them as 32-bit floats; both are understood. These files have no
//     accuracy radius.
//
// Which fields a file provides is found by probing its records when it is
// opened, so a file is accepted for what it contains rather than for what
// its metadata claims.
//
// Coordinates of exactly (0, 0) are treated as unknown in every layout: the
// point lies in the Gulf of Guinea, where no network is really located, and
// some databases and converters write it for "no location". Coordinates out
// of range, or a latitude without a longitude, count as unknown too.
package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"sync"

	maxminddb "github.com/oschwald/maxminddb-golang/v2"
)

// ErrInvalidDatabase reports that a file is not a readable MaxMind DB file.
// Errors from Open wrap it together with the reader's own error.
var ErrInvalidDatabase = errors.New("geo: not a valid MaxMind DB file")

// ErrNoGeoFields reports that a readable MaxMind DB file carries none of the
// fields this package knows: country, autonomous system, city name or
// coordinates.
var ErrNoGeoFields = errors.New("geo: database provides no country, ASN, city or coordinate fields")

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
	// City is the English name of the city ("Berlin"), or "" when it is
	// unknown. When the location has coordinates, City comes from the same
	// database record as they do, so it may be "" beside them.
	City string
	// Latitude and Longitude are the location in decimal degrees (WGS 84):
	// latitude in [-90, 90], positive north; longitude in [-180, 180],
	// positive east. Both are 0 when the coordinates are unknown; check
	// HasCoordinates rather than testing them for 0, since either alone
	// may really be 0.
	Latitude, Longitude float64
	// AccuracyKM is the radius in kilometres around the coordinates within
	// which the address is likely located, or 0 when it is unknown. It is
	// set only together with coordinates, from the same database record.
	AccuracyKM uint16
}

// HasCoordinates reports whether l carries a located point: Latitude and
// Longitude are finite, within their ranges, and not both exactly 0. The
// point (0, 0) counts as unknown, because databases write it for "no
// location" in some layouts. Lookup sets coordinates only when
// HasCoordinates would report true for them.
func (l Location) HasCoordinates() bool {
	return validCoordinates(l.Latitude, l.Longitude)
}

// validCoordinates reports whether lat and lon are a located point in
// decimal degrees, (0, 0) excepted. NaN fails every comparison.
func validCoordinates(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat != 0 || lon != 0)
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
	city     bool // city names
	coords   bool // coordinates
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
// (country, autonomous system, city-level location) the first file that
// knows the address wins, so a country file, an ASN file and a city file
// can be combined, as can an IPv4 and an IPv6 file of the same kind. A file
// that provides only cities and coordinates is accepted like any other.
// Open with no paths returns an empty DB that knows nothing.
//
// A path that cannot be read, is not a valid MaxMind DB file
// (ErrInvalidDatabase), or provides none of the country, ASN, city and
// coordinate fields (ErrNoGeoFields) is refused with an error naming the
// path; files already opened are closed again. The files are memory-mapped:
// replace a file by renaming a new one over it, never by rewriting it in
// place, and Open it again to use the new data.
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
	src.country, src.asn, src.city, src.coords = fields.country, fields.asn, fields.city, fields.coords
	if !src.country && !src.asn && !src.city && !src.coords {
		_ = r.Close()
		return source{}, fmt.Errorf(
			"%w: %s: database type %q, %s (want country.iso_code, "+
				"registered_country.iso_code or country_code; autonomous_system_number; "+
				"city.names.en or city; or location.latitude and location.longitude, "+
				"or latitude and longitude)",
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
	country, asn, city, coords bool
	records                    int
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
// value (a two-letter country code, a non-zero 32-bit ASN, a non-empty city
// name, coordinates that HasCoordinates accepts). Networks without
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
		p.city = p.city || rec.city != ""
		if !p.coords {
			_, _, p.coords = rec.coordinates()
		}
		if p.country && p.asn && p.city && p.coords {
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

// HasCity reports whether some opened file provides city names.
func (db *DB) HasCity() bool {
	if db == nil {
		return false
	}
	for _, s := range db.sources {
		if s.city {
			return true
		}
	}
	return false
}

// HasCoordinates reports whether some opened file provides coordinates, so
// that a caller can tell "location unknown" from "no city database" and
// skip checks, such as impossible travel, that need coordinates.
func (db *DB) HasCoordinates() bool {
	if db == nil {
		return false
	}
	for _, s := range db.sources {
		if s.coords {
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
		if s.city {
			kinds = append(kinds, "city")
		}
		if s.coords {
			kinds = append(kinds, "coordinates")
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

// Lookup returns the country, autonomous system and city-level location of
// ip. It returns the zero Location for an invalid, private, loopback,
// link-local, multicast or unspecified address, for an address no file
// knows, and for a nil DB. An IPv4-mapped IPv6 address is looked up as the
// IPv4 address it carries.
//
// City, coordinates and AccuracyKM come from one record: the first file, in
// Open's order, whose record for ip has coordinates. When no file has
// coordinates for ip, City comes from the first record that names a city.
// Coordinates of exactly (0, 0), out of range, or with only one of the pair
// present are left unknown.
//
// Lookup itself does not allocate for well-formed databases. The names it
// returns (ASOrg, City) come from the reader's string cache, which
// allocates a name only when it does not hold it yet, as happens when
// lookups cycle through more distinct names than the cache keeps.
func (db *DB) Lookup(ip netip.Addr) Location {
	var loc Location
	if db == nil || !ip.IsValid() {
		return loc
	}
	ip = ip.Unmap()
	if !routable(ip) {
		return loc
	}
	located := false // loc has coordinates
	for i := range db.sources {
		s := &db.sources[i]
		wantCountry := loc.Country == "" && s.country
		wantASN := loc.ASN == 0 && s.asn
		wantPlace := !located && (s.coords || (s.city && loc.City == ""))
		if !wantCountry && !wantASN && !wantPlace {
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
			if wantPlace {
				if lat, lon, ok := rec.coordinates(); ok {
					loc.City, loc.Latitude, loc.Longitude = rec.city, lat, lon
					loc.AccuracyKM = rec.accuracyKM()
					located = true
				} else if loc.City == "" {
					loc.City = rec.city
				}
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
