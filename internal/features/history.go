package features

import (
	"math"
	"slices"
	"time"
	"unsafe"
)

// MaxHistory is the longest history window MemoryConfig.History accepts;
// longer ones are clamped to it.
const MaxHistory = 400 * 24 * time.Hour

// The length of a UTC day.
const (
	daySec = 86400
	dayNS  = daySec * int64(time.Second)
)

// xrec holds the rarely used parts of a record, so that the keys that need
// none of them pay one zero ref: the sketches of dimension slots past the
// exact cap, the long history of keys of a history scope and the
// remembered tag. It is allocated for a key of a history scope when the key
// is created, and for another key at its first sketch or tag.
type xrec struct {
	// tagAt is the time (unix ns) of the latest tagged observation.
	tagAt int64
	// sk refers to the sketch of each slot that passed the exact cap.
	sk [MaxDimKinds]ref
	// days refers to the observations of a history key per UTC day,
	// daysLen in all, sorted by day, days without observations left out.
	// When there are any, the last is the day of the key's latest
	// observation.
	days    ref
	daysLen uint16
	// tag refers to the tag of the latest tagged observation, tagLen bytes
	// (0 for none).
	tagLen uint16
	tag    ref
	// hdays is the key's history window in days (taken from the
	// configuration by scope when the record is made); 0 for keys of
	// scopes without history.
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

// expired reports whether r, whose latest observation is at r.last, is
// forgotten at ns: idle for longer than Retention, or for a key of a history
// scope than the longer of Retention and its window. The common case costs
// one comparison.
func (sh *shard) expired(r *rec, ns int64) bool {
	d := ns - r.last
	return d > int64(Retention) && (r.x == 0 || d > max(int64(Retention), int64(sh.xs.at(r.x).hdays)*dayNS))
}

// dayList returns x's history days.
func (sh *shard) dayList(x *xrec) []dayCount {
	if x.days == 0 {
		return nil
	}
	return sh.days.get(x.days)[:x.daysLen]
}

// history returns the number of observations in the days (d-hdays, d].
func (sh *shard) history(x *xrec, d int64) int64 {
	days := sh.dayList(x)
	lo := d - int64(x.hdays)
	var c int64
	for i := len(days) - 1; i >= 0; i-- {
		dd := int64(days[i].day)
		if dd > d {
			continue
		}
		if dd <= lo {
			break
		}
		c += int64(days[i].n)
	}
	return c
}

// insertDay inserts a day with one observation at position i of x's days.
func (sh *shard) insertDay(x *xrec, i int, d int64) {
	n := int(x.daysLen)
	x.days = sh.days.grow(x.days, n)
	days := sh.days.get(x.days)[:n+1]
	copy(days[i+1:], days[i:n])
	days[i] = dayCount{day: uint32(d), n: 1}
	x.daysLen++
}

// addDay records one observation on day d of a key whose latest
// observation (this one included) is on day latest, and reports whether it
// was stored: an out-of-order observation on a day that left the window of
// the latest day is not. A newer day drops the days leaving its window.
func (sh *shard) addDay(x *xrec, d, latest int64) bool {
	n := int64(x.hdays)
	if d <= latest-n {
		return false
	}
	days := sh.dayList(x)
	if len(days) == 0 {
		sh.insertDay(x, 0, d)
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
			x.daysLen = uint16(copy(days, days[k:]))
		}
		sh.insertDay(x, int(x.daysLen), d)
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
			sh.insertDay(x, i, d)
		}
	}
	return true
}

// sweepDays drops the days no history ending on day d or later can count
// and trims spare capacity.
func (sh *shard) sweepDays(x *xrec, d int64) {
	days := sh.dayList(x)
	k := 0
	for k < len(days) && int64(days[k].day) <= d-int64(x.hdays) {
		k++
	}
	n := copy(days, days[k:])
	x.daysLen = uint16(n)
	switch {
	case n == 0:
		sh.days.free(x.days)
		x.days = 0
	case sh.days.capOf(x.days) > n+n/4+2:
		// A key seen daily keeps about as many days as it drops, so
		// tight capacity rarely grows again.
		x.days = sh.days.fit(x.days, n)
	}
}

// tagBytes returns x's tag; empty when it has none.
func (sh *shard) tagBytes(x *xrec) []byte {
	if x.tagLen == 0 {
		return nil
	}
	return sh.bytes.get(x.tag)[:x.tagLen]
}

// tagCacheSize is the number of strings in a shard's tag cache.
const tagCacheSize = 64

// tag returns x's tag as a string of its own, "" when it has none. The
// strings of recent tags are cached by hash, so that a tag reported again
// costs no allocation.
func (sh *shard) tag(x *xrec) string {
	b := sh.tagBytes(x)
	if len(b) == 0 {
		return ""
	}
	if sh.tagCache == nil {
		sh.tagCache = new([tagCacheSize]string)
	}
	c := &sh.tagCache[hashString(hashValSeed, unsafe.String(&b[0], len(b)))%tagCacheSize]
	if *c != string(b) {
		*c = string(b)
	}
	return *c
}

// setTag remembers tag, carried by an observation at ns, unless the
// remembered tag comes from a later observation.
func (sh *shard) setTag(r *rec, tag string, ns int64) {
	if r.x == 0 {
		r.x = sh.xs.allocClass(0)
	}
	x := sh.xs.at(r.x)
	if x.tagLen != 0 && ns < x.tagAt {
		return
	}
	if string(sh.tagBytes(x)) != tag {
		if sh.bytes.capOf(x.tag) < len(tag) || sh.bytes.capOf(x.tag) > len(tag)+len(tag)/2+8 {
			sh.bytes.free(x.tag)
			x.tag = sh.bytes.alloc(len(tag))
		}
		copy(sh.bytes.get(x.tag), tag)
		x.tagLen = uint16(len(tag))
	}
	x.tagAt = ns
}

// tidy frees r's extra part when it holds nothing.
func (sh *shard) tidy(r *rec) {
	if r.x == 0 {
		return
	}
	x := sh.xs.at(r.x)
	if x.sk == ([MaxDimKinds]ref{}) && x.days == 0 && x.tagLen == 0 && x.hdays == 0 {
		sh.xs.free(r.x)
		r.x = 0
	}
}

// freeExtra frees extra part id and everything it refers to.
func (sh *shard) freeExtra(id ref) {
	x := sh.xs.at(id)
	sh.dropSketches(x)
	sh.days.free(x.days)
	sh.bytes.free(x.tag)
	sh.xs.free(id)
}

// dropSketches frees every sketch of x.
func (sh *shard) dropSketches(x *xrec) {
	for s, id := range x.sk {
		if id != 0 {
			sh.freeSketch(id)
			x.sk[s] = 0
		}
	}
}

// forgetWindows drops r's buckets and distinct values, keeping its times,
// history and tag: r is a history key idle for longer than Retention, so no
// window can count anything it holds.
func (sh *shard) forgetWindows(r *rec) {
	r.bkLen = 0
	r.off = [NumWindows - 1]uint16{}
	r.hasTot = false
	r.layout()
	r.kinds = [MaxDimKinds]uint8{}
	r.dvLen = 0
	if r.x != 0 {
		sh.dropSketches(sh.xs.at(r.x))
	}
}
