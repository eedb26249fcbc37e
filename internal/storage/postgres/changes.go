package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

// changesChannel is where migration 0011's triggers announce changes.
const changesChannel = "shopguard_changes"

// WatchChanges calls fn for every change to any tenant's rules or lists,
// and for every commit of new events or labels (Tenant "*"), made in this
// store's schema by any instance (this one included),
// usually within milliseconds, until Close. It listens on a connection of
// its own; when that breaks it reconnects with backoff and then calls fn
// with an empty Change, since changes may have been missed meanwhile.
// fn runs on the watcher's goroutine, one call at a time; onErr (may be
// nil) hears why the connection failed before each retry. Calling
// WatchChanges more than once starts more watchers.
func (s *Store) WatchChanges(fn func(storage.Change), onErr func(error)) {
	s.watchers.Add(1)
	go func() {
		defer s.watchers.Done()
		backoff := 100 * time.Millisecond
		for first := true; ; first = false {
			err := s.listen(s.stopCtx, fn, !first)
			if s.stopCtx.Err() != nil {
				return
			}
			if onErr != nil {
				onErr(wrap("watching changes", err))
			}
			select {
			case <-s.stopCtx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

// listen holds one LISTEN connection until it fails or ctx ends. After a
// reconnect (missed true) it reports an empty Change first.
func (s *Store) listen(ctx context.Context, fn func(storage.Change), missed bool) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	if missed {
		fn(storage.Change{})
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		parts := strings.SplitN(n.Payload, " ", 3)
		if len(parts) != 3 || parts[0] != schema {
			continue // another deployment's schema in the same database
		}
		fn(storage.Change{Topic: parts[1], Tenant: parts[2]})
	}
}

// Announce tells every instance watching this store's schema (this one
// included) of a change made outside the database, such as a model
// promoted in a shared directory: they hear Change{topic, tenant}.
func (s *Store) Announce(ctx context.Context, topic, tenant string) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, current_schema() || ' ' || $2 || ' ' || $3)", changesChannel, topic, tenant); err != nil {
		return wrap("announce", err)
	}
	return nil
}
