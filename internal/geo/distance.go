package geo

import "math"

// earthRadiusKM is the mean radius of the Earth in kilometres (the IUGG
// mean radius R1 of the WGS 84 ellipsoid) that Distance uses.
const earthRadiusKM = 6371.0088

// Distance returns the great-circle distance in kilometres between the
// coordinates of a and b, computed with the haversine formula on a sphere
// of radius 6371.0088 km (the mean radius of the WGS 84 ellipsoid); against
// the ellipsoid it errs by at most about 0.5%. ok is false, and km 0,
// unless both a and b have coordinates (see Location.HasCoordinates). The
// result is symmetric in a and b and lies between 0 for the same point and
// about 20015 km for antipodes. Distance ignores AccuracyKM: a caller that
// judges whether two sign-ins are too far apart should allow for both
// accuracy radii itself.
func Distance(a, b Location) (km float64, ok bool) {
	if !a.HasCoordinates() || !b.HasCoordinates() {
		return 0, false
	}
	lat1, lat2 := radians(a.Latitude), radians(b.Latitude)
	sinLat := math.Sin((lat2 - lat1) / 2)
	sinLon := math.Sin(radians(b.Longitude-a.Longitude) / 2)
	h := sinLat*sinLat + math.Cos(lat1)*math.Cos(lat2)*sinLon*sinLon
	// Rounding can push h a hair outside [0, 1] near antipodes; atan2
	// keeps the angle accurate there, where asin(√h) would not.
	h = min(max(h, 0), 1)
	return earthRadiusKM * 2 * math.Atan2(math.Sqrt(h), math.Sqrt(1-h)), true
}

// radians converts degrees to radians.
func radians(deg float64) float64 {
	return deg * math.Pi / 180
}
