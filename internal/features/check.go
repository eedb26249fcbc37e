package features

import (
	"fmt"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// This file holds what every Store implementation shares with Memory so
// that they accept the same input and place values alike: the checks of
// Observe's and Read's arguments and the hashing of distinct values.

// CheckObserve returns the error Memory.Observe gives for its arguments
// (nout outputs), or nil when they are valid: every error wraps
// ErrInvalid. Other stores call it so that they refuse exactly what
// Memory refuses.
func CheckObserve(at time.Time, obs []Observation, nout int) error {
	if nout < len(obs) {
		return outputsErr(nout, len(obs))
	}
	_, err := checkObservations(at, obs)
	return err
}

// CheckRead returns the error Memory.Read gives for its arguments (nout
// outputs), or nil when they are valid.
func CheckRead(at time.Time, keys []Key, dims [][]risk.EntityKind, nout int) error {
	_, err := checkRead(at, keys, dims, nout)
	return err
}

// HashValue returns the 64-bit hash a store keeps of a distinct value (the
// value's identity within its key, and its place in a sketch; see
// SketchPosition).
func HashValue(v string) uint64 { return hashValue(v) }

// Normalized returns c with its defaults applied and values clamped, as
// NewMemory uses it.
func (c MemoryConfig) Normalized() MemoryConfig { return c.withDefaults() }

// HistoryDays returns the history window of scope in whole days under c
// (normalized), 0 for a scope without one.
func (c MemoryConfig) HistoryDays(scope string) int { return int(historyDays(&c, scope)) }

func outputsErr(nout, n int) error {
	return fmt.Errorf("%w: %d outputs for %d observations", ErrInvalid, nout, n)
}

// checkObservations validates an Observe call and returns at in unix
// nanoseconds.
func checkObservations(at time.Time, obs []Observation) (int64, error) {
	ns, err := eventTime(at)
	if err != nil {
		return 0, err
	}
	for i := range obs {
		if err := validateObservation(&obs[i]); err != nil {
			return 0, fmt.Errorf("observation %d: %w", i, err)
		}
	}
	return ns, nil
}

// checkRead validates a Read call and returns at in unix nanoseconds.
func checkRead(at time.Time, keys []Key, dims [][]risk.EntityKind, nout int) (int64, error) {
	if nout < len(keys) {
		return 0, fmt.Errorf("%w: %d outputs for %d keys", ErrInvalid, nout, len(keys))
	}
	for i := range dims {
		if len(dims[i]) > MaxDistinct {
			return 0, fmt.Errorf("%w: key %d asks for %d dimensions, at most %d", ErrInvalid, i, len(dims[i]), MaxDistinct)
		}
	}
	return eventTime(at)
}
