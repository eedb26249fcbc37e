package geo_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/geo/geotest"
)

// networks is the content shared by the test databases. 10.0.0.0/8 is in
// them on purpose: private addresses must come back unknown all the same.
var networks = []geotest.Network{
	{
		CIDR: "203.0.113.0/24", Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH",
		City: "Berlin", Coordinates: geotest.At(52.52, 13.405), AccuracyKM: 20,
	},
	// A country-level location without a city, as GeoLite2 has for many
	// networks.
	{
		CIDR: "198.51.100.0/24", RegisteredCountry: "US", ASN: 64501, ASOrg: "Example Satellite",
		Coordinates: geotest.At(37.751, -97.822), AccuracyKM: 1000,
	},
	{CIDR: "192.0.2.0/25", Country: "fr", ASN: 64502, City: "Paris", Coordinates: geotest.At(48.8566, 2.3522), AccuracyKM: 5},
	// (0, 0) stands for "no location".
	{CIDR: "192.0.2.128/25", Country: "ZZ", Coordinates: geotest.At(0, 0), AccuracyKM: 1000},
	{
		CIDR: "192.88.99.0/24", Country: "DE", ASN: 64503, ASOrg: "Example Hosting GmbH",
		City: "Berlin", Coordinates: geotest.At(52.52, 13.405), AccuracyKM: 20,
	},
	// A point on the equator: a latitude of 0 alone is a real place.
	{CIDR: "198.18.0.0/16", Country: "UG", City: "Equator Town", Coordinates: geotest.At(0, 32.5), AccuracyKM: 100},
	// A city without coordinates.
	{CIDR: "198.19.0.0/16", Country: "NL", City: "Nowhere"},
	{
		CIDR: "2001:db8::/32", Country: "JP", ASN: 4200000001, ASOrg: "Example IPv6 Carrier",
		City: "Tokyo", Coordinates: geotest.At(35.6895, 139.69171), AccuracyKM: 50,
	},
	{CIDR: "10.0.0.0/8", Country: "IT", ASN: 64999, ASOrg: "Private", City: "Roma", Coordinates: geotest.At(41.9, 12.5)},
}

// write writes networks in layout to a new file in a temporary directory.
func write(t testing.TB, layout geotest.Layout, nets []geotest.Network) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.mmdb")
	geotest.Write(t, path, nets, layout)
	return path
}

