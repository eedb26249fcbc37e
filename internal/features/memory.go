package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// ErrInvalid is wrapped by every error about input the caller got wrong: an
// event time outside the supported range, a non-finite amount, an empty or
// oversized key, a tag longer than MaxTagLen, an output slice that is too
// short.
var ErrInvalid = errors.New("features: invalid input")

// Retention is how long a key (and each distinct value of it) is remembered
// after its latest observation: the longest window plus one of its buckets.
// A key idle for longer counts as new again, unless its scope has a history
// window longer than Retention (see MemoryConfig.History).
const Retention = 30*24*time.Hour + 6*time.Hour

// MaxDimKinds is the number of distinct-count dimension kinds one key of a
// Memory store tracks at once. When an observation brings a further kind,
// the kind whose latest value is oldest is forgotten to make room.
const MaxDimKinds = 8

// The supported range of event times: [1970-01-01, 2106-01-01) UTC; times
// are kept as unsigned 32-bit seconds inside the store.
const (
	minEventSec = 0
	maxEventSec = 4291747200 // 2106-01-01T00:00:00Z
)

// maxKeyBytes bounds the length of an encoded key (its fields plus a
// 6-byte header).
const maxKeyBytes = 1 << 16

// MemoryConfig configures a Memory store. The zero value is usable: every
// zero field takes its default, and out-of-range values are clamped.
type MemoryConfig struct {
	// Shards is the number of independently locked shards, rounded up to a
	// power of two within 1..4096; default 128.
	Shards int
	// DistinctCap is the number of distinct values per key and dimension
	// kind counted exactly; past it the dimension switches to a
	// HyperLogLog-style sketch. Within 1..4096; default 64.
	DistinctCap int
	// SketchPrecision is the HyperLogLog precision p (2^p registers,
	// standard error about 1.04/sqrt(2^p)) of new sketches, within 8..14;
	// default 10 (about 3.3%).
	SketchPrecision int
	// History maps a Key.Scope to the length of a long history window. For
	// keys of such a scope the store also counts observations per UTC day
	// over the window (Aggregates.History) and remembers the key, with its
	// history, for the longer of Retention and the window after its latest
	// observation. Windows are rounded up to whole days and clamped to
	// [1 day, MaxHistory]; NewMemory works on a copy of the map. Nil means
	// no scope has a history.
	History map[string]time.Duration
}

// withDefaults returns c with defaults applied and values clamped.
func (c MemoryConfig) withDefaults() MemoryConfig {
	if c.Shards <= 0 {
		c.Shards = 128
	}
	c.Shards = 1 << bits.Len(uint(min(c.Shards, 4096)-1))
	if c.DistinctCap <= 0 {
		c.DistinctCap = 64
	}
	c.DistinctCap = min(c.DistinctCap, maxDistinctCap)
	if c.SketchPrecision == 0 {
		c.SketchPrecision = 10
	}
	c.SketchPrecision = min(max(c.SketchPrecision, minPrecision), maxPrecision)
	if len(c.History) == 0 {
		c.History = nil
	} else {
		h := make(map[string]time.Duration, len(c.History))
		for scope, d := range c.History {
			h[scope] = normalizeHistory(d)
		}
		c.History = h
	}
	return c
}

