// Package cli implements shopguard's command line: serve, config, keys,
// backtest and version. cmd/shopguard calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/telemetry"
)

// Env is what a command run sees of its process.
type Env struct {
	Args   []string
	Stdout io.Writer
	Stderr io.Writer
	// Environ is the environment as os.Environ returns it.
	Environ []string
	// Context is cancelled to stop a running server (signals in Main).
	Context context.Context
}

// Main runs shopguard with the process's arguments and returns its exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(Env{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(), Context: ctx})
}

// Run runs one command line and returns the exit code: 0 on success, 1 on
// failure, 2 for a usage error.
func Run(env Env) int {
	root := newRoot(&env)
	root.SetArgs(env.Args)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(env.Context)
	if err == nil {
		return 0
	}
	fmt.Fprintln(env.Stderr, "shopguard:", err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// usageError marks errors in how a command was called.
type usageError struct{ error }

// globals are the flags every command shares.
type globals struct {
	configFile string
	data       string
}

func newRoot(env *Env) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "shopguard",
		Short: "shopguard guards online shops against fraud, account takeover, bots and abuse",
		Long: `shopguard is a self-hosted security service for online shops: a risk API that
scores payments, logins, signups and user content in real time, with rules,
lists, machine learning and an analyst dashboard.

Start it with 'shopguard serve', create an API key with 'shopguard keys create'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.configFile, "config", "", "YAML config file (default: $SHOPGUARD_CONFIG, else built-in defaults)")
	pf.StringVar(&g.data, "data", "", "data directory (default ./shopguard-data)")
	root.AddCommand(newServe(env, g), newGateway(env, g), newConfigCmd(env, g), newKeys(env, g), newBacktest(env, g), newDemo(env, g), newUsers(env, g), newEval(env), newTrain(env, g), newModels(env, g), newMigrate(env, g), newFeeds(env, g), newLookalikes(env), newVersion(env))
	return root
}

// flagKeys maps command-line flags to config keys.
var flagKeys = map[string]string{
	"addr":            "server.addr",
	"data":            "storage.data_dir",
	"log-level":       "log.level",
	"upstream":        "gateway.upstream",
	"listen":          "gateway.addr",
	"tls-cert":        "gateway.tls_cert",
	"tls-key":         "gateway.tls_key",
	"trusted-proxies": "gateway.trusted_proxies",
	"health-path":     "gateway.health_path",
	"policy":          "gateway.policy_file",
	"admin":           "gateway.admin_addr",
}

// load reads the configuration for cmd: defaults, file, environment, flags.
func (g *globals) load(env *Env, cmd *cobra.Command) (config.Config, error) {
	file := g.configFile
	if file == "" {
		file = config.FileFromEnv(env.Environ)
	}
	return config.Load(config.Options{File: file, Env: env.Environ, Flags: cmd.Flags(), FlagKeys: flagKeys})
}

func logger(env *Env, cfg config.Config) *slog.Logger {
	return telemetry.NewLogger(env.Stderr, cfg.Log.Format, cfg.SlogLevel())
}
