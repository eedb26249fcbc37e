package geo

import (
	"math"
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

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
	city        string // city.names.en (GeoIP2) or city (ip-location-db)
	// lat and lon are location.latitude and location.longitude (GeoIP2) or
	// latitude and longitude (ip-location-db); latOK and lonOK say whether
	// the record held a readable value for each.
	lat, lon     float64
	latOK, lonOK bool
	accuracy     uint64 // location.accuracy_radius (GeoIP2), in km
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

// coordinates returns the record's latitude and longitude, with ok false
// unless both were read and form a point that HasCoordinates accepts.
func (r *record) coordinates() (lat, lon float64, ok bool) {
	if !r.latOK || !r.lonOK || !validCoordinates(r.lat, r.lon) {
		return 0, 0, false
	}
	return r.lat, r.lon, true
}

// accuracyKM returns the record's accuracy radius, capped at the largest
// uint16 (far beyond any distance on Earth) rather than wrapped.
func (r *record) accuracyKM() uint16 {
	return uint16(min(r.accuracy, math.MaxUint16))
}

// UnmarshalMaxMindDBCursor decodes a record from the map at cursor and
// returns the cursor after it. The reader calls it from Result.Decode.
// The traversal is bounded: three map levels (city.names.en), and skipping
// a value walks only its own bytes, never following pointers.
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
		case "city":
			r.city, next, err = readCity(value)
		case "location":
			next, err = r.readLocation(value)
		case "latitude":
			r.lat, r.latOK, next, err = readDegrees(value)
		case "longitude":
			r.lon, r.lonOK, next, err = readDegrees(value)
		default:
			next, err = value.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return entries.End()
}

// readLocation reads latitude, longitude and accuracy_radius from the
// GeoIP2 location object at cursor into r; a value that is not a map is
// skipped.
func (r *record) readLocation(cursor mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	if kind, err := cursor.Kind(); err != nil || kind != mmdbdata.KindMap {
		return skip(cursor, err)
	}
	entries, err := cursor.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, value, ok := entries.Next(next)
		if !ok {
			break
		}
		switch string(key) {
		case "latitude":
			r.lat, r.latOK, next, err = readDegrees(value)
		case "longitude":
			r.lon, r.lonOK, next, err = readDegrees(value)
		case "accuracy_radius":
			r.accuracy, next, err = readUint(value)
		default:
			next, err = value.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return entries.End()
}

// readCity reads a city name: the names.en of a GeoIP2 city object, or the
// flat string of ip-location-db. A value of another kind yields "".
func readCity(cursor mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
	kind, err := cursor.Kind()
	switch {
	case err == nil && kind == mmdbdata.KindString:
		return cursor.ReadString()
	case err == nil && kind == mmdbdata.KindMap:
		return readMapField(cursor, "names", func(names mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
			return readMapField(names, "en", readString)
		})
	default:
		next, err := skip(cursor, err)
		return "", next, err
	}
}

// readISOCode reads the iso_code of a GeoIP2 country object at cursor; a
// value that is not a map yields "".
func readISOCode(cursor mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
	return readMapField(cursor, "iso_code", readString)
}

// readMapField reads the value under key in the map at cursor with read
// and skips the map's other entries; a value that is not a map, or a map
// without key, yields "".
func readMapField(
	cursor mmdbdata.Cursor, key string, read func(mmdbdata.Cursor) (string, mmdbdata.Cursor, error),
) (string, mmdbdata.Cursor, error) {
	if kind, err := cursor.Kind(); err != nil || kind != mmdbdata.KindMap {
		next, err := skip(cursor, err)
		return "", next, err
	}
	entries, err := cursor.Map()
	if err != nil {
		return "", mmdbdata.Cursor{}, err
	}
	var (
		field string
		next  mmdbdata.Cursor
	)
	for {
		k, value, ok := entries.Next(next)
		if !ok {
			break
		}
		if string(k) == key {
			field, next, err = read(value)
		} else {
			next, err = value.Skip()
		}
		if err != nil {
			return "", mmdbdata.Cursor{}, err
		}
	}
	next, err = entries.End()
	return field, next, err
}

// maxDegreesText bounds the length of a coordinate stored as a string; a
// longer string is not a coordinate.
const maxDegreesText = 32

// readDegrees reads a coordinate in decimal degrees: a double or a float
// (GeoIP2, ip-location-db files from ip-location-to-mmdb) or a decimal
// string (ip-location-db as documented). ok is false for a value of another
// kind, an empty or unparsable string, or a value that is not finite; the
// range is checked later, together with the other coordinate.
func readDegrees(cursor mmdbdata.Cursor) (deg float64, ok bool, next mmdbdata.Cursor, err error) {
	kind, err := cursor.Kind()
	if err != nil {
		return 0, false, mmdbdata.Cursor{}, err
	}
	switch kind {
	case mmdbdata.KindFloat64, mmdbdata.KindFloat32:
		deg, next, err = cursor.ReadFloat()
	case mmdbdata.KindString:
		// ReadMapKey decodes the string at cursor as it would a map key
		// and returns bytes that alias the database rather than a string,
		// so that parsing a coordinate never allocates, even for strings
		// the reader's string cache does not hold. Skip then gives the
		// successor that the enclosing map iteration checks.
		text, _, kerr := cursor.ReadMapKey()
		if kerr != nil {
			return 0, false, mmdbdata.Cursor{}, kerr
		}
		if next, err = cursor.Skip(); err != nil {
			return 0, false, mmdbdata.Cursor{}, err
		}
		// "" is how these files say "unknown"; a string longer than any
		// coordinate is not one. Both are refused before ParseFloat, whose
		// error would allocate. string(text) does not escape, so for
		// strings this short the conversion needs no allocation either.
		if len(text) == 0 || len(text) > maxDegreesText {
			return 0, false, next, nil
		}
		var perr error
		if deg, perr = strconv.ParseFloat(string(text), 64); perr != nil {
			return 0, false, next, nil
		}
	default:
		next, err = cursor.Skip()
		return 0, false, next, err
	}
	if err != nil {
		return 0, false, mmdbdata.Cursor{}, err
	}
	return deg, !math.IsNaN(deg) && !math.IsInf(deg, 0), next, nil
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