// Memory is an in-memory Store, sharded by key hash with one mutex per
// shard, that can be persisted with Snapshot and Restore.
//
// Windows. Every window w is kept as a sparse ring of time buckets of
// granularity g: 1m as 12×5s, 1h as 60×1m, 24h as 96×15m, 7d as 168×1h and
// 30d as 120×6h; only non-empty buckets are stored. The value of a window at
// event time t covers the n buckets ending with the one that holds t, i.e.
// every event in (t−W+g, t] for certain and none older than t−W: counts,
// sums and distinct counts undercount only events aged between W−g and W
// (at most 5s of the 1m window, 1m of 1h, 15m of 24h, 1h of 7d, 6h of 30d),
// and events later than t within t's own bucket are counted.
//
// Out of order. An event older than the key's latest one is added to its
// bucket when that bucket is still kept; a window ending at t never counts
// buckets after t's. When an event at time t' arrives, buckets at or before
// t'−W are dropped from w's ring, so observations or reads at a time d
// before the key's latest event may additionally miss up to d of the oldest
// part of the window. Observe always counts the current observation.
//
// Distinct counts. Each key keeps up to MaxDimKinds dimension kinds. For
// each, up to MemoryConfig.DistinctCap values are kept exactly as 64-bit
// hashes with first and last seen times: the count is then exact at bucket
// granularity (a value counts when its first or last sighting falls in the
// window). Beyond the cap the kind switches for good (until it is idle for
// Retention) to a sliding HyperLogLog: 2^p registers, each holding up to 6
// (time, rank) pairs of possible future maxima, which answers every window
// at bucket granularity with the sketch's standard error of about
// 1.04/sqrt(2^p) (3.3% at the default p=10) while registers need no more
// than 6 pairs, i.e. up to roughly 3×10^5 distinct values per 30 days at
// p=10; with more, pairs are dropped and the middle windows (24h, 7d) are
// underestimated (by about 25% for 7d at 10^6 values per 30 days). NewValue
// is exact below the cap; above it, it never calls a value seen within
// Retention new but may miss a new value whose hash rank is small.
//
// History. A key whose scope has a window of n days in
// MemoryConfig.History also keeps the number of its observations per UTC
// day, for the days with observations only. History at event time t counts
// the observations of the n whole UTC days ending with t's day (those later
// than t on t's day included, as windows count t's whole bucket). An
// out-of-order observation counts in its day while that day is within the n
// days ending with the key's latest day; when the key's latest day moves on,
// the days leaving its window are dropped, so History at a time on an
// earlier day may miss the oldest of its days. Observe always counts the
// current observation. Such a key is remembered (not New, history kept) for
// the longer of Retention and n days after its latest observation; once it
// has been idle for more than Retention its windows and distinct values are
// empty, as for any key, and it keeps only its times, history and tag.
//
// Tags. A key remembers the tag of its latest observation by event time
// that carried one (between observations at the same time, the later
// recorded): an out-of-order observation older than the remembered tag's,
// or one without a tag, leaves it alone. Observe reports the tag remembered
// before the observation as PrevTag, Read the remembered tag.
//
// Times. New is true for a key never observed, or idle for more than its
// retention before the event (Retention, or the longer of Retention and the
// history window for keys of a history scope). FirstSeen is the earliest
// observation time; PrevSeen is the latest event time recorded before this
// observation, which can be later than the event time when events arrive
// out of order. Event times must lie in [1970-01-01, 2106-01-01).
//
// Memory. A key seen once costs about 250–350 bytes (more with several
// dimension kinds); a busy key at most about 7–15 KiB for its windows (456
// buckets of 16 bytes), 1 KiB per exact dimension kind (64 values of 16
// bytes) and 24 KiB per sketched one (p=10). A key of a history scope, or
// with a tag, adds 64 bytes, a copy of the tag (made when the tag changes)
// and 8 bytes per day with observations in its history window (plus up to
// a quarter more after a sweep; at most 3.2 KiB for 400 days). Keys without
// either cost nothing more.
//
// Memory is safe for concurrent use.
type Memory struct {
	cfg    MemoryConfig
	shift  uint // hash >> shift selects the shard
	shards []shard
}

var _ Store = (*Memory)(nil)

// shard is one independently locked part of a Memory store.
type shard struct {
	mu sync.Mutex
	// keys maps a key's hash to its entry.
	keys map[uint64]*entry
	// coll holds, by encoded key, the rare entries whose hash is already
	// taken in keys by another key.
	coll map[string]*entry
	// kinds names the dimension kinds entries of this shard use: code c
	// stands for kinds[c-1]; it starts with knownKinds.
	kinds []risk.EntityKind
	_     [64]byte // keep shards on separate cache lines
}

