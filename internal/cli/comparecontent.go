package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/ml/metrics"
	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// newCompareContent is `shopguard models compare-content`: the content
// model in use against the shadow model, on the posts both scored that
// moderators have labelled since.
func newCompareContent(env *Env, g *globals) *cobra.Command {
	var (
		taskName string
		days     int
	)
	cmd := &cobra.Command{
		Use:   "compare-content --task spam|fake_review|abuse [--days 30]",
		Short: "Compare a content text model with its shadow on the posts both scored that moderators labelled",
		Long: `compare-content reads every tenant's posts (POST /v1/content) of the last --days days
that both the task's model in use and its shadow model scored (a shadow model is saved
with 'shopguard train content --shadow'; every post records its probability next to the
live one) and whose latest moderator's label counts for the task (spam, abuse, or fraud
for fake_review, against legit or false_positive). It prints, for each model, its version,
ROC AUC, average precision and the accuracy, precision and recall at probability 0.5.
Promote the shadow by training without --shadow (or copying its file over the live one).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			task, err := content.ParseTask(taskName)
			if err != nil {
				return usageError{err}
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st contentLabelStore) error {
				c, err := compareShadow(ctx, st, task, time.Now().AddDate(0, 0, -days))
				if err != nil {
					return err
				}
				if c.posts == 0 {
					return fmt.Errorf("no labelled %s posts scored by both a live and a shadow model in the last %d days", task, days)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintf(tw, "model\tversion\tROC AUC\taverage precision\taccuracy\tprecision\trecall\t\n")
				for i, side := range []string{"live", "shadow"} {
					auc, _ := metrics.AUC(c.scores[i], c.labels)
					ap, _ := metrics.AveragePrecision(c.scores[i], c.labels)
					var cf text.Confusion
					for k, s := range c.scores[i] {
						cf.Add(s >= 0.5, c.labels[k])
					}
					fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.2f %%\t%.2f %%\t%.2f %%\t\n", side, c.versions[i], auc, ap,
						100*cf.Accuracy(), 100*cf.Precision(), 100*cf.Recall())
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				_, err = fmt.Fprintf(env.Stdout, "on %d labelled posts both scored (%d positive for %s)\n", c.posts, countTrue(c.labels), task)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&taskName, "task", "", "the task whose models to compare: spam, fake_review or abuse (required)")
	cmd.Flags().IntVar(&days, "days", 30, "compare on the posts of the last this many days")
	_ = cmd.MarkFlagRequired("task")
	return cmd
}

// shadowComparison holds the live (0) and shadow (1) probabilities of
// the posts both scored, and the moderators' verdicts.
type shadowComparison struct {
	posts    int
	scores   [2][]float64
	labels   []bool
	versions [2]string // the latest seen
}

// compareShadow collects the labelled content events since from whose
// stored environment both the live and the shadow model of t scored.
func compareShadow(ctx context.Context, st contentLabelStore, t content.Task, since time.Time) (shadowComparison, error) {
	type eventKey struct{ tenant, id string }
	latest := map[eventKey]risk.Label{}
	if err := st.LabelsAfter(ctx, 0, func(l *storage.Label) error {
		latest[eventKey{l.Tenant, l.EventID}] = l.Label // in the order added: the last wins
		return nil
	}); err != nil {
		return shadowComparison{}, fmt.Errorf("labels: %w", err)
	}
	var c shadowComparison
	err := st.EventsAfter(ctx, 0, func(e *storage.Event) error {
		if e.Kind != risk.EventContent || e.OccurredAt.Before(since) {
			return nil
		}
		l, ok := latest[eventKey{e.Tenant, e.ID}]
		if !ok {
			return nil
		}
		positive, counts := contentTaskLabel(t, l)
		if !counts {
			return nil
		}
		env := content.NewEnv()
		if err := json.Unmarshal(e.Env, env); err != nil {
			return fmt.Errorf("event %s: stored environment: %w", e.ID, err)
		}
		if env.Shadow == nil {
			return nil
		}
		live, lv := env.TextModels.Task(t)
		shadow, sv := env.Shadow.Task(t)
		if lv == "" || sv == "" {
			return nil
		}
		c.posts++
		c.scores[0], c.scores[1] = append(c.scores[0], live/100), append(c.scores[1], shadow/100)
		c.labels = append(c.labels, positive)
		c.versions = [2]string{lv, sv}
		return nil
	})
	if err != nil {
		return shadowComparison{}, err
	}
	return c, nil
}
