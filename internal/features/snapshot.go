package features

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// ErrSnapshot is wrapped by every error Restore returns for input that is not
// a complete, intact snapshot of a supported version.
var ErrSnapshot = errors.New("features: invalid snapshot")

// The snapshot format, version 2, little-endian throughout:
//
//	magic "SGFEATS\x00", version uint32
//	chunks: uvarint length (>0), payload, crc32c(payload) uint32
//	uvarint 0, uvarint number of keys,
//	crc32c(magic, version, every chunk's crc, number of keys) uint32
//
// A payload is a sequence of key records (see appendEntry). Keys are
// written shard by shard, each shard under its lock. The value hashes in
// records are those of hash.go, which the version therefore pins.
//
// Version 1 is version 2 without histories and tags: its key records end
// after the sketches. Snapshot writes version 2; Restore reads both.
const (
	snapshotVersion = 2
	minVersion      = 1
	maxChunk        = 1 << 30
	chunkTarget     = 4 << 20
)

// The flags that open the version-2 part of a key record.
const (
	recHistory = 1 << iota // history days follow
	recTag                 // a tag follows
)

// snapshotMagic opens every snapshot.
const snapshotMagic = "SGFEATS\x00"

func crcTable() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// Snapshot writes the store's state to w in a compact, versioned and
// checksummed binary form that Restore reads back. Each shard is consistent
// in itself (it is locked while it is encoded, not while w is written);
// observations recorded while Snapshot runs may or may not be included.
func (m *Memory) Snapshot(w io.Writer) error {
	tab := crcTable()
	bw := bufio.NewWriterSize(w, 64<<10)
	var head [12]byte
	copy(head[:], snapshotMagic)
	binary.LittleEndian.PutUint32(head[8:], snapshotVersion)
	sum := crc32.Update(0, tab, head[:])
	if _, err := bw.Write(head[:]); err != nil {
		return fmt.Errorf("features: writing snapshot: %w", err)
	}
	var buf []byte
	var cuts []int
	keys := uint64(0)
	for i := range m.shards {
		sh := &m.shards[i]
		buf, cuts = buf[:0], cuts[:0]
		sh.mu.Lock()
		start := 0
		for _, head := range sh.index {
			for id := head; id != 0; {
				c := sh.open(id, 0, nil)
				buf = sh.appendRec(buf, &c)
				keys++
				if len(buf)-start >= chunkTarget {
					start = len(buf)
					cuts = append(cuts, start)
				}
				id = c.r.next
			}
		}
		sh.mu.Unlock()
		if len(cuts) == 0 || cuts[len(cuts)-1] != len(buf) {
			cuts = append(cuts, len(buf))
		}
		from := 0
		for _, to := range cuts {
			if to == from {
				continue
			}
			c, err := writeChunk(bw, tab, buf[from:to])
			if err != nil {
				return fmt.Errorf("features: writing snapshot: %w", err)
			}
			var cb [4]byte
			binary.LittleEndian.PutUint32(cb[:], c)
			sum = crc32.Update(sum, tab, cb[:])
			from = to
		}
	}
	tail := binary.AppendUvarint([]byte{0}, keys)
	sum = crc32.Update(sum, tab, tail[1:])
	tail = binary.LittleEndian.AppendUint32(tail, sum)
	if _, err := bw.Write(tail); err != nil {
		return fmt.Errorf("features: writing snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("features: writing snapshot: %w", err)
	}
	return nil
}

// writeChunk writes one framed chunk and returns its checksum.
func writeChunk(w io.Writer, tab *crc32.Table, p []byte) (uint32, error) {
	c := crc32.Checksum(p, tab)
	frame := binary.AppendUvarint(nil, uint64(len(p)))
	if _, err := w.Write(frame); err != nil {
		return 0, err
	}
	if _, err := w.Write(p); err != nil {
		return 0, err
	}
	var cb [4]byte
	binary.LittleEndian.PutUint32(cb[:], c)
	_, err := w.Write(cb[:])
	return c, err
}

// appendRec appends the record of c, a key of shard sh:
//
//	uvarint len, encoded key
//	uvarint first (unix ns), uvarint last-first
//	per window: uvarint buckets; per bucket: uvarint index (the first
//	  absolute, then the increase), uvarint count, float64 sum
//	byte 1 and per window float64 total sum, or byte 0 without totals
//	byte mask of used slots; per used slot: uvarint len, kind, byte 1 if
//	  sketched else 0
//	uvarint exact values; per value: uint64 tagged hash, uvarint first
//	  second, uvarint last-first
//	per sketched slot: byte p, uvarint base, uvarint maxTs-base, per
//	  register: byte pairs, each pair as uvarint
//	byte flags (recHistory, recTag); with recHistory: uvarint days, per
//	  day: uvarint day (the first absolute, then the increase), uvarint
//	  count; with recTag: uvarint len, tag, uvarint last-tagAt (unix ns)
//
// The flags and what follows them are new in version 2.
func (sh *shard) appendRec(b []byte, c *cur) []byte {
	r := c.r
	b = binary.AppendUvarint(b, uint64(r.keyLen))
	b = append(b, c.key()...)
	b = binary.AppendUvarint(b, uint64(r.first))
	b = binary.AppendUvarint(b, uint64(r.last-r.first))
	w := c.wins()
	for l := range nw {
		s, end := r.region(l)
		b = binary.AppendUvarint(b, uint64(end-s))
		prev := uint32(0)
		for _, bk := range w.bk[s:end] {
			b = binary.AppendUvarint(b, uint64(bk.idx-prev))
			prev = bk.idx
			b = binary.AppendUvarint(b, uint64(bk.n))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(bk.sum))
		}
	}
	if w.tot == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		for _, t := range w.tot {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(t.sum))
		}
	}
	var mask byte
	for s, c := range r.kinds {
		if c != 0 {
			mask |= 1 << s
		}
	}
	b = append(b, mask)
	for s, c := range r.kinds {
		if c == 0 {
			continue
		}
		k := sh.kinds[c-1]
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		if _, ok := sh.sketch(r, s); ok {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	dv := sh.dvals(r)
	b = binary.AppendUvarint(b, uint64(len(dv)))
	for _, v := range dv {
		b = binary.LittleEndian.AppendUint64(b, v.h)
		b = binary.AppendUvarint(b, uint64(v.first))
		b = binary.AppendUvarint(b, uint64(v.last-v.first))
	}
	for s := range r.kinds {
		sk, ok := sh.sketch(r, s)
		if !ok || r.kinds[s] == 0 {
			continue
		}
		b = append(b, sk.p)
		b = binary.AppendUvarint(b, uint64(sk.base))
		b = binary.AppendUvarint(b, uint64(sk.maxTs-sk.base))
		for j := 0; j < len(sk.regs); j += sketchSlots {
			list := sk.regs[j : j+sketchSlots]
			n := 0
			for n < sketchSlots && list[n] != 0 {
				n++
			}
			b = append(b, byte(n))
			for _, x := range list[:n] {
				b = binary.AppendUvarint(b, uint64(x))
			}
		}
	}
	return sh.appendExtra(b, r)
}

// appendExtra appends the version-2 part of r's record: history and tag.
func (sh *shard) appendExtra(b []byte, r *rec) []byte {
	if r.x == 0 {
		return append(b, 0)
	}
	x := sh.xs.at(r.x)
	days, tag := sh.dayList(x), sh.tagBytes(x)
	var flags byte
	if len(days) > 0 {
		flags |= recHistory
	}
	if len(tag) > 0 {
		flags |= recTag
	}
	b = append(b, flags)
	if len(days) > 0 {
		b = binary.AppendUvarint(b, uint64(len(days)))
		prev := uint32(0)
		for _, c := range days {
			b = binary.AppendUvarint(b, uint64(c.day-prev))
			prev = c.day
			b = binary.AppendUvarint(b, uint64(c.n))
		}
	}
	if len(tag) > 0 {
		b = binary.AppendUvarint(b, uint64(len(tag)))
		b = append(b, tag...)
		b = binary.AppendUvarint(b, uint64(r.last-x.tagAt))
	}
	return b
}

// Restore replaces the store's entire state with the snapshot read from r,
// of the current format (version 2) or of version 1, which holds no
// histories and tags. It rejects input that is truncated, corrupt, of
// another version or followed by trailing data with an error wrapping
// ErrSnapshot, and then leaves the store unchanged. Memory use is bounded by
// the input's size. The store's own configuration (shards, distinct cap,
// precision of new sketches, history windows) applies to the restored keys:
// a key of a scope without a history window in this store loses its
// history, and history days outside this store's window of the key's scope
// are dropped.
func (m *Memory) Restore(r io.Reader) error {
	return m.restore(r, true)
}

// restore is Restore; verify false skips checksum verification so that the
// fuzzer can reach the decoder.
func (m *Memory) restore(r io.Reader, verify bool) error {
	tab := crcTable()
	br := bufio.NewReaderSize(r, 64<<10)
	var head [12]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return readErr(err)
	}
	if string(head[:8]) != snapshotMagic {
		return fmt.Errorf("%w: not a feature store snapshot (bad magic)", ErrSnapshot)
	}
	v := binary.LittleEndian.Uint32(head[8:])
	if v < minVersion || v > snapshotVersion {
		return fmt.Errorf("%w: unsupported version %d (want %d to %d)", ErrSnapshot, v, minVersion, snapshotVersion)
	}
	sum := crc32.Update(0, tab, head[:])
	staged := newShards(len(m.shards))
	rs := &restorer{m: m, shards: staged, version: v}
	var chunk bytes.Buffer
	for n := 0; ; n++ {
		size, err := readUvarint(br)
		if err != nil {
			return readErr(err)
		}
		if size == 0 {
			break
		}
		if size > maxChunk {
			return fmt.Errorf("%w: chunk %d claims %d bytes, at most %d", ErrSnapshot, n, size, maxChunk)
		}
		chunk.Reset()
		if _, err := io.CopyN(&chunk, br, int64(size)); err != nil {
			return readErr(err)
		}
		var cb [4]byte
		if _, err := io.ReadFull(br, cb[:]); err != nil {
			return readErr(err)
		}
		if c := crc32.Checksum(chunk.Bytes(), tab); verify && c != binary.LittleEndian.Uint32(cb[:]) {
			return fmt.Errorf("%w: chunk %d: checksum mismatch", ErrSnapshot, n)
		}
		sum = crc32.Update(sum, tab, cb[:])
		if err := rs.chunk(chunk.Bytes()); err != nil {
			return fmt.Errorf("%w: chunk %d: %w", ErrSnapshot, n, err)
		}
	}
	keys, err := readUvarint(br)
	if err != nil {
		return readErr(err)
	}
	sum = crc32.Update(sum, tab, binary.AppendUvarint(nil, keys))
	var cb [4]byte
	if _, err := io.ReadFull(br, cb[:]); err != nil {
		return readErr(err)
	}
	if verify && sum != binary.LittleEndian.Uint32(cb[:]) {
		return fmt.Errorf("%w: checksum mismatch", ErrSnapshot)
	}
	if keys != rs.keys {
		return fmt.Errorf("%w: trailer counts %d keys, found %d", ErrSnapshot, keys, rs.keys)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		if err != nil {
			return fmt.Errorf("features: reading snapshot: %w", err)
		}
		return fmt.Errorf("%w: trailing data after the snapshot", ErrSnapshot)
	}
	for i := range m.shards {
		m.shards[i].mu.Lock()
	}
	for i := range m.shards {
		m.shards[i].shardData = staged[i].shardData
	}
	for i := range m.shards {
		m.shards[i].mu.Unlock()
	}
	return nil
}

