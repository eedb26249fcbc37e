package geo_test

import (
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/geo/geotest"
)

// networks is the content shared by the test databases. 10.0.0.0/8 is in
// them on purpose: private addresses must come back unknown all the same.
var networks = []geotest.Network{
	{CIDR: "203.0.113.0/24", Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH"},
	{CIDR: "198.51.100.0/24", RegisteredCountry: "US", ASN: 64501, ASOrg: "Example Satellite"},
	{CIDR: "192.0.2.0/25", Country: "fr", ASN: 64502},
	{CIDR: "192.0.2.128/25", Country: "ZZ"},
	{CIDR: "192.88.99.0/24", Country: "DE", ASN: 64503, ASOrg: "Example Hosting GmbH"},
	{CIDR: "2001:db8::/32", Country: "JP", ASN: 4200000001, ASOrg: "Example IPv6 Carrier"},
	{CIDR: "10.0.0.0/8", Country: "IT", ASN: 64999, ASOrg: "Private"},
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
	country := func(c string) geo.Location { return geo.Location{Country: c} }
	var (
		de = geo.Location{Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH"}
		us = geo.Location{Country: "US", ASN: 64501, ASOrg: "Example Satellite"}
		fr = geo.Location{Country: "FR", ASN: 64502}
		zz = geo.Location{}
		// de2 shares its country with de, so the writer stores that
		// record part once and points to it.
		de2 = geo.Location{Country: "DE", ASN: 64503, ASOrg: "Example Hosting GmbH"}
		jp  = geo.Location{Country: "JP", ASN: 4200000001, ASOrg: "Example IPv6 Carrier"}
	)
	asnOnly := func(l geo.Location) geo.Location { l.Country = ""; return l }
	countryOnly := func(l geo.Location) geo.Location { return country(l.Country) }
	// The registered country is a GeoIP2 fallback; ip-location-db has none.
	flatCountryOnly := func(l geo.Location) geo.Location {
		if l == us {
			return geo.Location{}
		}
		return countryOnly(l)
	}

	type probe struct {
		ip   string
		want geo.Location
	}
	// probes lists the same addresses for every layout; want maps a full
	// location to what that layout can know about it.
	probes := func(want func(geo.Location) geo.Location, ipv6 bool) []probe {
		v6 := want(jp)
		if !ipv6 {
			v6 = geo.Location{}
		}
		return []probe{
			{"203.0.113.7", want(de)},
			{"::ffff:203.0.113.7", want(de)},
			{"198.51.100.1", want(us)},
			{"192.0.2.1", want(fr)},
			{"192.0.2.200", want(zz)},
			{"192.88.99.1", want(de2)},
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

	tests := []struct {
		name       string
		layout     geotest.Layout
		nets       []geotest.Network
		hasCountry bool
		hasASN     bool
		probes     []probe
	}{
		{"GeoLite2-Country", geotest.GeoLite2Country, networks, true, false, probes(countryOnly, true)},
		{"GeoLite2-City", geotest.GeoLite2City, networks, true, false, probes(countryOnly, true)},
		{"GeoLite2-ASN", geotest.GeoLite2ASN, networks, false, true, probes(asnOnly, true)},
		{"ip-location-db country", geotest.IPLocationCountry, networks, true, false, probes(flatCountryOnly, true)},
		{"ip-location-db country ipv4", geotest.IPLocationCountryIPv4, ipv4Nets, true, false, probes(flatCountryOnly, false)},
		{"ip-location-db asn", geotest.IPLocationASN, networks, false, true, probes(asnOnly, true)},
		{"combined", geotest.Combined, networks, true, true, probes(func(l geo.Location) geo.Location { return l }, true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t, write(t, tt.layout, tt.nets))
			if got := db.HasCountry(); got != tt.hasCountry {
				t.Errorf("HasCountry() = %v, want %v", got, tt.hasCountry)
			}
			if got := db.HasASN(); got != tt.hasASN {
				t.Errorf("HasASN() = %v, want %v", got, tt.hasASN)
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

// TestLookupToleratesOddFields checks that a known field holding a value of
// an unexpected kind is ignored without hiding the record's other fields.
func TestLookupToleratesOddFields(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "odd", IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	records := map[string]mmdbtype.Map{
		"203.0.113.0/24": {
			"country":                        mmdbtype.String("FR"), // a string, not a map
			"registered_country":             mmdbtype.Slice{mmdbtype.String("FR")},
			"country_code":                   mmdbtype.String("AT"),
			"autonomous_system_number":       mmdbtype.String("AS64500"),
			"autonomous_system_organization": mmdbtype.Uint32(7),
		},
		"198.51.100.0/24": {
			"country":                        mmdbtype.Map{"iso_code": mmdbtype.Uint16(276), "names": mmdbtype.Map{}},
			"autonomous_system_number":       mmdbtype.Uint64(64501),
			"autonomous_system_organization": mmdbtype.String("Wide ASN"),
		},
		"192.0.2.0/24": {
			"autonomous_system_number": mmdbtype.Uint64(1 << 40), // does not fit 32 bits
			"country_code":             mmdbtype.String("CH"),
		},
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "odd.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	db := open(t, path)
	for ip, want := range map[string]geo.Location{
		"203.0.113.1":  {Country: "AT"},
		"198.51.100.1": {ASN: 64501, ASOrg: "Wide ASN"},
		"192.0.2.1":    {Country: "CH"},
	} {
		if got := db.Lookup(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Lookup(%s) = %+v, want %+v", ip, got, want)
		}
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
			if db.HasCountry() || db.HasASN() {
				t.Errorf("HasCountry() = %v, HasASN() = %v, want false", db.HasCountry(), db.HasASN())
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
			[]string{`database type "shopguard-test-unrelated"`, "neither country nor ASN", "country_code", "autonomous_system_number"},
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

func TestDescribe(t *testing.T) {
	countryPath := write(t, geotest.GeoLite2Country, networks)
	asnPath := write(t, geotest.IPLocationASN, networks)
	db := open(t, countryPath, asnPath)
	got := db.Describe()
	for _, want := range []string{
		countryPath + ": GeoLite2-Country, IPv6, country, built 2026-01-01",
		asnPath + ": asn ipv6, IPv6, asn, built 2026-01-01",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Describe() = %q, want it to contain %q", got, want)
		}
	}
}

func TestLookupConcurrent(t *testing.T) {
	db := open(t, write(t, geotest.GeoLite2Country, networks), write(t, geotest.GeoLite2ASN, networks))
	want := geo.Location{Country: "DE", ASN: 64500, ASOrg: "Example Hosting GmbH"}
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
		geotest.IPLocationCountryIPv4, geotest.IPLocationASN, geotest.Combined, geotest.NoGeoFields,
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
		netip.MustParseAddr("192.0.2.200"), netip.MustParseAddr("2001:db8::1"),
		netip.MustParseAddr("::ffff:1.2.3.4"), netip.MustParseAddr("8.8.8.8"),
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
		if !db.HasCountry() && !db.HasASN() {
			t.Fatalf("Open accepted a file with neither country nor ASN fields")
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
