// Package sqlite is shopguard's default storage backend: one SQLite database
// file (modernc.org/sqlite, no cgo) in WAL mode, with embedded migrations
// applied on open. Event saves from concurrent requests are group-committed:
// one writer goroutine commits them in batches, so many decisions share one
// fsync-free WAL commit while each caller still returns only after its event
// is committed.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sqlite "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/shopguard/shopguard/internal/storage"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ storage.Backend = (*Store)(nil)

// Options configures Open.
type Options struct {
	// Synchronous is SQLite's synchronous setting: "normal" (the default;
	// a committed event survives a crash of the process, and of the machine
	// up to the last checkpoint) or "full" (survives power loss too, slower).
	Synchronous string
	// CommitBatch caps how many events one group commit holds (default 256).
	CommitBatch int
	// CommitDelay is how long the writer waits for more events after the
	// first of a batch when traffic is concurrent (0: never waits; shopguard
	// configures 1 ms). Every commit
	// rewrites the tail pages of the table and its indexes, so batching
	// more events per commit cuts the bytes written per event several
	// times over, for at most this much added latency.
	CommitDelay time.Duration
	// ReadConns caps concurrent read connections (default 4).
	ReadConns int
	// CacheKiB is the writer's page cache in KiB (default 16384, 16 MiB).
	// Bigger is not better: SQLite scans the whole cache at the end of
	// every transaction that grows the file.
	CacheKiB int
}

// Store is the SQLite backend. Create it with Open and release it with Close.
type Store struct {
	write *sql.DB // one connection: SQLite has one writer
	read  *sql.DB
	batch int

	// Statements of the hot path, prepared once.
	insert, upsertMin, byID, byExt, labels, exist *sql.Stmt

	// ckpt runs WAL checkpoints in the background, so that commits never
	// wait for one (SQLite's automatic checkpoint runs inside a commit).
	ckpt     *sql.DB
	ckptStop chan struct{}
	ckptDone chan struct{}
	// pause carries the checkpointer's requests to hold commits while it
	// restarts the WAL; closing the channel sent ends the pause.
	pause chan chan struct{}
	// hold keeps what the writer acknowledged during a pause; lastSeq is
	// the highest seq given out. Both belong to the writer goroutine.
	hold    *holdover
	lastSeq int64
	delay   time.Duration

	mu      sync.RWMutex // guards closed against concurrent SaveEvent
	closed  bool
	pending sync.WaitGroup
	queue   chan *saveReq
	done    chan struct{}
}

// Open opens (creating if needed) the database file at path, applies any
// migrations it lacks and starts the group-commit writer.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if opts.CommitBatch <= 0 {
		opts.CommitBatch = 256
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if opts.CacheKiB <= 0 {
		opts.CacheKiB = 16 << 10
	}
	opts.CommitDelay = max(opts.CommitDelay, 0)
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "NORMAL"
	}
	if sync != "NORMAL" && sync != "FULL" {
		return nil, fmt.Errorf("sqlite: synchronous %q is not normal or full", opts.Synchronous)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", sync)
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	q.Set("_pragma", "journal_size_limit(67108864)")
	q.Add("_pragma", "wal_autocheckpoint(0)")
	// Random-key index inserts (external ids) touch pages all over the
	// indexes; SQLite's default 2 MB page cache makes the writer re-read
	// them from the OS on nearly every commit once the database outgrows it.
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -opts.CacheKiB))
	q.Add("_pragma", "mmap_size(1073741824)")
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()

	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	ck, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	ck.SetMaxOpenConns(1)
	q.Set("_txlock", "deferred")
	q.Set("_query_only", "1")
	q.Del("_pragma")
	q.Set("_pragma", "mmap_size(1073741824)")
	r, err := sql.Open("sqlite", "file:"+(&url.URL{Path: abs}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	s := &Store{
		write:    w,
		read:     r,
		batch:    opts.CommitBatch,
		queue:    make(chan *saveReq, opts.CommitBatch*4),
		done:     make(chan struct{}),
		ckpt:     ck,
		ckptStop: make(chan struct{}),
		ckptDone: make(chan struct{}),
		pause:    make(chan chan struct{}),
		delay:    opts.CommitDelay,
	}
	closeAll := func() {
		r.Close()
		ck.Close()
		w.Close()
	}
	for _, p := range []struct {
		db   *sql.DB
		dst  **sql.Stmt
		text string
	}{{w, &s.insert, insertEvent}, {w, &s.upsertMin, upsertMinute}, {r, &s.byID, selectByID}, {r, &s.byExt, selectByExt},
		{r, &s.labels, selectLabelsOf}, {r, &s.exist, existsEvent}} {
		if *p.dst, err = p.db.PrepareContext(ctx, p.text); err != nil {
			closeAll()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	if err := s.openHoldover(ctx, abs+holdoverSuffix); err != nil {
		closeAll()
		return nil, err
	}
	go s.writer()
	go s.checkpointer()
	return s, nil
}

// migrate applies every embedded migration newer than the database's user_version.
func migrate(ctx context.Context, db *sql.DB) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	sort.Strings(names)
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("sqlite: read schema version: %w", err)
	}
	if have > len(names) {
		return fmt.Errorf("sqlite: database schema version %d is newer than this shopguard (%d): upgrade shopguard", have, len(names))
	}
	for i := have; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
		if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", names[i], err)
		}
	}
	return nil
}

