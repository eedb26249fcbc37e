package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/storage"
)

// Several instances on one shared store each keep the feature store in
// memory. Each counts its own decisions and labels live; Follow makes it
// count the others' too, by reading the shared event log after the last
// event it has (CatchUp), so that every instance's counters converge on
// every decision of every instance. Events and labels this instance
// counted itself are skipped: it remembers them from just before they are
// saved until the log brings them back.

// ownTTL bounds how long an own event or label that never appears in the
// log (its save failed) is remembered.
const ownTTL = 10 * time.Minute

// follower is the state of following the shared log.
type follower struct {
	on bool // set once by Follow, before concurrent use

	// mu makes catch-ups one at a time and guards the cursors.
	mu       sync.Mutex
	seq      int64 // last event of the log counted (by this instance or a catch-up)
	labelID  int64 // last label of the log counted
	lastTrim time.Time

	ownMu sync.Mutex
	own   map[string]time.Time // own events and labels not yet seen in the log
}

func ownEvent(tenant, id string) string { return "e\x00" + tenant + "\x00" + id }

func ownLabel(l *storage.Label) string {
	return "l\x00" + l.Tenant + "\x00" + l.EventID + "\x00" + string(l.Label) + "\x00" + l.Source + "\x00" +
		strconv.FormatInt(l.CreatedAt.UnixMicro(), 10)
}

// remember notes an own event or label about to be saved.
func (f *follower) remember(key string) {
	if !f.on {
		return
	}
	f.ownMu.Lock()
	f.own[key] = time.Now()
	f.ownMu.Unlock()
}

// forget drops an own event or label whose save failed for certain.
func (f *follower) forget(key string) {
	if !f.on {
		return
	}
	f.ownMu.Lock()
	delete(f.own, key)
	f.ownMu.Unlock()
}

// take reports whether key is an own event or label, forgetting it.
func (f *follower) take(key string) bool {
	f.ownMu.Lock()
	defer f.ownMu.Unlock()
	if _, ok := f.own[key]; ok {
		delete(f.own, key)
		return true
	}
	return false
}

// trim forgets own entries older than ownTTL; f.mu is held.
func (f *follower) trim(now time.Time) {
	if now.Sub(f.lastTrim) < time.Minute {
		return
	}
	f.lastTrim = now
	f.ownMu.Lock()
	for k, at := range f.own {
		if now.Sub(at) > ownTTL {
			delete(f.own, k)
		}
	}
	f.ownMu.Unlock()
}

// Follow makes the engine count, from now on, the decisions and labels
// other instances store in the shared log, when CatchUp is called (on
// every change the store announces, and now and then). Call it once,
// after Restore and before serving.
func (e *Engine) Follow() {
	e.follow.on = true
	e.follow.own = map[string]time.Time{}
}

// CatchUp counts every event and label stored since the last catch-up
// (or Restore) that this instance did not count itself, and returns how
// many it counted. Catch-ups run one at a time.
func (e *Engine) CatchUp(ctx context.Context) (events, labels int, err error) {
	if !e.follow.on {
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
	e.follow.trim(time.Now())
	var obs []features.Observation
	err = e.store.EventsAfter(ctx, e.follow.seq, func(ev *storage.Event) error {
		e.follow.seq = ev.Seq
		if e.follow.take(ownEvent(ev.Tenant, ev.ID)) {
			return nil
		}
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
	labels, err = e.followLabels(ctx)
	if err != nil {
		return events, labels, fmt.Errorf("engine: catch up: %w", err)
	}
	return events, labels, nil
}

// followLabels counts the labels after the label cursor that this
// instance did not count itself.
func (e *Engine) followLabels(ctx context.Context) (int, error) {
	var news []storage.Label
	if err := e.store.LabelsAfter(ctx, e.follow.labelID, func(l *storage.Label) error {
		e.follow.labelID = l.ID
		if !e.follow.take(ownLabel(l)) {
			if _, ok := fraudVerdict(l.Label); ok {
				news = append(news, *l)
			}
		}
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, l := range news {
		ok, err := e.replayLabel(ctx, l)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// Followed returns the last event of the shared log this engine has
// counted (0 before Restore), for monitoring how far it lags.
func (e *Engine) Followed() int64 {
	e.follow.mu.Lock()
	defer e.follow.mu.Unlock()
	return e.follow.seq
}
