package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/sqlite"
	"github.com/shopguard/shopguard/internal/storage/storagetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestSuite(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		return open(t, filepath.Join(t.TempDir(), "shopguard.db"))
	})
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shopguard.db")
	s := open(t, path)
	e := storagetest.NewEvent("t1", "ev_1", "ord_1", time.Now())
	if err := s.SaveEvent(ctx, &e); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path) // migrations must not run twice
	defer s.Close()
	got, err := s.Event(ctx, "t1", "ev_1")
	if err != nil || got.Seq != e.Seq {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if n, _ := s.MaxSeq(ctx); n != e.Seq {
		t.Errorf("MaxSeq after reopen = %d, want %d", n, e.Seq)
	}
}

func TestOpenRejectsBadSynchronous(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Synchronous: "off"}); err == nil {
		t.Fatal("Open accepted synchronous=off")
	}
}

func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 150 MB of WAL")
	}
	// Commits arrive continuously; the background checkpointer alone
	// could never finish, so without the writer's catch-up the WAL would
	// grow by the whole stream (about 7 KB per event here).
	dir := t.TempDir()
	// The commit delay shopguard runs with (config storage.commit_delay).
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "shopguard.db"), sqlite.Options{CommitDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const workers, per = 16, 1500
	payload := json.RawMessage(`{"pad":"` + strings.Repeat("x", 1500) + `"}`)
	var wg sync.WaitGroup
	var maxWAL atomic.Int64
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				if fi, err := os.Stat(filepath.Join(dir, "shopguard.db-wal")); err == nil {
					maxWAL.Store(max(maxWAL.Load(), fi.Size()))
				}
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				e := storagetest.NewEvent("t1", fmt.Sprintf("ev_%d_%d", w, i), fmt.Sprintf("ord_%x", (w*per+i)*2654435761), time.Now())
				e.Env = payload
				if err := s.SaveEvent(ctx, &e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if n, _ := s.MaxSeq(ctx); n != workers*per {
		t.Fatalf("%d events stored, want %d", n, workers*per)
	}
	// 16 MiB of frames before the catch-up, plus what arrives meanwhile.
	if got := maxWAL.Load(); got > 64<<20 {
		t.Errorf("WAL grew to %d MB; checkpoints are not keeping it bounded", got>>20)
	}
}