// Ping implements storage.Backend.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return storage.ErrClosed
	}
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close waits for every accepted save to commit, stops the writer and
// closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.pending.Wait()
	close(s.queue)
	<-s.done
	close(s.ckptStop)
	<-s.ckptDone
	// A checkpoint folds the WAL back into the main file so a copy of the
	// database file alone is complete.
	_, cerr := s.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	for _, st := range []*sql.Stmt{s.insert, s.upsertMin, s.byID, s.byExt, s.labels, s.exist} {
		st.Close()
	}
	return errors.Join(cerr, s.hold.f.Close(), s.read.Close(), s.ckpt.Close(), s.write.Close())
}

// Checkpointing. SQLite's automatic checkpoint runs inside a commit, so
// every decision waiting on that commit waits for it (and its fsyncs). It
// is off; instead a background goroutine copies the WAL into the database
// every checkpointInterval without blocking anyone. Copying alone cannot
// end the WAL while new commits keep appending to it, so once it is longer
// than walFramesLimit the checkpointer, right after a background pass,
// pauses the writer's commits and runs one more pass: with nothing
// appended meanwhile it catches up, having only the last few milliseconds
// of commits to copy and sync, and the next commit starts the WAL over.
// That pass takes several milliseconds; the events that arrive meanwhile
// are held over (holdover.go) rather than kept waiting.
const (
	checkpointInterval = 100 * time.Millisecond
	walFramesLimit     = 4096 // 16 MiB of 4 KiB pages
)

// checkpointer runs background passive checkpoints until Close.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ckptStop:
			return
		case <-t.C:
			// A busy or failed passive checkpoint is retried next tick.
			var busy, log, done int64
			err := s.ckpt.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
			if err != nil || log <= walFramesLimit || done != log {
				continue
			}
			resume := make(chan struct{})
			select {
			case s.pause <- resume:
			case <-s.ckptStop:
				return
			}
			_, _ = s.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
			close(resume)
		}
	}
}

// openHoldover opens the holdover file, inserts what a crash left in it
// and learns the highest seq.
func (s *Store) openHoldover(ctx context.Context, path string) error {
	h, rows, err := openHoldover(path)
	if err != nil {
		return err
	}
	s.hold = h
	if len(rows) > 0 {
		reqs := make([]*saveReq, len(rows))
		for i := range rows {
			reqs[i] = &saveReq{row: rows[i]}
		}
		if err := s.commit(reqs); err != nil {
			h.f.Close()
			return fmt.Errorf("sqlite: insert held-over events: %w", err)
		}
		if err := h.clear(); err != nil {
			h.f.Close()
			return err
		}
	}
	var n sql.NullInt64
	if err := s.write.QueryRowContext(ctx, "SELECT MAX(seq) FROM events").Scan(&n); err != nil {
		h.f.Close()
		return fmt.Errorf("sqlite: max seq: %w", err)
	}
	s.lastSeq = n.Int64
	return nil
}

func (s *Store) isClosed() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	return nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// isUnique reports whether err is a SQLite uniqueness or primary-key violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
