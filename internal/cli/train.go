package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/fraud/offline"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

func newTrain(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "train", Short: "Train models on the labelled decisions in the data directory"}
	var (
		tenant  string
		days    int
		promote bool
		params  = app.TrainParams()
	)
	fraudCmd := &cobra.Command{
		Use:   "fraud --tenant T [--days 90] [--promote]",
		Short: "Train the transaction model on a tenant's stored decisions and labels",
		Long: `train fraud reads the tenant's stored transaction decisions of the last --days
(the features each decision saw, and the labels given since: fraud, chargeback and
account takeover are positives), trains a gradient-boosted model, tests it on the
newest quarter and saves it as a new version (under the data directory, in
models.dir, or with storage.driver postgres in the database). With
--promote it becomes the champion that scores live (a running shopguard picks it
up within 15 seconds); otherwise promote it later with 'shopguard models promote'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !apikey.ValidTenant(tenant) {
				return usageError{fmt.Errorf("--tenant %q must be 1-64 characters of a-z, 0-9, '-' and '_'", tenant)}
			}
			if days < 1 || days > 3650 {
				return usageError{fmt.Errorf("--days %d outside 1..3650", days)}
			}
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st storage.Backend) error {
				to := time.Now()
				progress, done := treeProgress(env.Stderr, params.Trees)
				m, rep, err := offline.TrainFromEvents(ctx, st, tenant, to.AddDate(0, 0, -days), to, 0.25, params, nil, progress)
				done()
				if err != nil {
					return err
				}
				reg := modelRegistry(cfg, st)
				version := app.NewVersion(risk.EventTransaction, to)
				path, err := reg.Save(tenant, risk.EventTransaction, version, m)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "version\t%s\nsaved to\t%s\nevents\t%d (%d labelled fraud)\ntrained on\t%d (newest %d held out)\ntrees\t%d\ntest ROC AUC\t%.3f\ntest average precision\t%.3f\ntraining time\t%s\n",
					version, path, rep.Events, rep.Positives, rep.TrainRows, rep.TestRows, rep.Trees, rep.AUC, rep.AP, rep.TrainTime.Round(time.Millisecond))
				if err := tw.Flush(); err != nil {
					return err
				}
				if promote {
					if err := reg.Promote(tenant, risk.EventTransaction, version); err != nil {
						return err
					}
					fmt.Fprintf(env.Stdout, "promoted %s: it scores %s's transactions from now on\n", version, tenant)
					announceModels(ctx, env, st, tenant)
				}
				return nil
			})
		},
	}
	f := fraudCmd.Flags()
	f.StringVar(&tenant, "tenant", "", "tenant whose decisions to learn from (required)")
	f.IntVar(&days, "days", 90, "learn from the decisions of the last this many days")
	f.BoolVar(&promote, "promote", false, "make the new model the champion at once")
	f.IntVar(&params.Trees, "trees", params.Trees, "most trees (early stopping on the newest part of the training data)")
	f.Float64Var(&params.LearningRate, "learning-rate", params.LearningRate, "shrinkage")
	f.Uint64Var(&params.Seed, "seed", params.Seed, "seed")
	_ = fraudCmd.MarkFlagRequired("tenant")
	cmd.AddCommand(fraudCmd, newTrainURLs(env, g), newTrainMessages(env, g), newTrainContent(env, g), newTrainTraffic(env))
	return cmd
}

func newModels(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "models", Short: "List, challenge, compare and promote trained models"}
	var tenant string
	list := &cobra.Command{
		Use:   "list --tenant T",
		Short: "List a tenant's transaction model versions and the champion",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withModels(env, g, cmd, "", func(_ context.Context, reg app.ModelRegistry) error {
				vs, err := reg.Versions(tenant, risk.EventTransaction)
				if err != nil {
					return err
				}
				champ, err := reg.Champion(tenant, risk.EventTransaction)
				if err != nil {
					return err
				}
				for _, v := range vs {
					mark := ""
					if v == champ {
						mark = "  (champion)"
					}
					fmt.Fprintln(env.Stdout, v+mark)
				}
				return nil
			})
		},
	}
	promote := &cobra.Command{
		Use:   "promote --tenant T VERSION",
		Short: "Make a model version the champion (checked to load first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withModels(env, g, cmd, tenant, func(_ context.Context, reg app.ModelRegistry) error {
				if err := reg.Promote(tenant, risk.EventTransaction, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "promoted %s\n", args[0])
				return nil
			})
		},
	}
	challenge := &cobra.Command{
		Use:   "challenge --tenant T VERSION|--stop",
		Short: "Let a model version score in shadow beside the champion (checked to load first)",
		Args:  cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stop, _ := cmd.Flags().GetBool("stop")
			if stop == (len(args) == 1) {
				return usageError{errors.New("name a VERSION or give --stop")}
			}
			version := ""
			if !stop {
				version = args[0]
			}
			return withModels(env, g, cmd, tenant, func(_ context.Context, reg app.ModelRegistry) error {
				if err := reg.Challenge(tenant, risk.EventTransaction, version); err != nil {
					return err
				}
				if stop {
					fmt.Fprintln(env.Stdout, "challenger stopped")
				} else {
					fmt.Fprintf(env.Stdout, "%s scores in shadow from now on; compare it with 'shopguard models compare'\n", version)
				}
				return nil
			})
		},
	}
	challenge.Flags().Bool("stop", false, "stop the challenger")
	var days int
	compare := &cobra.Command{
		Use:   "compare --tenant T [--days 30]",
		Short: "Compare the champion and the challenger on the labelled decisions both scored",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st storage.Backend) error {
				ch, err := modelRegistry(cfg, st).Challenger(tenant, risk.EventTransaction)
				if err != nil {
					return err
				}
				if ch == "" {
					return errors.New("no challenger: start one with 'shopguard models challenge'")
				}
				to := time.Now()
				c, err := offline.CompareModels(ctx, st, tenant, ch, to.AddDate(0, 0, -days), to)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintf(tw, "model\tversion\tROC AUC\taverage precision\t\n")
				fmt.Fprintf(tw, "champion\t%s\t%.3f\t%.3f\t\n", c.Champion, c.ChampionAUC, c.ChampionAP)
				fmt.Fprintf(tw, "challenger\t%s\t%.3f\t%.3f\t\n", c.Challenger, c.ChallengerAUC, c.ChallengerAP)
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "on %d decisions both scored, %d labelled fraud\n", c.Events, c.Positives)
				return nil
			})
		},
	}
	compare.Flags().IntVar(&days, "days", 30, "compare on the decisions of the last this many days")
	for _, c := range []*cobra.Command{list, promote, challenge, compare} {
		c.Flags().StringVar(&tenant, "tenant", "", "tenant (required)")
		_ = c.MarkFlagRequired("tenant")
	}
	cmd.AddCommand(list, promote, challenge, compare, newCompareContent(env, g))
	return cmd
}

// modelRegistry is the registry cfg names (models.dir, else the database
// st when it keeps models, else under storage.data_dir); with none, a
// registry under the default data directory, so that a command run without
// configuration still finds the models a default serve uses.
func modelRegistry(cfg config.Config, st storage.Backend) app.ModelRegistry {
	if reg, ok := app.Models(cfg, st); ok {
		return reg
	}
	return app.NewModelRegistry(cfg.Storage.DataDir)
}

// withModels runs fn with the model registry cfg names, opening the
// storage when the models live there (PostgreSQL). With announce set (a
// tenant), running instances sharing that storage are then told its models
// changed, so that they load them at once rather than at their next poll.
func withModels(env *Env, g *globals, cmd *cobra.Command, announce string, fn func(context.Context, app.ModelRegistry) error) error {
	cfg, err := g.load(env, cmd)
	if err != nil {
		return err
	}
	if !app.ModelsInStorage(cfg) {
		return fn(cmd.Context(), modelRegistry(cfg, nil))
	}
	return withStorage(env, g, cmd, func(ctx context.Context, st storage.Backend) error {
		if err := fn(ctx, modelRegistry(cfg, st)); err != nil {
			return err
		}
		if announce != "" {
			announceModels(ctx, env, st, announce)
		}
		return nil
	})
}

// announceModels tells the running instances sharing st (when it can)
// that tenant's models changed.
func announceModels(ctx context.Context, env *Env, st storage.Backend, tenant string) {
	an, ok := st.(interface {
		Announce(ctx context.Context, topic, tenant string) error
	})
	if !ok {
		return
	}
	if err := an.Announce(ctx, storage.ChangeModels, tenant); err != nil {
		fmt.Fprintf(env.Stderr, "running instances were not told (%v): they load the change within 15 seconds\n", err)
	}
}