// entry is everything one key knows.
type entry struct {
	key   string // encodeKey of the key
	first int64  // unix ns of the earliest observation
	last  int64  // unix ns of the latest observation
	// bk holds the buckets of every window, window 0 first; off[l] is the
	// end of window l's part (the last part ends at len(bk)). Within a part
	// buckets are sorted by index.
	bk  []bucket
	off [NumWindows - 1]uint16
	// tot holds running totals per window; nil while no window has more
	// than one bucket.
	tot *[NumWindows]total
	// kinds holds the shard's kind code of each dimension slot (0 = free).
	kinds [MaxDimKinds]uint8
	// dv holds the exactly counted values of every slot; the low 3 bits of a
	// value's hash are replaced by its slot.
	dv []dval
	// x holds sketches, history and tag; nil for keys that need none.
	x *extra
}

// NewMemory returns an empty store configured by cfg.
func NewMemory(cfg MemoryConfig) *Memory {
	cfg = cfg.withDefaults()
	m := &Memory{cfg: cfg, shift: uint(64 - bits.TrailingZeros(uint(cfg.Shards)))}
	m.shards = newShards(cfg.Shards)
	return m
}

func newShards(n int) []shard {
	s := make([]shard, n)
	for i := range s {
		s[i].keys = make(map[uint64]*entry)
		s[i].kinds = append([]risk.EntityKind(nil), knownKinds[:]...)
	}
	return s
}

// shardOf returns the shard that holds keys with hash h.
func (m *Memory) shardOf(h uint64) *shard {
	if m.shift == 64 {
		return &m.shards[0]
	}
	return &m.shards[h>>m.shift]
}

// eventTime converts at into unix nanoseconds, rejecting times the store
// cannot represent.
func eventTime(at time.Time) (int64, error) {
	s := at.Unix()
	if s < minEventSec || s >= maxEventSec {
		return 0, fmt.Errorf("%w: event time %s is outside 1970..2105", ErrInvalid, at.UTC().Format(time.RFC3339))
	}
	return at.UnixNano(), nil
}

func validateObservation(o *Observation) error {
	k := &o.Key
	if k.Kind == "" || k.Value == "" {
		return fmt.Errorf("%w: key %q/%q has an empty kind or value", ErrInvalid, k.Kind, k.Value)
	}
	if len(k.Tenant) > math.MaxUint16 || len(k.Scope) > math.MaxUint16 || len(k.Kind) > math.MaxUint16 ||
		len(k.Tenant)+len(k.Scope)+len(k.Kind)+len(k.Value) > maxKeyBytes-keyHeader {
		return fmt.Errorf("%w: key of kind %q is longer than %d bytes", ErrInvalid, k.Kind, maxKeyBytes-keyHeader)
	}
	if math.IsNaN(o.Amount) || math.IsInf(o.Amount, 0) {
		return fmt.Errorf("%w: amount %v is not finite", ErrInvalid, o.Amount)
	}
	if len(o.Tag) > MaxTagLen {
		return fmt.Errorf("%w: tag of %d bytes, at most %d", ErrInvalid, len(o.Tag), MaxTagLen)
	}
	return nil
}

// Observe records every observation at event time at and writes into out[i]
// the aggregates of obs[i].Key including that observation and every earlier
// one in obs. Observations are validated before any is recorded; an error
// wrapping ErrInvalid leaves the store unchanged.
func (m *Memory) Observe(ctx context.Context, at time.Time, obs []Observation, out []Aggregates) error {
	if len(out) < len(obs) {
		return fmt.Errorf("%w: %d outputs for %d observations", ErrInvalid, len(out), len(obs))
	}
	return m.record(ctx, at, obs, out)
}

// Apply records observations like Observe without reading them back.
func (m *Memory) Apply(ctx context.Context, at time.Time, obs []Observation) error {
	return m.record(ctx, at, obs, nil)
}

