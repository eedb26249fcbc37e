package limit

import "sync"

// shard holds some of a Limiter's keys, at most limit of them, under its
// own lock.
type shard struct {
	mu sync.Mutex
	// index maps a key to its slot.
	index map[entryKey]int32
	// slots holds the entries; it grows to limit and then entries are
	// replaced in place by evict.
	slots []entry
	// hand is where the next eviction sweep starts.
	hand  int
	limit int
	// The padding keeps neighbouring shards' locks off one cache line.
	_ [64]byte
}

// entryKey names one bucket: a key under a rule.
type entryKey struct {
	rule uint32
	key  string
}

// entry is one held bucket.
type entry struct {
	key entryKey
	b   bucket
	// ref is set when the entry is used and cleared by the eviction sweep
	// passing over it (the CLOCK second chance).
	ref bool
}

// init prepares an empty shard for at most limit keys.
func (s *shard) init(limit int) {
	s.index = make(map[entryKey]int32)
	s.limit = limit
}

// find returns the entry of key under rule ri, or nil. The caller holds mu.
func (s *shard) find(ri uint32, key string) *entry {
	i, ok := s.index[entryKey{rule: ri, key: key}]
	if !ok {
		return nil
	}
	return &s.slots[i]
}

// insert adds key under rule ri with state b, evicting another key when the
// shard is full. key must not be held yet and must not share memory the
// caller may keep. The caller holds mu.
func (s *shard) insert(l *Limiter, ri uint32, key string, b bucket, now int64) {
	k := entryKey{rule: ri, key: key}
	if len(s.slots) < s.limit {
		s.index[k] = int32(len(s.slots))
		s.slots = append(s.slots, entry{key: k, b: b})
		return
	}
	i := s.evict(l, now)
	delete(s.index, s.slots[i].key)
	s.slots[i] = entry{key: k, b: b}
	s.index[k] = int32(i)
}

// lookAhead is how many entries past the hand evict checks for a full
// bucket before it falls back to the CLOCK sweep.
const lookAhead = 8

// evict chooses the slot to reuse in a full shard and returns its index.
//
// A full bucket carries no state, so the first of the lookAhead entries
// from the hand whose bucket has refilled is taken. Otherwise a CLOCK
// sweep from the hand takes the first entry that is not limited (has a
// whole token) and was not used since the sweep last passed it, clearing
// the used bit of those it passes: a second chance, so the least recently
// used go first. Limited entries are skipped: losing one would reset a
// limit. Only when a whole round finds no entry that is not limited is a
// limited one taken: the one that would be allowed again soonest.
func (s *shard) evict(l *Limiter, now int64) int {
	n := len(s.slots)
	level := func(i int) (tokens, burst, rate float64) {
		e := &s.slots[i]
		r := &l.rules[e.key.rule]
		return refill(e.b, r.rate, r.burst, now).tokens, r.burst, r.rate
	}
	for k := range min(lookAhead, n) {
		i := (s.hand + k) % n
		if tokens, burst, _ := level(i); tokens >= burst {
			s.hand = (i + 1) % n
			return i
		}
	}
	best, bestWait, sawSpare := -1, 0.0, false
	for k := range 2 * n {
		if k == n && !sawSpare {
			break // a whole round and every entry is limited
		}
		i := s.hand
		s.hand = (i + 1) % n
		tokens, burst, rate := level(i)
		if tokens < 1 {
			if wait := (1 - tokens) / rate; best < 0 || wait < bestWait {
				best, bestWait = i, wait
			}
			continue
		}
		sawSpare = true
		if e := &s.slots[i]; e.ref && tokens < burst {
			e.ref = false
			continue
		}
		return i
	}
	if best < 0 { // not reached: a round that saw a spare entry cleared its bit
		best = s.hand
	}
	s.hand = (best + 1) % n
	return best
}