// open opens paths and closes the DB when the test ends.
func open(t testing.TB, paths ...string) *geo.DB {
	t.Helper()
	db, err := geo.Open(paths...)
	if err != nil {
		t.Fatalf("Open(%v): %v", paths, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestLookupLayouts(t *testing.T) {
	var (
		de = geo.Location{
			Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH",
			City: "Berlin", Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20,
		}
		// us has only a registered country, a GeoIP2 fallback that
		// ip-location-db lacks.
		us = geo.Location{
			Country: "US", ASN: 64501, ASOrg: "Example Satellite",
			Latitude: 37.751, Longitude: -97.822, AccuracyKM: 1000,
		}
		fr = geo.Location{Country: "FR", ASN: 64502, City: "Paris", Latitude: 48.8566, Longitude: 2.3522, AccuracyKM: 5}
		zz = geo.Location{}
		// de2 shares its country and place with de, so the writer stores
		// those record parts once and points to them.
		de2 = geo.Location{
			Country: "DE", ASN: 64503, ASOrg: "Example Hosting GmbH",
			City: "Berlin", Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20,
		}
		ug = geo.Location{Country: "UG", City: "Equator Town", Latitude: 0, Longitude: 32.5, AccuracyKM: 100}
		nl = geo.Location{Country: "NL", City: "Nowhere"}
		jp = geo.Location{
			Country: "JP", ASN: 4200000001, ASOrg: "Example IPv6 Carrier",
			City: "Tokyo", Latitude: 35.6895, Longitude: 139.69171, AccuracyKM: 50,
		}
	)
	// Each view maps a full location to what one layout can know about it.
	all := func(l geo.Location) geo.Location { return l }
	asnOnly := func(l geo.Location) geo.Location { return geo.Location{ASN: l.ASN, ASOrg: l.ASOrg} }
	countryOnly := func(l geo.Location) geo.Location { return geo.Location{Country: l.Country} }
	noASN := func(l geo.Location) geo.Location { l.ASN, l.ASOrg = 0, ""; return l }
	flatCountry := func(l geo.Location) string {
		if l == us {
			return ""
		}
		return l.Country
	}
	flatCountryOnly := func(l geo.Location) geo.Location { return geo.Location{Country: flatCountry(l)} }
	// ip-location-db city files have no accuracy radius; IPLocationCity
	// stores the coordinates as float32.
	flatCityText := func(l geo.Location) geo.Location {
		return geo.Location{Country: flatCountry(l), City: l.City, Latitude: l.Latitude, Longitude: l.Longitude}
	}
	flatCity := func(l geo.Location) geo.Location {
		l = flatCityText(l)
		l.Latitude, l.Longitude = float64(float32(l.Latitude)), float64(float32(l.Longitude))
		return l
	}

	type probe struct {
		ip   string
		want geo.Location
	}
	// probes lists the same addresses for every layout.
	probes := func(view func(geo.Location) geo.Location, ipv6 bool) []probe {
		v6 := view(jp)
		if !ipv6 {
			v6 = geo.Location{}
		}
		return []probe{
			{"203.0.113.7", view(de)},
			{"::ffff:203.0.113.7", view(de)},
			{"198.51.100.1", view(us)},
			{"192.0.2.1", view(fr)},
			{"192.0.2.200", view(zz)},
			{"192.88.99.1", view(de2)},
			{"198.18.5.5", view(ug)},
			{"198.19.5.5", view(nl)},
			{"2001:db8::1", v6},
			{"2001:db8:ffff::1", v6},
			{"8.8.8.8", geo.Location{}},
			{"2a00:1450::1", geo.Location{}},
			{"10.1.2.3", geo.Location{}},
			{"::ffff:10.1.2.3", geo.Location{}},
			{"127.0.0.1", geo.Location{}},
			{"::1", geo.Location{}},
			{"fe80::1", geo.Location{}},
			{"0.0.0.0", geo.Location{}},
		}
	}
	var ipv4Nets []geotest.Network
	for _, n := range networks {
		if !strings.Contains(n.CIDR, ":") {
			ipv4Nets = append(ipv4Nets, n)
		}
	}

	// has lists what HasCountry, HasASN, HasCity and HasCoordinates report.
	type has struct{ country, asn, city, coords bool }
	cityFields := has{country: true, city: true, coords: true}
	tests := []struct {
		name   string
		layout geotest.Layout
		nets   []geotest.Network
		has    has
		probes []probe
	}{
		{"GeoLite2-Country", geotest.GeoLite2Country, networks, has{country: true}, probes(countryOnly, true)},
		{"GeoLite2-City", geotest.GeoLite2City, networks, cityFields, probes(noASN, true)},
		{"GeoLite2-ASN", geotest.GeoLite2ASN, networks, has{asn: true}, probes(asnOnly, true)},
		{"ip-location-db country", geotest.IPLocationCountry, networks, has{country: true}, probes(flatCountryOnly, true)},
		{"ip-location-db country ipv4", geotest.IPLocationCountryIPv4, ipv4Nets, has{country: true}, probes(flatCountryOnly, false)},
		{"ip-location-db asn", geotest.IPLocationASN, networks, has{asn: true}, probes(asnOnly, true)},
		{"ip-location-db city", geotest.IPLocationCity, networks, cityFields, probes(flatCity, true)},
		{"ip-location-db city text", geotest.IPLocationCityText, networks, cityFields, probes(flatCityText, true)},
		{"combined", geotest.Combined, networks, has{true, true, true, true}, probes(all, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, write(t, tt.layout, tt.nets))
			got := has{db.HasCountry(), db.HasASN(), db.HasCity(), db.HasCoordinates()}
			if got != tt.has {
				t.Errorf("HasCountry, HasASN, HasCity, HasCoordinates = %+v, want %+v", got, tt.has)
			}
			for _, p := range tt.probes {
				if got := db.Lookup(netip.MustParseAddr(p.ip)); got != p.want {
					t.Errorf("Lookup(%s) = %+v, want %+v", p.ip, got, p.want)
				}
			}
		})
	}
}

func TestLookupCombinesFiles(t *testing.T) {
	countryNets := []geotest.Network{
		{CIDR: "203.0.113.0/24", Country: "DE"},
		{CIDR: "2001:db8::/32", Country: "JP"},
	}
	asnNets := []geotest.Network{
		{CIDR: "203.0.113.0/25", ASN: 64500, ASOrg: "Example Hosting GmbH"},
		{CIDR: "198.51.100.0/24", ASN: 64501, ASOrg: "Example Satellite"},
		{CIDR: "2001:db8::/48", ASN: 64502, ASOrg: "Example IPv6 Carrier"},
	}
	v4Nets := []geotest.Network{{CIDR: "203.0.113.0/24", Country: "AT"}, {CIDR: "192.0.2.0/24", Country: "CH"}}
	v6Nets := []geotest.Network{{CIDR: "2001:db8::/32", Country: "KR"}, {CIDR: "192.0.2.0/24", Country: "NL"}}
	// cityNets disagrees with countryNets on 203.0.113.0/25: the country
	// file comes first and wins the country, the city file the place.
	cityNets := []geotest.Network{
		{CIDR: "203.0.113.0/25", Country: "AT", City: "Wien", Coordinates: geotest.At(48.2082, 16.3738)},
		{CIDR: "203.0.113.128/25", Country: "DE", City: "Berlin", Coordinates: geotest.At(52.52, 13.405)},
		{CIDR: "198.51.100.0/24", City: "Chicago", Coordinates: geotest.At(41.8781, -87.6298)},
		{CIDR: "2001:db8::/32", Country: "JP", City: "Tokyo", Coordinates: geotest.At(35.6895, 139.69171)},
	}
	// placeNets and morePlaces test that coordinates come from the first
	// file that has them, together with that record's city: a city name
	// without coordinates, (0, 0) and a lone accuracy radius do not count.
	placeNets := []geotest.Network{
		{CIDR: "203.0.113.0/24", City: "Name Only"},
		{CIDR: "198.51.100.0/24", City: "Null Island", Coordinates: geotest.At(0, 0), AccuracyKM: 1000},
		{CIDR: "192.0.2.0/24", City: "Lyon", Coordinates: geotest.At(45.764, 4.8357), AccuracyKM: 10},
		{CIDR: "192.88.99.0/24", City: "Accuracy Only", AccuracyKM: 100},
	}
	morePlaces := []geotest.Network{
		{CIDR: "203.0.113.0/24", Coordinates: geotest.At(52.52, 13.405), AccuracyKM: 20},
		{CIDR: "198.51.100.0/24", City: "Paris", Coordinates: geotest.At(48.8566, 2.3522), AccuracyKM: 5},
		{CIDR: "192.0.2.0/24", City: "Marseille", Coordinates: geotest.At(43.2965, 5.3698), AccuracyKM: 10},
		{CIDR: "192.88.99.0/24", City: "Other Name"},
	}

	tests := []struct {
		name  string
		files []string
		want  map[string]geo.Location
	}{
		{
			name: "GeoLite2 country and ASN",
			files: []string{
				write(t, geotest.GeoLite2Country, countryNets),
				write(t, geotest.GeoLite2ASN, asnNets),
			},
			want: map[string]geo.Location{
				"203.0.113.1":   {Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH"},
				"203.0.113.200": {Country: "DE"},
				"198.51.100.1":  {ASN: 64501, ASOrg: "Example Satellite"},
				"2001:db8::1":   {Country: "JP", ASN: 64502, ASOrg: "Example IPv6 Carrier"},
				"2001:db8:1::1": {Country: "JP"},
				"8.8.8.8":       {},
			},
		},
		{
			name: "ip-location-db ASN before GeoLite2 country",
			files: []string{
				write(t, geotest.IPLocationASN, asnNets),
				write(t, geotest.GeoLite2Country, countryNets),
			},
			want: map[string]geo.Location{
				"::ffff:203.0.113.1": {Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH"},
				"2001:db8::1":        {Country: "JP", ASN: 64502, ASOrg: "Example IPv6 Carrier"},
			},
		},
		{
			name: "ip-location-db ipv4 and ipv6 country files, first one wins",
			files: []string{
				write(t, geotest.IPLocationCountryIPv4, v4Nets),
				write(t, geotest.IPLocationCountry, v6Nets),
			},
			want: map[string]geo.Location{
				"203.0.113.1": {Country: "AT"},
				"192.0.2.1":   {Country: "CH"},
				"2001:db8::1": {Country: "KR"},
			},
		},
		{
			name: "GeoLite2 country and ASN with an ip-location-db city file",
			files: []string{
				write(t, geotest.GeoLite2Country, countryNets),
				write(t, geotest.GeoLite2ASN, asnNets),
				write(t, geotest.IPLocationCityText, cityNets),
			},
			want: map[string]geo.Location{
				"203.0.113.1": {
					Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH",
					City: "Wien", Latitude: 48.2082, Longitude: 16.3738,
				},
				"203.0.113.200": {Country: "DE", City: "Berlin", Latitude: 52.52, Longitude: 13.405},
				"198.51.100.1": {
					ASN: 64501, ASOrg: "Example Satellite", City: "Chicago", Latitude: 41.8781, Longitude: -87.6298,
				},
				"2001:db8::1": {
					Country: "JP", ASN: 64502, ASOrg: "Example IPv6 Carrier",
					City: "Tokyo", Latitude: 35.6895, Longitude: 139.69171,
				},
				"8.8.8.8": {},
			},
		},
		{
			name: "coordinates from the first file that has them",
			files: []string{
				write(t, geotest.GeoLite2City, placeNets),
				write(t, geotest.IPLocationCityText, morePlaces),
			},
			want: map[string]geo.Location{
				// The second file has coordinates without a city name;
				// the first file's name does not move to them.
				"203.0.113.1":  {Latitude: 52.52, Longitude: 13.405},
				"198.51.100.1": {City: "Paris", Latitude: 48.8566, Longitude: 2.3522},
				"192.0.2.1":    {City: "Lyon", Latitude: 45.764, Longitude: 4.8357, AccuracyKM: 10},
				// Neither file has coordinates: the first name wins.
				"192.88.99.1": {City: "Accuracy Only"},
			},
		},
		{
			name: "a city name stays when no file has coordinates",
			files: []string{
				write(t, geotest.GeoLite2City, placeNets[:1]),
				write(t, geotest.GeoLite2Country, countryNets),
			},
			want: map[string]geo.Location{
				"203.0.113.1": {Country: "DE", City: "Name Only"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, tt.files...)
			for ip, want := range tt.want {
				if got := db.Lookup(netip.MustParseAddr(ip)); got != want {
					t.Errorf("Lookup(%s) = %+v, want %+v", ip, got, want)
				}
			}
		})
	}
}

func TestNilAndEmptyDB(t *testing.T) {
	empty, err := geo.Open()
	if err != nil {
		t.Fatalf("Open(): %v", err)
	}
	for name, db := range map[string]*geo.DB{"nil": nil, "no files": empty} {
		t.Run(name, func(t *testing.T) {
			for _, ip := range []netip.Addr{netip.MustParseAddr("203.0.113.1"), netip.MustParseAddr("2001:db8::1"), {}} {
				if got := db.Lookup(ip); got != (geo.Location{}) {
					t.Errorf("Lookup(%s) = %+v, want zero", ip, got)
				}
			}
			if db.HasCountry() || db.HasASN() || db.HasCity() || db.HasCoordinates() {
				t.Errorf("HasCountry() = %v, HasASN() = %v, HasCity() = %v, HasCoordinates() = %v, want false",
					db.HasCountry(), db.HasASN(), db.HasCity(), db.HasCoordinates())
			}
			if got := db.Describe(); got != "no geolocation database" {
				t.Errorf("Describe() = %q", got)
			}
			if err := db.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
		})
	}
}

func TestLookupInvalidAddress(t *testing.T) {
	db := open(t, write(t, geotest.Combined, networks))
	if got := db.Lookup(netip.Addr{}); got != (geo.Location{}) {
		t.Errorf("Lookup(invalid) = %+v, want zero", got)
	}
	// A zone does not change the answer.
	ip := netip.MustParseAddr("2001:db8::1").WithZone("eth0")
	if got := db.Lookup(ip); got.Country != "JP" {
		t.Errorf("Lookup(%s) = %+v, want JP", ip, got)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mmdb")
	whole, err := os.ReadFile(write(t, geotest.GeoLite2Country, networks))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, whole[:len(whole)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	good := write(t, geotest.GeoLite2Country, networks)
	missing := filepath.Join(dir, "missing.mmdb")

	tests := []struct {
		name     string
		paths    []string
		wantIs   error
		wantPath string
		wantText []string
	}{
		{"garbage", []string{garbage}, geo.ErrInvalidDatabase, garbage, []string{"not a valid MaxMind DB file"}},
		{"empty file", []string{emptyFile}, geo.ErrInvalidDatabase, emptyFile, []string{"empty"}},
		{"truncated", []string{truncated}, geo.ErrInvalidDatabase, truncated, nil},
		{"missing", []string{missing}, fs.ErrNotExist, missing, []string{"no such file"}},
		{"directory", []string{dir}, nil, dir, []string{"is a directory"}},
		{"empty path", []string{""}, nil, "", []string{"empty database path"}},
		{"missing after a good one", []string{good, missing}, fs.ErrNotExist, missing, nil},
		{
			"no geo fields", []string{write(t, geotest.NoGeoFields, networks)}, geo.ErrNoGeoFields, "",
			[]string{
				`database type "shopguard-test-unrelated"`, "no country, ASN, city or coordinate fields",
				"country_code", "autonomous_system_number", "city.names.en", "location.latitude",
			},
		},
		{
			"no records", []string{write(t, geotest.GeoLite2Country, nil)}, geo.ErrNoGeoFields, "",
			[]string{`"GeoLite2-Country"`, "no data records"},
		},
		{
			"only malformed country codes", []string{write(t, geotest.IPLocationCountry, []geotest.Network{
				{CIDR: "203.0.113.0/24", Country: "DEU"}, {CIDR: "198.51.100.0/24", Country: "ZZ"},
			})}, geo.ErrNoGeoFields, "", nil,
		},
		{
			"only unknown coordinates", []string{write(t, geotest.GeoLite2City, []geotest.Network{
				{CIDR: "203.0.113.0/24", Coordinates: geotest.At(0, 0), AccuracyKM: 1000},
				{CIDR: "198.51.100.0/24", AccuracyKM: 50},
				{CIDR: "192.0.2.0/24", Coordinates: geotest.At(91, 10)},
			})}, geo.ErrNoGeoFields, "", nil,
		},
		{
			"ip-location-db city without cities, countries or coordinates",
			[]string{write(t, geotest.IPLocationCityText, []geotest.Network{
				{CIDR: "203.0.113.0/24"}, {CIDR: "198.51.100.0/24", Coordinates: geotest.At(0, 0)},
			})}, geo.ErrNoGeoFields, "", nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := geo.Open(tt.paths...)
			if err == nil {
				_ = db.Close()
				t.Fatalf("Open(%v) succeeded, want an error", tt.paths)
			}
			if db != nil {
				t.Errorf("Open returned a DB with the error %v", err)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %v", msg, tt.wantIs)
			}
			wantPath := tt.wantPath
			if wantPath == "" {
				wantPath = tt.paths[len(tt.paths)-1]
			}
			if !strings.Contains(msg, wantPath) {
				t.Errorf("error %q does not name the path %q", msg, wantPath)
			}
			if !strings.HasPrefix(msg, "geo: ") {
				t.Errorf("error %q lacks the package prefix", msg)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
		})
	}
}

// TestOpenCityOnly checks that a file with city-level data but neither
// country nor ASN fields is accepted for what it has.
func TestOpenCityOnly(t *testing.T) {
	berlin := geotest.Network{CIDR: "203.0.113.0/24", City: "Berlin", Coordinates: geotest.At(52.52, 13.405), AccuracyKM: 20}
	tests := []struct {
		name         string
		layout       geotest.Layout
		nets         []geotest.Network
		city, coords bool
		kinds        string
		want         geo.Location
	}{
		{
			"GeoLite2-City", geotest.GeoLite2City, []geotest.Network{berlin}, true, true, "city+coordinates",
			geo.Location{City: "Berlin", Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20},
		},
		{
			"ip-location-db city", geotest.IPLocationCity, []geotest.Network{berlin}, true, true, "city+coordinates",
			geo.Location{City: "Berlin", Latitude: float64(float32(52.52)), Longitude: float64(float32(13.405))},
		},
		{
			"ip-location-db city text", geotest.IPLocationCityText, []geotest.Network{berlin}, true, true, "city+coordinates",
			geo.Location{City: "Berlin", Latitude: 52.52, Longitude: 13.405},
		},
		{
			"coordinates only", geotest.GeoLite2City,
			[]geotest.Network{{CIDR: "203.0.113.0/24", Coordinates: geotest.At(-33.8688, 151.2093), AccuracyKM: 100}},
			false, true, "coordinates",
			geo.Location{Latitude: -33.8688, Longitude: 151.2093, AccuracyKM: 100},
		},
		{
			"city names only", geotest.IPLocationCityText, []geotest.Network{{CIDR: "203.0.113.0/24", City: "Berlin"}},
			true, false, "city", geo.Location{City: "Berlin"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, tt.layout, tt.nets)
			db := open(t, path)
			if db.HasCountry() || db.HasASN() {
				t.Errorf("HasCountry() = %v, HasASN() = %v, want false", db.HasCountry(), db.HasASN())
			}
			if db.HasCity() != tt.city || db.HasCoordinates() != tt.coords {
				t.Errorf("HasCity() = %v, HasCoordinates() = %v, want %v, %v",
					db.HasCity(), db.HasCoordinates(), tt.city, tt.coords)
			}
			if got := db.Describe(); !strings.Contains(got, ", IPv6, "+tt.kinds+", built ") {
				t.Errorf("Describe() = %q, want the kinds %q", got, tt.kinds)
			}
			if got := db.Lookup(netip.MustParseAddr("203.0.113.1")); got != tt.want {
				t.Errorf("Lookup = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	countryPath := write(t, geotest.GeoLite2Country, networks)
	asnPath := write(t, geotest.IPLocationASN, networks)
	cityPath := write(t, geotest.IPLocationCity, networks)
	combinedPath := write(t, geotest.Combined, networks)
	db := open(t, countryPath, asnPath, cityPath, combinedPath)
	got := db.Describe()
	for _, want := range []string{
		countryPath + ": GeoLite2-Country, IPv6, country, built 2026-01-01; ",
		asnPath + ": asn ipv6, IPv6, asn, built 2026-01-01; ",
		cityPath + ": city ipv6, IPv6, country+city+coordinates, built 2026-01-01; ",
		combinedPath + ": shopguard-test-combined, IPv6, country+asn+city+coordinates, built 2026-01-01",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() = %q, want it to contain %q", got, want)
		}
	}
}

func TestLookupConcurrent(t *testing.T) {
	db := open(t, write(t, geotest.GeoLite2Country, networks), write(t, geotest.GeoLite2ASN, networks),
		write(t, geotest.GeoLite2City, networks))
	want := geo.Location{
		Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH",
		City: "Berlin", Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20,
	}
	ip := netip.MustParseAddr("203.0.113.9")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if got := db.Lookup(ip); got != want {
					t.Errorf("Lookup(%s) = %+v, want %+v", ip, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzOpen opens arbitrary bytes as a database file: Open must return an
// error or a DB whose methods do not panic.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	for i, layout := range []geotest.Layout{
		geotest.GeoLite2Country, geotest.GeoLite2City, geotest.GeoLite2ASN, geotest.IPLocationCountry,
		geotest.IPLocationCountryIPv4, geotest.IPLocationASN, geotest.IPLocationCity, geotest.IPLocationCityText,
		geotest.Combined, geotest.NoGeoFields,
	} {
		path := filepath.Join(dir, "seed"+string(rune('a'+i))+".mmdb")
		nets := networks
		if layout == geotest.IPLocationCountryIPv4 {
			nets = []geotest.Network{networks[0], networks[2]}
		}
		geotest.Write(f, path, nets, layout)
		seed, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	f.Add([]byte{})
	f.Add([]byte("\xab\xcd\xefMaxMind.com"))
	ips := []netip.Addr{
		netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("198.51.100.1"),
		netip.MustParseAddr("192.0.2.200"), netip.MustParseAddr("198.18.5.5"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:1.2.3.4"),
		netip.MustParseAddr("8.8.8.8"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.mmdb")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		db, err := geo.Open(path)
		if err != nil {
			if db != nil {
				t.Fatalf("Open returned a DB with the error %v", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the path", err)
			}
			return
		}
		if !db.HasCountry() && !db.HasASN() && !db.HasCity() && !db.HasCoordinates() {
			t.Fatalf("Open accepted a file without country, ASN, city or coordinate fields")
		}
		_ = db.Describe()
		for _, ip := range ips {
			loc := db.Lookup(ip)
			if loc.Country != "" && (len(loc.Country) != 2 || strings.ToUpper(loc.Country) != loc.Country) {
				t.Fatalf("Lookup(%s).Country = %q, not an upper-case alpha-2 code", ip, loc.Country)
			}
			if loc.ASN == 0 && loc.ASOrg != "" {
				t.Fatalf("Lookup(%s) = %+v: organisation without a number", ip, loc)
			}
			if !loc.HasCoordinates() && (loc.Latitude != 0 || loc.Longitude != 0 || loc.AccuracyKM != 0) {
				t.Fatalf("Lookup(%s) = %+v: unusable coordinates or an accuracy without them", ip, loc)
			}
			if km, ok := geo.Distance(loc, loc); ok != loc.HasCoordinates() || km != 0 {
				t.Fatalf("Distance(%+v, itself) = %v, %v", loc, km, ok)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

func BenchmarkLookup(b *testing.B) {
	country := write(b, geotest.GeoLite2City, networks)
	asn := write(b, geotest.GeoLite2ASN, networks)
	flat := write(b, geotest.IPLocationCountry, networks)
	flatCity := write(b, geotest.IPLocationCity, networks)
	flatCityText := write(b, geotest.IPLocationCityText, networks)
	benches := []struct {
		name  string
		files []string
		ip    string
	}{
		{"city+asn/ipv4", []string{country, asn}, "203.0.113.7"},
		{"city+asn/ipv6", []string{country, asn}, "2001:db8::1"},
		{"city+asn/mapped", []string{country, asn}, "::ffff:203.0.113.7"},
		{"city+asn/unknown", []string{country, asn}, "8.8.8.8"},
		{"city+asn/private", []string{country, asn}, "10.1.2.3"},
		{"ip-location-db/ipv4", []string{flat}, "203.0.113.7"},
		{"ip-location-db-city/ipv4", []string{flatCity}, "203.0.113.7"},
		{"ip-location-db-city-text/ipv4", []string{flatCityText}, "203.0.113.7"},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			db := open(b, bb.files...)
			ip := netip.MustParseAddr(bb.ip)
			b.ReportAllocs()
			for b.Loop() {
				_ = db.Lookup(ip)
			}
		})
	}
	b.Run("city+asn/parallel", func(b *testing.B) {
		db := open(b, country, asn)
		ip := netip.MustParseAddr("203.0.113.7")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = db.Lookup(ip)
			}
		})
	})
}

// BenchmarkLookupMany looks up addresses in 4096 networks that each have
// their own city or organisation name, so that strings come from many
// places in the file, not from one record that the reader has cached.
func BenchmarkLookupMany(b *testing.B) {
	const n = 4096
	var (
		cities, orgs []geotest.Network
		ips          []netip.Addr
	)
	for i := range n {
		cidr := fmt.Sprintf("100.%d.%d.0/24", 64+i/256, i%256)
		cities = append(cities, geotest.Network{
			CIDR: cidr, Country: "DE", City: fmt.Sprintf("City %d", i),
			Coordinates: geotest.At(-60+float64(i)/128, -170+float64(i)/16), AccuracyKM: 20,
		})
		orgs = append(orgs, geotest.Network{CIDR: cidr, ASN: uint32(64512 + i), ASOrg: fmt.Sprintf("Organisation %d", i)})
		ips = append(ips, netip.MustParseAddr(fmt.Sprintf("100.%d.%d.1", 64+i/256, i%256)))
	}
	for _, bb := range []struct {
		name   string
		layout geotest.Layout
		nets   []geotest.Network
	}{
		{"asn-orgs", geotest.GeoLite2ASN, orgs},
		{"geolite2-cities", geotest.GeoLite2City, cities},
		{"ip-location-db-cities", geotest.IPLocationCity, cities},
		{"ip-location-db-cities-text", geotest.IPLocationCityText, cities},
	} {
		b.Run(bb.name, func(b *testing.B) {
			db := open(b, write(b, bb.layout, bb.nets))
			// Two passes give every string the two reads after which
			// the reader's cache admits it.
			for range 2 {
				for _, ip := range ips {
					_ = db.Lookup(ip)
				}
			}
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			i := 0
			for b.Loop() {
				_ = db.Lookup(ips[i%n])
				i++
			}
			runtime.ReadMemStats(&after)
			// allocs/op is rounded down; this says how far below 1 it is.
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "mallocs/op")
		})
	}
}
