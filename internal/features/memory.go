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
	"unsafe"

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
// Memory. Keys are kept where the garbage collector does not look, so that
// the work of its mark phase does not grow with the store: in arenas of
// pointer-free types (pool.go) shared by the shards, and a map per shard
// from key hash to record whose entries hold no pointers either. A key's
// record, encoded key, totals and buckets make one blob; its distinct
// values, its sketches, history days and tag are further chunks, all
// addressed by 32-bit refs. A collection scans a few bytes per 64 KiB page,
// not every key. Chunks come in capacity classes (every size up to 8
// elements, then four per doubling); freed ones are reused for their class,
// and a page left empty is given back to the Go heap. A key seen once costs
// about 200–250 bytes (more with several dimension kinds); a busy key at
// most about 7–15 KiB for its windows (456 buckets of 16 bytes), 1 KiB per
// exact dimension kind (64 values of 16 bytes) and 25 KiB per sketched one
// (p=10). A key of a history scope, or with a tag, adds 56 bytes, its tag
// and 8 bytes per day with observations in its history window (plus up to
// a quarter more; at most 3.5 KiB for 400 days). Keys without either cost
// nothing more.
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
	shardData
	_ [64]byte // keep shards on separate cache lines
}

// shardData is what a shard holds: its keys, in the arenas of pointer-free
// types it shares with the other shards (see Memory), and the names of its
// dimension kinds.
type shardData struct {
	// index maps a key's hash to its record; the records of keys with the
	// same hash are chained by rec.next.
	index map[uint64]ref
	*heap
	n int // records
	// kinds names the dimension kinds records of this shard use: code c
	// stands for kinds[c-1]; it starts with knownKinds.
	kinds []risk.EntityKind
	// tagCache holds the strings of recently reported tags (see tag); nil
	// until the first.
	tagCache *[tagCacheSize]string
}

// rec is everything one key knows. It opens the key's blob, a chunk of the
// store's recs arena, which goes on with the encoded key (keyLen bytes,
// padded to words), then, when hasTot is set, the running totals per window
// and then the buckets of every window, as many as fit: window 0 first,
// bkLen in all; off[l] is the end of window l's part (the last part ends at
// bkLen). Within a part buckets are sorted by index. The totals are kept
// while some window has more than one bucket. A blob moves when its buckets
// or totals need more room, or when a sweep trims it.
type rec struct {
	first int64 // unix ns of the earliest observation
	last  int64 // unix ns of the latest observation
	next  ref   // the record of another key with the same hash, or 0
	// x refers to sketches, history and tag; 0 for keys that need none.
	x ref
	// dv refers to the dvLen exactly counted values of every slot, room
	// for dvCap; the low 3 bits of a value's hash are replaced by its slot.
	dv     ref
	keyLen uint32
	dvLen  uint16
	dvCap  uint16
	words  uint16 // of the blob
	bkOff  uint16 // where the buckets start, in words (see layout)
	room   uint16 // buckets that fit
	bkLen  uint16
	off    [NumWindows - 1]uint16
	hasTot bool
	// kinds holds the shard's kind code of each dimension slot (0 = free).
	kinds [MaxDimKinds]uint8
}

// layout sets where r's buckets start and how many fit from its key,
// totals and blob size.
func (r *rec) layout() {
	o := recWords + keyWords(r.keyLen)
	if r.hasTot {
		o += totWords
	}
	r.bkOff, r.room = uint16(o), uint16((int(r.words)-o)/bucketWords)
}

// The layout of a blob, in words.
const (
	recWords    = int(unsafe.Sizeof(rec{}) / 8)
	totWords    = int(unsafe.Sizeof([NumWindows]total{}) / 8)
	bucketWords = int(unsafe.Sizeof(bucket{}) / 8)
	// maxBlobWords is the largest blob: the longest key, totals and every
	// bucket.
	maxBlobWords = recWords + maxKeyBytes/8 + totWords + totalBuckets*bucketWords
)

// A record takes whole words, so that the key after it is aligned.
var _ [0]struct{} = [unsafe.Sizeof(rec{}) % 8]struct{}{}

