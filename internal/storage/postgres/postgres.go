// Package postgres is shopguard's storage backend for several instances:
// one PostgreSQL database (jackc/pgx v5, pooled connections) that every
// API instance and gateway shares. It passes the same storagetest suite as
// the embedded SQLite default.
//
// Migrations are embedded and applied on Open under a session advisory
// lock, so instances starting together apply each migration once. Times
// are stored as unix microseconds (BIGINT) like the SQLite backend, so
// both keep exactly the same precision.
//
// Events are range-partitioned by month of their own time (occurred_at):
// a backtest or a dashboard search over a time range reads only the
// months it covers, and an old month can be detached or dropped whole.
// Their ids live in an unpartitioned table, event_ids, that enforces
// uniqueness per tenant and finds an event's partition from its id.
//
// Sequence numbers that order replay (events' seq, labels' id and the URL
// list changes' id) are drawn under a transaction advisory lock held until
// commit, so transactions commit in the order of their numbers: a reader
// that has seen number n never later sees a smaller one appear, whichever
// instance wrote it.
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopguard/shopguard/internal/storage"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ storage.Backend = (*Store)(nil)

// Advisory lock keys (pg_advisory_lock takes one bigint). They are shared
// by every schema of the database, which only serialises a little more.
const (
	lockMigrate   int64 = 0x73675f6d69677261 // "sg_migra"
	lockEventSeq  int64 = 0x73675f6576656e74 // "sg_event"
	lockLabelID   int64 = 0x73675f6c6162656c // "sg_label"
	lockURLListID int64 = 0x73675f75726c6c73 // "sg_urlls"
	lockPartition int64 = 0x73675f7061727469 // "sg_parti"
)

// Options configures Open.
type Options struct {
	// MaxConns caps the pool's connections (default 16).
	MaxConns int32
	// CommitBatch caps how many events one group commit holds (default 256).
	CommitBatch int
	// CommitDelay is how long the writer waits for more events after the
	// first of a batch (0: never waits).
	CommitDelay time.Duration
	// NoMigrate makes Open fail instead of migrating when the database
	// lacks migrations (for operators who run `shopguard migrate` themselves).
	NoMigrate bool
}

// Store is the PostgreSQL backend. Create it with Open and release it with Close.
type Store struct {
	pool  *pgxpool.Pool
	batch int
	delay time.Duration
	// origin marks the events and labels this store saves (OthersEventsAfter).
	origin int64

	mu      sync.RWMutex // guards closed against concurrent SaveEvent
	closed  bool
	pending sync.WaitGroup
	queue   chan *saveReq
	done    chan struct{}
	// stopCtx ends with Close, stopping the change watchers.
	stopCtx  context.Context
	stop     context.CancelFunc
	watchers sync.WaitGroup

	// parts holds the months (first microsecond) whose event partition is
	// known to exist; only the writer goroutine uses it.
	parts map[int64]bool
}

// Open connects to the database at url (postgres://user:password@host:port/db?...),
// applies any migrations it lacks and starts the group-commit writer.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.MaxConns <= 0 {
		opts.MaxConns = 16
	}
	if opts.CommitBatch <= 0 {
		opts.CommitBatch = 256
	}
	opts.CommitDelay = max(opts.CommitDelay, 0)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opts.NoMigrate {
		err = checkMigrated(ctx, pool)
	} else {
		err = Migrate(ctx, pool)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	var o [8]byte
	_, _ = rand.Read(o[:])
	s := &Store{
		origin: int64(binary.BigEndian.Uint64(o[:])>>1) | 1, // positive, never 0
		pool:   pool,
		batch:  opts.CommitBatch,
		delay:  opts.CommitDelay,
		queue:  make(chan *saveReq, opts.CommitBatch*4),
		done:   make(chan struct{}),
		parts:  map[int64]bool{},
	}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	go s.writer()
	return s, nil
}

// migrationNames returns the embedded migrations in order.
func migrationNames() ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, wrap("migrations", err)
	}
	sort.Strings(names)
	return names, nil
}

