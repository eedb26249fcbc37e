package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/storage"
)

// Several instances on one shared store each keep the feature store in
// memory and count their own decisions and labels live. Follow makes an
// engine count the others' too, by reading from the shared log what other
// instances stored after the last event it has (CatchUp), so that every
// instance's counters converge on every decision of every instance.

// OthersLog is a shared log that can leave out what this instance stored
// (postgres.Store): each call reads what others stored after a position
// and returns the position it reached, this instance's rows included.
type OthersLog interface {
	OthersEventsAfter(ctx context.Context, seq int64, fn func(*storage.Event) error) (int64, error)
	OthersLabelsAfter(ctx context.Context, id int64, fn func(*storage.Label) error) (int64, error)
}

// follower is the state of following the shared log.
type follower struct {
	log OthersLog // nil: not following; set once by Follow

	// mu makes catch-ups one at a time and guards the cursors.
	mu      sync.Mutex
	seq     int64 // last event of the log counted (live or by a catch-up)
	labelID int64 // last label of the log counted
}

// Follow makes the engine count, from now on, the decisions and labels
// other instances store in log (the engine's own store), whenever CatchUp
// is called. Call it once, after Restore and before serving.
func (e *Engine) Follow(log OthersLog) {
	e.follow.log = log
}

// CatchUp counts every event and label other instances stored since the
// last catch-up (or Restore) and returns how many it counted. Catch-ups
// run one at a time.
func (e *Engine) CatchUp(ctx context.Context) (events, labels int, err error) {
	if e.follow.log == nil {
		return 0, 0, nil
	}
	e.follow.mu.Lock()
	defer e.follow.mu.Unlock()
	e.gate.RLock()
	defer e.gate.RUnlock()
	return e.catchUpLocked(ctx)
}

// catchUpLocked is CatchUp with follow.mu and the gate (shared or not) held.
func (e *Engine) catchUpLocked(ctx context.Context) (events, labels int, err error) {
	var obs []features.Observation
	seq, err := e.follow.log.OthersEventsAfter(ctx, e.follow.seq, func(ev *storage.Event) error {
		var counted bool
		var err error
		if counted, obs, err = e.replayEvent(ctx, ev, obs); err != nil {
			e.log.Warn("another instance's event not counted in the features", "event", ev.ID, "error", err)
		}
		if counted {
			events++
		}
		return nil
	})
	if err != nil {
		return events, 0, fmt.Errorf("engine: catch up: %w", err)
	}
	e.follow.seq = seq
	var news []storage.Label
	labelID, err := e.follow.log.OthersLabelsAfter(ctx, e.follow.labelID, func(l *storage.Label) error {
		if _, ok := fraudVerdict(l.Label); ok {
			news = append(news, *l)
		}
		return nil
	})
	if err != nil {
		return events, 0, fmt.Errorf("engine: catch up: %w", err)
	}
	for _, l := range news {
		ok, err := e.replayLabel(ctx, l)
		if err != nil {
			// Counted the next time: the cursor stays before this label.
			return events, labels, fmt.Errorf("engine: catch up: %w", err)
		}
		if ok {
			labels++
		}
		e.follow.labelID = l.ID
	}
	e.follow.labelID = labelID
	return events, labels, nil
}

// Followed returns the last event of the shared log this engine has
// counted (0 before Restore), for monitoring how far it lags.
func (e *Engine) Followed() int64 {
	e.follow.mu.Lock()
	defer e.follow.mu.Unlock()
	return e.follow.seq
}
