package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
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
			msg, err := app.Migrate(cmd.Context(), cfg)
			if err != nil {
				if cfg.Storage.Driver == config.DriverMemory {
					return usageError{err}
				}
				return err
			}
			fmt.Fprintln(env.Stdout, msg)
			return nil
		},
	}
}
