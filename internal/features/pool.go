package features

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The store keeps its keys in memory the garbage collector does not scan:
// records, arrays and bytes live in arenas of pointer-free types, addressed
// by 32-bit refs instead of pointers, so that the work of a collection's
// mark phase does not grow with the number of keys. What the collector
// still scans is a few slice headers per arena and one per page.

// An arena's pages start at firstPageBytes for each chunk size and double
// up to pageBytes (or one chunk, when a chunk is larger), so that a small
// store stays small while a large one needs few pages. Pages never move: a
// pointer into one stays valid while its chunk is allocated, even across
// other allocations.
const (
	firstPageBytes = 512
	pageBytes      = 64 << 10
)

// A ref names a chunk of an arena: the page in the top bits, the offset of
// the chunk's first element on the page below (as many bits as a full page
// needs). Page 0 is never used, so that the zero ref names no chunk.
type ref uint32

// An arena hands out chunks of T of a few capacity classes and takes them
// back for reuse, like a slab allocator: a page holds chunks of one class,
// the pages of a class with room are listed, and a page left empty is
// given back to the Go heap unless it is the only one of its class with
// room for chunks in use. A freed chunk holds the position of its page's
// next free chunk in its first four bytes. T must hold no pointers, so that
// the pages are allocated without any, and every class's chunk must span at
// least 4 bytes at a multiple of 4.
//
// An arena is shared by the shards of a store, so that the keys one
// request creates lie close together, as with Go's own allocator.
// Allocating and freeing lock the arena; reading a chunk does not: the
// page table is replaced, never changed where a reader may look, and a
// chunk's page is published before the chunk's ref, which its reader gets
// under its shard's lock from whoever allocated it under the same lock.
type arena[T any] struct {
	pt atomic.Pointer[pageTable[T]]
	// Every lookup reads pt; keep it off the lines that allocating writes.
	_  [cacheLine - 8]byte
	mu sync.Mutex
	st arenaState
	_  [cacheLine]byte
}

// cacheLine is the size of a cache line, or more.
const cacheLine = 64

// pageTable lists an arena's pages and their classes.
type pageTable[T any] struct {
	pages [][]T
	cls   []uint8
}

// arenaState is the allocation state of an arena, guarded by its lock.
type arenaState struct {
	meta      []pageMeta   // of each page
	cls       []classState // by class
	freePages []uint32     // indexes of pages given back
	caps      []uint32     // elements per chunk of each class, ascending; shared, read-only
	small     []uint8      // the class of each small number of elements
	live      int          // chunks allocated and not freed
}

// pageMeta is the allocation state of one page of an arena.
type pageMeta struct {
	prev, succ uint32 // neighbours in the list of pages with room
	live       uint16 // chunks allocated
	next       uint16 // first position never handed out
	end        uint16 // chunks on the page
	free       uint16 // the latest freed position plus one, 0 when none
	listed     bool   // in the list of pages with room
}

// classState is the allocation state of one class of an arena.
type classState struct {
	room  uint32 // the first page of the class with room, 0 when none
	empty uint32 // an empty page kept as the class's only room, 0 when none
	last  uint32 // chunks of the latest page made
	live  uint32 // chunks allocated
}

// init prepares an empty arena with the classes of caps.
func (a *arena[T]) init(caps []uint32) {
	var zero T
	if uintptr(caps[0])*unsafe.Sizeof(zero) < 4 || uintptr(caps[0])*unsafe.Sizeof(zero)%4 != 0 {
		panic("features: arena chunks too small to link")
	}
	a.st = arenaState{caps: caps, small: make([]uint8, min(caps[len(caps)-1], 256)+1)}
	c := 0
	for n := range a.st.small {
		for caps[c] < uint32(n) {
			c++
		}
		a.st.small[n] = uint8(c)
	}
	a.pt.Store(&pageTable[T]{pages: make([][]T, 1, 4), cls: make([]uint8, 1, 4)})
}

// offBits returns the number of bits of a ref that hold the offset.
func (a *arena[T]) offBits() uint {
	var zero T
	return uint(bits.Len(uint(max(pageBytes/unsafe.Sizeof(zero), 2) - 1)))
}

// slice returns the first n elements of chunk r (not 0); n must not
// exceed its capacity.
func (a *arena[T]) slice(r ref, n int) []T {
	b := a.offBits()
	o := int(r & (1<<b - 1))
	return a.pt.Load().pages[r>>b][o : o+n : o+n]
}

