package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

// urlListStore is what the feeds commands need of storage.
type urlListStore interface {
	AddURLListChanges(ctx context.Context, changes []storage.URLListChange) (int, error)
	URLListChangesAfter(ctx context.Context, id int64, fn func(*storage.URLListChange) error) error
	URLListEntries(ctx context.Context, tenant, source string, fn func(*storage.URLListEntry) error) error
	URLListCounts(ctx context.Context) ([]storage.URLListCount, error)
}

// feedBatch is how many changes one transaction writes: small enough
// that a running server's writes are never held up for long.
const feedBatch = 20_000

// sourceRE is what a source name may be.
var sourceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func newFeeds(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feeds",
		Short: "Import, list and remove lists of known-bad URLs (URLhaus, PhishTank, OpenPhish, plain lists)",
		Long: `Feeds are lists of known-bad URLs that operators download themselves
(shopguard fetches nothing): URLhaus's CSV exports, PhishTank's JSON or CSV
export, OpenPhish's feed, or a plain list with one URL or host name a line.
shopguard keeps only the SHA-256 hashes of the Safe Browsing expressions that
list them, never the URLs, and running servers pick up imports by themselves.
A tenant's allow list (its own domains) outweighs every block.`,
	}
	cmd.AddCommand(newFeedsImport(env, g), newFeedsList(env, g), newFeedsRemove(env, g), newFeedsCheck(env, g))
	return cmd
}

// feedTarget is the list a command works on.
type feedTarget struct {
	source, tenant string
	allow          bool
}

func (t feedTarget) validate(needSource bool) error {
	if (needSource || t.source != "") && !sourceRE.MatchString(t.source) {
		return usageError{fmt.Errorf("--source %q must be 1-64 characters of a-z, 0-9, '.', '-' and '_'", t.source)}
	}
	if t.tenant != "" && !apikey.ValidTenant(t.tenant) {
		return usageError{fmt.Errorf("--tenant %q must be 1-64 characters of a-z, 0-9, '-' and '_'", t.tenant)}
	}
	if t.allow && t.tenant == "" {
		return usageError{errors.New("--allow needs --tenant: an allow list is a shop's own")}
	}
	return nil
}

func (t feedTarget) effect() string {
	if t.allow {
		return storage.URLListAllow
	}
	return storage.URLListBlock
}

// whom names a tenant for people.
func whom(tenant string) string {
	if tenant == "" {
		return "every tenant"
	}
	return "tenant " + tenant
}

