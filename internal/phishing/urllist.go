package phishing

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"

	"github.com/shopguard/shopguard/internal/storage"
)

// Sources of URL-list entries other than feeds (a feed's source is the
// name the operator gives it when importing).
const (
	// URLListSourceReport marks entries made from phishing reports.
	URLListSourceReport = "report"
	// URLListSourceOperator marks entries an operator made by hand.
	URLListSourceOperator = "operator"
)

// URLListMatch is what a URL matched in a URL list.
type URLListMatch struct {
	// Effect is storage.URLListBlock or storage.URLListAllow.
	Effect string
	// Tenant is the entry's tenant ("" = every tenant), Source where it
	// came from (a feed's name, "report", "operator").
	Tenant string
	Source string
	// Expression is the checked URL's suffix/prefix expression that
	// matched ("evil.test/login/"), Hash its SHA-256: lists keep only
	// hashes, never the URLs they were made from.
	Expression string
	Hash       [32]byte
}

// URLListLog is where a URLList reads changes from: the change log of
// storage.URLListStore.
type URLListLog interface {
	URLListChangesAfter(ctx context.Context, id int64, fn func(*storage.URLListChange) error) error
}

// URLList is an in-memory index of URL lists: SHA-256 hashes of
// suffix/prefix expressions (see Expressions), each listed for a tenant
// ("" = every tenant) with an effect (block or allow) by a source. It
// takes about 43 bytes per entry and a lookup takes a few microseconds.
// It is safe for concurrent use: lookups run in parallel, changes wait
// for them.
//
// A server builds one from the change log at start and keeps it current
// by calling Sync now and then.
type URLList struct {
	mu sync.RWMutex
	// attrs are the distinct (tenant, effect, source) of entries; records
	// name them by index.
	attrs   []urlListAttr
	attrIDs map[urlListAttr]uint32
	// base holds most records, sorted by hash then attr; buckets index
	// it by the top bits of the hash: the records whose hash starts with
	// p are base[buckets[p]:buckets[p+1]].
	base       []urlListRec
	buckets    []uint32
	bucketBits uint
	// filter has a bit set for every hash in base (bits 64-127 of the
	// hash pick it): about 16 bits a record, small enough to stay in the
	// processor's cache, so that most expressions of a URL that is not
	// listed cost one read of it.
	filter     []uint64
	filterMask uint64
	// Changes since base was built: records added (by hash) and base
	// records removed. compact folds them into base.
	added   map[[32]byte][]uint32
	addedN  int
	removed map[urlListRec]struct{}
	lastID  int64
}

// urlListAttr is what an entry says beyond its hash.
type urlListAttr struct {
	tenant string
	source string
	allow  bool
}

// urlListRec is one entry: 36 bytes.
type urlListRec struct {
	hash [32]byte
	attr uint32
}

func compareURLListRecs(a, b urlListRec) int {
	// The first 8 bytes decide nearly always, and compare fastest as a number.
	if x, y := binary.BigEndian.Uint64(a.hash[:8]), binary.BigEndian.Uint64(b.hash[:8]); x != y {
		return cmp.Compare(x, y)
	}
	return cmp.Or(bytes.Compare(a.hash[8:], b.hash[8:]), cmp.Compare(a.attr, b.attr))
}

// NewURLList returns an empty list.
func NewURLList() *URLList {
	l := &URLList{attrIDs: map[urlListAttr]uint32{}, added: map[[32]byte][]uint32{}, removed: map[urlListRec]struct{}{}}
	l.index()
	return l
}

// Len returns how many entries are listed.
func (l *URLList) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.base) - len(l.removed) + l.addedN
}

// LastChange returns the ID of the latest logged change applied (0 for
// none): Sync reads the changes after it.
func (l *URLList) LastChange() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.lastID
}

// Apply applies changes in order and returns how many changed the list
// (adding a listed entry or removing an unlisted one changes nothing). A
// change with an ID at or below LastChange was applied before and is
// skipped (ID 0 is never skipped); a change with an unknown effect or
// operation is skipped too.
func (l *URLList) Apply(changes []storage.URLListChange) int {
	return l.apply(changes, true)
}

