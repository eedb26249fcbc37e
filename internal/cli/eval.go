package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/fraud/offline"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
)

func newEval(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "eval", Short: "Evaluate shopguard's models on labelled data"}
	var (
		input, colMap, inputs, trainFrom, save, export string
		given                                          []string
		trainDays, delayDays, testDays, topK           int
		params                                         = gbdt.Params{Trees: 1000, LearningRate: 0.05, PositiveWeight: 5, EarlyStopping: 50,
			MaxLeaves: 31, Subsample: 0.8, ColSample: 0.8, Seed: 1}
	)
	fraud := &cobra.Command{
		Use:   "fraud --input DIR|FILE... [--map ...]",
		Short: "Replay labelled transactions through the feature store, train on one period and test on a later one",
		Long: `eval fraud reads labelled transactions (CSV, optionally gzip), replays them in
time order through shopguard's streaming feature store with each label revealed
--delay-days after its transaction, trains the gradient-boosted model on the
training days and tests it on the test days with the Fraud Detection Handbook's
protocol (customers with a known fraud are left out of later test days; card
precision@K counts a caught customer once). It prints ROC AUC, average
precision and card precision@K, per day and overall.

With --inputs given (or both) the model uses the data set's own precomputed
feature columns (--given; by default the handbook's 15), for comparisons.
With --inputs live it uses the live transaction model's inputs, computed by the
code live decisions run (customer as the user, terminal as the merchant, fraud
labels counted per entity when revealed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cols, err := offline.ParseColumnMap(colMap)
			if err != nil {
				return usageError{err}
			}
			p := offline.HandbookProtocol()
			switch inputs {
			case "streaming":
			case "given":
				p.Inputs = offline.InputsGiven
			case "both":
				p.Inputs = offline.InputsBoth
			case "live":
				p.Inputs = offline.InputsLive
			default:
				return usageError{fmt.Errorf("--inputs %q: use streaming, given, both or live", inputs)}
			}
			if p.Inputs == offline.InputsGiven || p.Inputs == offline.InputsBoth {
				cols.Given = given
			}
			if p.TrainFrom, err = time.Parse(time.DateOnly, trainFrom); err != nil {
				return usageError{fmt.Errorf("--train-from %q: want a date such as 2018-07-25", trainFrom)}
			}
			p.TrainDays, p.DelayDays, p.TestDays, p.TopK = trainDays, delayDays, testDays, topK
			if export != "" {
				f, err := os.Create(export)
				if err != nil {
					return err
				}
				defer f.Close()
				p.Export = f
			}
			paths, err := inputFiles(input)
			if err != nil {
				return usageError{err}
			}
			txs, err := offline.LoadCSV(paths, cols)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "loaded %d transactions from %d files\n", len(txs), len(paths))
			progress, done := treeProgress(env.Stderr, params.Trees)
			res, model, err := offline.Evaluate(cmd.Context(), txs, p, params, progress)
			done()
			if err != nil {
				return err
			}
			out := env.Stdout
			fmt.Fprintf(out, "train %s..%s: %d transactions, %d frauds; test after a %d-day delay: %d transactions, %d frauds\n",
				p.TrainFrom.Format(time.DateOnly), p.TrainFrom.AddDate(0, 0, p.TrainDays-1).Format(time.DateOnly),
				res.TrainRows, res.TrainFrauds, p.DelayDays, res.TestRows, res.TestFrauds)
			fmt.Fprintf(out, "model: %d trees (inputs: %s); replay %s, training %s, prediction %s per row\n\n",
				res.Trees, inputs, res.ReplayTime.Round(time.Millisecond), res.TrainTime.Round(time.Millisecond), res.PredictPerRow)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "day\ttransactions\tfrauds\tcard precision@%d\t\n", p.TopK)
			for _, d := range res.Days {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t\n", d.Day.Format(time.DateOnly), d.Rows, d.Frauds, d.CardPrecision)
			}
			tw.Flush()
			fmt.Fprintf(out, "\nROC AUC %.3f   average precision %.3f   card precision@%d %.3f\n", res.AUC, res.AP, p.TopK, res.CardPrecision)
			if save != "" {
				f, err := os.Create(save)
				if err != nil {
					return err
				}
				if _, err := model.WriteTo(f); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "model written to %s\n", save)
			}
			return nil
		},
	}
	f := fraud.Flags()
	f.StringVar(&input, "input", "", "a directory of .csv/.csv.gz files, or a comma-separated list of files (required)")
	f.StringVar(&colMap, "map", "", "column mapping, e.g. id=TRANSACTION_ID,time=TX_DATETIME,user=CUSTOMER_ID,merchant=TERMINAL_ID,amount=TX_AMOUNT,label=TX_FRAUD (the default)")
	f.StringVar(&inputs, "inputs", "streaming", "model features: streaming (shopguard's own, from the raw columns), given (the data set's --given columns), both, or live (the live transaction model's inputs, computed by the live decision code)")
	f.StringSliceVar(&given, "given", offline.HandbookFeatures, "precomputed feature columns for --inputs given|both")
	f.StringVar(&trainFrom, "train-from", "2018-07-25", "first training day (UTC)")
	f.IntVar(&trainDays, "train-days", 7, "training days")
	f.IntVar(&delayDays, "delay-days", 7, "days between training and test; also how late labels become known")
	f.IntVar(&testDays, "test-days", 7, "test days")
	f.IntVar(&topK, "top-k", 100, "customers checked per day for card precision@K")
	f.IntVar(&params.Trees, "trees", params.Trees, "most trees (early stopping on a held-out 15% of the training rows)")
	f.Float64Var(&params.LearningRate, "learning-rate", params.LearningRate, "shrinkage")
	f.IntVar(&params.MaxLeaves, "max-leaves", params.MaxLeaves, "leaves per tree")
	f.Float64Var(&params.PositiveWeight, "positive-weight", params.PositiveWeight, "weight of fraud rows (0: negatives/positives)")
	f.Uint64Var(&params.Seed, "seed", params.Seed, "seed")
	f.StringVar(&save, "save-model", "", "write the trained model to this file")
	f.StringVar(&export, "export-features", "", "write the training and test rows (split, day, customer, label, features) as CSV, for baselines")
	_ = fraud.MarkFlagRequired("input")
	cmd.AddCommand(fraud, newEvalAccount(env), newEvalKeystroke(env), newEvalMessages(env), newEvalURLs(env), newEvalContent(env), newEvalTraffic(env), newEvalIntents(env))
	return cmd
}

// inputFiles expands --input: a directory's CSV files in name order, or a
// comma-separated list.
func inputFiles(input string) ([]string, error) {
	if st, err := os.Stat(input); err == nil && st.IsDir() {
		var paths []string
		for _, pat := range []string{"*.csv", "*.csv.gz"} {
			m, _ := filepath.Glob(filepath.Join(input, pat))
			paths = append(paths, m...)
		}
		sort.Strings(paths)
		if len(paths) == 0 {
			return nil, fmt.Errorf("--input %s: no .csv or .csv.gz files", input)
		}
		return paths, nil
	}
	var paths []string
	for _, p := range strings.Split(input, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("--input: name a directory or files")
	}
	return paths, nil
}
