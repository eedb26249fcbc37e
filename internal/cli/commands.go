package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

func newServe(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the risk API (127.0.0.1:8080, data in ./shopguard-data by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			log := logger(env, cfg)
			ctx := cmd.Context()
			tuneGC(log)
			a, err := app.New(ctx, cfg, log)
			if err != nil {
				return err
			}
			serr := a.Serve(ctx, func(addr net.Addr) {
				fmt.Fprintf(env.Stdout, "shopguard listening on http://%s\n", addr)
			})
			return errors.Join(serr, a.Close())
		},
	}
	cmd.Flags().String("addr", "", "listen address host:port (default 127.0.0.1:8080)")
	cmd.Flags().String("log-level", "", "log level: debug, info, warn or error")
	return cmd
}

// tuneGC sets the garbage collector for a server whose feature store is a
// large, long-lived heap: collecting less often (GOGC 400) cuts the GC work
// that shows up as latency spikes, and a soft memory limit of 70% of the
// machine's RAM makes the collector work harder rather than exhaust memory
// on a small machine. GOGC and GOMEMLIMIT, when set, take precedence.
func tuneGC(log *slog.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if total := totalRAM(); total > 0 {
			debug.SetMemoryLimit(total / 10 * 7)
			log.Debug("GC tuned", "memory_limit_bytes", total/10*7)
		}
	}
}

func newConfigCmd(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check or print configuration"}
	check := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a config file (with the environment) and report every problem",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				g.configFile = args[0]
			}
			cfg, err := g.load(env, cmd)
			var ps config.Problems
			if errors.As(err, &ps) {
				fmt.Fprintf(env.Stderr, "%d problem(s):\n", len(ps))
				for _, p := range ps {
					fmt.Fprintf(env.Stderr, "  %s\n", p)
				}
				return fmt.Errorf("configuration is invalid")
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, "configuration is valid; effective settings:")
			fmt.Fprint(env.Stdout, cfg.YAML())
			return nil
		},
	}
	sample := &cobra.Command{
		Use:   "sample",
		Short: "Print a commented config file with every setting at its default",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprint(env.Stdout, config.Sample())
			return nil
		},
	}
	cmd.AddCommand(check, sample)
	return cmd
}