func readErr(err error) error {
	if errors.Is(err, ErrSnapshot) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated: %w", ErrSnapshot, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("features: reading snapshot: %w", err)
}

// readUvarint reads a uvarint like binary.ReadUvarint, reporting an
// overlong one as ErrSnapshot.
func readUvarint(br *bufio.Reader) (uint64, error) {
	var x uint64
	var s uint
	for i := range binary.MaxVarintLen64 {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			return x | uint64(c)<<s, nil
		}
		x |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, fmt.Errorf("%w: varint overflows 64 bits", ErrSnapshot)
}

// restorer decodes key records into staged shards.
type restorer struct {
	m       *Memory
	shards  []shard
	version uint32 // of the snapshot
	keys    uint64
	hashes  []uint64 // scratch for duplicate checks
}

// chunk decodes every record of one chunk.
func (rs *restorer) chunk(p []byte) error {
	d := decoder{b: p}
	for len(d.b) > 0 {
		if err := rs.record(&d); err != nil {
			return fmt.Errorf("key %d: %w", rs.keys, err)
		}
		rs.keys++
	}
	return nil
}

// record decodes and validates one key record and files it.
func (rs *restorer) record(d *decoder) error {
	kl := d.uvarint()
	if kl > maxKeyBytes || kl > uint64(len(d.b)) {
		return d.fail("key length %d", kl)
	}
	enc := string(d.bytes(int(kl)))
	k, ok := decodeKey(enc)
	if !ok || k.Kind == "" || k.Value == "" || string(appendKey(nil, &k)) != enc {
		return d.fail("malformed key")
	}
	h := hashKey(&k)
	sh := &rs.shards[0]
	if rs.m.shift < 64 {
		sh = &rs.shards[h>>rs.m.shift]
	}
	// A record that fails leaves chunks behind in sh, which the failed
	// Restore drops with the rest of its staged shards.
	c := sh.newRec(h, &k)
	first, span := d.uvarint(), d.uvarint()
	if first >= maxEventSec*1e9 || span >= maxEventSec*1e9-first {
		return d.fail("times out of range")
	}
	c.r.first, c.r.last = int64(first), int64(first+span)
	if err := rs.buckets(d, sh, &c); err != nil {
		return err
	}
	r := c.r
	if err := rs.dims(d, sh, r); err != nil {
		return err
	}
	if err := rs.extra(d, sh, r, historyDays(&rs.m.cfg, k.Scope)); err != nil {
		return err
	}
	if d.err != nil {
		return d.err
	}
	var other cur
	if sh.find(h, &k, &other) {
		return fmt.Errorf("duplicate key")
	}
	sh.link(&c)
	return nil
}

