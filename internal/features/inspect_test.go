package features

// This file gives tests a plain view of what a shard holds. The store
// itself never uses it: its keys live in pointer-free
// records (see rec), which these views copy into ordinary Go values.

// entry is a copy of what one key's record holds, made for inspection.
type entry struct {
	key   string // encodeKey of the key
	first int64  // unix ns of the earliest observation
	last  int64  // unix ns of the latest observation
	// x holds sketches, history and tag; nil for keys that need none.
	x *extra
}

// extra is a copy of the rarely used parts of a record (see xrec).
type extra struct {
	// hll holds a copy of the sketch of each slot that passed the exact
	// cap; nil while there is none.
	hll *[MaxDimKinds]*sketch
	// days holds the observations of a history key per UTC day.
	days []dayCount
	// tag is the tag of the latest tagged observation, at tagAt (unix ns).
	tag   string
	tagAt int64
	// hdays is the key's history window in days.
	hdays uint16
}

// lookup returns a view of k's record, or nil.
func (sh *shard) lookup(h uint64, k *Key) *entry {
	var c cur
	if !sh.find(h, k, &c) {
		return nil
	}
	return sh.view(c.id)
}

// insert adds a fresh record for k, which must not be present, and returns
// its view; hdays is the history window of k's scope in days (0 for none).
func (sh *shard) insert(h uint64, k *Key, hdays uint16) *entry {
	return sh.view(sh.create(h, k, hdays).id)
}

// view returns a new view of record id.
func (sh *shard) view(id ref) *entry {
	c := sh.open(id, 0, nil)
	r := c.r
	e := &entry{key: string(c.key()), first: r.first, last: r.last}
	if r.x == 0 {
		return e
	}
	x := sh.xs.at(r.x)
	e.x = &extra{
		days:  append([]dayCount(nil), sh.dayList(x)...),
		tag:   string(sh.tagBytes(x)),
		tagAt: x.tagAt,
		hdays: x.hdays,
	}
	for s, skid := range x.sk {
		if skid == 0 {
			continue
		}
		if e.x.hll == nil {
			e.x.hll = new([MaxDimKinds]*sketch)
		}
		sk := sh.sketchAt(skid)
		hd := *sk.sketchHdr
		e.x.hll[s] = &sketch{sketchHdr: &hd, regs: append([]uint32(nil), sk.regs...)}
	}
	return e
}

// keys yields the hash and a view of every key of the shard that is the
// first of its hash.
func (sh *shard) keys(yield func(uint64, *entry) bool) {
	for h, id := range sh.index {
		if !yield(h, sh.view(id)) {
			return
		}
	}
}

// coll yields the hash and a view of every key of the shard whose hash is
// also that of another key listed first by keys.
func (sh *shard) coll(yield func(uint64, *entry) bool) {
	for h, head := range sh.index {
		for id := sh.open(head, h, nil).r.next; id != 0; id = sh.open(id, h, nil).r.next {
			if !yield(h, sh.view(id)) {
				return
			}
		}
	}
}
