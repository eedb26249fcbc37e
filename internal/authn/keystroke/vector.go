// Package keystroke scores typing rhythm as a login signal (behavioural
// biometrics): how long each key of the password is held and how long the
// finger travels between keys, never which keys they are. A user's
// enrolment samples train a Template; each later attempt gets an anomaly
// score from it, higher meaning less like the user.
//
// The features are those of Killourhy and Maxion, "Comparing
// Anomaly-Detection Algorithms for Keystroke Dynamics" (DSN 2009): hold
// times, up-down (flight) times and down-down times. The detectors are pure
// functions of their inputs: no I/O, no clock, no randomness.
package keystroke

import (
	"errors"
	"fmt"
	"math"
)

// Bounds of a Vector: a password of MinKeys..MaxKeys keys.
const (
	MinKeys = 2
	MaxKeys = 128
)

// ErrVector is returned (wrapped) when hold and flight times do not form a
// valid timing vector.
var ErrVector = errors.New("keystroke: invalid timing vector")

// Vector is the typing rhythm of one entry of a password: for each key how
// long it was held, and between consecutive keys the flight time from
// releasing one key to pressing the next (up-down; negative when the next
// key is pressed before the previous one is released). The zero Vector has
// no keys; build one with NewVector.
type Vector struct {
	hold, flight []float64
}

// NewVector returns the Vector of hold times (one per key, MinKeys..MaxKeys
// keys, each >= 0) and flight times (one fewer than holds), all finite, in
// any unit as long as it is the same for every sample of a user
// (shopguard's API uses milliseconds). The slices are copied. It fails
// with an error wrapping ErrVector that names the offending value.
func NewVector(hold, flight []float64) (Vector, error) {
	switch n := len(hold); {
	case n < MinKeys || n > MaxKeys:
		return Vector{}, fmt.Errorf("%w: %d hold times, want %d..%d", ErrVector, n, MinKeys, MaxKeys)
	case len(flight) != n-1:
		return Vector{}, fmt.Errorf("%w: %d flight times for %d hold times, want %d", ErrVector, len(flight), n, n-1)
	}
	for i, v := range hold {
		if !(v >= 0) || math.IsInf(v, 0) {
			return Vector{}, fmt.Errorf("%w: hold time %d is %g, want a finite value >= 0", ErrVector, i, v)
		}
	}
	for i, v := range flight {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Vector{}, fmt.Errorf("%w: flight time %d is %g, want a finite value", ErrVector, i, v)
		}
	}
	return Vector{hold: append([]float64(nil), hold...), flight: append([]float64(nil), flight...)}, nil
}

// Keys returns the number of keys of v.
func (v Vector) Keys() int { return len(v.hold) }

// Features returns v's Killourhy–Maxion timing features, 3n-2 values for n
// keys: the n hold times, then the n-1 down-down times (hold_i + flight_i:
// from pressing key i to pressing key i+1), then the n-1 up-down times
// (the flights). The order is that of the mobile data set's columns, so a
// template trained on either applies to the other; FeatureNames names them.
func (v Vector) Features() []float64 {
	n := len(v.hold)
	if n == 0 {
		return nil
	}
	f := make([]float64, 0, 3*n-2)
	f = append(f, v.hold...)
	for i, fl := range v.flight {
		f = append(f, v.hold[i]+fl)
	}
	return append(f, v.flight...)
}

// FeatureNames returns the names of the features Features returns for a
// vector of n keys: "H0".."H{n-1}", "DD0-1".., "UD0-1"..; nil if n < 1.
func FeatureNames(n int) []string {
	if n < 1 {
		return nil
	}
	names := make([]string, 0, 3*n-2)
	for i := range n {
		names = append(names, fmt.Sprintf("H%d", i))
	}
	for _, kind := range []string{"DD", "UD"} {
		for i := range n - 1 {
			names = append(names, fmt.Sprintf("%s%d-%d", kind, i, i+1))
		}
	}
	return names
}