// apply applies changes; with tidy it leaves few of them out of the
// sorted index (Sync tidies after its last batch only).
func (l *URLList) apply(changes []storage.URLListChange, tidy bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i := range changes {
		c := &changes[i]
		if c.ID != 0 {
			if c.ID <= l.lastID {
				continue
			}
			l.lastID = c.ID
		}
		if (c.Effect != storage.URLListBlock && c.Effect != storage.URLListAllow) ||
			(c.Op != storage.URLListAdd && c.Op != storage.URLListRemove) {
			continue
		}
		rec := urlListRec{c.Hash, l.attrID(urlListAttr{c.Tenant, c.Source, c.Effect == storage.URLListAllow})}
		changed := false
		if c.Op == storage.URLListAdd {
			changed = l.add(rec)
		} else {
			changed = l.remove(rec)
		}
		if changed {
			n++
		}
		// Folding changes in costs a copy of the index: often enough
		// that the overlay stays a fraction of it, seldom enough that a
		// long log loads in a few copies of the index all told.
		if pending := l.addedN + len(l.removed); pending > max(smallOverlay, len(l.base)/4) {
			l.compact()
		}
	}
	// Lookups are fastest with the changes folded in: a large overlay
	// map costs them a cache miss per expression.
	if tidy && l.addedN+len(l.removed) > smallOverlay {
		l.compact()
	}
	return n
}

// smallOverlay is how many changes may stay out of the sorted index
// after Apply returns.
const smallOverlay = 1024

// syncBatch is how many changes Sync applies at a time: lookups wait for
// each batch, never for the whole log.
const syncBatch = 16384

// Sync applies the changes log has after LastChange and returns how many
// changed the list. A server calls it once at start (which reads the
// whole log) and then periodically. On error, the changes read before it
// stay applied, and the next Sync goes on from there.
func (l *URLList) Sync(ctx context.Context, log URLListLog) (int, error) {
	buf := make([]storage.URLListChange, 0, 256)
	n := 0
	err := log.URLListChangesAfter(ctx, l.LastChange(), func(c *storage.URLListChange) error {
		buf = append(buf, *c)
		if len(buf) == syncBatch {
			n += l.apply(buf, false)
			buf = buf[:0]
		}
		return nil
	})
	n += l.apply(buf, true)
	return n, err
}

// Lookup checks u against the entries for tenant (its own and those for
// every tenant) and returns the most specific match. An allow entry wins
// over every block entry, however specific; among matches of one effect
// the most specific expression wins (see Expressions for the order), and
// at one expression a tenant's own entry wins over one for every tenant,
// then the source that sorts first.
func (l *URLList) Lookup(tenant string, u URL) (URLListMatch, bool) {
	// The expressions of Expressions, hashed without making strings.
	hosts, paths := hostSuffixes(u), pathPrefixes(u)
	var hashes [MaxExpressions][32]byte
	var text [512]byte
	n := 0
	for _, h := range hosts {
		for _, p := range paths {
			hashes[n] = sha256.Sum256(append(append(text[:0], h...), p...))
			n++
		}
	}
	expr := func(i int) string { return hosts[i/len(paths)] + paths[i%len(paths)] }
	l.mu.RLock()
	defer l.mu.RUnlock()
	var block URLListMatch
	blocked := false
	var buf [8]uint32
	for i := range n {
		attrs := l.attrsOf(hashes[i], buf[:0])
		bestAllow, bestBlock := -1, -1
		for _, a := range attrs {
			at := &l.attrs[a]
			if at.tenant != "" && at.tenant != tenant {
				continue
			}
			best := &bestBlock
			if at.allow {
				best = &bestAllow
			}
			if *best < 0 || l.preferred(a, uint32(*best)) {
				*best = int(a)
			}
		}
		if bestAllow >= 0 {
			return l.match(uint32(bestAllow), expr(i), hashes[i]), true
		}
		if bestBlock >= 0 && !blocked {
			block, blocked = l.match(uint32(bestBlock), expr(i), hashes[i]), true
		}
	}
	return block, blocked
}

// preferred reports whether attr a is preferred to b at one expression:
// a tenant's own entry, then the source that sorts first.
func (l *URLList) preferred(a, b uint32) bool {
	x, y := &l.attrs[a], &l.attrs[b]
	if (x.tenant != "") != (y.tenant != "") {
		return x.tenant != ""
	}
	return x.source < y.source
}

func (l *URLList) match(a uint32, expr string, hash [32]byte) URLListMatch {
	at := &l.attrs[a]
	m := URLListMatch{Effect: storage.URLListBlock, Tenant: at.tenant, Source: at.source, Expression: expr, Hash: hash}
	if at.allow {
		m.Effect = storage.URLListAllow
	}
	return m
}

// attrID returns a's index, adding it if new.
func (l *URLList) attrID(a urlListAttr) uint32 {
	id, ok := l.attrIDs[a]
	if !ok {
		id = uint32(len(l.attrs))
		l.attrs = append(l.attrs, a)
		l.attrIDs[a] = id
	}
	return id
}

