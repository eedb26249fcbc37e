package features

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// filledStore returns a store fed with stream plus one key whose device
// dimension is sketched.
func filledStore(t testing.TB, cfg MemoryConfig, stream []event) *Memory {
	t.Helper()
	m := NewMemory(cfg)
	ctx := context.Background()
	for _, ev := range stream {
		if err := m.Apply(ctx, ev.at, ev.obs); err != nil {
			t.Fatal(err)
		}
	}
	heavy := Key{Tenant: "shop-a", Scope: "login", Kind: risk.EntityIP, Value: "198.51.100.1"}
	end := stream[len(stream)-1].at
	for i := range 3000 {
		o := []Observation{obs(heavy, 1, device(fmt.Sprint("dev", i)), Dim{Kind: risk.EntityUser, Value: fmt.Sprint("u", i%5)})}
		if err := m.Apply(ctx, end.Add(-time.Duration(3000-i)*time.Minute), o); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func snapshotBytes(t testing.TB, m *Memory) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// snapHistory are the history windows of the snapshot tests.
var snapHistory = map[string]time.Duration{"login": 90 * day, "transaction": 3 * day}

func TestSnapshotRoundTrip(t *testing.T) {
	stream := genStream(streamConfig{seed: 41, calls: 3000, keys: 60, values: 120, dimsPerOb: 3, jitter: 10 * time.Minute, longGaps: true, tags: 6})
	head, tail := stream[:2500], stream[2500:]
	cfg := MemoryConfig{DistinctCap: 16, History: snapHistory}
	orig := filledStore(t, cfg, head)
	snap := snapshotBytes(t, orig)
	if v := binary.LittleEndian.Uint32(snap[8:]); v != snapshotVersion {
		t.Fatalf("Snapshot writes version %d, want %d", v, snapshotVersion)
	}
	restored := NewMemory(MemoryConfig{DistinctCap: 16, Shards: 4, History: snapHistory})
	if err := restored.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if orig.Len() != restored.Len() {
		t.Fatalf("Len %d after restore, want %d", restored.Len(), orig.Len())
	}
	end := head[len(head)-1].at
	for _, at := range []time.Time{end, end.Add(-2 * time.Hour), end.Add(time.Minute), end.Add(26 * time.Hour), end.Add(20 * day), end.Add(60 * day)} {
		a, b := readAll(t, orig, at), readAll(t, restored, at)
		heavy := Key{Tenant: "shop-a", Scope: "login", Kind: risk.EntityIP, Value: "198.51.100.1"}
		var ha, hb [1]Aggregates
		kinds := [][]risk.EntityKind{{risk.EntityDevice, risk.EntityUser}}
		if err := orig.Read(context.Background(), at, []Key{heavy}, kinds, ha[:]); err != nil {
			t.Fatal(err)
		}
		if err := restored.Read(context.Background(), at, []Key{heavy}, kinds, hb[:]); err != nil {
			t.Fatal(err)
		}
		if ha != hb {
			t.Errorf("heavy key at %v: %+v vs %+v", at, ha[0], hb[0])
		}
		for k, x := range a {
			if b[k] != x {
				t.Errorf("key %v at %v: original %+v, restored %+v", k, at, x, b[k])
			}
		}
	}
	// Both stores go on identically.
	for i, ev := range tail {
		x, y := make([]Aggregates, len(ev.obs)), make([]Aggregates, len(ev.obs))
		if err := orig.Observe(context.Background(), ev.at, ev.obs, x); err != nil {
			t.Fatal(err)
		}
		if err := restored.Observe(context.Background(), ev.at, ev.obs, y); err != nil {
			t.Fatal(err)
		}
		for j := range x {
			if x[j] != y[j] {
				t.Fatalf("tail call %d obs %d: %+v vs %+v", i, j, x[j], y[j])
			}
		}
	}
	// A snapshot of the restored store restores again.
	again := NewMemory(cfg)
	if err := again.Restore(bytes.NewReader(snapshotBytes(t, restored))); err != nil {
		t.Fatal(err)
	}
	if again.Len() != restored.Len() {
		t.Errorf("second restore has %d keys, want %d", again.Len(), restored.Len())
	}
}

func TestSnapshotEmpty(t *testing.T) {
	snap := snapshotBytes(t, NewMemory(MemoryConfig{}))
	m := NewMemory(MemoryConfig{})
	observe1(t, m, t0, obs(card("x"), 1))
	if err := m.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	if m.Len() != 0 {
		t.Errorf("Restore of an empty snapshot left %d keys", m.Len())
	}
}

func TestRestoreRejects(t *testing.T) {
	stream := genStream(streamConfig{seed: 43, calls: 60, keys: 6, values: 10, dimsPerOb: 2, tags: 3})
	src := NewMemory(MemoryConfig{DistinctCap: 4, SketchPrecision: 8, History: snapHistory})
	for _, ev := range stream {
		if err := src.Apply(context.Background(), ev.at, ev.obs); err != nil {
			t.Fatal(err)
		}
	}
	snap := snapshotBytes(t, src)
	m := NewMemory(MemoryConfig{History: snapHistory})
	observe1(t, m, t0, obs(card("keep"), 1))
	check := func(name string, data []byte) {
		t.Helper()
		err := m.Restore(bytes.NewReader(data))
		if !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: error %v does not wrap ErrSnapshot", name, err)
		}
		if m.Len() != 1 {
			t.Fatalf("%s: a failed Restore changed the store", name)
		}
	}
	for n := range len(snap) {
		check(fmt.Sprintf("truncated to %d", n), snap[:n])
	}
	for i := range snap {
		bad := bytes.Clone(snap)
		bad[i] ^= 0x41
		check(fmt.Sprintf("byte %d flipped", i), bad)
	}
	check("trailing data", append(bytes.Clone(snap), 0))
	check("garbage", []byte("this is not a snapshot at all, just text"))
	for _, v := range []byte{0, snapshotVersion + 1} {
		bad := bytes.Clone(snap)
		bad[8] = v
		check(fmt.Sprintf("version %d", v), bad)
	}
	// A failing reader's error comes through.
	boom := errors.New("disk on fire")
	if err := m.Restore(io.MultiReader(bytes.NewReader(snap[:20]), errReader{boom})); !errors.Is(err, boom) {
		t.Errorf("reader error: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestSnapshotWriterError(t *testing.T) {
	m := NewMemory(MemoryConfig{})
	observe1(t, m, t0, obs(card("x"), 1))
	boom := errors.New("disk full")
	if err := m.Snapshot(errWriter{boom}); !errors.Is(err, boom) {
		t.Errorf("Snapshot error %v does not wrap the writer's", err)
	}
}

func TestRestoreBogusLengths(t *testing.T) {
	// Huge length fields in a tiny input fail fast without allocating
	// what they claim.
	head := append([]byte(snapshotMagic), 1, 0, 0, 0)
	tests := map[string][]byte{
		"huge chunk":      append(bytes.Clone(head), 0xff, 0xff, 0xff, 0xff, 0x03),
		"big chunk":       append(bytes.Clone(head), 0xff, 0xff, 0xff, 0x7f, 1, 2, 3),
		"overlong varint": append(bytes.Clone(head), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
	}
	for name, data := range tests {
		m := NewMemory(MemoryConfig{})
		if err := m.Restore(bytes.NewReader(data)); !errors.Is(err, ErrSnapshot) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Inside a chunk (checksums skipped): a key claiming many values.
	var rec []byte
	k := card("x")
	enc := appendKey(nil, &k)
	rec = append(rec, byte(len(enc)))
	rec = append(rec, enc...)
	rec = append(rec, 1, 0)          // first, span
	rec = append(rec, 0, 0, 0, 0, 0) // no buckets
	rec = append(rec, 0)             // no totals
	rec = append(rec, 0)             // no kinds
	rec = append(rec, 0xff, 0xff, 0xff, 0xff, 0x0f)
	rs := &restorer{m: NewMemory(MemoryConfig{}), shards: newShards(128), version: snapshotVersion}
	if err := rs.chunk(rec); err == nil {
		t.Error("record claiming 2^32 values accepted")
	}
	// The version-2 part of a record: bad flags, history days and tags, of
	// a key whose latest observation is on day 500 (after d0) and whose
	// first on day 500-span.
	k = login("x")
	enc = appendKey(nil, &k)
	record := func(span time.Duration, tail ...[]byte) []byte {
		b := append([]byte{byte(len(enc))}, enc...)
		b = binary.AppendUvarint(b, uint64(d0.Add(500*day-span).UnixNano())) // first
		b = binary.AppendUvarint(b, uint64(span))
		b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // no buckets, totals, kinds, values
		return append(b, bytes.Join(tail, nil)...)
	}
	dayOf := func(n int) []byte {
		return binary.AppendUvarint(nil, uint64(d0.Add(time.Duration(n)*day).UnixNano()/dayNS))
	}
	uv := func(x uint64) []byte { return binary.AppendUvarint(nil, x) }
	records := []struct {
		name   string
		rec    []byte
		accept bool
	}{
		{"no flags", record(0, []byte{0}), true},
		{"one day", record(0, []byte{recHistory, 1}, dayOf(500), []byte{3}), true},
		{"tag", record(0, []byte{recTag, 2, 'h', 'i', 0}), true},
		{"day and tag", record(0, []byte{recHistory | recTag, 1}, dayOf(500), []byte{1, 1, 'x', 0}), true},
		{"399 days back", record(450*day, []byte{recHistory, 2}, dayOf(101), []byte{1}, uv(399), []byte{1}), true},
		{"tag at first", record(time.Hour, []byte{recTag, 1, 'x'}, uv(uint64(time.Hour))), true},
		{"unknown flag", record(0, []byte{4}), false},
		{"no days", record(0, []byte{recHistory, 0}), false},
		{"2^32 days", record(0, []byte{recHistory, 0xff, 0xff, 0xff, 0xff, 0x0f}), false},
		{"day after the last", record(0, []byte{recHistory, 1}, dayOf(501), []byte{1}), false},
		{"day before the first", record(day, []byte{recHistory, 1}, dayOf(498), []byte{1}), false},
		{"empty day", record(0, []byte{recHistory, 1}, dayOf(500), []byte{0}), false},
		{"day count overflows", record(0, []byte{recHistory, 1}, dayOf(500), uv(1<<32)), false},
		{"days out of order", record(0, []byte{recHistory, 2}, dayOf(500), []byte{1, 0, 1}), false},
		{"400 days back", record(450*day, []byte{recHistory, 2}, dayOf(100), []byte{1}, uv(400), []byte{1}), false},
		{"empty tag", record(0, []byte{recTag, 0, 0}), false},
		{"long tag", record(0, []byte{recTag, 0x81, 0x02}, make([]byte, 300)), false},
		{"tag before first", record(time.Hour, []byte{recTag, 1, 'x'}, uv(uint64(time.Hour)+1)), false},
		{"tag truncated", record(0, []byte{recTag, 5, 'x'}), false},
		{"time truncated", record(0, []byte{recTag, 1, 'x'}), false},
	}
	for _, tc := range records {
		rs := &restorer{m: NewMemory(MemoryConfig{History: snapHistory}), shards: newShards(128), version: snapshotVersion}
		if err := rs.chunk(tc.rec); (err == nil) != tc.accept {
			t.Errorf("%s: error %v", tc.name, err)
		}
	}
}

func FuzzRestore(f *testing.F) {
	stream := genStream(streamConfig{seed: 47, calls: 40, keys: 5, values: 12, dimsPerOb: 3, jitter: time.Minute})
	src := NewMemory(MemoryConfig{DistinctCap: 3, SketchPrecision: 8, Shards: 2})
	for _, ev := range stream {
		if err := src.Apply(context.Background(), ev.at, ev.obs); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(snapshotBytes(f, src))
	// With history days and tags.
	stream = genStream(streamConfig{seed: 61, calls: 40, keys: 5, values: 12, dimsPerOb: 2, jitter: 2 * time.Hour, longGaps: true, tags: 3})
	src = NewMemory(MemoryConfig{DistinctCap: 3, SketchPrecision: 8, Shards: 2, History: snapHistory})
	for _, ev := range stream {
		if err := src.Apply(context.Background(), ev.at, ev.obs); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(snapshotBytes(f, src))
	f.Add(snapshotBytes(f, NewMemory(MemoryConfig{})))
	f.Add([]byte("SGFEATS\x00\x01\x00\x00\x00"))
	f.Add([]byte{})
	seeds, _ := filepath.Glob("testdata/*.snap")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, verify := range []bool{true, false} {
			m := NewMemory(MemoryConfig{Shards: 2, History: snapHistory})
			err := m.restore(bytes.NewReader(data), verify)
			if err != nil {
				if !errors.Is(err, ErrSnapshot) {
					t.Fatalf("error %v does not wrap ErrSnapshot", err)
				}
				continue
			}
			// Whatever was accepted works: it reads, observes, sweeps and
			// snapshots back to something Restore accepts.
			at := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
			all := readAll(t, m, at)
			for k := range all {
				var out [1]Aggregates
				o := []Observation{obs(k, 1, device("fz"), Dim{Kind: risk.EntityIP, Value: "ip"})}
				o[0].Tag = "fz"
				if err := m.Observe(context.Background(), at, o, out[:]); err != nil {
					t.Fatal(err)
				}
			}
			m.Sweep(at)
			var buf bytes.Buffer
			if err := m.Snapshot(&buf); err != nil {
				t.Fatal(err)
			}
			if err := NewMemory(MemoryConfig{}).Restore(&buf); err != nil {
				t.Fatalf("re-snapshot rejected: %v", err)
			}
		}
	})
}

// goldenStream is the stream whose snapshot testdata/v1.snap holds,
// written by a store configured with goldenConfig.
func goldenStream() []event {
	return genStream(streamConfig{seed: 53, calls: 200, keys: 12, values: 30, dimsPerOb: 3, jitter: time.Minute})
}

// goldenStreamV2 is the stream whose snapshot testdata/v2.snap holds,
// written by a store configured with goldenConfig and History snapHistory.
func goldenStreamV2() []event {
	return genStream(streamConfig{seed: 59, calls: 300, keys: 12, values: 30, dimsPerOb: 3, jitter: 2 * time.Hour, tags: 4})
}

var goldenConfig = MemoryConfig{DistinctCap: 8, SketchPrecision: 8, Shards: 4}

// TestGoldenSnapshot restores snapshots written by earlier builds, one per
// supported version: a change of the format or of the hashes without a new
// version fails here. Run with SHOPGUARD_UPDATE_GOLDEN=1 to rewrite the
// file of the current version after such a (versioned) change.
func TestGoldenSnapshot(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		version uint32
		stream  func() []event
		written map[string]time.Duration // history windows of the writer
		read    map[string]time.Duration // history windows of the reader
	}{
		{"v1", "testdata/v1.snap", 1, goldenStream, nil, nil},
		// A version-1 snapshot has no history: keys of a history scope
		// start theirs at the restore.
		{"v1 into a store with history", "testdata/v1.snap", 1, goldenStream, nil, snapHistory},
		{"v2", "testdata/v2.snap", 2, goldenStreamV2, snapHistory, snapHistory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := tc.stream()
			wcfg, rcfg := goldenConfig, goldenConfig
			wcfg.History, rcfg.History = tc.written, tc.read
			fresh := NewMemory(wcfg)
			for _, ev := range stream {
				if err := fresh.Apply(context.Background(), ev.at, ev.obs); err != nil {
					t.Fatal(err)
				}
			}
			if tc.version == snapshotVersion && os.Getenv("SHOPGUARD_UPDATE_GOLDEN") == "1" {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(tc.path, snapshotBytes(t, fresh), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			data, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) < 12 || binary.LittleEndian.Uint32(data[8:]) != tc.version {
				t.Fatalf("%s does not hold a version-%d snapshot", tc.path, tc.version)
			}
			restored := NewMemory(rcfg)
			if err := restored.Restore(bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			// Seeing the stream's last observations again gives the same
			// answers, NewValue included (which needs the same value
			// hashes), History and PrevTag too.
			at := stream[len(stream)-1].at.Add(time.Second)
			since := map[Key]int64{} // observations since the restore
			for _, ev := range stream[len(stream)-20:] {
				x, y := make([]Aggregates, len(ev.obs)), make([]Aggregates, len(ev.obs))
				if err := fresh.Observe(context.Background(), at, ev.obs, x); err != nil {
					t.Fatal(err)
				}
				if err := restored.Observe(context.Background(), at, ev.obs, y); err != nil {
					t.Fatal(err)
				}
				for i, o := range ev.obs {
					since[o.Key]++
					if tc.read != nil && tc.written == nil {
						want := int64(0)
						if _, ok := tc.read[o.Key.Scope]; ok {
							want = since[o.Key]
						}
						if y[i].History != want {
							t.Fatalf("%v: History = %d, want %d", o.Key, y[i].History, want)
						}
						y[i].History = x[i].History
					}
					if x[i] != y[i] {
						t.Fatalf("golden snapshot answers differently for %v:\n%+v\n%+v", o.Key, y[i], x[i])
					}
				}
			}
		})
	}
}