// at returns the first element of chunk r (not 0).
func (a *arena[T]) at(r ref) *T {
	b := a.offBits()
	return &a.pt.Load().pages[r>>b][r&(1<<b-1)]
}

// get returns chunk r (not 0), its length its class's capacity.
func (a *arena[T]) get(r ref) []T {
	return a.slice(r, a.capOf(r))
}

// capOf returns the capacity of chunk r; 0 for the zero ref.
func (a *arena[T]) capOf(r ref) int {
	if r == 0 {
		return 0
	}
	return int(a.st.caps[a.pt.Load().cls[r>>a.offBits()]])
}

// class returns the smallest class that holds n elements.
func (a *arena[T]) class(n int) int {
	if n < len(a.st.small) {
		return int(a.st.small[n])
	}
	c, _ := slices.BinarySearch(a.st.caps, uint32(n))
	if c == len(a.st.caps) {
		panic(fmt.Sprintf("features: no chunk class holds %d elements", n))
	}
	return c
}

// classCap returns the capacity of the smallest class that holds n
// elements.
func (a *arena[T]) classCap(n int) int {
	return int(a.st.caps[a.class(n)])
}

// link returns where the free list link of chunk r of class c is kept.
func (a *arena[T]) link(r ref, c uint8) *uint32 {
	return (*uint32)(unsafe.Pointer(&a.slice(r, int(a.st.caps[c]))[0]))
}

// alloc returns a zeroed chunk of at least n elements, n > 0.
func (a *arena[T]) alloc(n int) ref {
	return a.allocClass(a.class(n))
}

// allocClass returns a zeroed chunk of class c.
func (a *arena[T]) allocClass(c int) ref {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &a.st
	if st.cls == nil {
		st.cls = make([]classState, len(st.caps))
		st.meta = make([]pageMeta, 1, 4)
	}
	cs := &st.cls[c]
	p := cs.room
	if p == 0 {
		p = a.newPage(c)
	}
	if p == cs.empty {
		cs.empty = 0
	}
	pm := &st.meta[p]
	n := st.caps[c]
	var pos uint32
	if pm.free != 0 {
		pos = uint32(pm.free - 1)
	} else {
		pos = uint32(pm.next) // never used: still zero
		pm.next++
	}
	r := ref(p<<a.offBits() | pos*n)
	if pm.free != 0 {
		pm.free = uint16(*a.link(r, uint8(c)))
		clear(a.slice(r, int(n)))
	}
	pm.live++
	if pm.free == 0 && pm.next == pm.end {
		a.unlist(c, p)
	}
	cs.live++
	st.live++
	return r
}

// newPage makes a page for class c, lists it and returns its index.
func (a *arena[T]) newPage(c int) uint32 {
	var zero T
	st := &a.st
	n := st.caps[c]
	cb := max(int(uintptr(n)*unsafe.Sizeof(zero)), 1)
	cs := &st.cls[c]
	chunks := max(firstPageBytes/cb, 1)
	if cs.last != 0 {
		chunks = 2 * int(cs.last)
	}
	chunks = min(chunks, max(pageBytes/cb, 1))
	cs.last = uint32(chunks)
	page := make([]T, chunks*int(n))
	pt := a.pt.Load()
	var p uint32
	if k := len(st.freePages); k > 0 {
		// No reader looks at a page given back.
		p = st.freePages[k-1]
		st.freePages = st.freePages[:k-1]
		pt.pages[p], pt.cls[p] = page, uint8(c)
	} else {
		if len(pt.pages) == 1<<(32-a.offBits()) {
			panic("features: arena full")
		}
		// Readers of the old table look at its length only.
		p = uint32(len(pt.pages))
		a.pt.Store(&pageTable[T]{pages: append(pt.pages, page), cls: append(pt.cls, uint8(c))})
		st.meta = append(st.meta, pageMeta{})
	}
	st.meta[p] = pageMeta{end: uint16(chunks)}
	a.list(c, p)
	return p
}

// list puts page p first in the list of class c's pages with room.
func (a *arena[T]) list(c int, p uint32) {
	cs, pm := &a.st.cls[c], &a.st.meta[p]
	pm.prev, pm.succ, pm.listed = 0, cs.room, true
	if cs.room != 0 {
		a.st.meta[cs.room].prev = p
	}
	cs.room = p
}