// Migrate applies every embedded migration the database lacks, holding a
// session advisory lock so that instances starting together apply each
// once. It is safe to call at any time.
func Migrate(ctx context.Context, db *pgxpool.Pool) error {
	names, err := migrationNames()
	if err != nil {
		return err
	}
	conn, err := db.Acquire(ctx)
	if err != nil {
		return wrap("connect", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockMigrate); err != nil {
		return wrap("migration lock", err)
	}
	defer func() {
		// A lock left by a failed unlock ends with the connection.
		if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockMigrate); err != nil {
			conn.Conn().Close(context.Background())
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL)`); err != nil {
		return wrap("migrations table", err)
	}
	have, err := schemaVersion(ctx, conn)
	if err != nil {
		return err
	}
	if have > len(names) {
		return fmt.Errorf("postgres: database schema version %d is newer than this shopguard (%d): upgrade shopguard", have, len(names))
	}
	for i := have; i < len(names); i++ {
		body, err := migrations.ReadFile(names[i])
		if err != nil {
			return wrap("migration "+names[i], err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// Without arguments Exec uses the simple protocol, which runs
			// a file of several statements.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
				i+1, strings.TrimPrefix(names[i], "migrations/"), time.Now().UnixMicro())
			return err
		})
		if err != nil {
			return wrap("migration "+names[i], err)
		}
	}
	return nil
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var have int
	if err := q.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return 0, wrap("read schema version", err)
	}
	return have, nil
}

// checkMigrated fails unless the database has exactly this build's migrations.
func checkMigrated(ctx context.Context, pool *pgxpool.Pool) error {
	names, err := migrationNames()
	if err != nil {
		return err
	}
	have, err := schemaVersion(ctx, pool)
	if err != nil {
		return fmt.Errorf("%w (run `shopguard migrate`)", err)
	}
	if have != len(names) {
		return fmt.Errorf("postgres: database schema version %d, this shopguard needs %d: run `shopguard migrate`", have, len(names))
	}
	return nil
}

// Ping implements storage.Backend.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	if err := s.pool.Ping(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Close waits for every accepted save to commit, stops the writer and
// closes the pool.
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
	s.stop()
	s.watchers.Wait()
	s.pool.Close()
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

// micros stores a time as unix microseconds, the zero time as 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// isUnique reports whether err is a uniqueness or primary-key violation.
func isUnique(err error) bool { return pgCode(err) == "23505" }

// pgCode returns the SQLSTATE of a PostgreSQL error ("" for other errors).
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wrap names the failed operation. Errors that mean the database cannot
// be reached now (refused or broken connections, a server shutting down
// or out of connections) also wrap storage.ErrUnavailable, so that the
// API answers 503 and callers know a retry may succeed.
func wrap(what string, err error) error {
	if unreachable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", what, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// unreachable reports whether err says the database is out of reach
// rather than that the statement failed.
func unreachable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", // shutdown, crash, cannot connect now
			pe.Code == "53300": // too many connections
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// scanner is a row or rows being scanned.
type scanner interface{ Scan(dest ...any) error }

// exec runs one statement. conflict, if set, turns a uniqueness failure
// into the error it returns.
func (s *Store) exec(ctx context.Context, what string, conflict func(error) error, query string, args ...any) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, query, args...); err != nil {
		if conflict != nil && isUnique(err) {
			return conflict(err)
		}
		return wrap(what, err)
	}
	return nil
}

// isConflict returns a conflict function for exec naming what exists.
func isConflict(what string) func(error) error {
	return func(error) error { return fmt.Errorf("%w: %s exists", storage.ErrConflict, what) }
}

// execOne runs a statement that must touch exactly one row, else ErrNotFound.
func (s *Store) execOne(ctx context.Context, what, query string, args ...any) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		return wrap(what, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", storage.ErrNotFound, what)
	}
	return nil
}

// inTx runs fn in a transaction, committing if it returns nil.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, s.pool, fn)
	if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrConflict) {
		return wrap(what, err)
	}
	return err
}

// notFound turns pgx.ErrNoRows into ErrNotFound naming what, and wraps
// any other error.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s", storage.ErrNotFound, what)
	}
	return wrap("read "+what, err)
}

// placeholders returns "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

// MigrateURL applies the migrations the database at url lacks and returns
// its schema version before and after (for `shopguard migrate`).
func MigrateURL(ctx context.Context, url string) (before, after int, err error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: %w", err)
	}
	defer pool.Close()
	if before, err = schemaVersion(ctx, pool); err != nil {
		before = 0 // no schema_migrations table yet: a new database
	}
	if err := Migrate(ctx, pool); err != nil {
		return before, 0, err
	}
	after, err = schemaVersion(ctx, pool)
	return before, after, err
}
