package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/ml/metrics"
	"github.com/shopguard/shopguard/internal/ml/text"
)

// Targets of the message evaluation (issue 8, phishing): stratified 5-fold
// cross-validation on the SMS Spam Collection.
const (
	messagesTargetAccuracy = 0.990
	messagesTargetMCC      = 0.955
)

// messageFeatures are the message model's n-grams: words and word pairs,
// characters 1..5.
var messageFeatures = text.Features{CharMin: 1, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20}

func newEvalMessages(env *Env) *cobra.Command {
	var (
		data      string
		folds     int
		seed      uint64
		posWeight float64
		epochs    int
		rate      float64
		foldsOut  string
		nested    bool
		prSVG     string
	)
	cmd := &cobra.Command{
		Use:   "messages --data FILE [--folds 5] [--seed 1]",
		Short: "Measure the message classifier (spam, phishing text) on the SMS Spam Collection",
		Long: `eval messages measures the text classifier of internal/ml/text (hashed word
1-2-grams and character 1-5-grams, logistic regression trained by AdaGrad) on
the SMS Spam Collection (Almeida et al., DocEng 2011; --data is the
tab-separated file "label<TAB>text", e.g. ../shared/data/messages/SMSSpamCollection).
It prints stratified k-fold cross-validation (accuracy, precision, recall,
F1 and MCC of spam as the positive class, per fold and pooled; ROC AUC and
average precision; with --pr-svg the precision-recall curve as an SVG image), the paper's
split (the first 30 % of the file trains, the rest tests), and training and
classification throughput.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if data == "" {
				return usageError{errors.New("--data FILE is required: the SMS Spam Collection (../shared/data/messages/SMSSpamCollection)")}
			}
			if folds < 2 || folds > 20 {
				return usageError{fmt.Errorf("--folds %d: use 2..20", folds)}
			}
			texts, labels, err := loadSMS(data)
			if err != nil {
				return fmt.Errorf("--data %s: %w", data, err)
			}
			cfg := messageTrainConfig(seed)
			cfg.PositiveWeight, cfg.Epochs, cfg.Rate = posWeight, epochs, rate
			if err := writeFolds(foldsOut, text.Folds(labels, folds, seed)); err != nil {
				return err
			}
			res, err := text.CrossValidate(messageFeatures, texts, labels, folds, seed, cfg)
			if err != nil {
				return err
			}
			var spam int
			for _, l := range labels {
				if l {
					spam++
				}
			}
			out := env.Stdout
			fmt.Fprintf(out, "SMS Spam Collection: %d messages, %d spam. Model: %s.\n\n", len(texts), spam, describeFeatures(messageFeatures))
			fmt.Fprintf(out, "Stratified %d-fold cross-validation (seed %d):\n\n", folds, seed)
			fmt.Fprintf(out, "%-8s %9s %10s %8s %8s %8s\n", "fold", "accuracy", "precision", "recall", "F1", "MCC")
			for i, c := range res.Folds {
				printConfusion(out, fmt.Sprint(i+1), c)
			}
			printConfusion(out, "pooled", res.Pooled)
			auc, err := metrics.AUC(res.Scores, labels)
			if err != nil {
				return err
			}
			ap, err := metrics.AveragePrecision(res.Scores, labels)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\nROC AUC %.4f, average precision %.4f.\n", auc, ap)
			if prSVG != "" {
				pts, err := metrics.PR(res.Scores, labels)
				if err != nil {
					return err
				}
				if err := writePRSVG(prSVG, "SMS spam: precision-recall, pooled folds", []metrics.PRCurve{
					{Name: fmt.Sprintf("message model (AP %.3f)", ap), Points: pts}}); err != nil {
					return err
				}
				fmt.Fprintf(out, "Precision-recall curve written to %s.\n", prSVG)
			}
			// The paper's split: the first 30 % trains.
			cut := len(texts) * 3 / 10
			start := time.Now()
			m, err := text.Train(messageFeatures, texts[:cut], labels[:cut], cfg)
			if err != nil {
				return err
			}
			trained := time.Since(start)
			var split text.Confusion
			for i := cut; i < len(texts); i++ {
				split.Add(m.Score(texts[i]) >= 0.5, labels[i])
			}
			fmt.Fprintf(out, "\nThe paper's split (first 30 %% trains: %d messages; %d test):\n\n", cut, len(texts)-cut)
			fmt.Fprintf(out, "%-8s %9s %10s %8s %8s %8s\n", "", "accuracy", "precision", "recall", "F1", "MCC")
			printConfusion(out, "30/70", split)
			perCore := float64(res.Classified) / res.ClassifyTime.Seconds()
			fmt.Fprintf(out, "\nThroughput on one core: classification %.0f messages/s (hashing included); training %.0f messages/s (%d epochs; the 30 %% split trained in %s).\n",
				perCore, float64(res.Classified*(folds-1))/res.TrainTime.Seconds(), epochs, trained.Round(time.Millisecond))
			verdict := "met"
			if res.Pooled.Accuracy() < messagesTargetAccuracy || res.Pooled.MCC() < messagesTargetMCC {
				verdict = "not met"
			}
			if nested {
				var grid []text.TrainConfig
				for _, r := range []float64{0.1, 0.2, 0.5} {
					for _, w := range []float64{1, 3} {
						g := cfg
						g.Rate, g.PositiveWeight = r, w
						grid = append(grid, g)
					}
				}
				nres, err := text.CrossValidateNested(messageFeatures, texts, labels, folds, 3, seed, grid)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "\nNested: each outer fold chooses step (0.1, 0.2, 0.5) and spam weight (1, 3) by 3-fold cross-validation on its training part only:\n\n")
				fmt.Fprintf(out, "%-8s %9s %10s %8s %8s %8s   %s\n", "fold", "accuracy", "precision", "recall", "F1", "MCC", "chosen")
				for i, c := range nres.Folds {
					fmt.Fprintf(out, "%-8s %8.2f%% %9.2f%% %7.2f%% %8.4f %8.4f   step %.1f, spam weight %.0f\n", fmt.Sprint(i+1), 100*c.Accuracy(), 100*c.Precision(),
						100*c.Recall(), c.F1(), c.MCC(), nres.Chosen[i].Rate, nres.Chosen[i].PositiveWeight)
				}
				printConfusion(out, "pooled", nres.Pooled)
			}
			fmt.Fprintf(out, "Target (pooled %d-fold accuracy >= %.1f %% and MCC >= %.3f; scikit-learn TF-IDF + LinearSVC: 98.76 %%, 0.946): %s.\n",
				folds, 100*messagesTargetAccuracy, messagesTargetMCC, verdict)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "the SMS Spam Collection file, label<TAB>text per line (required)")
	f.IntVar(&folds, "folds", 5, "cross-validation folds (2..20)")
	f.Uint64Var(&seed, "seed", 1, "seed of the folds and of training's example order")
	def := messageTrainConfig(0)
	f.Float64Var(&posWeight, "spam-weight", def.PositiveWeight, "weight of a spam example in training (spam is the rarer class)")
	f.IntVar(&epochs, "epochs", def.Epochs, "training epochs")
	f.Float64Var(&rate, "rate", def.Rate, "AdaGrad's step")
	f.StringVar(&prSVG, "pr-svg", "", "write the precision-recall curve to this SVG file")
	f.BoolVar(&nested, "nested", false, "also run nested cross-validation: settings chosen on training folds only")
	f.StringVar(&foldsOut, "folds-out", "", "write each message's fold (0-based, one per line, in file order) to this file, for baselines on the same folds")
	return cmd
}

// writePRSVG writes precision-recall curves to an SVG file.
func writePRSVG(path, title string, curves []metrics.PRCurve) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--pr-svg: %w", err)
	}
	err = metrics.WritePRSVG(f, title, curves)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--pr-svg: %w", err)
	}
	return nil
}

// writeFolds writes each record's fold, one per line in the data's order,
// so that a baseline (bench/sklearn) can cross-validate on the same folds.
// An empty path writes nothing.
func writeFolds(path string, fold []int) error {
	if path == "" {
		return nil
	}
	var b strings.Builder
	for _, f := range fold {
		b.WriteString(strconv.Itoa(f))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("--folds-out: %w", err)
	}
	return nil
}

// messageTrainConfig is how the message model trains (eval messages
// measures it, train messages uses it).
func messageTrainConfig(seed uint64) text.TrainConfig {
	return text.TrainConfig{Seed: seed, PositiveWeight: 3, Epochs: 20, Rate: 0.2}
}

// printConfusion prints one row of metrics.
func printConfusion(out io.Writer, name string, c text.Confusion) {
	fmt.Fprintf(out, "%-8s %8.2f%% %9.2f%% %7.2f%% %8.4f %8.4f\n", name, 100*c.Accuracy(), 100*c.Precision(), 100*c.Recall(), c.F1(), c.MCC())
}

// describeFeatures says which n-grams a model uses.
func describeFeatures(f text.Features) string {
	return fmt.Sprintf("word %d-%d-grams and character %d-%d-grams hashed into 2^%d, logistic regression (AdaGrad)", f.WordMin, f.WordMax, f.CharMin, f.CharMax, f.Bits)
}

// loadSMS reads the SMS Spam Collection: "ham" or "spam" (or "phishing",
// which counts as spam), a tab, the text.
func loadSMS(path string) ([]string, []bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	var texts []string
	var labels []bool
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		label, msg, ok := strings.Cut(sc.Text(), "\t")
		if !ok || (label != "ham" && label != "spam" && label != "phishing") {
			return nil, nil, fmt.Errorf("line %d: want ham, spam or phishing, a tab and the text", n)
		}
		texts, labels = append(texts, msg), append(labels, label != "ham")
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(texts) < 10 {
		return nil, nil, fmt.Errorf("only %d messages", len(texts))
	}
	return texts, labels, nil
}