// buckets decodes c's windows and totals.
func (rs *restorer) buckets(d *decoder, sh *shard, c *cur) error {
	multi := false
	for l := range nw {
		nb := d.uvarint()
		if nb > uint64(levels[l].n) {
			return d.fail("window %d holds %d buckets", l, nb)
		}
		multi = multi || nb > 1
		last := c.r.last / levels[l].gran
		var idx uint64
		for i := range int(nb) {
			delta := d.uvarint()
			if (i > 0 && delta == 0) || delta > uint64(last) {
				return d.fail("window %d: buckets out of order", l)
			}
			idx += delta
			n := d.uvarint()
			sum := math.Float64frombits(d.u64())
			if d.err != nil {
				return d.err
			}
			if idx > uint64(last) || n == 0 || n > math.MaxUint32 || math.IsNaN(sum) || math.IsInf(sum, 0) {
				return d.fail("window %d: bad bucket", l)
			}
			k := int(c.r.bkLen)
			if w := c.wins(); k == len(w.bk) {
				sh.reshape(c, false, k+1, false)
			}
			c.wins().bk[k] = bucket{sum: sum, idx: uint32(idx), n: uint32(n)}
			c.r.bkLen++
		}
		if nb > 0 {
			bk := c.wins().bk[:c.r.bkLen]
			s := len(bk) - int(nb)
			if int64(bk[len(bk)-1].idx)-int64(bk[s].idx) >= levels[l].n {
				return d.fail("window %d spans more than its buckets", l)
			}
		}
		if l < nw-1 {
			c.r.off[l] = c.r.bkLen
		}
	}
	switch d.u8() {
	case 0:
		if multi {
			return d.fail("totals missing")
		}
	case 1:
		sh.reshape(c, true, int(c.r.bkLen), false)
		w := c.wins()
		for l := range nw {
			c.r.retotal(&w, l)
			sum := math.Float64frombits(d.u64())
			if math.IsNaN(sum) || math.IsInf(sum, 0) {
				return d.fail("bad total")
			}
			w.tot[l].sum = sum
		}
	default:
		return d.fail("bad totals flag")
	}
	return d.err
}