func newFeedsImport(env *Env, g *globals) *cobra.Command {
	var t feedTarget
	var format string
	var replace bool
	c := &cobra.Command{
		Use:   "import FILE... --source NAME [--format F] [--tenant T] [--allow] [--replace]",
		Short: "Import feed files (- for standard input) as one source's entries",
		Long: `Import reads feed files (- reads standard input) and lists every URL they name
under --source, for every tenant or only for --tenant, as a block entry or, with
--allow, as an allow entry of the tenant (the shop's own domains). A URL lists
itself and what lies beneath it the way Safe Browsing does; a bare host name
lists the whole host. Bad lines are reported and skipped. --replace also
removes the source's entries the files no longer name (for feeds that drop
URLs once they are down). Nothing is written unless every file reads.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			ff, err := phishing.ParseFeedFormat(format)
			if err != nil {
				return usageError{err}
			}
			if err := t.validate(true); err != nil {
				return err
			}
			hashes, read, bad, err := readFeeds(cmd, env, files, ff)
			if err != nil {
				return err
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st urlListStore) error {
				added, removed, err := importHashes(ctx, st, t, hashes, replace)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "%s (%s, %s): %d read, %d distinct, %d added, %d already present, %d bad",
					t.source, t.effect(), whom(t.tenant), read, len(hashes), added, len(hashes)-added, bad)
				if replace {
					fmt.Fprintf(env.Stdout, ", %d removed", removed)
				}
				fmt.Fprintln(env.Stdout)
				return nil
			})
		},
	}
	c.Flags().StringVar(&t.source, "source", "", "name of the feed, e.g. urlhaus (required)")
	c.Flags().StringVar(&format, "format", string(phishing.FeedAuto), "urlhaus, phishtank-json, phishtank-csv, openphish, plain or auto")
	c.Flags().StringVar(&t.tenant, "tenant", "", "only for this tenant (default: every tenant)")
	c.Flags().BoolVar(&t.allow, "allow", false, "allow entries (the tenant's own domains), not block entries; needs --tenant")
	c.Flags().BoolVar(&replace, "replace", false, "also remove the source's entries the files no longer list")
	_ = c.MarkFlagRequired("source")
	return c
}

// readFeeds reads every file and returns the distinct hashes they list,
// sorted, with how many entries were read and how many were bad. It
// reports each file on standard error.
func readFeeds(cmd *cobra.Command, env *Env, files []string, format phishing.FeedFormat) ([][32]byte, int, int, error) {
	seen := map[[32]byte]struct{}{}
	read, bad := 0, 0
	for _, name := range files {
		st, err := readFeed(cmd, name, format, func(e phishing.FeedEntry) error {
			seen[e.Hash] = struct{}{}
			return nil
		})
		if err != nil {
			return nil, 0, 0, err
		}
		read, bad = read+st.Read, bad+st.Bad
		fmt.Fprintf(env.Stderr, "%s: %s, %d read, %d listed, %d unverified skipped, %d bad\n", name, st.Format, st.Read, st.Listed,
			st.Skipped, st.Bad)
		for _, p := range st.Problems {
			fmt.Fprintf(env.Stderr, "  %s\n", p)
		}
		if more := st.Bad - len(st.Problems); more > 0 {
			fmt.Fprintf(env.Stderr, "  and %d more bad\n", more)
		}
	}
	hashes := make([][32]byte, 0, len(seen))
	for h := range seen {
		hashes = append(hashes, h)
	}
	// In order, so that the database fills its index in order.
	slices.SortFunc(hashes, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return hashes, read, bad, nil
}

// readFeed reads one feed file (- for standard input).
func readFeed(cmd *cobra.Command, name string, format phishing.FeedFormat, fn func(phishing.FeedEntry) error) (phishing.FeedStats, error) {
	var in io.Reader = cmd.InOrStdin()
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return phishing.FeedStats{}, fmt.Errorf("cli: feed: %w", err)
		}
		defer f.Close()
		in = f
	}
	st, err := phishing.ReadFeed(in, format, phishing.FeedLimits{}, fn)
	if err != nil {
		return st, fmt.Errorf("cli: feed %s: %w", name, err)
	}
	return st, nil
}

// importHashes lists hashes for t and, with replace, unlists t's other
// entries of the same effect; it returns how many were added and removed.
func importHashes(ctx context.Context, st urlListStore, t feedTarget, hashes [][32]byte, replace bool) (int, int, error) {
	now := time.Now()
	entry := storage.URLListEntry{Tenant: t.tenant, Effect: t.effect(), Source: t.source}
	changes := make([]storage.URLListChange, 0, min(len(hashes), feedBatch))
	added := 0
	for i, h := range hashes {
		entry.Hash = h
		changes = append(changes, storage.URLListChange{URLListEntry: entry, Op: storage.URLListAdd, At: now})
		if len(changes) == feedBatch || i == len(hashes)-1 {
			n, err := st.AddURLListChanges(ctx, changes)
			if err != nil {
				return added, 0, err
			}
			added += n
			changes = changes[:0]
		}
	}
	if !replace {
		return added, 0, nil
	}
	var stale [][32]byte
	err := st.URLListEntries(ctx, t.tenant, t.source, func(e *storage.URLListEntry) error {
		if _, found := slices.BinarySearchFunc(hashes, e.Hash, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) }); !found &&
			e.Effect == t.effect() {
			stale = append(stale, e.Hash)
		}
		return nil
	})
	if err != nil {
		return added, 0, err
	}
	removed, err := removeHashes(ctx, st, t.tenant, t.source, t.effect(), stale)
	return added, removed, err
}

// removeHashes unlists hashes of one tenant, source and effect, and
// returns how many were listed.
func removeHashes(ctx context.Context, st urlListStore, tenant, source, effect string, hashes [][32]byte) (int, error) {
	now := time.Now()
	removed := 0
	for len(hashes) > 0 {
		batch := hashes[:min(len(hashes), feedBatch)]
		hashes = hashes[len(batch):]
		changes := make([]storage.URLListChange, len(batch))
		for i, h := range batch {
			changes[i] = storage.URLListChange{URLListEntry: storage.URLListEntry{Tenant: tenant, Hash: h, Effect: effect, Source: source},
				Op: storage.URLListRemove, At: now}
		}
		n, err := st.AddURLListChanges(ctx, changes)
		if err != nil {
			return removed, err
		}
		removed += n
	}
	return removed, nil
}

func newFeedsList(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Count the entries of every source, per tenant and effect",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStorage(env, g, cmd, func(ctx context.Context, st urlListStore) error {
				counts, err := st.URLListCounts(ctx)
				if err != nil {
					return err
				}
				if len(counts) == 0 {
					fmt.Fprintln(env.Stderr, "no URL lists; import one with 'shopguard feeds import'")
					return nil
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tSOURCE\tEFFECT\tENTRIES")
				for _, c := range counts {
					tenant := c.Tenant
					if tenant == "" {
						tenant = "*"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", tenant, c.Source, c.Effect, c.Count)
				}
				return tw.Flush()
			})
		},
	}
}

func newFeedsRemove(env *Env, g *globals) *cobra.Command {
	var t feedTarget
	c := &cobra.Command{
		Use:   "remove --source NAME [--tenant T]",
		Short: "Remove every entry of a source (for every tenant, or for --tenant)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := t.validate(true); err != nil {
				return err
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st urlListStore) error {
				byEffect := map[string][][32]byte{}
				err := st.URLListEntries(ctx, t.tenant, t.source, func(e *storage.URLListEntry) error {
					byEffect[e.Effect] = append(byEffect[e.Effect], e.Hash)
					return nil
				})
				if err != nil {
					return err
				}
				removed := 0
				for _, effect := range []string{storage.URLListBlock, storage.URLListAllow} {
					n, err := removeHashes(ctx, st, t.tenant, t.source, effect, byEffect[effect])
					removed += n
					if err != nil {
						return err
					}
				}
				fmt.Fprintf(env.Stdout, "%s (%s): %d removed\n", t.source, whom(t.tenant), removed)
				return nil
			})
		},
	}
	c.Flags().StringVar(&t.source, "source", "", "the source to remove (required)")
	c.Flags().StringVar(&t.tenant, "tenant", "", "the tenant's entries of the source (default: those for every tenant)")
	_ = c.MarkFlagRequired("source")
	return c
}

func newFeedsCheck(env *Env, g *globals) *cobra.Command {
	var tenant string
	c := &cobra.Command{
		Use:   "check URL... [--tenant T]",
		Short: "Look URLs up in the lists as a running server does",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, urls []string) error {
			if err := (feedTarget{tenant: tenant}).validate(false); err != nil {
				return err
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st urlListStore) error {
				l := phishing.NewURLList()
				if _, err := l.Sync(ctx, st); err != nil {
					return err
				}
				for _, raw := range urls {
					u, err := phishing.Parse(raw)
					if err != nil {
						fmt.Fprintf(env.Stdout, "%s: %v\n", raw, err)
						continue
					}
					m, ok := l.Lookup(tenant, u)
					switch {
					case !ok:
						fmt.Fprintf(env.Stdout, "%s: not listed\n", raw)
					case m.Effect == storage.URLListAllow:
						fmt.Fprintf(env.Stdout, "%s: allowed by %s (%s) at %s\n", raw, m.Source, whom(m.Tenant), m.Expression)
					default:
						fmt.Fprintf(env.Stdout, "%s: blocked by %s (%s) at %s\n", raw, m.Source, whom(m.Tenant), m.Expression)
					}
				}
				return nil
			})
		},
	}
	c.Flags().StringVar(&tenant, "tenant", "", "look up as this tenant (its own entries count too)")
	return c
}
