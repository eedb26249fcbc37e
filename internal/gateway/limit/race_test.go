//go:build race

package limit

// raceEnabled is true under the race detector, which adds allocations of
// its own: allocation counts mean nothing there.
const raceEnabled = true