// dims decodes r's dimension slots, exact values and sketches.
func (rs *restorer) dims(d *decoder, sh *shard, r *rec) error {
	mask := d.u8()
	var sketched uint8
	for s := range MaxDimKinds {
		if mask&(1<<s) == 0 {
			continue
		}
		n := d.uvarint()
		if n == 0 || n > math.MaxUint8 || n > uint64(len(d.b)) {
			return d.fail("bad kind length")
		}
		kind := risk.EntityKind(d.bytes(int(n)))
		code, err := sh.kindCode(kind, true)
		if err != nil {
			return err
		}
		if slices.Contains(r.kinds[:], code) {
			return d.fail("kind %q twice", kind)
		}
		r.kinds[s] = code
		switch d.u8() {
		case 0:
		case 1:
			sketched |= 1 << s
		default:
			return d.fail("bad sketch flag")
		}
	}
	nv := d.uvarint()
	if nv > uint64(len(d.b)/10) || nv > MaxDimKinds*maxDistinctCap {
		return d.fail("%d values", nv)
	}
	if nv > 0 {
		sh.resizeDvals(r, int(nv))
	}
	lastSec := uint64(r.last / 1e9)
	var perSlot [MaxDimKinds]int
	rs.hashes = rs.hashes[:0]
	for range nv {
		h := d.u64()
		f, span := d.uvarint(), d.uvarint()
		s := int(h & slotMask)
		if d.err != nil {
			return d.err
		}
		if mask&(1<<s) == 0 || sketched&(1<<s) != 0 || f > lastSec || span > lastSec-f {
			return d.fail("bad value")
		}
		if perSlot[s]++; perSlot[s] > maxDistinctCap {
			return d.fail("too many values")
		}
		sh.dvs.slice(r.dv, int(r.dvLen)+1)[r.dvLen] = dval{h: h, first: uint32(f), last: uint32(f + span)}
		r.dvLen++
		rs.hashes = append(rs.hashes, h)
	}
	slices.Sort(rs.hashes)
	if len(slices.Compact(rs.hashes)) != int(r.dvLen) {
		return d.fail("duplicate value")
	}
	for s := range MaxDimKinds {
		if sketched&(1<<s) == 0 {
			continue
		}
		id, err := decodeSketch(d, sh, lastSec)
		if err != nil {
			return err
		}
		sh.setSketch(r, s, id)
	}
	return d.err
}

