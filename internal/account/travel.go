package account

import (
	"math"
	"strconv"
	"strings"

	"github.com/shopguard/shopguard/internal/geo"
)

// Impossible travel: the account's confirmed sign-ins remember where the
// latest one was (a tag on the account's history key), and a sign-in too
// far from it for the time between them is flagged by the
// impossible_travel rule.

// maxCityLen bounds the city name a place tag keeps.
const maxCityLen = 80

// placeTag encodes a located place as "lat|lon|accuracy|country|city"
// ("" without coordinates).
func placeTag(loc geo.Location) string {
	if !loc.HasCoordinates() {
		return ""
	}
	city := loc.City
	if len(city) > maxCityLen {
		city = strings.ToValidUTF8(city[:maxCityLen], "")
	}
	b := make([]byte, 0, 48+len(city))
	b = strconv.AppendFloat(b, loc.Latitude, 'f', 4, 64)
	b = append(b, '|')
	b = strconv.AppendFloat(b, loc.Longitude, 'f', 4, 64)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(loc.AccuracyKM), 10)
	b = append(b, '|')
	b = append(b, loc.Country...)
	b = append(b, '|')
	b = append(b, city...)
	return string(b)
}

// parsePlaceTag decodes placeTag's encoding; ok is false for anything else.
func parsePlaceTag(tag string) (loc geo.Location, ok bool) {
	f := strings.SplitN(tag, "|", 5)
	if len(f) != 5 {
		return geo.Location{}, false
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	acc, err3 := strconv.ParseUint(f[2], 10, 16)
	if err1 != nil || err2 != nil || err3 != nil {
		return geo.Location{}, false
	}
	loc = geo.Location{Latitude: lat, Longitude: lon, AccuracyKM: uint16(acc), Country: f[3], City: f[4]}
	return loc, loc.HasCoordinates()
}

// travel fills the travel signals against the last confirmed sign-in.
func (l *Login) travel(sig *Signals) {
	if !l.peeked || l.peeks[knownAccount].New || !l.loc.HasCoordinates() {
		return
	}
	prev := &l.peeks[knownAccount]
	from, ok := parsePlaceTag(prev.PrevTag)
	if !ok || prev.PrevSeen.IsZero() || !prev.PrevSeen.Before(l.at) {
		return
	}
	km, ok := geo.Distance(from, l.loc)
	if !ok {
		return
	}
	km = max(0, km-float64(from.AccuracyKM)-float64(l.loc.AccuracyKM))
	hours := l.at.Sub(prev.PrevSeen).Hours()
	sig.TravelKM = math.Round(km)
	sig.TravelHours = math.Round(hours*100) / 100
	sig.TravelSpeedKMH = math.Round(km / max(hours, 1.0/60))
	sig.TravelFrom = from.Country
	if from.City != "" {
		sig.TravelFrom = from.City + ", " + from.Country
	}
}
