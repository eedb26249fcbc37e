// Package features is shopguard's feature store: sliding-window aggregates
// (counts, sums, distinct counts, first and last seen) keyed by tenant,
// scope, entity kind and entity value.
//
// Time is always the event's time, never the wall clock, so that replaying
// stored events in order gives exactly the features that live traffic saw.
package features

import (
	"context"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// Window identifies one of the fixed sliding windows every aggregate is kept over.
type Window int

// The windows.
const (
	W1m Window = iota
	W1h
	W24h
	W7d
	W30d
	// NumWindows is the number of windows.
	NumWindows
)

// WindowDurations gives the length of each window.
var WindowDurations = [NumWindows]time.Duration{
	time.Minute, time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// WindowNames gives the suffix each window carries in feature names ("count_1h").
var WindowNames = [NumWindows]string{"1m", "1h", "24h", "7d", "30d"}

// MaxDistinct is the number of distinct-count dimensions one observation may carry.
const MaxDistinct = 4

// Key identifies one aggregate.
type Key struct {
	// Tenant is the shop the key belongs to; no aggregate crosses tenants.
	Tenant string
	// Scope separates counters of different event kinds for the same entity
	// (an IP's transactions and its logins), usually the event kind.
	Scope string
	// Kind and Value name the entity, e.g. card / "fp_8a7c...".
	Kind  risk.EntityKind
	Value string
}

// Dim is one distinct-count dimension of an observation: "which devices has
// this card been seen on" is the dimension {Kind: device, Value: device id}
// observed on a card key.
type Dim struct {
	Kind  risk.EntityKind
	Value string
}

// Observation is one event seen by one key.
type Observation struct {
	Key Key
	// Amount is added to the key's sums (0 when the event has no amount).
	Amount float64
	// Distinct holds up to MaxDistinct related values whose distinct counts
	// the key keeps; entries with an empty Kind or Value are skipped.
	Distinct [MaxDistinct]Dim
	// DistinctWindows names the windows whose distinct counts Observe must
	// report (0 means all). Estimating a busy key's distinct counts costs
	// time per window, so callers name only those they use; the others may
	// read 0.
	DistinctWindows WindowMask
	// Tag is an optional label of the observation, at most MaxTagLen bytes
	// (e.g. where a sign-in came from). The key remembers the tag of its
	// latest observation by event time that carried one and reports it as
	// Aggregates.PrevTag; an empty Tag leaves the remembered tag alone.
	Tag string
}

// MaxTagLen is the length limit of Observation.Tag in bytes; a longer tag
// is invalid input.
const MaxTagLen = 256

// WindowMask is a set of windows.
type WindowMask uint8

// AllWindows is the mask of every window.
const AllWindows WindowMask = 1<<NumWindows - 1

// Windows returns the mask of ws.
func Windows(ws ...Window) WindowMask {
	var m WindowMask
	for _, w := range ws {
		m |= 1 << w
	}
	return m
}

// Has reports whether w is in m; the zero mask holds every window.
func (m WindowMask) Has(w Window) bool { return m == 0 || m&(1<<w) != 0 }

// Aggregates is what a key knows at one moment of event time.
type Aggregates struct {
	// New is true when the key had never been observed before, or not
	// within its retention (for Memory: Retention, or for keys of a history
	// scope the longer of Retention and the history window).
	New bool
	// FirstSeen is the time of the key's earliest observation, including the
	// current one; zero for Read of an unknown key.
	FirstSeen time.Time
	// PrevSeen is the time of the latest observation before the current one
	// (for Read: the latest observation); zero when there was none.
	PrevSeen time.Time
	// Count[w] is the number of observations in window w ending at the
	// event's time, including the current one.
	Count [NumWindows]int64
	// Sum[w] is the sum of observed amounts in window w, including the current one.
	Sum [NumWindows]float64
	// Distinct[i][w] is the number of distinct values of the observation's
	// Distinct[i] dimension seen in window w, including the current value.
	// For Read it is indexed like the dims passed to Read.
	Distinct [MaxDistinct][NumWindows]int64
	// NewValue[i] is true when the observation's Distinct[i] value had not
	// been seen with this key before (within retention).
	NewValue [MaxDistinct]bool
	// History is, for a key whose scope has a long history window (see
	// MemoryConfig.History), the number of observations in the n whole UTC
	// days ending with the event's day, n being the window in days,
	// including the current one; 0 for keys of other scopes.
	History int64
	// PrevTag is the tag the key remembered before the current observation:
	// that of its latest observation by event time that carried a tag (for
	// Read: the remembered tag); "" when there is none or the key is New.
	PrevTag string
}

// Mean returns Sum[w]/Count[w], or 0 when the window is empty.
func (a *Aggregates) Mean(w Window) float64 {
	if a.Count[w] == 0 {
		return 0
	}
	return a.Sum[w] / float64(a.Count[w])
}

// Store is the feature store every capability records into and reads from.
// Implementations are safe for concurrent use.
type Store interface {
	// Observe records every observation at event time at and writes into
	// out[i] the aggregates of obs[i].Key including that observation
	// (Count, Sum, Distinct and History count it; PrevTag is the tag
	// remembered before it). len(out) must be at least len(obs).
	Observe(ctx context.Context, at time.Time, obs []Observation, out []Aggregates) error
	// Apply records observations without reading them back; replay uses it.
	Apply(ctx context.Context, at time.Time, obs []Observation) error
	// Read returns the aggregates of keys as of event time at without
	// recording anything: PrevSeen is the latest observation and PrevTag
	// the remembered tag. dims[i] (may be nil) names the distinct
	// dimensions to report for keys[i], by kind only. A key with an empty
	// Value reads as New, without a lookup.
	Read(ctx context.Context, at time.Time, keys []Key, dims [][]risk.EntityKind, out []Aggregates) error
}

// ObserveReader is a Store that observes and then reads further keys in
// one call (for a store kept elsewhere, one round trip instead of two):
// ObserveRead is Observe(obs, out) followed by Read(keys, no dimensions,
// read) at the same event time.
type ObserveReader interface {
	ObserveRead(ctx context.Context, at time.Time, obs []Observation, out []Aggregates, keys []Key, read []Aggregates) error
}
