package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// URL-list effects: what a listed URL expression does.
const (
	// URLListBlock lists a known-bad URL expression (phishing, malware).
	URLListBlock = "block"
	// URLListAllow lists a URL expression a tenant vouches for (the
	// shop's own domains); it outweighs every block.
	URLListAllow = "allow"
)

// URL-list change operations.
const (
	// URLListAdd lists an entry.
	URLListAdd = "add"
	// URLListRemove unlists an entry.
	URLListRemove = "remove"
)

// MaxURLListSource bounds the length of a URL-list source name.
const MaxURLListSource = 64

// ErrInvalidURLListChange means a URL-list change has an unknown effect
// or operation, or an empty or overlong source.
var ErrInvalidURLListChange = errors.New("storage: invalid url list change")

// URLListEntry is one listed URL expression: the SHA-256 of a Safe
// Browsing suffix/prefix expression ("evil.test/login.php"), never the URL
// itself, for one tenant ("" = every tenant), with an effect, from one
// source (a feed's name, "report", "operator"). An entry is identified by
// all four fields: the same hash may be listed by several sources, for
// several tenants, with either effect.
type URLListEntry struct {
	Tenant string
	Hash   [32]byte
	// Effect is URLListBlock or URLListAllow.
	Effect string
	Source string
}

// URLListChange is one record of the URL-list change log: an entry
// listed or unlisted. Running servers replay the log to build their
// in-memory lists and poll it for changes made elsewhere (the CLI).
type URLListChange struct {
	// ID is assigned by the backend; it increases with every logged
	// change, across all tenants.
	ID int64
	URLListEntry
	// Op is URLListAdd or URLListRemove.
	Op string
	// At is when the change was made (microsecond precision).
	At time.Time
}

// Validate reports whether c has a known effect and operation and a
// source of 1 to MaxURLListSource bytes; the error wraps
// ErrInvalidURLListChange.
func (c *URLListChange) Validate() error {
	switch {
	case c.Effect != URLListBlock && c.Effect != URLListAllow:
		return fmt.Errorf("%w: effect %q is not %s or %s", ErrInvalidURLListChange, c.Effect, URLListBlock, URLListAllow)
	case c.Op != URLListAdd && c.Op != URLListRemove:
		return fmt.Errorf("%w: op %q is not %s or %s", ErrInvalidURLListChange, c.Op, URLListAdd, URLListRemove)
	case c.Source == "" || len(c.Source) > MaxURLListSource:
		return fmt.Errorf("%w: source %q must be 1-%d bytes", ErrInvalidURLListChange, c.Source, MaxURLListSource)
	}
	return nil
}

// URLListCount is how many entries a tenant ("" = every tenant) has
// listed from one source with one effect.
type URLListCount struct {
	Tenant string
	Source string
	Effect string
	Count  int
}

// URLListStore keeps the lists of known-bad (and allowed) URL
// expressions as their current entries plus an append-only log of the
// changes that made them.
type URLListStore interface {
	// AddURLListChanges applies changes in order: an add lists its entry,
	// a remove unlists it. Only changes that change the lists are logged
	// (adding a listed entry or removing an unlisted one does nothing);
	// it returns how many were. Their IDs are assigned in the order
	// given. Either every change is applied or, on error, none; an
	// invalid change is an error wrapping ErrInvalidURLListChange. Each
	// call is one transaction: callers importing a large feed split it
	// into batches of some thousands, so that other writers are not held
	// up for long.
	AddURLListChanges(ctx context.Context, changes []URLListChange) (int, error)
	// URLListChangesAfter calls fn for every logged change with ID > id,
	// in ID order, stopping at the first error fn returns. fn must not
	// keep the change after it returns: backends reuse it.
	URLListChangesAfter(ctx context.Context, id int64, fn func(*URLListChange) error) error
	// URLListEntries calls fn for every entry listed now for exactly
	// this tenant ("" = the entries for every tenant) and source, in no
	// particular order, stopping at the first error fn returns. fn must
	// not keep the entry after it returns.
	URLListEntries(ctx context.Context, tenant, source string, fn func(*URLListEntry) error) error
	// URLListCounts returns how many entries are listed now per tenant,
	// source and effect, sorted by those three.
	URLListCounts(ctx context.Context) ([]URLListCount, error)
}