func (m *Memory) record(ctx context.Context, at time.Time, obs []Observation, out []Aggregates) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ns, err := eventTime(at)
	if err != nil {
		return err
	}
	for i := range obs {
		if err := validateObservation(&obs[i]); err != nil {
			return fmt.Errorf("observation %d: %w", i, err)
		}
	}
	q := newQuery(ns)
	// Hash a batch of keys and values before taking any lock, so that the
	// loads of their strings overlap.
	var hashes [16]uint64
	var vhashes [16][MaxDistinct]uint64
	for from := 0; from < len(obs); from += len(hashes) {
		batch := obs[from:min(from+len(hashes), len(obs))]
		for i := range batch {
			o := &batch[i]
			hashes[i] = hashKey(&o.Key)
			for d := range o.Distinct {
				if o.Distinct[d].Value != "" {
					vhashes[i][d] = hashValue(o.Distinct[d].Value)
				}
			}
		}
		for i := range batch {
			var a *Aggregates
			if out != nil {
				a = &out[from+i]
			}
			h := hashes[i]
			sh := m.shardOf(h)
			sh.mu.Lock()
			err := sh.observe(&m.cfg, h, &vhashes[i], &batch[i], &q, a)
			sh.mu.Unlock()
			if err != nil {
				return fmt.Errorf("observation %d: %w", from+i, err)
			}
		}
	}
	return nil
}

// Read writes into out[i] the aggregates of keys[i] as of event time at
// without recording anything. Distinct[j] reports the dimension kind
// dims[i][j]; dims may be shorter than keys, and dims[i] may be nil but not
// longer than MaxDistinct. PrevSeen is the key's latest observation, PrevTag
// its remembered tag and History (for keys of a history scope) counts the
// observations of the window's days up to at's. A key never observed, or
// idle for longer than its retention at at, reads as New with everything
// else zero.
func (m *Memory) Read(ctx context.Context, at time.Time, keys []Key, dims [][]risk.EntityKind, out []Aggregates) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(out) < len(keys) {
		return fmt.Errorf("%w: %d outputs for %d keys", ErrInvalid, len(out), len(keys))
	}
	for i := range dims {
		if len(dims[i]) > MaxDistinct {
			return fmt.Errorf("%w: key %d asks for %d dimensions, at most %d", ErrInvalid, i, len(dims[i]), MaxDistinct)
		}
	}
	ns, err := eventTime(at)
	if err != nil {
		return err
	}
	q := newQuery(ns)
	for i := range keys {
		k := &keys[i]
		if k.Value == "" {
			out[i] = Aggregates{New: true}
			continue
		}
		var kd []risk.EntityKind
		if i < len(dims) {
			kd = dims[i]
		}
		h := hashKey(k)
		sh := m.shardOf(h)
		sh.mu.Lock()
		sh.read(h, k, kd, &q, &out[i])
		sh.mu.Unlock()
	}
	return nil
}

// Len returns the number of keys the store holds, including idle keys that
// Sweep has not dropped yet.
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.keys) + len(sh.coll)
		sh.mu.Unlock()
	}
	return n
}

// Sweep drops every key whose latest observation is longer than its
// retention before now (Retention, or for keys of a history scope the longer
// of Retention and the history window) and returns how many it dropped; from
// the keys it keeps it drops buckets, distinct values, sketch entries and
// history days that no window or history ending at or after now can count.
// Reads and observations at times at or after now give the same results
// with or without a sweep. Sweep locks one shard at a time, so it can run
// beside live traffic.
func (m *Memory) Sweep(now time.Time) int {
	ns := now.UnixNano()
	if now.Unix() < minEventSec {
		return 0
	}
	if now.Unix() >= maxEventSec {
		ns = maxEventSec*1e9 - 1
	}
	q := newQuery(ns)
	dropped := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		for h, e := range sh.keys {
			if e.expired(ns) {
				delete(sh.keys, h)
				dropped++
				continue
			}
			e.sweep(&q)
		}
		for k, e := range sh.coll {
			if e.expired(ns) {
				delete(sh.coll, k)
				dropped++
				continue
			}
			e.sweep(&q)
		}
		sh.mu.Unlock()
	}
	return dropped
}

