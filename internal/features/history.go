package features

import (
	"math"
	"slices"
	"strings"
	"time"
)

// MaxHistory is the longest history window MemoryConfig.History accepts;
// longer ones are clamped to it.
const MaxHistory = 400 * 24 * time.Hour

// The length of a UTC day.
const (
	daySec = 86400
	dayNS  = daySec * int64(time.Second)
)

// extra holds the rarely used parts of an entry, so that the keys that need
// none of them pay one nil pointer: the sketches of dimension slots past the
// exact cap, the long history of keys of a history scope and the
// remembered tag. It is allocated for a key of a history scope when the key
// is inserted, and for another key at its first sketch or tag.
type extra struct {
	// hll holds the sketch of each slot that passed the exact cap; nil
	// while there is none.
	hll *[MaxDimKinds]*sketch
	// days holds the observations of a history key per UTC day, sorted by
	// day, days without observations left out. When it is not empty its
	// last element is the day of the key's latest observation.
	days []dayCount
	// tag is the tag of the latest tagged observation, at tagAt (unix ns).
	tag   string
	tagAt int64
	// hdays is the key's history window in days (taken from the
	// configuration by scope when the entry is made); 0 for keys of scopes
	// without history.
	hdays uint16
}

// dayCount is the number of observations of a history key on one UTC day.
type dayCount struct {
	day uint32 // unix seconds / daySec
	n   uint32 // saturates at MaxUint32
}

// historyDays returns the history window of keys of scope in days, 0 when
// the scope has none. cfg is normalized by withDefaults, so the windows are
// whole days within range.
func historyDays(cfg *MemoryConfig, scope string) uint16 {
	if len(cfg.History) == 0 {
		return 0
	}
	return uint16(cfg.History[scope] / (24 * time.Hour))
}

// normalizeHistory rounds a history window up to whole days and clamps it
// to [1 day, MaxHistory].
func normalizeHistory(d time.Duration) time.Duration {
	const day = 24 * time.Hour
	if d > MaxHistory {
		return MaxHistory
	}
	if d <= day {
		return day
	}
	return (d + day - 1) / day * day
}

// expired reports whether e, whose latest observation is at e.last, is
// forgotten at ns: idle for longer than Retention, or for a key of a history
// scope than the longer of Retention and its window. The common case costs
// one comparison.
func (e *entry) expired(ns int64) bool {
	d := ns - e.last
	return d > int64(Retention) && (e.x == nil || d > max(int64(Retention), int64(e.x.hdays)*dayNS))
}

// history returns the number of observations in the days (d-hdays, d].
func (x *extra) history(d int64) int64 {
	lo := d - int64(x.hdays)
	var c int64
	for i := len(x.days) - 1; i >= 0; i-- {
		dd := int64(x.days[i].day)
		if dd > d {
			continue
		}
		if dd <= lo {
			break
		}
		c += int64(x.days[i].n)
	}
	return c
}

// addDay records one observation on day d of a key whose latest
// observation (this one included) is on day latest, and reports whether it
// was stored: an out-of-order observation on a day that left the window of
// the latest day is not. A newer day drops the days leaving its window.
func (x *extra) addDay(d, latest int64) bool {
	n := int64(x.hdays)
	if d <= latest-n {
		return false
	}
	days := x.days
	if len(days) == 0 {
		x.days = append(days, dayCount{day: uint32(d), n: 1})
		return true
	}
	last := len(days) - 1
	head := int64(days[last].day)
	switch {
	case d > head:
		k := 0
		for k < len(days) && int64(days[k].day) <= d-n {
			k++
		}
		if k > 0 {
			days = days[:copy(days, days[k:])]
		}
		x.days = append(days, dayCount{day: uint32(d), n: 1})
	case d == head:
		if days[last].n < math.MaxUint32 {
			days[last].n++
		}
	default:
		if d <= head-n {
			return false
		}
		i, found := slices.BinarySearchFunc(days, uint32(d), func(c dayCount, d uint32) int {
			return int(int64(c.day) - int64(d))
		})
		if found {
			if days[i].n < math.MaxUint32 {
				days[i].n++
			}
		} else {
			x.days = slices.Insert(days, i, dayCount{day: uint32(d), n: 1})
		}
	}
	return true
}

// sweepDays drops the days no history ending on day d or later can count
// and trims spare capacity.
func (x *extra) sweepDays(d int64) {
	k := 0
	for k < len(x.days) && int64(x.days[k].day) <= d-int64(x.hdays) {
		k++
	}
	x.days = x.days[:copy(x.days, x.days[k:])]
	switch {
	case len(x.days) == 0:
		x.days = nil
	case cap(x.days) > len(x.days)+len(x.days)/4+2:
		// A key seen daily keeps about as many days as it drops, so
		// tight capacity rarely grows again.
		x.days = slices.Clone(x.days)
	}
}

// setTag remembers tag, carried by an observation at ns, unless the
// remembered tag comes from a later observation.
func (e *entry) setTag(tag string, ns int64) {
	x := e.x
	if x == nil {
		x = new(extra)
		e.x = x
	}
	if x.tag != "" && ns < x.tagAt {
		return
	}
	if x.tag != tag {
		// The caller's string may share memory with a larger buffer.
		x.tag = strings.Clone(tag)
	}
	x.tagAt = ns
}

// tidy frees e.x when it holds nothing.
func (e *entry) tidy() {
	if x := e.x; x != nil && x.hll == nil && x.days == nil && x.tag == "" && x.hdays == 0 {
		e.x = nil
	}
}

// forgetWindows drops e's buckets and distinct values, keeping its times,
// history and tag: e is a history key idle for longer than Retention, so no
// window can count anything it holds.
func (e *entry) forgetWindows() {
	clear(e.bk)
	e.bk = e.bk[:0]
	e.off = [NumWindows - 1]uint16{}
	e.tot = nil
	e.kinds = [MaxDimKinds]uint8{}
	clear(e.dv)
	e.dv = e.dv[:0]
	if e.x != nil {
		e.x.hll = nil
	}
}
