package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/storage/postgres"
)

// newMigrate is `shopguard migrate`: bring the configured database's
// schema up to this build, for operators who set
// storage.migrate_on_start to false and upgrade in a deliberate step.
func newMigrate(env *Env, g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations this shopguard needs, then exit",
		Long: `migrate applies every schema migration the configured database lacks and
exits. Instances apply them on start too (storage.migrate_on_start, under a
lock, so instances may start together); operators who prefer a deliberate
upgrade step turn that off and run this first. Running it again is harmless.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			switch cfg.Storage.Driver {
			case config.DriverMemory:
				return usageError{errors.New("the memory storage driver has no schema to migrate")}
			case config.DriverPostgres:
				before, after, err := postgres.MigrateURL(ctx, cfg.Storage.URL)
				if err != nil {
					return err
				}
				if before == after {
					fmt.Fprintf(env.Stdout, "postgres: schema version %d, up to date\n", after)
				} else {
					fmt.Fprintf(env.Stdout, "postgres: schema version %d -> %d (%d migrations applied)\n", before, after, after-before)
				}
				return nil
			}
			// SQLite applies its migrations whenever it is opened.
			st, err := app.OpenStorage(ctx, cfg)
			if err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "sqlite: schema up to date in %s\n", cfg.Storage.DataDir)
			return nil
		},
	}
}