// observe records o into its key's entry and fills a when a is not nil.
// vh holds the hashes of o's dimension values.
func (sh *shard) observe(cfg *MemoryConfig, h uint64, vh *[MaxDistinct]uint64, o *Observation, q *query, a *Aggregates) error {
	e := sh.lookup(h, &o.Key)
	isNew := false
	switch {
	case e == nil:
		e = sh.insert(h, &o.Key, historyDays(cfg, o.Key.Scope))
		isNew = true
	case q.ns-e.last > int64(Retention):
		if e.expired(q.ns) {
			e.reset()
			isNew = true
		} else {
			e.forgetWindows()
		}
	}
	prev := e.last
	if isNew {
		e.first, e.last = q.ns, q.ns
	} else {
		e.first = min(e.first, q.ns)
		e.last = max(e.last, q.ns)
	}
	var stored [NumWindows]bool
	for l := range nw {
		stored[l] = e.add(l, q.b[l], o.Amount)
	}
	if a != nil {
		*a = Aggregates{New: isNew, FirstSeen: time.Unix(0, e.first).UTC()}
		if !isNew {
			a.PrevSeen = time.Unix(0, prev).UTC()
		}
		for l := range nw {
			c, s := e.window(l, q.b[l])
			if !stored[l] {
				c, s = c+1, s+o.Amount
			}
			a.Count[l], a.Sum[l] = c, s
		}
	}
	if x := e.x; x != nil {
		if a != nil {
			a.PrevTag = x.tag
		}
		if x.hdays != 0 {
			stored := x.addDay(q.day, e.last/dayNS)
			if a != nil {
				a.History = x.history(q.day)
				if !stored {
					a.History++
				}
			}
		}
	}
	if o.Tag != "" {
		e.setTag(o.Tag, q.ns)
	}
	dims := dimBatch{mask: o.DistinctWindows}
	for i := range o.Distinct {
		d := &o.Distinct[i]
		if d.Kind == "" || d.Value == "" {
			continue
		}
		code, err := sh.kindCode(d.Kind, true)
		if err != nil {
			return err
		}
		slot := e.slotFor(code)
		if a != nil {
			dims.add(slot, vh[i], &a.Distinct[i], &a.NewValue[i])
		} else {
			dims.add(slot, vh[i], nil, nil)
		}
	}
	e.observeDims(cfg, &dims, q)
	return nil
}

// read fills a with the aggregates of k as of q.
func (sh *shard) read(h uint64, k *Key, kinds []risk.EntityKind, q *query, a *Aggregates) {
	*a = Aggregates{}
	e := sh.lookup(h, k)
	if e == nil || e.expired(q.ns) {
		a.New = true
		return
	}
	a.FirstSeen = time.Unix(0, e.first).UTC()
	a.PrevSeen = time.Unix(0, e.last).UTC()
	if x := e.x; x != nil {
		a.PrevTag = x.tag
		if x.hdays != 0 {
			a.History = x.history(q.day)
		}
	}
	if q.ns-e.last > int64(Retention) {
		// A history key idle past every window: they are all empty.
		return
	}
	for l := range nw {
		a.Count[l], a.Sum[l] = e.window(l, q.b[l])
	}
	for i, kind := range kinds {
		code, _ := sh.kindCode(kind, false)
		if code == 0 {
			continue
		}
		for s, c := range e.kinds {
			if c == code {
				e.readDim(s, q, &a.Distinct[i])
				break
			}
		}
	}
}

// kindCode returns the shard's code for kind, adding it when add is set;
// code 0 means unknown. The entity kinds of package risk have fixed codes.
func (sh *shard) kindCode(kind risk.EntityKind, add bool) (uint8, error) {
	if c := knownKind(kind); c != 0 {
		return c, nil
	}
	for i, k := range sh.kinds[len(knownKinds):] {
		if k == kind {
			return uint8(len(knownKinds) + i + 1), nil
		}
	}
	if !add {
		return 0, nil
	}
	if len(sh.kinds) >= math.MaxUint8 {
		return 0, fmt.Errorf("%w: more than %d distinct dimension kinds", ErrInvalid, math.MaxUint8)
	}
	sh.kinds = append(sh.kinds, risk.EntityKind(strings.Clone(string(kind))))
	return uint8(len(sh.kinds)), nil
}

// knownKinds are the kinds with fixed codes: code i+1 is knownKinds[i].
var knownKinds = [...]risk.EntityKind{
	risk.EntityUser, risk.EntityIP, risk.EntityIPPrefix, risk.EntityDevice, risk.EntityEmail,
	risk.EntityEmailDomain, risk.EntityCard, risk.EntityAddress, risk.EntitySession, risk.EntityMerchant,
}

