package sqlite_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/sqlite"
)

// BenchmarkImportURLList imports a feed of 500 000 URLs into a fresh
// database the way `shopguard feeds import` does (batches of 20 000,
// each one transaction), imports it again (all already present), and
// replays the change log as a server does when it starts.
func BenchmarkImportURLList(b *testing.B) {
	const urls, batch = 500_000, 20_000
	changes := make([]storage.URLListChange, urls)
	for i := range changes {
		changes[i] = storage.URLListChange{URLListEntry: storage.URLListEntry{
			Hash: sha256.Sum256(fmt.Appendf(nil, "host%d.evil.test/payload/%d.bin", i%5000, i)), Effect: storage.URLListBlock,
			Source: "urlhaus"}, Op: storage.URLListAdd, At: time.Now()}
	}
	// The command sorts what it imports by hash.
	slices.SortFunc(changes, func(a, b storage.URLListChange) int { return bytes.Compare(a.Hash[:], b.Hash[:]) })
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		s, err := sqlite.Open(ctx, filepath.Join(dir, "shopguard.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		for pass := range 2 {
			added := 0
			for i := 0; i < urls; i += batch {
				n, err := s.AddURLListChanges(ctx, changes[i:min(i+batch, urls)])
				if err != nil {
					b.Fatal(err)
				}
				added += n
			}
			if want := urls * (1 - pass); added != want {
				b.Fatalf("pass %d added %d, want %d", pass, added, want)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), fmt.Sprintf("ms/pass%d", pass+1))
			start = time.Now()
		}
		// A server starting replays the log.
		read := 0
		if err := s.URLListChangesAfter(ctx, 0, func(*storage.URLListChange) error { read++; return nil }); err != nil || read != urls {
			b.Fatalf("replayed %d changes, %v", read, err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/replay")
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "shopguard.db")); err == nil {
			b.ReportMetric(float64(fi.Size())/urls, "db-bytes/url")
		}
		b.StartTimer()
	}
}
