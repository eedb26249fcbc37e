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

// Snapshot headers: the magic, then the last event's sequence number and
// (since version 02) the last label's ID the snapshot includes.
const (
	snapshotMagicV1 = "SGSNAP01"
	snapshotMagic   = "SGSNAP02"
)

// WriteSnapshot writes the feature store's state together with the
// sequence number of the last stored event it includes. Decisions pause
// while the state is copied to memory (not while it is written to w).
func (e *Engine) WriteSnapshot(ctx context.Context, w io.Writer) (seq int64, err error) {
	snap, ok := e.feats.(Snapshotter)
	if !ok {
		return 0, ErrNoSnapshots
	}
	var buf bytes.Buffer
	var labelID int64
	following := e.follow.log != nil
	if following {
		e.follow.mu.Lock()
		defer e.follow.mu.Unlock()
	}
	e.gate.Lock()
	if following {
		// Every own decision is saved (the gate waits for them) and the
		// catch-up counts every other instance's up to the log's end: the
		// snapshot holds exactly the log up to the cursors.
		_, _, err = e.catchUpLocked(ctx)
		seq, labelID = e.follow.seq, e.follow.labelID
	} else {
		seq, err = e.store.MaxSeq(ctx)
		if err == nil {
			labelID, err = e.store.MaxLabelID(ctx)
		}
	}
	if err == nil {
		err = snap.Snapshot(&buf)
	}
	e.gate.Unlock()
	if err != nil {
		return 0, fmt.Errorf("engine: snapshot: %w", err)
	}
	var head [len(snapshotMagic) + 16]byte
	copy(head[:], snapshotMagic)
	binary.BigEndian.PutUint64(head[len(snapshotMagic):], uint64(seq))
	binary.BigEndian.PutUint64(head[len(snapshotMagic)+8:], uint64(labelID))
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
	// SnapshotLabelID is the last label the snapshot covered and
	// ReplayedLabels how many labels after it changed fraud counts.
	SnapshotLabelID int64
	ReplayedLabels  int
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
		st.SnapshotSeq = int64(binary.BigEndian.Uint64(head[len(snapshotMagic):]))
		switch string(head[:len(snapshotMagic)]) {
		case snapshotMagic:
			var id [8]byte
			if _, err := io.ReadFull(br, id[:]); err != nil {
				return st, fmt.Errorf("engine: restore: snapshot header: %w", err)
			}
			st.SnapshotLabelID = int64(binary.BigEndian.Uint64(id[:]))
		case snapshotMagicV1:
			// Written before labels were counted: replay them all.
		default:
			return st, fmt.Errorf("engine: restore: not a shopguard snapshot")
		}
		if err := snap.Restore(br); err != nil {
			return st, fmt.Errorf("engine: restore: %w", err)
		}
	}
	var obs []features.Observation
	lastSeq := st.SnapshotSeq
	err := e.store.EventsAfter(ctx, st.SnapshotSeq, func(ev *storage.Event) error {
		lastSeq = ev.Seq
		var counted bool
		var err error
		if counted, obs, err = e.replayEvent(ctx, ev, obs); err != nil {
			return err
		}
		if counted {
			st.Replayed++
		} else {
			st.Skipped++
		}
		return nil
	})
	lastLabel := st.SnapshotLabelID
	if err == nil {
		st.ReplayedLabels, lastLabel, err = e.replayLabels(ctx, st.SnapshotLabelID)
	}
	// A follower goes on from where the replay ended.
	e.follow.seq, e.follow.labelID = lastSeq, lastLabel
	st.Duration = time.Since(start)
	if err != nil {
		return st, fmt.Errorf("engine: restore: replay: %w", err)
	}
	return st, nil
}

// replayEvent counts a stored event in the feature store as its live
// decision did, reusing obs; it reports false for an event it cannot
// replay (a kind or payload this build does not know), and fails only if
// the feature store does.
func (e *Engine) replayEvent(ctx context.Context, ev *storage.Event, obs []features.Observation) (bool, []features.Observation, error) {
	k, ok := e.kinds[ev.Kind]
	if !ok {
		return false, obs, nil
	}
	in, err := k.Decode(ev.Payload)
	if err != nil {
		e.log.Warn("stored event cannot be replayed", "event", ev.ID, "error", err)
		return false, obs, nil
	}
	if l, ok := in.(Locatable); ok && e.cfg.Geo != nil {
		l.Locate(e.cfg.Geo) // as the live decision did (logins count countries)
	}
	obs = in.Observations(ev.Tenant, obs[:0])
	if err := e.feats.Apply(ctx, in.OccurredAt(), obs); err != nil {
		return false, obs, err
	}
	e.recent.add(ev.Tenant, ev.Kind, ev.ExternalID)
	return true, obs, nil
}