// knownKind returns the fixed code of kind, or 0.
func knownKind(kind risk.EntityKind) uint8 {
	switch kind {
	case risk.EntityUser:
		return 1
	case risk.EntityIP:
		return 2
	case risk.EntityIPPrefix:
		return 3
	case risk.EntityDevice:
		return 4
	case risk.EntityEmail:
		return 5
	case risk.EntityEmailDomain:
		return 6
	case risk.EntityCard:
		return 7
	case risk.EntityAddress:
		return 8
	case risk.EntitySession:
		return 9
	case risk.EntityMerchant:
		return 10
	}
	return 0
}

// lookup returns the entry of k, or nil.
func (sh *shard) lookup(h uint64, k *Key) *entry {
	if e := sh.keys[h]; e != nil && keyEqual(e.key, k) {
		return e
	}
	if len(sh.coll) == 0 {
		return nil
	}
	var buf [256]byte
	return sh.coll[string(appendKey(buf[:0], k))]
}

// insert adds a fresh entry for k, which must not be present; hdays is the
// history window of k's scope in days (0 for none).
func (sh *shard) insert(h uint64, k *Key, hdays uint16) *entry {
	e := &entry{key: string(appendKey(nil, k)), bk: make([]bucket, 0, NumWindows)}
	if hdays != 0 {
		e.x = &extra{hdays: hdays}
	}
	sh.put(h, e)
	return e
}

// put files e under hash h.
func (sh *shard) put(h uint64, e *entry) {
	if sh.keys[h] == nil {
		sh.keys[h] = e
		return
	}
	if sh.coll == nil {
		sh.coll = make(map[string]*entry)
	}
	sh.coll[e.key] = e
}

// reset forgets everything e knows but its key and history window.
func (e *entry) reset() {
	x := e.x
	*e = entry{key: e.key, bk: e.bk[:0], dv: e.dv[:0]}
	if x != nil && x.hdays != 0 {
		*x = extra{hdays: x.hdays, days: x.days[:0]}
		e.x = x
	}
}

// appendKey appends the encoding of k: the lengths of tenant, scope and
// kind as little-endian uint16s, then the four fields.
func appendKey(b []byte, k *Key) []byte {
	b = append(b, byte(len(k.Tenant)), byte(len(k.Tenant)>>8), byte(len(k.Scope)), byte(len(k.Scope)>>8),
		byte(len(k.Kind)), byte(len(k.Kind)>>8))
	b = append(b, k.Tenant...)
	b = append(b, k.Scope...)
	b = append(b, k.Kind...)
	return append(b, k.Value...)
}

// keyHeader is the length of an encoded key's header.
const keyHeader = 6

// decodeKey parses an encoded key; ok is false when enc is malformed.
func decodeKey(enc string) (k Key, ok bool) {
	if len(enc) < keyHeader {
		return Key{}, false
	}
	t := int(enc[0]) | int(enc[1])<<8
	s := int(enc[2]) | int(enc[3])<<8
	n := int(enc[4]) | int(enc[5])<<8
	rest := enc[keyHeader:]
	if t+s+n > len(rest) {
		return Key{}, false
	}
	return Key{Tenant: rest[:t], Scope: rest[t : t+s], Kind: risk.EntityKind(rest[t+s : t+s+n]), Value: rest[t+s+n:]}, true
}

// keyEqual reports whether enc encodes k, without allocating.
func keyEqual(enc string, k *Key) bool {
	t, s, n := len(k.Tenant), len(k.Scope), len(k.Kind)
	if len(enc) != keyHeader+t+s+n+len(k.Value) ||
		int(enc[0])|int(enc[1])<<8 != t || int(enc[2])|int(enc[3])<<8 != s || int(enc[4])|int(enc[5])<<8 != n {
		return false
	}
	rest := enc[keyHeader:]
	return rest[t+s+n:] == k.Value && rest[:t] == k.Tenant && rest[t:t+s] == k.Scope && rest[t+s:t+s+n] == string(k.Kind)
}
