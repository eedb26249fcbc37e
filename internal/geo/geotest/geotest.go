// Package geotest writes small MaxMind DB (.mmdb) files in the layouts that
// package geo reads, so that tests anywhere in shopguard can build the
// geolocation database they need instead of shipping one. It is meant for
// tests only.
package geotest

import (
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// BuildEpoch is the build time, in Unix seconds, written into every file's
// metadata: 2026-01-01T00:00:00Z.
const BuildEpoch int64 = 1767225600

// Layout selects the database type and the record layout of a written file.
type Layout int

const (
	// GeoLite2Country writes a "GeoLite2-Country" file: country.iso_code,
	// registered_country.iso_code and continent.code.
	GeoLite2Country Layout = iota + 1
	// GeoLite2City writes a "GeoLite2-City" file: the GeoLite2Country fields
	// plus city.names.en, location.latitude, location.longitude and
	// location.accuracy_radius, beside fields that readers must skip (city
	// names in other languages, geoname IDs, location.time_zone,
	// subdivisions, postal).
	GeoLite2City
	// GeoLite2ASN writes a "GeoLite2-ASN" file: autonomous_system_number and
	// autonomous_system_organization.
	GeoLite2ASN
	// IPLocationCountry writes an ip-location-db country file
	// (database type "country ipv6", no IPv4 aliases): country_code.
	IPLocationCountry
	// IPLocationCountryIPv4 writes an IPv4-only ip-location-db country file
	// (database type "country ipv4"): country_code. Networks must be IPv4.
	IPLocationCountryIPv4
	// IPLocationASN writes an ip-location-db asn file (database type
	// "asn ipv6", no IPv4 aliases): autonomous_system_number and
	// autonomous_system_organization.
	IPLocationASN
	// IPLocationCity writes an ip-location-db city file as its converter
	// ip-location-to-mmdb does (database type "city ipv6", no IPv4
	// aliases): the flat strings country_code, state1, state2, city,
	// postcode and timezone, written even when empty, and latitude and
	// longitude as 32-bit floats, written only for a Network with
	// Coordinates. Readers see the coordinates rounded to float32.
	IPLocationCity
	// IPLocationCityText writes an ip-location-db city file in the layout
	// its CITY.md documents (database type "city ipv6", no IPv4 aliases):
	// like IPLocationCity, but latitude and longitude are decimal strings,
	// written as "" for a Network without Coordinates.
	IPLocationCityText
	// Combined writes one file whose records carry the GeoLite2City fields
	// and the ASN fields (database type "shopguard-test-combined").
	Combined
	// NoGeoFields writes a valid file whose records carry only an unrelated
	// "note" field (database type "shopguard-test-unrelated"); geo.Open
	// must refuse it.
	NoGeoFields
)

// Network is one network of a written file and what the file says about it.
// Fields that the chosen Layout does not carry are ignored, and empty or
// zero fields are left out of the record unless the Layout says otherwise.
type Network struct {
	// CIDR is the network, e.g. "203.0.113.0/24" or "2001:db8::/32".
	CIDR string
	// Country is the country code written as country.iso_code (GeoLite2
	// layouts, Combined) or country_code (ip-location-db layouts), as is:
	// it is not validated, so tests can write malformed codes.
	Country string
	// RegisteredCountry is written as registered_country.iso_code in the
	// GeoLite2 layouts and Combined.
	RegisteredCountry string
	// ASN is written as autonomous_system_number.
	ASN uint32
	// ASOrg is written as autonomous_system_organization.
	ASOrg string
	// City is the English city name, written as city.names.en (GeoLite2City,
	// Combined) or city (ip-location-db city layouts).
	City string
	// Coordinates, when not nil, are written as location.latitude and
	// location.longitude (GeoLite2City, Combined) or latitude and longitude
	// (ip-location-db city layouts), as is: they are not validated, and
	// At(0, 0) writes the (0, 0) that some databases use for "unknown".
	Coordinates *Coordinates
	// AccuracyKM is written as location.accuracy_radius (GeoLite2City,
	// Combined); ip-location-db files have no such field.
	AccuracyKM uint16
}

// Coordinates is a point in decimal degrees.
type Coordinates struct {
	Latitude, Longitude float64
}

// At returns the Coordinates latitude, longitude, for Network.Coordinates.
func At(latitude, longitude float64) *Coordinates {
	return &Coordinates{Latitude: latitude, Longitude: longitude}
}

// Write writes a MaxMind DB file with networks in layout to path, failing t
// on any error. Reserved networks (documentation ranges such as
// 203.0.113.0/24 and 2001:db8::/32) are allowed.
func Write(t testing.TB, path string, networks []Network, layout Layout) {
	t.Helper()
	opts := mmdbwriter.Options{
		BuildEpoch:              BuildEpoch,
		IPVersion:               6,
		RecordSize:              28,
		IncludeReservedNetworks: true,
		Description:             map[string]string{"en": "shopguard test database"},
		Languages:               []string{"en"},
	}
	switch layout {
	case GeoLite2Country:
		opts.DatabaseType = "GeoLite2-Country"
	case GeoLite2City:
		opts.DatabaseType = "GeoLite2-City"
	case GeoLite2ASN:
		opts.DatabaseType = "GeoLite2-ASN"
		opts.RecordSize = 24
	case IPLocationCountry:
		opts.DatabaseType = "country ipv6"
		opts.RecordSize = 24
		opts.DisableIPv4Aliasing = true
	case IPLocationCountryIPv4:
		opts.DatabaseType = "country ipv4"
		opts.RecordSize = 24
		opts.IPVersion = 4
	case IPLocationASN:
		opts.DatabaseType = "asn ipv6"
		opts.RecordSize = 24
		opts.DisableIPv4Aliasing = true
	case IPLocationCity, IPLocationCityText:
		opts.DatabaseType = "city ipv6"
		opts.DisableIPv4Aliasing = true
	case Combined:
		opts.DatabaseType = "shopguard-test-combined"
	case NoGeoFields:
		opts.DatabaseType = "shopguard-test-unrelated"
	default:
		t.Fatalf("geotest: unknown layout %d", layout)
	}
	tree, err := mmdbwriter.New(opts)
	if err != nil {
		t.Fatalf("geotest: new writer: %v", err)
	}
	for _, n := range networks {
		_, ipNet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			t.Fatalf("geotest: network %q: %v", n.CIDR, err)
		}
		if err := tree.Insert(ipNet, record(n, layout)); err != nil {
			t.Fatalf("geotest: insert %s: %v", n.CIDR, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("geotest: %v", err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		_ = f.Close()
		t.Fatalf("geotest: write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("geotest: close %s: %v", path, err)
	}
}

// record builds the data record of n in layout.
func record(n Network, layout Layout) mmdbtype.Map {
	m := mmdbtype.Map{}
	switch layout {
	case GeoLite2Country, GeoLite2City, Combined:
		if n.Country != "" {
			m["country"] = mmdbtype.Map{
				"iso_code":   mmdbtype.String(n.Country),
				"geoname_id": mmdbtype.Uint32(2921044),
				"names":      mmdbtype.Map{"en": mmdbtype.String("Country " + n.Country)},
			}
			m["continent"] = mmdbtype.Map{"code": mmdbtype.String("EU")}
		}
		if n.RegisteredCountry != "" {
			m["registered_country"] = mmdbtype.Map{"iso_code": mmdbtype.String(n.RegisteredCountry)}
		}
		if layout == GeoLite2City || layout == Combined {
			addGeoLite2City(m, n)
		}
		if layout == Combined {
			addASN(m, n)
		}
	case GeoLite2ASN, IPLocationASN:
		addASN(m, n)
	case IPLocationCountry, IPLocationCountryIPv4:
		if n.Country != "" {
			m["country_code"] = mmdbtype.String(n.Country)
		}
	case IPLocationCity, IPLocationCityText:
		for key, value := range map[string]string{
			"country_code": n.Country, "city": n.City,
			"state1": "", "state2": "", "postcode": "", "timezone": "",
		} {
			m[mmdbtype.String(key)] = mmdbtype.String(value)
		}
		switch c := n.Coordinates; {
		case layout == IPLocationCityText && c == nil:
			m["latitude"], m["longitude"] = mmdbtype.String(""), mmdbtype.String("")
		case layout == IPLocationCityText:
			m["latitude"] = mmdbtype.String(strconv.FormatFloat(c.Latitude, 'f', -1, 64))
			m["longitude"] = mmdbtype.String(strconv.FormatFloat(c.Longitude, 'f', -1, 64))
		case c != nil:
			m["latitude"], m["longitude"] = mmdbtype.Float32(c.Latitude), mmdbtype.Float32(c.Longitude)
		}
	case NoGeoFields:
		m["note"] = mmdbtype.String("no geolocation here")
	}
	return m
}

// addGeoLite2City adds the GeoLite2-City fields of n to m, with the
// neighbouring fields that a reader must skip.
func addGeoLite2City(m mmdbtype.Map, n Network) {
	if n.City != "" {
		m["city"] = mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(2950159),
			"names": mmdbtype.Map{
				"de": mmdbtype.String(n.City + " (de)"),
				"en": mmdbtype.String(n.City),
				"ja": mmdbtype.String(n.City + " (ja)"),
			},
		}
		m["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("BE")}}
		m["postal"] = mmdbtype.Map{"code": mmdbtype.String("10115")}
	}
	location := mmdbtype.Map{}
	if c := n.Coordinates; c != nil {
		location["latitude"] = mmdbtype.Float64(c.Latitude)
		location["longitude"] = mmdbtype.Float64(c.Longitude)
		location["time_zone"] = mmdbtype.String("Europe/Berlin")
	}
	if n.AccuracyKM != 0 {
		location["accuracy_radius"] = mmdbtype.Uint16(n.AccuracyKM)
	}
	if len(location) != 0 {
		m["location"] = location
	}
}

// addASN adds the ASN fields of n to m.
func addASN(m mmdbtype.Map, n Network) {
	if n.ASN != 0 {
		m["autonomous_system_number"] = mmdbtype.Uint32(n.ASN)
	}
	if n.ASOrg != "" {
		m["autonomous_system_organization"] = mmdbtype.String(n.ASOrg)
	}
}
