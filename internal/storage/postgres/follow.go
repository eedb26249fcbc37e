package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

// OthersEventsAfter calls fn, in Seq order, for every event with Seq > seq
// that another store saved (another instance, or this one's process before
// a restart), and returns the highest Seq it passed over, its own store's
// events included, all read from one snapshot. An instance following the
// log counts the others' decisions with it and skips its own, which it
// counted live; those cost an index entry each, not their payload.
func (s *Store) OthersEventsAfter(ctx context.Context, seq int64, fn func(*storage.Event) error) (int64, error) {
	if err := s.isClosed(); err != nil {
		return seq, err
	}
	last := seq
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(seq), $1) FROM events WHERE seq > $1", seq).Scan(&last); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+eventColumns+" FROM events e WHERE e.seq > $1 AND e.seq <= $2 AND e.origin <> $3 ORDER BY e.seq",
			seq, last, s.origin)
		if err != nil {
			return err
		}
		defer rows.Close()
		var e storage.Event
		for rows.Next() {
			if err := scanEvent(rows, &e); err != nil {
				return err
			}
			if err := fn(&e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return seq, wrap("others' events", err)
	}
	return last, nil
}

// OthersLabelsAfter is OthersEventsAfter for labels: fn sees, in ID
// order, every label with ID > id that another store added, and it
// returns the highest ID passed over.
func (s *Store) OthersLabelsAfter(ctx context.Context, id int64, fn func(*storage.Label) error) (int64, error) {
	if err := s.isClosed(); err != nil {
		return id, err
	}
	last := id
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(id), $1) FROM labels WHERE id > $1", id).Scan(&last); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+labelColumns+" FROM labels WHERE id > $1 AND id <= $2 AND origin <> $3 ORDER BY id",
			id, last, s.origin)
		if err != nil {
			return err
		}
		defer rows.Close()
		var l storage.Label
		for rows.Next() {
			if err := scanLabel(rows, &l); err != nil {
				return err
			}
			if err := fn(&l); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return id, wrap("others' labels", err)
	}
	return last, nil
}