// keyWords returns the words a key of n bytes takes in a blob.
func keyWords(n uint32) int { return int(n+7) / 8 }

// blobCaps are the classes of the recs arena, in words.
var blobCaps = classCaps(1, uint32(maxBlobWords))

// cur is a record being worked on and where its ref is kept, so that its
// blob can move.
type cur struct {
	r *rec
	// link is where the ref is kept: nil for the index (the first record
	// of its hash), or another record's next.
	link   *ref
	h      uint64 // the key's hash
	id     ref
	linked bool // false while the record is being built
}

// open returns the cursor of record id, kept at link (nil for the index).
func (sh *shard) open(id ref, h uint64, link *ref) cur {
	return cur{r: (*rec)(unsafe.Pointer(sh.recs.at(id))), link: link, h: h, id: id, linked: true}
}

// blob returns the record's blob.
func (c *cur) blob() []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(c.r)), c.r.words)
}

// key returns the record's encoded key.
func (c *cur) key() []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(c.r), recWords*8)), c.r.keyLen)
}

// wins returns where the record's windows are.
func (c *cur) wins() wins {
	r := c.r
	var w wins
	if r.hasTot {
		w.tot = (*[NumWindows]total)(unsafe.Add(unsafe.Pointer(r), (int(r.bkOff)-totWords)*8))
	}
	if r.room > 0 {
		w.bk = unsafe.Slice((*bucket)(unsafe.Add(unsafe.Pointer(r), int(r.bkOff)*8)), r.room)
	}
	return w
}

// reshape gives the record totals or none (hasTot) and room for at least
// bkCap buckets, moving the buckets within the blob or into a new one.
// With trim the blob also moves when a smaller one holds them.
func (sh *shard) reshape(c *cur, hasTot bool, bkCap int, trim bool) {
	r := c.r
	head := recWords + keyWords(r.keyLen)
	need := head + bkCap*bucketWords
	if hasTot {
		need += totWords
	}
	old := c.wins()
	bk := old.bk[:r.bkLen]
	b := c.blob()
	if need <= len(b) && !(trim && sh.recs.classCap(need) < len(b)) {
		o := head
		if hasTot {
			o += totWords
		}
		if n := len(bk); n > 0 {
			copy(unsafe.Slice((*bucket)(unsafe.Pointer(&b[o])), n), bk)
		}
		if hasTot && !r.hasTot {
			clear(b[head : head+totWords])
		}
		r.hasTot = hasTot
		r.layout()
		return
	}
	id := sh.recs.alloc(need)
	nb := sh.recs.get(id)
	copy(nb[:head], b[:head])
	nc := cur{id: id, r: (*rec)(unsafe.Pointer(&nb[0])), h: c.h, link: c.link, linked: c.linked}
	nc.r.hasTot = hasTot
	nc.r.words = uint16(len(nb))
	nc.r.layout()
	w := nc.wins()
	if hasTot && old.tot != nil {
		*w.tot = *old.tot
	}
	copy(w.bk, bk)
	sh.recs.free(c.id)
	if c.linked {
		if c.link == nil {
			sh.index[c.h] = id
		} else {
			*c.link = id
		}
	}
	*c = nc
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
	h := newHeap()
	for i := range s {
		s[i].shardData = shardData{index: make(map[uint64]ref), heap: h, kinds: append([]risk.EntityKind(nil), knownKinds[:]...)}
	}
	return s
}

// heap holds the keys of every shard of a store: a blob per key (see rec),
// the arrays it refers to, tags and sketches.
type heap struct {
	recs  arena[uint64]
	dvs   arena[dval]
	xs    arena[xrec]
	days  arena[dayCount]
	bytes arena[byte] // tags
	sks   arena[sketchHdr]
	regs  arena[uint32] // sketch registers, one class per precision
}

