//go:build race

package rules

// raceEnabled is true under the race detector, which makes sync.Pool drop
// items at random: allocation counts mean nothing there.
const raceEnabled = true
