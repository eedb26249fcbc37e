package geo_test

import (
	"math"
	"testing"

	"github.com/shopguard/shopguard/internal/geo"
)

// at returns a Location at lat, lon.
func at(lat, lon float64) geo.Location {
	return geo.Location{Latitude: lat, Longitude: lon}
}

func TestHasCoordinates(t *testing.T) {
	tests := []struct {
		name string
		loc  geo.Location
		want bool
	}{
		{"zero value", geo.Location{}, false},
		{"country and city without coordinates", geo.Location{Country: "DE", City: "Berlin", AccuracyKM: 20}, false},
		{"(0, 0) means unknown", at(0, 0), false},
		{"negative zero is zero", at(math.Copysign(0, -1), 0), false},
		{"Berlin", at(52.52, 13.405), true},
		{"on the equator", at(0, 32.5), true},
		{"on the prime meridian", at(51.4779, 0), true},
		{"a hair from (0, 0)", at(1e-9, 0), true},
		{"north pole", at(90, 0), true},
		{"south-west corner of the ranges", at(-90, -180), true},
		{"antimeridian east", at(0, 180), true},
		{"latitude past the pole", at(90.0001, 10), false},
		{"latitude below the south pole", at(-91, 10), false},
		{"longitude past 180", at(10, 180.5), false},
		{"longitude below -180", at(10, -181), false},
		{"NaN latitude", at(math.NaN(), 10), false},
		{"NaN longitude", at(10, math.NaN()), false},
		{"infinite latitude", at(math.Inf(1), 10), false},
		{"infinite longitude", at(10, math.Inf(-1)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.loc.HasCoordinates(); got != tt.want {
				t.Errorf("%+v.HasCoordinates() = %v, want %v", tt.loc, got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	// halfCircumference is the distance between antipodes on the sphere
	// that Distance uses: π × 6371.0088 km.
	const halfCircumference = 20015.114442035923
	berlin, paris := at(52.52, 13.405), at(48.8566, 2.3522)
	tests := []struct {
		name   string
		a, b   geo.Location
		wantKM float64
		tolKM  float64
		wantOK bool
	}{
		{"Berlin to Paris", berlin, paris, 878, 1, true},
		{"New York to London", at(40.7128, -74.0060), at(51.5074, -0.1278), 5570, 1, true},
		{"same point", berlin, berlin, 0, 0, true},
		{
			"same point, other fields differ", berlin,
			geo.Location{Country: "DE", City: "Berlin", Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20}, 0, 0, true,
		},
		{"antipodes on the equator", at(0, 10), at(0, -170), halfCircumference, 1e-6, true},
		{"antipodes through Berlin", berlin, at(-52.52, 13.405-180), halfCircumference, 1e-6, true},
		{"pole to pole", at(90, 0), at(-90, 0), halfCircumference, 1e-6, true},
		{"quarter of the equator", at(0, 45), at(0, 135), halfCircumference / 2, 1e-6, true},
		{"one degree across the antimeridian", at(0, 179.5), at(0, -179.5), halfCircumference / 180, 1e-6, true},
		{"one degree of latitude", at(10, 20), at(11, 20), halfCircumference / 180, 1e-6, true},
		{"north pole from any longitude", at(90, 0), at(90, 123), 0, 1e-6, true},
		{"first unknown", geo.Location{Country: "DE"}, paris, 0, 0, false},
		{"second unknown", berlin, geo.Location{City: "Paris"}, 0, 0, false},
		{"both zero", geo.Location{}, geo.Location{}, 0, 0, false},
		{"(0, 0) is unknown", at(0, 0), paris, 0, 0, false},
		{"out of range", berlin, at(95, 0), 0, 0, false},
		{"NaN", at(math.NaN(), 1), paris, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pair := range [][2]geo.Location{{tt.a, tt.b}, {tt.b, tt.a}} {
				km, ok := geo.Distance(pair[0], pair[1])
				if ok != tt.wantOK || math.Abs(km-tt.wantKM) > tt.tolKM || math.IsNaN(km) {
					t.Errorf("Distance(%+v, %+v) = %v km, %v; want %v ± %v km, %v",
						pair[0], pair[1], km, ok, tt.wantKM, tt.tolKM, tt.wantOK)
				}
			}
		})
	}
}

// FuzzDistance checks Distance's contract for arbitrary coordinates: ok
// exactly when both have coordinates, and then a finite, symmetric result
// between 0 and half the circumference.
func FuzzDistance(f *testing.F) {
	f.Add(52.52, 13.405, 48.8566, 2.3522)
	f.Add(0.0, 10.0, 0.0, -170.0)
	f.Add(90.0, 0.0, -90.0, 0.0)
	f.Add(0.0, 0.0, 1.0, 1.0)
	f.Add(1e-300, -1e-300, 89.99999999, 179.99999999)
	f.Fuzz(func(t *testing.T, lat1, lon1, lat2, lon2 float64) {
		a, b := at(lat1, lon1), at(lat2, lon2)
		km, ok := geo.Distance(a, b)
		if want := a.HasCoordinates() && b.HasCoordinates(); ok != want {
			t.Fatalf("Distance(%+v, %+v) ok = %v, want %v", a, b, ok, want)
		}
		if !ok {
			if km != 0 {
				t.Fatalf("Distance(%+v, %+v) = %v km without ok", a, b, km)
			}
			return
		}
		if math.IsNaN(km) || km < 0 || km > math.Pi*6371.0088+1e-6 {
			t.Fatalf("Distance(%+v, %+v) = %v km, out of range", a, b, km)
		}
		if back, _ := geo.Distance(b, a); math.Abs(back-km) > 1e-9 {
			t.Fatalf("Distance is not symmetric: %v km one way, %v km back", km, back)
		}
	})
}