func newHeap() *heap {
	h := new(heap)
	h.recs.init(blobCaps)
	h.dvs.init(dvalCaps)
	h.xs.init(oneCaps)
	h.days.init(dayCaps)
	h.bytes.init(byteCaps)
	h.sks.init(oneCaps)
	h.regs.init(regCaps)
	return h
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
		return outputsErr(len(out), len(obs))
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
	ns, err := checkObservations(at, obs)
	if err != nil {
		return err
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
	ns, err := checkRead(at, keys, dims, len(out))
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
		n += sh.n
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
		for h, head := range sh.index {
			var link *ref
			for id := head; id != 0; {
				c := sh.open(id, h, link)
				if sh.expired(c.r, ns) {
					id = c.r.next
					if link == nil {
						if id == 0 {
							delete(sh.index, h)
						} else {
							sh.index[h] = id
						}
					} else {
						*link = id
					}
					sh.remove(&c)
					dropped++
					continue
				}
				sh.sweep(&c, &q)
				link = &c.r.next
				id = c.r.next
			}
		}
		sh.mu.Unlock()
	}
	return dropped
}

// observe records o into its key's record and fills a when a is not nil.
// vh holds the hashes of o's dimension values.
func (sh *shard) observe(cfg *MemoryConfig, h uint64, vh *[MaxDistinct]uint64, o *Observation, q *query, a *Aggregates) error {
	var c cur
	ok := sh.find(h, &o.Key, &c)
	isNew := false
	switch {
	case !ok:
		c = sh.create(h, &o.Key, historyDays(cfg, o.Key.Scope))
		isNew = true
	case q.ns-c.r.last > int64(Retention):
		r := c.r
		if sh.expired(r, q.ns) {
			sh.reset(r)
			isNew = true
		} else {
			sh.forgetWindows(r)
		}
	}
	r := c.r
	prev := r.last
	if isNew {
		r.first, r.last = q.ns, q.ns
	} else {
		r.first = min(r.first, q.ns)
		r.last = max(r.last, q.ns)
	}
	w := c.wins()
	var stored [NumWindows]bool
	for l := range nw {
		stored[l] = sh.add(&c, &w, l, q.b[l], o.Amount)
	}
	r = c.r // the blob may have moved
	if a != nil {
		*a = Aggregates{New: isNew, FirstSeen: time.Unix(0, r.first).UTC()}
		if !isNew {
			a.PrevSeen = time.Unix(0, prev).UTC()
		}
		for l := range nw {
			c, s := r.window(&w, l, q.b[l])
			if !stored[l] {
				c, s = c+1, s+o.Amount
			}
			a.Count[l], a.Sum[l] = c, s
		}
	}
	if r.x != 0 {
		x := sh.xs.at(r.x)
		if a != nil {
			a.PrevTag = sh.tag(x)
		}
		if x.hdays != 0 {
			stored := sh.addDay(x, q.day, r.last/dayNS)
			if a != nil {
				a.History = sh.history(x, q.day)
				if !stored {
					a.History++
				}
			}
		}
	}
	if o.Tag != "" {
		sh.setTag(r, o.Tag, q.ns)
	}
	dims := dimBatch{mask: o.DistinctWindows}
	var busy uint8 // slots claimed by this observation's kinds
	for i := range o.Distinct {
		d := &o.Distinct[i]
		if d.Kind == "" || d.Value == "" {
			continue
		}
		code, err := sh.kindCode(d.Kind, true)
		if err != nil {
			return err
		}
		slot := sh.slotFor(r, code, busy)
		busy |= 1 << slot
		if a != nil {
			dims.add(slot, vh[i], &a.Distinct[i], &a.NewValue[i])
		} else {
			dims.add(slot, vh[i], nil, nil)
		}
	}
	sh.observeDims(cfg, r, &dims, q)
	return nil
}

