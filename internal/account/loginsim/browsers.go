package loginsim

import "math/rand/v2"

// browser is one User-Agent string with its popularity among customers and
// the string it becomes when the browser updates itself.
type browser struct {
	ua      string
	weight  float64
	mobile  bool
	updated string // the next version's string ("" when none in the simulation)
}

// browsers is the simulated market: shares shaped like European browser
// statistics of 2026 (Chrome first, Safari on Apple devices), with each
// family's current and next major version.
var browsers = []browser{
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", weight: 24,
		updated: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0", weight: 8,
		updated: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36 Edg/143.0.0.0"},
	{ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0", weight: 5,
		updated: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:146.0) Gecko/20100101 Firefox/146.0"},
	{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Safari/605.1.15", weight: 7},
	{ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", weight: 4,
		updated: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"},
	{ua: "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0", weight: 1},
	{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1", weight: 22, mobile: true},
	{ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36", weight: 20, mobile: true,
		updated: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Mobile Safari/537.36"},
	{ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/29.0 Chrome/136.0.0.0 Mobile Safari/537.36", weight: 6, mobile: true},
	{ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1", weight: 3, mobile: true},
}

// randomBrowser draws a User-Agent by popularity among desktop or mobile
// browsers.
func randomBrowser(rng *rand.Rand, mobile bool) string {
	i := pick(rng, len(browsers), func(i int) float64 {
		if browsers[i].mobile != mobile {
			return 0
		}
		return browsers[i].weight
	})
	return browsers[i].ua
}

// update returns the string a browser becomes after an update (itself
// when the simulation knows no newer version).
func update(ua string) string {
	for _, b := range browsers {
		if b.ua == ua && b.updated != "" {
			return b.updated
		}
	}
	return ua
}
