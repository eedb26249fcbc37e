package geo_test

import (
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/shopguard/shopguard/internal/geo"
)

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
		"192.88.99.0/24": {
			"city":         mmdbtype.Uint32(5),
			"location":     mmdbtype.String("52.52,13.405"),
			"latitude":     mmdbtype.String("abc"),
			"longitude":    mmdbtype.Float64(13),
			"country_code": mmdbtype.String("DE"),
		},
		"198.18.0.0/24": {
			"city": mmdbtype.Map{"names": mmdbtype.Slice{mmdbtype.String("Berlin")}},
			"location": mmdbtype.Map{
				"latitude": mmdbtype.Uint32(52), "longitude": mmdbtype.Float64(13), "accuracy_radius": mmdbtype.String("20"),
			},
			"country_code": mmdbtype.String("AT"),
		},
		"198.18.1.0/24": {
			"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.Uint16(1), "de": mmdbtype.String("Genf")}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(math.NaN()), "longitude": mmdbtype.Float64(6.14)},
		},
		"198.18.2.0/24": {
			"city":     mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Lost")}},
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(45), "longitude": mmdbtype.Float64(200)},
		},
		"198.18.3.0/24": {
			"location": mmdbtype.Map{
				"latitude": mmdbtype.Float32(45.5), "longitude": mmdbtype.Float64(7),
				"accuracy_radius": mmdbtype.Uint32(70000), // wider than uint16
			},
		},
		"198.18.4.0/24": {
			"latitude":  mmdbtype.String("4.55e1"),
			"longitude": mmdbtype.String("-7"),
			"city":      mmdbtype.String("Scientific"),
		},
		"198.18.5.0/24": {
			"latitude":  mmdbtype.String("45." + strings.Repeat("0", 40)), // too long for a coordinate
			"longitude": mmdbtype.String("7"),
			"city":      mmdbtype.String("Long Latitude"),
		},
		"198.18.6.0/24": {
			"latitude":  mmdbtype.String("1e400"), // overflows float64
			"longitude": mmdbtype.String("7"),
		},
		"198.18.7.0/24": {
			"location": mmdbtype.Map{"latitude": mmdbtype.Float64(45)}, // no longitude
			"city":     mmdbtype.String("Half"),
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
		"192.88.99.1":  {Country: "DE"},
		"198.18.0.1":   {Country: "AT"},
		"198.18.1.1":   {},
		"198.18.2.1":   {City: "Lost"},
		"198.18.3.1":   {Latitude: 45.5, Longitude: 7, AccuracyKM: math.MaxUint16},
		"198.18.4.1":   {City: "Scientific", Latitude: 45.5, Longitude: -7},
		"198.18.5.1":   {City: "Long Latitude"},
		"198.18.6.1":   {},
		"198.18.7.1":   {City: "Half"},
	} {
		if got := db.Lookup(netip.MustParseAddr(ip)); got != want {
			t.Errorf("Lookup(%s) = %+v, want %+v", ip, got, want)
		}
	}
}
