package storagetest

import (
	"context"
	"sync/atomic"

	"github.com/shopguard/shopguard/internal/storage"
)

// DiscardEvents is a backend whose SaveEvent keeps nothing (it only
// numbers the events); everything else is the wrapped backend's.
// Benchmarks use it to time decisions apart from storage.
type DiscardEvents struct {
	storage.Backend
	seq atomic.Int64
}

// SaveEvent sets e.Seq and drops the event.
func (d *DiscardEvents) SaveEvent(_ context.Context, e *storage.Event) error {
	e.Seq = d.seq.Add(1)
	return nil
}