// unlist takes page p out of the list of class c's pages with room.
func (a *arena[T]) unlist(c int, p uint32) {
	meta := a.st.meta
	pm := &meta[p]
	if pm.prev != 0 {
		meta[pm.prev].succ = pm.succ
	} else {
		a.st.cls[c].room = pm.succ
	}
	if pm.succ != 0 {
		meta[pm.succ].prev = pm.prev
	}
	pm.prev, pm.succ, pm.listed = 0, 0, false
}

// free takes chunk r back; the zero ref is ignored.
func (a *arena[T]) free(r ref) {
	if r == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &a.st
	pt := a.pt.Load()
	b := a.offBits()
	p := uint32(r >> b)
	c := pt.cls[p]
	pos := uint32(r&(1<<b-1)) / st.caps[c]
	pm := &st.meta[p]
	*a.link(r, c) = uint32(pm.free)
	pm.free = uint16(pos + 1)
	pm.live--
	cs := &st.cls[c]
	cs.live--
	st.live--
	if !pm.listed {
		a.list(int(c), p)
	}
	// Keep an empty page only as the class's only room: give back the
	// one kept once another page has room, and every empty page once the
	// class holds no chunk.
	switch {
	case cs.live == 0:
		for cs.room != 0 {
			a.release(int(c), cs.room)
		}
		cs.empty, cs.last = 0, 0 // start small again
	case pm.live == 0 && (cs.room != p || pm.succ != 0):
		a.release(int(c), p)
	case pm.live == 0:
		cs.empty = p
	case cs.empty != 0:
		a.release(int(c), cs.empty)
		cs.empty = 0
	}
}

// release gives back page p of class c, which is empty.
func (a *arena[T]) release(c int, p uint32) {
	a.unlist(c, p)
	a.pt.Load().pages[p] = nil
	a.st.meta[p] = pageMeta{}
	a.st.freePages = append(a.st.freePages, p)
}

// resize moves the first n elements of chunk r into a new chunk of at
// least want elements, frees r and returns the new one; want 0 frees r and
// returns the zero ref.
func (a *arena[T]) resize(r ref, n, want int) ref {
	var nr ref
	if want > 0 {
		nr = a.alloc(want)
		if n > 0 {
			copy(a.get(nr), a.get(r)[:n])
		}
	}
	a.free(r)
	return nr
}

// grow returns chunk r, holding n elements, with room for at least one
// more: r itself or a copy with about twice the room (at most the largest
// class).
func (a *arena[T]) grow(r ref, n int) ref {
	if n < a.capOf(r) {
		return r
	}
	return a.resize(r, n, a.growCap(n))
}

// growCap returns the capacity to grow an array of n elements to: about
// twice n, at least n+1, at most the largest class.
func (a *arena[T]) growCap(n int) int {
	return max(min(2*n, int(a.st.caps[len(a.st.caps)-1])), n+1)
}

// fit returns chunk r holding n elements, or when a smaller class holds
// them, a copy in the smallest such class; n 0 frees r.
func (a *arena[T]) fit(r ref, n int) ref {
	if n == 0 {
		a.free(r)
		return 0
	}
	if a.capOf(r) <= a.classCap(n) {
		return r
	}
	return a.resize(r, n, n)
}

// inUse returns the number of chunks allocated and not freed.
func (a *arena[T]) inUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.st.live
}

// classCaps returns the capacities 1, 2, …, 8, 10, 12, 14, 16, 20, 24, …
// (every integer up to 8, then four steps per doubling), times unit, up to
// the first at least last.
func classCaps(unit, last uint32) []uint32 {
	var caps []uint32
	for v := uint32(1); ; v += max(uint32(1)<<(bits.Len32(v)-1)/4, 1) {
		caps = append(caps, v*unit)
		if v*unit >= last {
			return caps
		}
	}
}

// The classes of the arenas of arrays; tags are kept in chunks of multiples
// of 8 bytes.
var (
	oneCaps  = []uint32{1}
	byteCaps = classCaps(8, MaxTagLen)
	dvalCaps = classCaps(1, MaxDimKinds*maxDistinctCap)
	dayCaps  = classCaps(1, uint32(MaxHistory/(24*time.Hour)))
)
