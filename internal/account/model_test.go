package account

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/risk"
)

const (
	uaChromeWin  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	uaFirefoxLin = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
	uaSafariMac  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15"
)

// modelRig drives logins through a feature store the way the engine does
// (peek the confirmed history, observe, build the environment), without
// rules, so that tests can read the model's signals directly.
type modelRig struct {
	t     *testing.T
	store *features.Memory
	at    time.Time
	n     int
	// place, when set, locates the next logins (city and coordinates).
	place geo.Location
}

// where is a login's origin.
type where struct {
	ip, country string
	asn         uint32
	ua, device  string
}

func (r *modelRig) login(user string, w where, outcome string) *Env {
	return r.labelled(user, w, outcome, false)
}

// labelled is login where, with badIP, the IP address took over accounts
// before (an account_takeover label in the label counts).
func (r *modelRig) labelled(user string, w where, outcome string, badIP bool) *Env {
	r.t.Helper()
	r.n++
	r.at = r.at.Add(7 * time.Minute)
	l := &Login{ID: fmt.Sprintf("m%d", r.n), CreatedAt: r.at.Format(time.RFC3339), UserID: user, IP: w.ip,
		UserAgent: w.ua, DeviceID: w.device, Outcome: outcome}
	if err := l.Validate(r.at); err != nil {
		r.t.Fatal(err)
	}
	l.loc = geo.Location{Country: w.country, ASN: w.asn, City: r.place.City, Latitude: r.place.Latitude,
		Longitude: r.place.Longitude, AccuracyKM: r.place.AccuracyKM}
	ctx := context.Background()
	pk := l.PeekKeys("shop", nil)
	peeks := make([]features.Aggregates, len(pk))
	if err := r.store.Read(ctx, r.at, pk, nil, peeks); err != nil {
		r.t.Fatal(err)
	}
	l.SetPeeks(peeks)
	obs := l.Observations("shop", nil)
	aggs := make([]features.Aggregates, len(obs))
	if err := r.store.Observe(ctx, r.at, obs, aggs); err != nil {
		r.t.Fatal(err)
	}
	labels := make([]features.Aggregates, len(obs))
	for i, o := range obs {
		if badIP && o.Key.Kind == risk.EntityIP {
			labels[i].Sum[features.W30d] = 1
		}
	}
	env := NewEnv()
	l.BuildEnv(aggs, labels, env)
	return env
}

// population gives the shop a background of other customers' sign-ins.
func (r *modelRig) population() {
	for i := range 200 {
		w := where{ip: fmt.Sprintf("84.%d.%d.%d", 10+i%50, i%7, i), country: "DE", asn: 3320, ua: uaChromeWin, device: fmt.Sprintf("pop%d", i)}
		switch {
		case i%4 == 1:
			w.ua, w.asn = uaSafariMac, 6805
		case i%10 == 3:
			w.country, w.asn, w.ua = "US", 7922, uaFirefoxLin
		}
		r.login(fmt.Sprintf("p%d", i), w, OutcomeSuccess)
	}
}

func TestLoginRiskModel(t *testing.T) {
	home := where{ip: "84.1.2.3", country: "DE", asn: 3320, ua: uaChromeWin, device: "ana-laptop"}
	tests := []struct {
		name       string
		w          where
		min, max   float64 // login_risk within [min, max]
		unfamiliar string  // exact signals.unfamiliar
	}{
		{"home again", home, -99, -2, ""},
		{"same device, neighbouring address", where{"84.1.2.99", "DE", 3320, uaChromeWin, "ana-laptop"}, -99, -1, "IP address 84.1.2.99"},
		{"new device at home", where{"84.1.2.3", "DE", 3320, uaChromeWin, "ana-new"}, -99, 0, "device"},
		{"travelling with the own laptop", where{"90.1.2.3", "FR", 3215, uaChromeWin, "ana-laptop"}, -99, 0, "country FR"},
		// A new country counts once, not again for its network and address;
		// a new OS likewise for its browser.
		{"naive attacker", where{"45.9.8.7", "US", 14061, uaFirefoxLin, "x1"}, 2.5, 99, "country US, operating system Linux, device"},
		{"VPN attacker in the same country", where{"185.1.2.3", "DE", 9009, uaFirefoxLin, "x2"}, 2.5, 99, "network operator AS9009, operating system Linux, device"},
		{"targeted attacker: same ISP and browser", where{"84.200.7.7", "DE", 3320, uaChromeWin, "x3"}, 1.2, 99, "network 84.200.7.0/24, device"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &modelRig{t: t, store: features.NewMemory(features.MemoryConfig{}), at: t0}
			r.population()
			for range 10 {
				r.login("ana", home, OutcomeSuccess)
			}
			env := r.login("ana", tc.w, OutcomeAttempt)
			got := env.Signals.LoginRisk
			if got < tc.min || got > tc.max || env.Signals.Unfamiliar != tc.unfamiliar {
				t.Errorf("login_risk %.2f (want %.1f..%.1f), unfamiliar %q (want %q)", got, tc.min, tc.max, env.Signals.Unfamiliar, tc.unfamiliar)
			}
		})
	}
}