// attrsOf appends to dst the attrs of the records listed with hash h.
func (l *URLList) attrsOf(h [32]byte, dst []uint32) []uint32 {
	if len(l.added) > 0 {
		dst = append(dst, l.added[h]...)
	}
	if !l.mayBeInBase(h) {
		return dst
	}
	lo, hi := l.baseRange(h)
	for _, r := range l.base[lo:hi] {
		if len(l.removed) > 0 {
			if _, gone := l.removed[r]; gone {
				continue
			}
		}
		dst = append(dst, r.attr)
	}
	return dst
}

// mayBeInBase reports whether the filter lets h through: false means
// base has no record with hash h.
func (l *URLList) mayBeInBase(h [32]byte) bool {
	f := binary.BigEndian.Uint64(h[8:16]) & l.filterMask
	return l.filter[f/64]&(1<<(f%64)) != 0
}

// baseRange returns where base holds the records with hash h.
func (l *URLList) baseRange(h [32]byte) (int, int) {
	p := binary.BigEndian.Uint64(h[:8]) >> (64 - l.bucketBits) // 0 when bucketBits is 0
	lo, hi := int(l.buckets[p]), int(l.buckets[p+1])
	i, _ := slices.BinarySearchFunc(l.base[lo:hi], h, func(r urlListRec, h [32]byte) int { return bytes.Compare(r.hash[:], h[:]) })
	j := lo + i
	for j < hi && l.base[j].hash == h {
		j++
	}
	return lo + i, j
}

// inBase reports whether base holds r.
func (l *URLList) inBase(r urlListRec) bool {
	if !l.mayBeInBase(r.hash) {
		return false
	}
	lo, hi := l.baseRange(r.hash)
	for _, b := range l.base[lo:hi] {
		if b.attr == r.attr {
			return true
		}
	}
	return false
}

func (l *URLList) add(r urlListRec) bool {
	if l.inBase(r) {
		if _, gone := l.removed[r]; gone {
			delete(l.removed, r)
			return true
		}
		return false
	}
	attrs := l.added[r.hash]
	if slices.Contains(attrs, r.attr) {
		return false
	}
	l.added[r.hash] = append(attrs, r.attr)
	l.addedN++
	return true
}

func (l *URLList) remove(r urlListRec) bool {
	if attrs := l.added[r.hash]; slices.Contains(attrs, r.attr) {
		if attrs = slices.DeleteFunc(attrs, func(a uint32) bool { return a == r.attr }); len(attrs) == 0 {
			delete(l.added, r.hash)
		} else {
			l.added[r.hash] = attrs
		}
		l.addedN--
		return true
	}
	if _, gone := l.removed[r]; gone || !l.inBase(r) {
		return false
	}
	l.removed[r] = struct{}{}
	return true
}

// compact folds the changes into a new base, sized exactly.
func (l *URLList) compact() {
	adds := make([]urlListRec, 0, l.addedN)
	for h, attrs := range l.added {
		for _, a := range attrs {
			adds = append(adds, urlListRec{h, a})
		}
	}
	slices.SortFunc(adds, compareURLListRecs)
	out := make([]urlListRec, 0, len(l.base)-len(l.removed)+len(adds))
	i, j := 0, 0
	for i < len(l.base) || j < len(adds) {
		if j == len(adds) || (i < len(l.base) && compareURLListRecs(l.base[i], adds[j]) < 0) {
			if len(l.removed) == 0 {
				out = append(out, l.base[i])
			} else if _, gone := l.removed[l.base[i]]; !gone {
				out = append(out, l.base[i])
			}
			i++
			continue
		}
		out = append(out, adds[j])
		j++
	}
	l.base = out
	l.added, l.addedN, l.removed = map[[32]byte][]uint32{}, 0, map[urlListRec]struct{}{}
	l.index()
}

// index rebuilds buckets for base: a record a bucket or two (4 bytes a
// record, so that a lookup mostly reads one bucket and one record), at
// most 2^22 buckets.
func (l *URLList) index() {
	l.bucketBits = uint(min(bits.Len(uint(len(l.base))), 22))
	n := 1 << l.bucketBits
	if cap(l.buckets) >= n+1 {
		l.buckets = l.buckets[:n+1]
	} else {
		l.buckets = make([]uint32, n+1)
	}
	p := 0
	for i, r := range l.base {
		q := int(binary.BigEndian.Uint64(r.hash[:8]) >> (64 - l.bucketBits))
		for p <= q {
			l.buckets[p] = uint32(i)
			p++
		}
	}
	for ; p <= n; p++ {
		l.buckets[p] = uint32(len(l.base))
	}
	words := 1 << bits.Len(uint(len(l.base)/4)) // 16 to 32 bits a record
	l.filter, l.filterMask = make([]uint64, words), uint64(words*64-1)
	for _, r := range l.base {
		f := binary.BigEndian.Uint64(r.hash[8:16]) & l.filterMask
		l.filter[f/64] |= 1 << (f % 64)
	}
}
