package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/storage"
)

// ErrNoSnapshots means the feature store cannot write snapshots.
var ErrNoSnapshots = errors.New("engine: feature store does not support snapshots")

// Snapshotter is a feature store whose state can be saved and loaded.
type Snapshotter interface {
	Snapshot(w io.Writer) error
	Restore(r io.Reader) error
}

const snapshotMagic = "SGSNAP01"

// WriteSnapshot writes the feature store's state together with the
// sequence number of the last stored event it includes. Decisions pause
// while the state is copied to memory (not while it is written to w).
func (e *Engine) WriteSnapshot(ctx context.Context, w io.Writer) (seq int64, err error) {
	snap, ok := e.feats.(Snapshotter)
	if !ok {
		return 0, ErrNoSnapshots
	}
	var buf bytes.Buffer
	e.gate.Lock()
	seq, err = e.store.MaxSeq(ctx)
	if err == nil {
		err = snap.Snapshot(&buf)
	}
	e.gate.Unlock()
	if err != nil {
		return 0, fmt.Errorf("engine: snapshot: %w", err)
	}
	var head [len(snapshotMagic) + 8]byte
	copy(head[:], snapshotMagic)
	binary.BigEndian.PutUint64(head[len(snapshotMagic):], uint64(seq))
	if _, err := w.Write(head[:]); err != nil {
		return 0, fmt.Errorf("engine: snapshot: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return 0, fmt.Errorf("engine: snapshot: %w", err)
	}
	return seq, nil
}

// RestoreStats says what Restore did.
type RestoreStats struct {
	// SnapshotSeq is the last event the snapshot covered (0 without one).
	SnapshotSeq int64
	// Replayed is how many stored events were replayed after it.
	Replayed int
	// Skipped counts stored events that could not be replayed.
	Skipped  int
	Duration time.Duration
}

// Restore loads a snapshot written by WriteSnapshot (r may be nil for none)
// and replays every stored event after it into the feature store, so the
// features are as if the process had never stopped. Call it before serving.
// A corrupt snapshot is an error; the caller may retry with r == nil to
// rebuild the features from the whole event log.
func (e *Engine) Restore(ctx context.Context, r io.Reader) (RestoreStats, error) {
	start := time.Now()
	var st RestoreStats
	if r != nil {
		snap, ok := e.feats.(Snapshotter)
		if !ok {
			return st, ErrNoSnapshots
		}
		br := bufio.NewReader(r)
		var head [len(snapshotMagic) + 8]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return st, fmt.Errorf("engine: restore: snapshot header: %w", err)
		}
		if string(head[:len(snapshotMagic)]) != snapshotMagic {
			return st, fmt.Errorf("engine: restore: not a shopguard snapshot")
		}
		st.SnapshotSeq = int64(binary.BigEndian.Uint64(head[len(snapshotMagic):]))
		if err := snap.Restore(br); err != nil {
			return st, fmt.Errorf("engine: restore: %w", err)
		}
	}
	var obs []features.Observation
	err := e.store.EventsAfter(ctx, st.SnapshotSeq, func(ev *storage.Event) error {
		k, ok := e.kinds[ev.Kind]
		if !ok {
			st.Skipped++
			return nil
		}
		in, err := k.Decode(ev.Payload)
		if err != nil {
			e.log.Warn("stored event cannot be replayed", "event", ev.ID, "error", err)
			st.Skipped++
			return nil
		}
		obs = in.Observations(ev.Tenant, obs[:0])
		if err := e.feats.Apply(ctx, in.OccurredAt(), obs); err != nil {
			return err
		}
		e.recent.add(ev.Tenant, ev.Kind, ev.ExternalID)
		st.Replayed++
		return nil
	})
	st.Duration = time.Since(start)
	if err != nil {
		return st, fmt.Errorf("engine: restore: replay: %w", err)
	}
	return st, nil
}