// TestLoginRiskHistory checks how the model depends on the history: none
// gives no opinion, a longer history without a value makes it less
// likely for the customer, and a source that took over accounts before is
// likelier an attacker's.
func TestLoginRiskHistory(t *testing.T) {
	home := where{ip: "84.1.2.3", country: "DE", asn: 3320, ua: uaChromeWin, device: "ana-laptop"}
	away := where{ip: "185.1.2.3", country: "DE", asn: 9009, ua: uaChromeWin, device: "x"}
	risk := func(history int, badIP bool) float64 {
		r := &modelRig{t: t, store: features.NewMemory(features.MemoryConfig{}), at: t0}
		r.population()
		for range history {
			r.login("ana", home, OutcomeSuccess)
		}
		// Failed attempts and attempts never join the confirmed history.
		r.login("ana", away, OutcomeBadPassword)
		r.login("ana", away, OutcomeAttempt)
		return r.labelled("ana", away, OutcomeAttempt, badIP).Signals.LoginRisk
	}
	if got := risk(0, false); got != 0 {
		t.Errorf("no confirmed sign-ins: login_risk %.2f, want 0", got)
	}
	one, five, thirty := risk(1, false), risk(5, false), risk(30, false)
	if !(0 < one && one < five && five < thirty) {
		t.Errorf("login_risk after 1, 5, 30 sign-ins elsewhere: %.2f, %.2f, %.2f, want rising above 0", one, five, thirty)
	}
	if bad := risk(5, true); bad < five+0.9 {
		t.Errorf("from an IP that took over accounts: %.2f, without: %.2f, want about 1 more", bad, five)
	}
}

// TestImpossibleTravel checks the travel signals against the last
// confirmed sign-in: distance less both accuracy radii, and the speed.
func TestImpossibleTravel(t *testing.T) {
	berlin := geo.Location{City: "Berlin", Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20}
	saoPaulo := geo.Location{City: "São Paulo", Latitude: -23.55, Longitude: -46.63, AccuracyKM: 20}
	paris := geo.Location{City: "Paris", Latitude: 48.8566, Longitude: 2.3522, AccuracyKM: 10}
	munichMobile := geo.Location{Latitude: 48.137, Longitude: 11.575, AccuracyKM: 500}
	home := where{ip: "84.1.2.3", country: "DE", asn: 3320, ua: uaChromeWin, device: "ana-laptop"}
	tests := []struct {
		name           string
		to             geo.Location
		after          time.Duration
		minKM, maxKM   float64
		minKMH, maxKMH float64
	}{
		{"to São Paulo in two hours", saoPaulo, 2 * time.Hour, 10150, 10260, 5050, 5150},
		{"to Paris the next day", paris, 20 * time.Hour, 840, 850, 40, 45},
		{"to a mobile address located only by country", munichMobile, 10 * time.Minute, 0, 0, 0, 0},
		{"no coordinates now", geo.Location{}, time.Hour, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &modelRig{t: t, store: features.NewMemory(features.MemoryConfig{}), at: t0, place: berlin}
			for range 3 {
				r.login("ana", home, OutcomeSuccess)
			}
			r.at = r.at.Add(tc.after - 7*time.Minute) // login adds 7 minutes
			r.place = tc.to
			sig := r.login("ana", where{ip: "200.1.2.3", country: "BR", asn: 28573, ua: uaChromeWin, device: "x"}, OutcomeAttempt).Signals
			if sig.TravelKM < tc.minKM || sig.TravelKM > tc.maxKM || sig.TravelSpeedKMH < tc.minKMH || sig.TravelSpeedKMH > tc.maxKMH {
				t.Errorf("travel %.0f km at %.0f km/h in %.2f h, want %.0f..%.0f km at %.0f..%.0f km/h", sig.TravelKM, sig.TravelSpeedKMH,
					sig.TravelHours, tc.minKM, tc.maxKM, tc.minKMH, tc.maxKMH)
			}
			if tc.maxKM > 0 && (sig.TravelFrom != "Berlin, DE" || math.Abs(sig.TravelHours-tc.after.Hours()) > 0.01) {
				t.Errorf("from %q %.2f hours ago", sig.TravelFrom, sig.TravelHours)
			}
		})
	}
}

func TestPlaceTag(t *testing.T) {
	for _, loc := range []geo.Location{
		{Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20, Country: "DE", City: "Berlin"},
		{Latitude: -23.55, Longitude: -46.63, Country: "BR", City: "São Paulo | weird"},
		{Latitude: 1, Longitude: 0},
	} {
		got, at, ok := parsePlaceTag(placeTag(loc, t0))
		if !ok || got != loc || !at.Equal(t0) {
			t.Errorf("round trip of %+v: %+v at %s, %v", loc, got, at, ok)
		}
	}
	for _, bad := range []string{"", "1|2|3|DE|c", "x|2|3|0|DE|c", "0|0|3|0|DE|c", "1|2|99999|0|DE|c", "1|2|3|-5|DE|c", "1|2|3|9999999999|DE|c"} {
		if _, _, ok := parsePlaceTag(bad); ok {
			t.Errorf("parsePlaceTag(%q) ok", bad)
		}
	}
	if placeTag(geo.Location{Country: "DE"}, t0) != "" {
		t.Error("a place without coordinates has a tag")
	}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func FuzzParsePlaceTag(f *testing.F) {
	f.Add("52.5200|13.4050|20|1772366400|DE|Berlin")
	f.Add("-23.5500|-46.6300|0|0|BR|São Paulo | x")
	f.Add("nan|inf|1|1|x|y")
	f.Fuzz(func(t *testing.T, tag string) {
		loc, at, ok := parsePlaceTag(tag)
		if !ok {
			return
		}
		if !loc.HasCoordinates() {
			t.Fatalf("accepted %q without coordinates", tag)
		}
		// What it accepts encodes to a tag that decodes to the same place
		// and time (up to the tag's 4 decimals and city length).
		again, at2, ok := parsePlaceTag(placeTag(loc, at))
		if !ok || !at2.Equal(at) || math.Abs(again.Latitude-loc.Latitude) > 1e-4 || math.Abs(again.Longitude-loc.Longitude) > 1e-4 || again.AccuracyKM != loc.AccuracyKM {
			t.Fatalf("%q: %+v at %s re-encoded as %+v at %s (%v)", tag, loc, at, again, at2, ok)
		}
	})
}