// extra decodes the version-2 part of r's record (nothing for version 1)
// and fits r to this store's history window of its scope, hdays days.
func (rs *restorer) extra(d *decoder, sh *shard, r *rec, hdays uint16) error {
	if hdays != 0 {
		if r.x == 0 {
			r.x = sh.xs.allocClass(0)
		}
		sh.xs.at(r.x).hdays = hdays
	}
	if rs.version < 2 {
		return d.err
	}
	flags := d.u8()
	if flags&^(recHistory|recTag) != 0 {
		return d.fail("bad flags %#x", flags)
	}
	if flags&recHistory != 0 {
		if err := decodeDays(d, sh, r, hdays); err != nil {
			return err
		}
	}
	if flags&recTag != 0 {
		n := d.uvarint()
		if n == 0 || n > MaxTagLen || n > uint64(len(d.b)) {
			return d.fail("bad tag length")
		}
		tag := d.bytes(int(n))
		back := d.uvarint()
		if d.err != nil {
			return d.err
		}
		if back > uint64(r.last-r.first) {
			return d.fail("tag time out of range")
		}
		if r.x == 0 {
			r.x = sh.xs.allocClass(0)
		}
		x := sh.xs.at(r.x)
		x.tag = sh.bytes.alloc(len(tag))
		x.tagLen = uint16(copy(sh.bytes.get(x.tag), tag))
		x.tagAt = r.last - int64(back)
	}
	return d.err
}

