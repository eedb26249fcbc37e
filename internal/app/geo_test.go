package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/geo/geotest"
)

// TestGeolocation checks that configured .mmdb files locate every
// transaction's IP address for rules, lists and the stored features, and
// that a bad file stops the start with an error naming the setting.
func TestGeolocation(t *testing.T) {
	dir := t.TempDir()
	countryDB, asnDB := filepath.Join(dir, "country.mmdb"), filepath.Join(dir, "asn.mmdb")
	geotest.Write(t, countryDB, []geotest.Network{{CIDR: "203.0.113.0/24", Country: "FR"}}, geotest.GeoLite2Country)
	geotest.Write(t, asnDB, []geotest.Network{{CIDR: "203.0.113.0/24", ASN: 64500, ASOrg: "Example Hosting"}}, geotest.IPLocationASN)

	cfg := config.Default()
	cfg.Storage.DataDir = filepath.Join(dir, "data")
	cfg.Geo = config.Geo{CountryDB: countryDB, ASNDB: asnDB}
	e := startConfig(t, cfg)
	c := e.client(t, "shop")
	ctx := context.Background()
	if _, err := c.PutRule(ctx, client.Rule{Name: "abroad_from_hosting", Kind: "transaction", Score: 60,
		Expression:  `ip_country == "FR" && ip_asn == 64500 && signals.ip_card_country_mismatch`,
		Description: "ordered from {{ ip_as_org }} in {{ ip_country }} with a {{ payment.card_country }} card"}); err != nil {
		t.Fatal(err)
	}

	d, err := c.ScoreTransaction(ctx, order("geo-1", 5000)) // IP 203.0.113.7, card from DE
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, r := range d.Reasons {
		codes = append(codes, r.Code)
	}
	if !slices.Contains(codes, "rule:abroad_from_hosting") {
		t.Errorf("reasons %v lack rule:abroad_from_hosting", codes)
	}
	ev, err := c.Event(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ip_country":"FR"`, `"ip_asn":64500`, `"ip_as_org":"Example Hosting"`, `"ip_card_country_mismatch":true`} {
		if !strings.Contains(string(ev.Features), want) {
			t.Errorf("stored features lack %s", want)
		}
	}

	other := order("geo-2", 5000)
	other.IP = "198.51.100.9" // in neither file
	d, err = c.ScoreTransaction(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if ev, err = c.Event(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ev.Features), `"ip_country"`) || strings.Contains(string(ev.Features), `"ip_asn"`) {
		t.Errorf("an unknown network got a location: %s", ev.Features)
	}

	// A file that is not a database stops the start, naming the setting and the file.
	bad := filepath.Join(dir, "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg2 := config.Default()
	cfg2.Storage.DataDir = filepath.Join(dir, "data2")
	cfg2.Geo.CountryDB = bad
	a, err := app.New(ctx, cfg2, slog.New(slog.DiscardHandler))
	if err == nil {
		a.Close()
		t.Fatal("app started with a corrupt geolocation database")
	}
	if !strings.Contains(err.Error(), "geo.country_db") || !strings.Contains(err.Error(), "bad.mmdb") {
		t.Errorf("error %q does not name the setting and the file", err)
	}
}