func newKeys(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create, list and revoke API keys"}
	var tenant, name, scopes string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API key for a tenant and print it (it is shown only once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := apikey.ParseScopes(strings.Split(scopes, ","))
			if err != nil {
				return usageError{err}
			}
			if !apikey.ValidTenant(tenant) {
				return usageError{fmt.Errorf("--tenant %q must be 1-64 characters of a-z, 0-9, '-' and '_'", tenant)}
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st keyStore) error {
				secret, rec, err := apikey.New(tenant, name, sc, time.Now())
				if err != nil {
					return err
				}
				if err := st.CreateKey(ctx, rec); err != nil {
					return err
				}
				if err := st.AppendAudit(ctx, &storage.AuditEntry{Tenant: tenant, At: time.Now(), Actor: "cli",
					Action: "key.create", Target: rec.ID, Detail: name + ", scopes " + strings.Join(rec.Scopes, " ")}); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "created key %s for tenant %s with scopes %s; store it now, it is not shown again:\n",
					rec.ID, rec.Tenant, strings.Join(rec.Scopes, ","))
				fmt.Fprintln(env.Stdout, secret)
				return nil
			})
		},
	}
	all := make([]string, len(apikey.AllScopes))
	for i, s := range apikey.AllScopes {
		all[i] = string(s)
	}
	create.Flags().StringVar(&tenant, "tenant", "", "tenant (shop) the key acts for (required)")
	create.Flags().StringVar(&name, "name", "", "a label for the key, e.g. checkout-service")
	create.Flags().StringVar(&scopes, "scopes", strings.Join(all, ","), "comma-separated scopes")
	_ = create.MarkFlagRequired("tenant")

	var listTenant string
	list := &cobra.Command{
		Use:   "list",
		Short: "List API keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStorage(env, g, cmd, func(ctx context.Context, st keyStore) error {
				keys, err := st.Keys(ctx, listTenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTENANT\tNAME\tSCOPES\tCREATED\tREVOKED")
				for _, k := range keys {
					revoked := "-"
					if !k.RevokedAt.IsZero() {
						revoked = k.RevokedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Tenant, k.Name, strings.Join(k.Scopes, ","),
						k.CreatedAt.Format(time.RFC3339), revoked)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "only this tenant's keys")
	revoke := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke an API key by its id (sgk_...); it stops working within the key cache TTL",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStorage(env, g, cmd, func(ctx context.Context, st keyStore) error {
				if err := st.RevokeKey(ctx, args[0], time.Now()); err != nil {
					return err
				}
				keys, err := st.Keys(ctx, "")
				if err != nil {
					return err
				}
				for _, k := range keys {
					if k.ID == args[0] {
						if err := st.AppendAudit(ctx, &storage.AuditEntry{Tenant: k.Tenant, At: time.Now(), Actor: "cli",
							Action: "key.revoke", Target: k.ID}); err != nil {
							return err
						}
					}
				}
				fmt.Fprintf(env.Stdout, "revoked %s\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// keyStore is what the keys commands need of storage.
type keyStore interface {
	CreateKey(ctx context.Context, k storage.APIKey) error
	Keys(ctx context.Context, tenant string) ([]storage.APIKey, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
	AppendAudit(ctx context.Context, e *storage.AuditEntry) error
}

// withStorage opens the configured storage for a short command.
// withStorage opens the configured storage and hands fn the role S of it
// that the command needs (keyStore, userStore).
func withStorage[S any](env *Env, g *globals, cmd *cobra.Command, fn func(context.Context, S) error) error {
	cfg, err := g.load(env, cmd)
	if err != nil {
		return err
	}
	if cfg.Storage.Driver == config.DriverMemory {
		return usageError{errors.New("the memory storage driver keeps nothing between runs; this command needs sqlite or postgres")}
	}
	ctx := cmd.Context()
	st, err := app.OpenStorage(ctx, cfg)
	if err != nil {
		return err
	}
	role, ok := any(st).(S)
	if !ok {
		return errors.Join(fmt.Errorf("cli: the %s storage cannot serve this command", cfg.Storage.Driver), st.Close())
	}
	return errors.Join(fn(ctx, role), st.Close())
}

func newBacktest(env *Env, g *globals) *cobra.Command {
	var tenant, from, to, file, kind string
	var limit int
	cmd := &cobra.Command{
		Use:   "backtest --tenant T --rules FILE [--from TIME] [--to TIME]",
		Short: "Run draft rules over stored events and report matches by label, precision and recall",
		Long: `Backtest evaluates draft rules (a JSON file: one rule object or an array of them)
over the tenant's stored events between --from and --to (RFC 3339; default: the
last 30 days) on the features each event's decision saw, and prints the report as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			draft, err := readRules(file)
			if err != nil {
				return usageError{err}
			}
			req := engine.BacktestRequest{Kind: risk.EventKind(kind), Rules: draft, Limit: limit,
				To: time.Now(), From: time.Now().Add(-30 * 24 * time.Hour)}
			for _, t := range []struct {
				name, v string
				dst     *time.Time
			}{{"--from", from, &req.From}, {"--to", to, &req.To}} {
				if t.v == "" {
					continue
				}
				if *t.dst, err = time.Parse(time.RFC3339, t.v); err != nil {
					return usageError{fmt.Errorf("%s %q is not an RFC 3339 time", t.name, t.v)}
				}
			}
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			a, err := app.New(cmd.Context(), cfg, logger(env, cfg))
			if err != nil {
				return err
			}
			defer a.Close()
			rep, err := a.Engine().Backtest(cmd.Context(), tenant, req)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant whose events to use (required)")
	cmd.Flags().StringVar(&file, "rules", "", "JSON file with the draft rule(s) (required)")
	cmd.Flags().StringVar(&from, "from", "", "start of the time range, RFC 3339")
	cmd.Flags().StringVar(&to, "to", "", "end of the time range, RFC 3339")
	cmd.Flags().StringVar(&kind, "kind", string(risk.EventTransaction), "event kind")
	cmd.Flags().IntVar(&limit, "limit", 0, "maximum number of events (0 = 1,000,000)")
	_ = cmd.MarkFlagRequired("tenant")
	_ = cmd.MarkFlagRequired("rules")
	return cmd
}

// readRules reads one rule or an array of rules from a JSON file.
func readRules(path string) ([]rules.Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var many []rules.Rule
	if err := json.Unmarshal(data, &many); err == nil {
		return many, nil
	}
	var one rules.Rule
	if err := json.Unmarshal(data, &one); err != nil {
		return nil, fmt.Errorf("%s: not a JSON rule or array of rules: %w", path, err)
	}
	return []rules.Rule{one}, nil
}

func newVersion(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print shopguard's version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(env.Stdout, "shopguard", app.Version())
		},
	}
}
