package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

func newTrainURLs(env *Env, g *globals) *cobra.Command {
	var (
		data    []string
		seed    uint64
		reports bool
	)
	cmd := &cobra.Command{
		Use:   "urls --input FILE [--input FILE...]",
		Short: "Train the learned URL model of /v1/urls/check on labelled links",
		Long: `train urls trains the learned URL model (four hashed n-gram views of the link
stacked under gradient-boosted trees with lexical features) on labelled links:
CSV files with a header naming a "url" column and a label column ("status",
"label", "class" or "type": phishing or legitimate, 1 or 0), such as
Hannousse & Yahiouche's data set, and with --reports the reviewed phishing
reports of every tenant (links staff confirmed as phishing, or as legitimate;
POST /v1/phishing/reports/{id}/review) from the data directory. It saves the
model under the data directory (--data DIR; models/phishing/urls.model), where a running
shopguard picks it up within 15 seconds. Measure it first with 'shopguard eval
urls' on the same data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(data) == 0 && !reports {
				return usageError{errors.New("--input FILE or --reports is required: labelled links, CSV with url and status columns")}
			}
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			if cfg.Storage.DataDir == "" {
				return usageError{errors.New("no data directory to save the model in (--data DIR or storage.data_dir)")}
			}
			var urls []phishing.URL
			var labels []bool
			var skipped int
			for _, path := range data {
				raws, ls, err := readLabelledURLsFile(path)
				if err != nil {
					return fmt.Errorf("--input %s: %w", path, err)
				}
				for i, r := range raws {
					u, err := phishing.Parse(r)
					if err != nil {
						skipped++
						continue
					}
					urls, labels = append(urls, u), append(labels, ls[i])
				}
			}
			sources := data
			if reports {
				n := 0
				err := withStorage(env, g, cmd, func(ctx context.Context, st reviewedReports) error {
					return st.ReviewedPhishingReports(ctx, "", func(r *storage.PhishingReport) error {
						if r.Kind != storage.ReportKindURL {
							return nil
						}
						u, err := phishing.Parse(r.URL)
						if err != nil {
							skipped++
							return nil
						}
						urls, labels = append(urls, u), append(labels, r.Status == storage.ReportConfirmedPhishing)
						n++
						return nil
					})
				})
				if err != nil {
					return err
				}
				sources = append(sources, fmt.Sprintf("%d reviewed reports", n))
			}
			start := time.Now()
			m, err := phishing.TrainURLModel(cmd.Context(), urls, labels, phishing.URLTrainConfig{Seed: seed})
			if err != nil {
				return err
			}
			m.Info.Sources = sources
			path := app.URLModelPath(cfg.Storage.DataDir)
			if err := app.SaveModelFile(path, m); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "version\t%s\nfile\t%s\nlinks\t%d (%d phishing; %d not http(s) links skipped)\ntraining time\t%s\n",
				m.Version(), path, m.Info.Examples, m.Info.Phishing, skipped, time.Since(start).Round(time.Millisecond))
			return tw.Flush()
		},
	}
	cmd.Flags().StringArrayVar(&data, "input", nil, "labelled links, CSV with a url and a status column (repeatable)")
	cmd.Flags().BoolVar(&reports, "reports", false, "also learn from the reviewed phishing reports of every tenant")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of training")
	return cmd
}

// reviewedReports reads reviewed phishing reports (a storage backend).
type reviewedReports interface {
	ReviewedPhishingReports(ctx context.Context, tenant string, fn func(*storage.PhishingReport) error) error
}

func newTrainMessages(env *Env, g *globals) *cobra.Command {
	var (
		data    []string
		seed    uint64
		reports bool
	)
	cmd := &cobra.Command{
		Use:   "messages --input FILE [--input FILE...]",
		Short: "Train the message model of /v1/messages/check on labelled messages",
		Long: `train messages trains the message model (hashed word 1-2-grams and character
1-5-grams, logistic regression; the settings 'shopguard eval messages' measures)
on labelled messages: tab-separated files of "spam" or "ham", a tab and the
text, one message per line (the SMS Spam Collection's format; "phishing" counts
as spam), and with --reports the reviewed message reports of every tenant. It saves the model under the data directory (--data DIR;
models/phishing/messages.model), where a running shopguard picks it up within
15 seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(data) == 0 && !reports {
				return usageError{errors.New("--input FILE or --reports is required: labelled messages, label<TAB>text per line")}
			}
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			if cfg.Storage.DataDir == "" {
				return usageError{errors.New("no data directory to save the model in (--data DIR or storage.data_dir)")}
			}
			var texts []string
			var labels []bool
			for _, path := range data {
				ts, ls, err := loadSMS(path)
				if err != nil {
					return fmt.Errorf("--input %s: %w", path, err)
				}
				texts, labels = append(texts, ts...), append(labels, ls...)
			}
			if reports {
				err := withStorage(env, g, cmd, func(ctx context.Context, st reviewedReports) error {
					return st.ReviewedPhishingReports(ctx, "", func(r *storage.PhishingReport) error {
						if r.Kind == storage.ReportKindMessage {
							texts, labels = append(texts, r.Message), append(labels, r.Status == storage.ReportConfirmedPhishing)
						}
						return nil
					})
				})
				if err != nil {
					return err
				}
			}
			start := time.Now()
			m, err := text.Train(messageFeatures, texts, labels, messageTrainConfig(seed))
			if err != nil {
				return err
			}
			path := app.MessageModelPath(cfg.Storage.DataDir)
			if err := app.SaveModelFile(path, m); err != nil {
				return err
			}
			var spam int
			for _, l := range labels {
				if l {
					spam++
				}
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "file\t%s\nmessages\t%d (%d spam or phishing)\ntraining time\t%s\n", path, len(texts), spam, time.Since(start).Round(time.Millisecond))
			return tw.Flush()
		},
	}
	cmd.Flags().StringArrayVar(&data, "input", nil, "labelled messages, label<TAB>text per line (repeatable)")
	cmd.Flags().BoolVar(&reports, "reports", false, "also learn from the reviewed message reports of every tenant")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of training")
	return cmd
}
