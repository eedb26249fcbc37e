package account

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/geo"
)

// Impossible travel: the account's confirmed sign-ins remember where the
// latest one was (a tag on the account's history key), and a sign-in too
// far from it for the time between them is flagged by the
// impossible_travel rule.

// maxCityLen bounds the city name a place tag keeps.
const maxCityLen = 80

// placeTag encodes a located sign-in's place and time as
// "lat|lon|accuracy|unix seconds|country|city" ("" without coordinates).
func placeTag(loc geo.Location, at time.Time) string {
	if !loc.HasCoordinates() {
		return ""
	}
	city := loc.City
	if len(city) > maxCityLen {
		city = strings.ToValidUTF8(city[:maxCityLen], "")
	}
	b := make([]byte, 0, 64+len(city))
	b = strconv.AppendFloat(b, loc.Latitude, 'f', 4, 64)
	b = append(b, '|')
	b = strconv.AppendFloat(b, loc.Longitude, 'f', 4, 64)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(loc.AccuracyKM), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, at.Unix(), 10)
	b = append(b, '|')
	b = append(b, loc.Country...)
	b = append(b, '|')
	b = append(b, city...)
	return string(b)
}

// parsePlaceTag decodes placeTag's encoding; ok is false for anything else.
func parsePlaceTag(tag string) (loc geo.Location, at time.Time, ok bool) {
	f := strings.SplitN(tag, "|", 6)
	if len(f) != 6 {
		return geo.Location{}, time.Time{}, false
	}
	lat, err1 := strconv.ParseFloat(f[0], 64)
	lon, err2 := strconv.ParseFloat(f[1], 64)
	acc, err3 := strconv.ParseUint(f[2], 10, 16)
	sec, err4 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || sec < 0 || sec > maxTagSec {
		return geo.Location{}, time.Time{}, false
	}
	loc = geo.Location{Latitude: lat, Longitude: lon, AccuracyKM: uint16(acc), Country: f[4], City: f[5]}
	return loc, time.Unix(sec, 0).UTC(), loc.HasCoordinates()
}

// maxTagSec bounds a place tag's time (2106, as the feature store's).
const maxTagSec = 4291747200

// travel fills the travel signals against the last confirmed sign-in.
func (l *Login) travel(sig *Signals) {
	if !l.peeked || l.peeks[knownAccount].New || !l.loc.HasCoordinates() {
		return
	}
	from, then, ok := parsePlaceTag(l.peeks[knownAccount].PrevTag)
	if !ok || !then.Before(l.at) {
		return
	}
	km, ok := geo.Distance(from, l.loc)
	if !ok {
		return
	}
	km = max(0, km-float64(from.AccuracyKM)-float64(l.loc.AccuracyKM))
	hours := l.at.Sub(then).Hours()
	sig.TravelKM = math.Round(km)
	sig.TravelHours = math.Round(hours*100) / 100
	sig.TravelSpeedKMH = math.Round(km / max(hours, 1.0/60))
	sig.TravelFrom = from.Country
	if from.City != "" {
		sig.TravelFrom = from.City + ", " + from.Country
	}
}
