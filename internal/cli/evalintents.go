package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/assistant"
)

func newEvalIntents(env *Env) *cobra.Command {
	var testFile, trainFile string
	cmd := &cobra.Command{
		Use:   "intents --test FILE [--train FILE]",
		Short: "Measure the support assistant's intent classifier on a held-out set",
		Long: `eval intents trains the assistant's intent classifier (one logistic regression
per intent over character 2-5-grams and word 1-2-grams, internal/ml/text) on
--train (default: the built-in set, internal/assistant/intents/train.tsv) and
measures it on --test ("intent<TAB>utterance" lines, e.g.
internal/assistant/testdata/intents_test.tsv, which training never sees).
It prints top-1 accuracy, macro-averaged F1, precision and recall per intent,
the most frequent confusions, how many utterances the assistant answers
without a clarifying question and how many of those are right, and the
training time and classification throughput. Utterances that appear in both
sets are refused.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if testFile == "" {
				return usageError{errors.New("--test FILE is required (internal/assistant/testdata/intents_test.tsv)")}
			}
			test, err := readIntentFile(testFile)
			if err != nil {
				return fmt.Errorf("--test %s: %w", testFile, err)
			}
			train, err := assistant.TrainingExamples()
			if trainFile != "" {
				train, err = readIntentFile(trainFile)
			}
			if err != nil {
				return fmt.Errorf("--train: %w", err)
			}
			seen := map[string]bool{}
			for _, e := range train {
				seen[e.Text] = true
			}
			for _, e := range test {
				if seen[e.Text] {
					return fmt.Errorf("--test: %q is also a training utterance", e.Text)
				}
			}
			start := time.Now()
			c, err := assistant.TrainClassifier(train)
			if err != nil {
				return err
			}
			trained := time.Since(start)
			start = time.Now()
			preds := make([][]assistant.Scored, len(test))
			for i, e := range test {
				preds[i] = c.Classify(e.Text)
			}
			elapsed := time.Since(start)
			writeIntentReport(env.Stdout, train, test, preds, trained, elapsed)
			return nil
		},
	}
	cmd.Flags().StringVar(&testFile, "test", "", "held-out utterances, intent<TAB>utterance")
	cmd.Flags().StringVar(&trainFile, "train", "", "training utterances (default: the built-in set)")
	return cmd
}

func readIntentFile(path string) ([]assistant.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := assistant.ReadExamples(f)
	if err == nil && len(ex) == 0 {
		err = errors.New("no utterances")
	}
	return ex, err
}

// writeIntentReport prints the measurements of preds against test.
func writeIntentReport(w io.Writer, train, test []assistant.Example, preds [][]assistant.Scored, trained, elapsed time.Duration) {
	type counts struct{ tp, fp, fn int }
	per := map[string]*counts{}
	for _, in := range assistant.Intents {
		per[in] = &counts{}
	}
	confusions := map[[2]string]int{}
	var right, sure, sureRight int
	for i, e := range test {
		got := preds[i][0].Intent
		if got == e.Intent {
			right++
			per[got].tp++
		} else {
			per[got].fp++
			per[e.Intent].fn++
			confusions[[2]string{e.Intent, got}]++
		}
		if assistant.Sure(preds[i]) {
			sure++
			if got == e.Intent {
				sureRight++
			}
		}
	}
	fmt.Fprintf(w, "intent classifier: trained on %d utterances in %s, tested on %d held-out ones\n", len(train), trained.Round(time.Millisecond), len(test))
	fmt.Fprintf(w, "top-1 accuracy      %.4f (%d of %d)\n", float64(right)/float64(len(test)), right, len(test))
	var f1sum float64
	fmt.Fprintf(w, "\n%-18s %9s %9s %9s %7s\n", "intent", "precision", "recall", "F1", "test n")
	for _, in := range assistant.Intents {
		c := per[in]
		p := ratioOf(c.tp, c.tp+c.fp)
		r := ratioOf(c.tp, c.tp+c.fn)
		f1 := 0.0
		if p+r > 0 {
			f1 = 2 * p * r / (p + r)
		}
		f1sum += f1
		fmt.Fprintf(w, "%-18s %9.3f %9.3f %9.3f %7d\n", in, p, r, f1, c.tp+c.fn)
	}
	fmt.Fprintf(w, "macro F1            %.4f\n", f1sum/float64(len(assistant.Intents)))
	fmt.Fprintf(w, "answered without asking: %.1f %% of utterances, %.1f %% of those right; asked (a choice of the 3 likeliest): %.1f %%\n",
		100*ratioOf(sure, len(test)), 100*ratioOf(sureRight, sure), 100*ratioOf(len(test)-sure, len(test)))
	type pair struct {
		k [2]string
		n int
	}
	var pairs []pair
	for k, n := range confusions {
		pairs = append(pairs, pair{k, n})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].n != pairs[j].n {
			return pairs[i].n > pairs[j].n
		}
		return slices.Compare(pairs[i].k[:], pairs[j].k[:]) < 0
	})
	fmt.Fprintln(w, "\nconfusions (true -> predicted):")
	for _, p := range pairs[:min(len(pairs), 10)] {
		fmt.Fprintf(w, "  %-18s -> %-18s %d\n", p.k[0], p.k[1], p.n)
	}
	fmt.Fprintf(w, "\nclassification: %.1f µs per utterance\n", float64(elapsed.Microseconds())/float64(len(test)))
}
