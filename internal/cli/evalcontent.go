package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/ml/metrics"
	"github.com/shopguard/shopguard/internal/ml/text"
)

// Targets of the deceptive-review evaluation (issue 9, content): 5-fold
// cross-validation by the corpus's own folds.
const (
	reviewsTargetPositive = 0.91
	reviewsTargetNegative = 0.885
)

// reviewFeatures and reviewTrainConfig are the fake-review model's
// n-grams and training: characters 3..6 (they catch the word stems and
// the function-word patterns of written-to-order reviews), L2 1e-4.
var reviewFeatures = text.Features{CharMin: 3, CharMax: 6, Bits: 20}

func reviewTrainConfig(seed uint64) text.TrainConfig {
	return text.TrainConfig{Epochs: 20, Rate: 0.2, L2: 1e-4, Seed: seed}
}

// review is one review of the deceptive opinion spam corpus.
type review struct {
	text      string
	deceptive bool
	fold      int // 0..4, the corpus's own
}

func newEvalContent(env *Env) *cobra.Command {
	var (
		data, prSVG string
		seed        uint64
		nested      bool
	)
	cmd := &cobra.Command{
		Use:   "content --data DIR [--pr-svg FILE]",
		Short: "Measure the fake-review classifier on the deceptive opinion spam corpus (Ott et al.)",
		Long: `eval content measures the fake-review text model (hashed character 3-6-grams,
logistic regression) on the deceptive opinion spam corpus of Ott et al. (--data is
its directory, e.g. ../shared/data/reviews/op_spam_v1.4: positive_polarity and
negative_polarity, each with deceptive_from_MTurk and truthful_from_* holding
fold1..fold5 of text files). It cross-validates by the corpus's own five folds,
as the papers do, for each polarity, and prints accuracy, precision, recall, F1
and MCC (deceptive is the positive class) per fold and pooled, ROC AUC, and a
cross-domain check: trained on one polarity, tested on the other.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if data == "" {
				return usageError{errors.New("--data DIR is required: the deceptive opinion spam corpus (../shared/data/reviews/op_spam_v1.4)")}
			}
			out := env.Stdout
			sets := map[string][]review{}
			var curves []metrics.PRCurve
			for _, pol := range []string{"positive", "negative"} {
				rs, err := loadReviews(filepath.Join(data, pol+"_polarity"))
				if err != nil {
					return fmt.Errorf("--data %s: %w", data, err)
				}
				sets[pol] = rs
				res, scores, labels, err := crossValidateReviews(rs, seed)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s reviews: %d (%d deceptive), the corpus's 5 folds. Model: character 3-6-grams hashed into 2^20, logistic regression.\n\n",
					pol, len(rs), countTrue(labels))
				fmt.Fprintf(out, "%-8s %9s %10s %8s %8s %8s\n", "fold", "accuracy", "precision", "recall", "F1", "MCC")
				for i, c := range res {
					printConfusion(out, fmt.Sprint(i+1), c)
				}
				var pooled text.Confusion
				for _, c := range res {
					pooled.Merge(c)
				}
				printConfusion(out, "pooled", pooled)
				auc, err := metrics.AUC(scores, labels)
				if err != nil {
					return err
				}
				ap, err := metrics.AveragePrecision(scores, labels)
				if err != nil {
					return err
				}
				target, published := reviewsTargetPositive, "89.8 % (Ott et al. 2011)"
				if pol == "negative" {
					target, published = reviewsTargetNegative, "about 86 % (Ott et al. 2013)"
				}
				verdict := "met"
				if pooled.Accuracy() < target {
					verdict = "not met"
				}
				fmt.Fprintf(out, "ROC AUC %.4f, average precision %.4f. Target (pooled accuracy >= %.1f %%; published %s): %s.\n\n",
					auc, ap, 100*target, published, verdict)
				if nested {
					nres, chosen, err := nestedReviews(rs, seed)
					if err != nil {
						return err
					}
					var np text.Confusion
					for _, c := range nres {
						np.Merge(c)
					}
					fmt.Fprintf(out, "Nested: each outer fold chooses among %d settings by leave-one-fold-out on its four training folds:\n", len(reviewGrid))
					for i, c := range nres {
						fmt.Fprintf(out, "  fold %d: %.2f %% with %s\n", i+1, 100*c.Accuracy(), chosen[i])
					}
					printConfusion(out, "nested", np)
					fmt.Fprintln(out)
				}
				pts, err := metrics.PR(scores, labels)
				if err != nil {
					return err
				}
				curves = append(curves, metrics.PRCurve{Name: fmt.Sprintf("%s reviews (AP %.3f)", pol, ap), Points: pts})
			}
			fmt.Fprintf(out, "Cross-domain (trained on all reviews of one polarity, tested on the other's):\n\n")
			fmt.Fprintf(out, "%-20s %9s %10s %8s %8s %8s\n", "", "accuracy", "precision", "recall", "F1", "MCC")
			for _, pair := range [][2]string{{"positive", "negative"}, {"negative", "positive"}} {
				c, err := trainTestReviews(sets[pair[0]], sets[pair[1]], seed)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%-20s %8.2f%% %9.2f%% %7.2f%% %8.4f %8.4f\n", pair[0]+" -> "+pair[1], 100*c.Accuracy(), 100*c.Precision(),
					100*c.Recall(), c.F1(), c.MCC())
			}
			if prSVG != "" {
				if err := writePRSVG(prSVG, "deceptive reviews: precision-recall, pooled folds", curves); err != nil {
					return err
				}
				fmt.Fprintf(out, "\nPrecision-recall curves written to %s.\n", prSVG)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "the deceptive opinion spam corpus directory (required)")
	f.Uint64Var(&seed, "seed", 1, "seed of training's example order")
	f.StringVar(&prSVG, "pr-svg", "", "write the precision-recall curves to this SVG file")
	f.BoolVar(&nested, "nested", false, "also choose the n-grams and regularisation on training folds only (nested cross-validation)")
	return cmd
}

// reviewSetting is one candidate of the nested selection.
type reviewSetting struct {
	features text.Features
	l2       float64
}

func (r reviewSetting) String() string {
	f := r.features
	var parts []string
	if f.CharMax > 0 {
		parts = append(parts, fmt.Sprintf("characters %d-%d", f.CharMin, f.CharMax))
	}
	if f.WordMax > 0 {
		parts = append(parts, fmt.Sprintf("words %d-%d", f.WordMin, f.WordMax))
	}
	return fmt.Sprintf("%s, L2 %g", strings.Join(parts, " and "), r.l2)
}

// reviewGrid are the settings the nested selection chooses among: the
// variants tried when the default was picked.
var reviewGrid = func() []reviewSetting {
	var out []reviewSetting
	for _, f := range []text.Features{
		{WordMin: 1, WordMax: 2, Bits: 20}, {WordMin: 1, WordMax: 3, Bits: 20},
		{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20}, reviewFeatures,
	} {
		for _, l2 := range []float64{1e-6, 1e-4} {
			out = append(out, reviewSetting{features: f, l2: l2})
		}
	}
	return out
}()

// nestedReviews cross-validates by the corpus's folds, each outer fold
// choosing its setting by leave-one-fold-out over its four training
// folds (the test fold takes no part in the choice).
func nestedReviews(rs []review, seed uint64) ([]text.Confusion, []reviewSetting, error) {
	var out []text.Confusion
	var chosen []reviewSetting
	for fi := range 5 {
		best, bestAcc := 0, -1.0
		for gi, g := range reviewGrid {
			cfg := reviewTrainConfig(seed)
			cfg.L2 = g.l2
			var c text.Confusion
			for vi := range 5 {
				if vi == fi {
					continue
				}
				m, err := fitReviews(rs, func(r review) bool { return r.fold != fi && r.fold != vi }, g.features, cfg)
				if err != nil {
					return nil, nil, err
				}
				c.Merge(testReviews(m, rs, func(r review) bool { return r.fold == vi }))
			}
			if acc := c.Accuracy(); acc > bestAcc {
				best, bestAcc = gi, acc
			}
		}
		g := reviewGrid[best]
		cfg := reviewTrainConfig(seed)
		cfg.L2 = g.l2
		m, err := fitReviews(rs, func(r review) bool { return r.fold != fi }, g.features, cfg)
		if err != nil {
			return nil, nil, err
		}
		out, chosen = append(out, testReviews(m, rs, func(r review) bool { return r.fold == fi })), append(chosen, g)
	}
	return out, chosen, nil
}

// crossValidateReviews trains on four of the corpus's folds and tests
// the fifth, in turn; it returns each fold's confusion and every review's
// held-out score.
func crossValidateReviews(rs []review, seed uint64) ([]text.Confusion, []float64, []bool, error) {
	scores := make([]float64, len(rs))
	labels := make([]bool, len(rs))
	var out []text.Confusion
	for fi := range 5 {
		m, err := fitReviews(rs, func(r review) bool { return r.fold != fi }, reviewFeatures, reviewTrainConfig(seed))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("fold %d: %w", fi+1, err)
		}
		var c text.Confusion
		for i, r := range rs {
			if r.fold == fi {
				scores[i], labels[i] = m.Score(r.text), r.deceptive
				c.Add(scores[i] >= 0.5, r.deceptive)
			}
		}
		out = append(out, c)
	}
	return out, scores, labels, nil
}

// trainTestReviews trains on one set and tests on another.
func trainTestReviews(train, test []review, seed uint64) (text.Confusion, error) {
	all := func(review) bool { return true }
	m, err := fitReviews(train, all, reviewFeatures, reviewTrainConfig(seed))
	if err != nil {
		return text.Confusion{}, err
	}
	return testReviews(m, test, all), nil
}

// fitReviews trains a model with f and cfg on the reviews keep accepts.
func fitReviews(rs []review, keep func(review) bool, f text.Features, cfg text.TrainConfig) (*text.Model, error) {
	var tt []string
	var tl []bool
	for _, r := range rs {
		if keep(r) {
			tt, tl = append(tt, r.text), append(tl, r.deceptive)
		}
	}
	return text.Train(f, tt, tl, cfg)
}

// testReviews classifies the reviews keep accepts.
func testReviews(m *text.Model, rs []review, keep func(review) bool) text.Confusion {
	var c text.Confusion
	for _, r := range rs {
		if keep(r) {
			c.Add(m.Score(r.text) >= 0.5, r.deceptive)
		}
	}
	return c
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// maxReviewBytes bounds one review file.
const maxReviewBytes = 1 << 20

// loadReviews reads one polarity's directory: deceptive_* and truthful_*
// class directories, each with fold1..fold5 of text files.
func loadReviews(dir string) ([]review, error) {
	classes, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []review
	for _, cl := range classes {
		deceptive := strings.HasPrefix(cl.Name(), "deceptive")
		if !cl.IsDir() || (!deceptive && !strings.HasPrefix(cl.Name(), "truthful")) {
			continue
		}
		for f := 1; f <= 5; f++ {
			fdir := filepath.Join(dir, cl.Name(), fmt.Sprintf("fold%d", f))
			files, err := os.ReadDir(fdir)
			if err != nil {
				return nil, err
			}
			for _, fe := range files {
				if fe.IsDir() {
					continue
				}
				t, err := readReview(filepath.Join(fdir, fe.Name()))
				if err != nil {
					return nil, err
				}
				out = append(out, review{text: t, deceptive: deceptive, fold: f - 1})
			}
		}
	}
	var dec int
	for _, r := range out {
		if r.deceptive {
			dec++
		}
	}
	if dec == 0 || dec == len(out) {
		return nil, fmt.Errorf("%s: want deceptive_* and truthful_* directories with fold1..fold5, found %d reviews, %d deceptive", dir, len(out), dec)
	}
	return out, nil
}

// readReview reads one review file: UTF-8 text of at most maxReviewBytes.
func readReview(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxReviewBytes+1))
	if err != nil {
		return "", err
	}
	switch {
	case len(b) > maxReviewBytes:
		return "", fmt.Errorf("%s: longer than %d bytes", path, maxReviewBytes)
	case !utf8.Valid(b):
		return "", fmt.Errorf("%s: not UTF-8 text", path)
	}
	return strings.TrimSpace(string(b)), nil
}