// decodeDays decodes and validates r's history days, keeping those within
// hdays days of r's latest day (none when hdays is 0).
func decodeDays(d *decoder, sh *shard, r *rec, hdays uint16) error {
	nd := d.uvarint()
	maxDays := uint64(MaxHistory / (24 * time.Hour))
	if nd == 0 || nd > maxDays || nd > uint64(len(d.b)/2) {
		return d.fail("%d history days", nd)
	}
	lastDay := r.last / dayNS
	var x *xrec
	if hdays != 0 {
		x = sh.xs.at(r.x)
	}
	var day uint64
	for i := range nd {
		delta, n := d.uvarint(), d.uvarint()
		if d.err != nil {
			return d.err
		}
		if (i > 0 && delta == 0) || delta > uint64(lastDay) {
			return d.fail("history days out of order")
		}
		day += delta
		if day > uint64(lastDay) || n == 0 || n > math.MaxUint32 {
			return d.fail("bad history day")
		}
		if i == 0 && (int64(day) <= lastDay-int64(maxDays) || int64(day) < r.first/dayNS) {
			return d.fail("history before the first observation or older than %d days", maxDays)
		}
		if hdays != 0 && int64(day) > lastDay-int64(hdays) {
			k := int(x.daysLen)
			x.days = sh.days.grow(x.days, k)
			sh.days.get(x.days)[k] = dayCount{day: uint32(day), n: uint32(n)}
			x.daysLen++
		}
	}
	return nil
}

// decodeSketch decodes and validates one sketch of a key whose latest
// observation is at second lastSec into sh and returns its ref.
func decodeSketch(d *decoder, sh *shard, lastSec uint64) (ref, error) {
	p := d.u8()
	base, span := d.uvarint(), d.uvarint()
	if p < minPrecision || p > maxPrecision || base > lastSec || span > lastSec-base || span > offMask {
		return 0, d.fail("bad sketch header")
	}
	m := 1 << p
	if len(d.b) < m {
		return 0, d.fail("sketch truncated")
	}
	id, sk := sh.newSketch(p, uint32(base))
	sk.maxTs = uint32(base + span)
	top := maxRank(p)
	for j := range m {
		n := int(d.u8())
		if n > sketchSlots {
			return 0, d.fail("register with %d pairs", n)
		}
		list := sk.list(j)
		for i := range n {
			x := d.uvarint()
			if d.err != nil {
				return 0, d.err
			}
			r := int(x >> offBits)
			if x > math.MaxUint32 || r < 1 || r > top || x&offMask > span {
				return 0, d.fail("bad pair")
			}
			if i > 0 && (x&offMask <= uint64(list[i-1]&offMask) || r >= pairRank(list[i-1])) {
				return 0, d.fail("pairs out of order")
			}
			list[i] = uint32(x)
		}
	}
	return id, d.err
}

// decoder reads from a byte slice; the first error sticks and later reads
// return zeros.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) error {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	return d.err
}

func (d *decoder) u8() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail("truncated record")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) u64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.fail("truncated record")
		return 0
	}
	x := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return x
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.fail("truncated record")
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}