// read fills a with the aggregates of k as of q.
func (sh *shard) read(h uint64, k *Key, kinds []risk.EntityKind, q *query, a *Aggregates) {
	*a = Aggregates{}
	var c cur
	if !sh.find(h, k, &c) || sh.expired(c.r, q.ns) {
		a.New = true
		return
	}
	r := c.r
	a.FirstSeen = time.Unix(0, r.first).UTC()
	a.PrevSeen = time.Unix(0, r.last).UTC()
	if r.x != 0 {
		x := sh.xs.at(r.x)
		a.PrevTag = sh.tag(x)
		if x.hdays != 0 {
			a.History = sh.history(x, q.day)
		}
	}
	if q.ns-r.last > int64(Retention) {
		// A history key idle past every window: they are all empty.
		return
	}
	w := c.wins()
	for l := range nw {
		a.Count[l], a.Sum[l] = r.window(&w, l, q.b[l])
	}
	for i, kind := range kinds {
		code, _ := sh.kindCode(kind, false)
		if code == 0 {
			continue
		}
		for s, c := range r.kinds {
			if c == code {
				sh.readDim(r, s, q, &a.Distinct[i])
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

// find sets c to the cursor of k's record, which has hash h, and reports
// whether there is one.
func (sh *shard) find(h uint64, k *Key, c *cur) bool {
	var link *ref
	for id := sh.index[h]; id != 0; {
		r := (*rec)(unsafe.Pointer(sh.recs.at(id)))
		if keyEqual(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(r), recWords*8)), r.keyLen), k) {
			*c = cur{r: r, link: link, h: h, id: id, linked: true}
			return true
		}
		link = &r.next
		id = r.next
	}
	return false
}

// create adds a fresh record for k, which has hash h and must not be
// present; hdays is the history window of k's scope in days (0 for none).
func (sh *shard) create(h uint64, k *Key, hdays uint16) cur {
	c := sh.newRec(h, k)
	if hdays != 0 {
		c.r.x = sh.xs.allocClass(0)
		sh.xs.at(c.r.x).hdays = hdays
	}
	sh.link(&c)
	return c
}

// newRec returns a new record holding k, which has hash h, and nothing
// else, with room for a bucket per window, not yet linked.
func (sh *shard) newRec(h uint64, k *Key) cur {
	n := keyHeader + len(k.Tenant) + len(k.Scope) + len(k.Kind) + len(k.Value)
	id := sh.recs.alloc(recWords + keyWords(uint32(n)) + int(NumWindows)*bucketWords)
	b := sh.recs.get(id)
	c := cur{id: id, r: (*rec)(unsafe.Pointer(&b[0])), h: h}
	c.r.keyLen, c.r.words = uint32(n), uint16(len(b))
	c.r.layout()
	appendKey(c.key()[:0], k) // fits: no reallocation
	return c
}

// link files record c under its hash.
func (sh *shard) link(c *cur) {
	if head := sh.index[c.h]; head != 0 {
		hc := sh.open(head, c.h, nil)
		c.r.next, hc.r.next = hc.r.next, c.id
		c.link = &hc.r.next
	} else {
		sh.index[c.h] = c.id
	}
	c.linked = true
	sh.n++
}

// remove frees record c and everything it refers to; the caller has
// unlinked it.
func (sh *shard) remove(c *cur) {
	r := c.r
	sh.dvs.free(r.dv)
	if r.x != 0 {
		sh.freeExtra(r.x)
	}
	sh.recs.free(c.id)
	sh.n--
}

// reset forgets everything r knows but its key and history window.
func (sh *shard) reset(r *rec) {
	*r = rec{next: r.next, keyLen: r.keyLen, words: r.words, dv: r.dv, dvCap: r.dvCap, x: r.x}
	r.layout()
	if r.x == 0 {
		return
	}
	x := sh.xs.at(r.x)
	if x.hdays == 0 {
		sh.freeExtra(r.x)
		r.x = 0
		return
	}
	sh.dropSketches(x)
	sh.bytes.free(x.tag)
	*x = xrec{hdays: x.hdays, days: x.days}
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
func keyEqual(enc []byte, k *Key) bool {
	t, s, n := len(k.Tenant), len(k.Scope), len(k.Kind)
	if len(enc) != keyHeader+t+s+n+len(k.Value) ||
		int(enc[0])|int(enc[1])<<8 != t || int(enc[2])|int(enc[3])<<8 != s || int(enc[4])|int(enc[5])<<8 != n {
		return false
	}
	rest := enc[keyHeader:]
	return string(rest[t+s+n:]) == k.Value && string(rest[:t]) == k.Tenant && string(rest[t:t+s]) == k.Scope &&
		string(rest[t+s:t+s+n]) == string(k.Kind)
}
