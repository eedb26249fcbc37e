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

// The tasks of eval content.
const (
	taskFakeReview = "fake_review"
	taskSpam       = "spam"
)

// The fake-review model reads a review twice: by its word 1-2-grams (what
// it talks about) and by its character 3-6-grams (word stems and the
// function-word patterns of written-to-order reviews); it averages the two
// logistic regressions' probabilities.
var (
	reviewWords = text.Features{WordMin: 1, WordMax: 2, Bits: 20}
	reviewChars = text.Features{CharMin: 3, CharMax: 6, Bits: 20}
)

// reviewL2 is the fake-review model's regularisation; reviewL2Grid the
// values the nested selection chooses among.
const reviewL2 = 1e-4

var reviewL2Grid = []float64{1e-6, 1e-5, 1e-4}

func reviewTrainConfig(seed uint64) text.TrainConfig {
	return text.TrainConfig{Epochs: 20, Rate: 0.2, L2: reviewL2, Seed: seed, NB: true, Orders: 3}
}

// reviewGrid are the settings the fake-review task's nested selection
// chooses among: with and without NB scaling, each L2 of reviewL2Grid.
func reviewGrid(seed uint64) []text.Blend {
	var grid []text.Blend
	for _, nb := range []bool{true, false} {
		for _, l2 := range reviewL2Grid {
			b := reviewBlend(seed, l2)
			for i := range b.Views {
				b.Views[i].Config.NB = nb
			}
			grid = append(grid, b)
		}
	}
	return grid
}

// reviewBlend is the fake-review model with regularisation l2: the mean
// of the word and the character model's probabilities.
func reviewBlend(seed uint64, l2 float64) text.Blend {
	cfg := reviewTrainConfig(seed)
	cfg.L2 = l2
	return text.Blend{Views: []text.View{{Features: reviewWords, Config: cfg}, {Features: reviewChars, Config: cfg}},
		Weights: []float64{0.5, 0.5}}
}

// The content filter's spam model: characters 2-5 and words 1-2, trained
// as the message model trains (spam weighted 3, L2 1e-6). Chosen before
// measuring, not tuned on the SMS collection: --nested gives the figure of
// choosing the n-grams, the spam weight and L2 on training folds only.
var contentSpamFeatures = text.Features{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 20}

func contentSpamTrainConfig(seed uint64) text.TrainConfig {
	return text.TrainConfig{Epochs: 20, Rate: 0.2, L2: 1e-6, PositiveWeight: 3, Seed: seed}
}

// contentSpamGrid are the settings the spam task's nested selection
// chooses among: three n-gram views, spam weight 1 or 3, L2 1e-6 or 1e-4.
func contentSpamGrid(seed uint64) []text.Blend {
	var out []text.Blend
	for _, f := range []text.Features{contentSpamFeatures, reviewWords, reviewChars} {
		for _, w := range []float64{3, 1} {
			for _, l2 := range []float64{1e-6, 1e-4} {
				cfg := contentSpamTrainConfig(seed)
				cfg.PositiveWeight, cfg.L2 = w, l2
				out = append(out, text.Blend{Views: []text.View{{Features: f, Config: cfg}}, Weights: []float64{1}})
			}
		}
	}
	return out
}

// Published figures of the SMS Spam Collection (Almeida et al., DocEng
// 2011, linear SVM on the paper's 30/70 split), as ../shared/data's README
// gives them (rounded there).
const (
	smsPublishedAccuracy = 0.976
	smsPublishedMCC      = 0.89
)

// review is one review of the deceptive opinion spam corpus.
type review struct {
	text      string
	deceptive bool
	fold      int // 0..4, the corpus's own
}

// contentFlags are eval content's flags.
type contentFlags struct {
	task, data, crossData, prSVG string
	seed                         uint64
	nested                       bool
}

func newEvalContent(env *Env) *cobra.Command {
	var fl contentFlags
	cmd := &cobra.Command{
		Use:   "content [--task fake_review|spam] --data DIR|FILE [--nested] [--cross-data DIR] [--pr-svg FILE]",
		Short: "Measure the content filter's text models: fake reviews (Ott et al.) or spam (SMS Spam Collection)",
		Long: `eval content measures the content filter's text models.

--task fake_review (the default) measures the fake-review model (the mean of two
logistic regressions' probabilities, one on word 1-2-grams, one on character
3-6-grams) on the deceptive opinion spam corpus of Ott et al. (--data is its
directory, e.g. ../shared/data/reviews/op_spam_v1.4: positive_polarity and
negative_polarity, each with deceptive_from_MTurk and truthful_from_* holding
fold1..fold5 of text files). It cross-validates by the corpus's own five folds,
as the papers do, for each polarity, and prints accuracy, precision, recall, F1
and MCC (deceptive is the positive class) per fold and pooled, each view alone,
ROC AUC, and a cross-domain check: trained on one polarity, tested on the other.

--task spam measures the spam model (character 2-5-grams and word 1-2-grams,
logistic regression) on the SMS Spam Collection (--data is its tab-separated
file, e.g. ../shared/data/messages/SMSSpamCollection) by stratified 5-fold
cross-validation (spam is the positive class) and on the paper's 30/70 split,
beside the published figure. With --cross-data DIR (the deceptive opinion spam
corpus) it also trains on every message and prints the share of the hotel
reviews, none of them spam, that the model flags: its false positive rate on
another domain.

--nested also chooses the settings on training folds only (nested
cross-validation), the honest estimate.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fl.check(); err != nil {
				return err
			}
			if fl.task == taskSpam {
				return evalContentSpam(env.Stdout, fl)
			}
			return evalFakeReviews(env.Stdout, fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.task, "task", taskFakeReview, "what to measure: fake_review (deceptive hotel reviews) or spam (SMS Spam Collection)")
	f.StringVar(&fl.data, "data", "", "the corpus: the deceptive opinion spam directory (fake_review) or the SMS Spam Collection file (spam) (required)")
	f.StringVar(&fl.crossData, "cross-data", "", "spam only: the deceptive opinion spam directory, whose reviews (none spam) the spam model should pass")
	f.Uint64Var(&fl.seed, "seed", 1, "seed of training's example order (and of the spam task's folds)")
	f.StringVar(&fl.prSVG, "pr-svg", "", "write the precision-recall curves to this SVG file")
	f.BoolVar(&fl.nested, "nested", false, "also choose the settings on training folds only (nested cross-validation)")
	return cmd
}

// check refuses flags that do not go together, as usage errors.
func (fl contentFlags) check() error {
	switch fl.task {
	case taskFakeReview, taskSpam:
	default:
		return usageError{fmt.Errorf("--task %q: use %s or %s", fl.task, taskFakeReview, taskSpam)}
	}
	if fl.data == "" {
		if fl.task == taskSpam {
			return usageError{errors.New("--data FILE is required: the SMS Spam Collection (../shared/data/messages/SMSSpamCollection)")}
		}
		return usageError{errors.New("--data DIR is required: the deceptive opinion spam corpus (../shared/data/reviews/op_spam_v1.4)")}
	}
	if fl.crossData != "" && fl.task != taskSpam {
		return usageError{fmt.Errorf("--cross-data is for --task %s (the fake_review task always checks across polarities)", taskSpam)}
	}
	st, err := os.Stat(fl.data)
	switch {
	case err != nil:
		return fmt.Errorf("--data: %w", err)
	case fl.task == taskSpam && st.IsDir():
		return usageError{fmt.Errorf("--data %s is a directory: --task spam reads the SMS Spam Collection file (label<TAB>text)", fl.data)}
	case fl.task == taskFakeReview && !st.IsDir():
		return usageError{fmt.Errorf("--data %s is a file: --task fake_review reads the deceptive opinion spam directory", fl.data)}
	}
	return nil
}

// evalFakeReviews is --task fake_review.
func evalFakeReviews(out io.Writer, fl contentFlags) error {
	sets := map[string][]review{}
	var curves []metrics.PRCurve
	blend := reviewBlend(fl.seed, reviewL2)
	for _, pol := range []string{"positive", "negative"} { // both read first, to fail early
		rs, err := loadReviews(filepath.Join(fl.data, pol+"_polarity"))
		if err != nil {
			return fmt.Errorf("--data %s: %w", fl.data, err)
		}
		sets[pol] = rs
	}
	for _, pol := range []string{"positive", "negative"} {
		texts, labels, fold := reviewColumns(sets[pol])
		corpus, err := text.NewFolded(texts, labels, fold, 0)
		if err != nil {
			return err
		}
		res, err := corpus.CrossValidate(blend)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s reviews: %d (%d deceptive), the corpus's 5 folds. Model: %s.\n\n", pol, len(texts), countTrue(labels), describeBlend(blend))
		fmt.Fprintf(out, "%-8s %9s %10s %8s %8s %8s\n", "fold", "accuracy", "precision", "recall", "F1", "MCC")
		for i, c := range res.Folds {
			printConfusion(out, fmt.Sprint(i+1), c)
		}
		printConfusion(out, "pooled", res.Pooled)
		fmt.Fprintln(out, "Each view alone, pooled:")
		for _, v := range []struct {
			name string
			view text.View
		}{{"words", blend.Views[0]}, {"chars", blend.Views[1]}} {
			alone, err := corpus.CrossValidate(text.Blend{Views: []text.View{v.view}, Weights: []float64{1}})
			if err != nil {
				return err
			}
			printConfusion(out, v.name, alone.Pooled)
		}
		auc, ap, err := aucAP(res.Scores, labels)
		if err != nil {
			return err
		}
		target, published := reviewsTargetPositive, "89.8 % (Ott et al. 2011)"
		if pol == "negative" {
			target, published = reviewsTargetNegative, "about 86 % (Ott et al. 2013)"
		}
		fmt.Fprintf(out, "ROC AUC %.4f, average precision %.4f. Target (pooled accuracy >= %.1f %%; published %s): %s.\n\n",
			auc, ap, 100*target, published, verdict(res.Pooled.Accuracy() >= target))
		if fl.nested {
			grid := reviewGrid(fl.seed)
			nres, err := corpus.Nested(grid)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Nested: each outer fold chooses among %d settings (NB scaling or not; L2 %s) by leave-one-fold-out on its four training folds:\n",
				len(grid), joinFloats(reviewL2Grid))
			for i, c := range nres.Folds {
				fmt.Fprintf(out, "  fold %d: %.2f %% with %s (inner %.2f %%)\n", i+1, 100*c.Accuracy(), describeSetting(grid[nres.Chosen[i]]), 100*nres.Inner[i])
			}
			printConfusion(out, "nested", nres.Pooled)
			fmt.Fprintf(out, "Target on the nested estimate: %s.\n\n", verdict(nres.Pooled.Accuracy() >= target))
		}
		pts, err := metrics.PR(res.Scores, labels)
		if err != nil {
			return err
		}
		curves = append(curves, metrics.PRCurve{Name: fmt.Sprintf("%s reviews (AP %.3f)", pol, ap), Points: pts})
	}
	fmt.Fprintf(out, "Cross-domain (trained on all reviews of one polarity, tested on the other's):\n\n")
	fmt.Fprintf(out, "%-20s %9s %10s %8s %8s %8s\n", "", "accuracy", "precision", "recall", "F1", "MCC")
	for _, pair := range [][2]string{{"positive", "negative"}, {"negative", "positive"}} {
		c, err := trainTestReviews(blend, sets[pair[0]], sets[pair[1]])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-20s %8.2f%% %9.2f%% %7.2f%% %8.4f %8.4f\n", pair[0]+" -> "+pair[1], 100*c.Accuracy(), 100*c.Precision(),
			100*c.Recall(), c.F1(), c.MCC())
	}
	if fl.prSVG != "" {
		if err := writePRSVG(fl.prSVG, "deceptive reviews: precision-recall, pooled folds", curves); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nPrecision-recall curves written to %s.\n", fl.prSVG)
	}
	return nil
}

// evalContentSpam is --task spam.
func evalContentSpam(out io.Writer, fl contentFlags) error {
	texts, labels, err := loadSMS(fl.data)
	if err != nil {
		return fmt.Errorf("--data %s: %w", fl.data, err)
	}
	var cross map[string][]review
	if fl.crossData != "" { // read before the long part, to fail early
		cross = map[string][]review{}
		for _, pol := range []string{"positive", "negative"} {
			rs, err := loadReviews(filepath.Join(fl.crossData, pol+"_polarity"))
			if err != nil {
				return fmt.Errorf("--cross-data %s: %w", fl.crossData, err)
			}
			cross[pol] = rs
		}
	}
	const k = 5
	view := text.View{Features: contentSpamFeatures, Config: contentSpamTrainConfig(fl.seed)}
	model := text.Blend{Views: []text.View{view}, Weights: []float64{1}}
	corpus, err := text.NewFolded(texts, labels, text.Folds(labels, k, fl.seed), 0)
	if err != nil {
		return err
	}
	res, err := corpus.CrossValidate(model)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "SMS Spam Collection: %d messages, %d spam. Model: %s.\n\n", len(texts), countTrue(labels), describeBlend(model))
	fmt.Fprintf(out, "Stratified %d-fold cross-validation (seed %d):\n\n", k, fl.seed)
	fmt.Fprintf(out, "%-8s %9s %10s %8s %8s %8s\n", "fold", "accuracy", "precision", "recall", "F1", "MCC")
	for i, c := range res.Folds {
		printConfusion(out, fmt.Sprint(i+1), c)
	}
	printConfusion(out, "pooled", res.Pooled)
	auc, ap, err := aucAP(res.Scores, labels)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ROC AUC %.4f, average precision %.4f.\n", auc, ap)

	// The paper's split: the first 30 % trains (as eval messages cuts).
	cut := len(texts) * 3 / 10
	m, err := text.TrainBlend(model, texts[:cut], labels[:cut])
	if err != nil {
		return fmt.Errorf("the paper's split: %w", err)
	}
	var split text.Confusion
	for i := cut; i < len(texts); i++ {
		split.Add(m.Score(texts[i]) >= 0.5, labels[i])
	}
	fmt.Fprintf(out, "\nThe paper's split (first 30 %% trains: %d messages; %d test):\n\n", cut, len(texts)-cut)
	fmt.Fprintf(out, "%-8s %9s %10s %8s %8s %8s\n", "", "accuracy", "precision", "recall", "F1", "MCC")
	printConfusion(out, "30/70", split)

	var nested *text.BlendResult
	if fl.nested {
		grid := contentSpamGrid(fl.seed)
		nres, err := corpus.Nested(grid)
		if err != nil {
			return err
		}
		nested = &nres
		fmt.Fprintf(out, "\nNested: each outer fold chooses among %d settings (n-grams: characters 2-5 and words 1-2, words 1-2, or characters 3-6; spam weight 3 or 1; L2 1e-06 or 0.0001) by leave-one-fold-out on its four training folds:\n",
			len(grid))
		for i, c := range nres.Folds {
			fmt.Fprintf(out, "  fold %d: %.2f %% with %s (inner %.2f %%)\n", i+1, 100*c.Accuracy(), describeSetting(grid[nres.Chosen[i]]), 100*nres.Inner[i])
		}
		printConfusion(out, "nested", nres.Pooled)
	}

	fmt.Fprintf(out, "\nSide by side with the published figure (Almeida et al. 2011: linear SVM, the paper's 30/70 split; rounded as ../shared/data/README.md gives it):\n\n")
	fmt.Fprintf(out, "%-28s %9s %8s\n", "", "accuracy", "MCC")
	fmt.Fprintf(out, "%-28s %8.1f%% %8.2f\n", "published, 30/70 (about)", 100*smsPublishedAccuracy, smsPublishedMCC)
	fmt.Fprintf(out, "%-28s %8.2f%% %8.4f\n", "shopguard, 30/70", 100*split.Accuracy(), split.MCC())
	fmt.Fprintf(out, "%-28s %8.2f%% %8.4f\n", fmt.Sprintf("shopguard, %d-fold", k), 100*res.Pooled.Accuracy(), res.Pooled.MCC())
	if nested != nil {
		fmt.Fprintf(out, "%-28s %8.2f%% %8.4f\n", fmt.Sprintf("shopguard, %d-fold nested", k), 100*nested.Pooled.Accuracy(), nested.Pooled.MCC())
	}

	if cross != nil {
		if err := spamCrossDomain(out, model, texts, labels, cross, fl.crossData); err != nil {
			return err
		}
	}
	if fl.prSVG != "" {
		pts, err := metrics.PR(res.Scores, labels)
		if err != nil {
			return err
		}
		if err := writePRSVG(fl.prSVG, "SMS spam (content filter): precision-recall, pooled folds", []metrics.PRCurve{
			{Name: fmt.Sprintf("spam model (AP %.3f)", ap), Points: pts}}); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nPrecision-recall curve written to %s.\n", fl.prSVG)
	}
	return nil
}

// spamCrossDomain trains the spam model on every message and prints the
// share of the hotel reviews (none of them spam) it flags as spam.
func spamCrossDomain(out io.Writer, model text.Blend, texts []string, labels []bool, reviews map[string][]review, dir string) error {
	m, err := text.TrainBlend(model, texts, labels)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nCross-domain: the spam model trained on all %d messages, applied to the hotel reviews of %s (none of them spam; top score: the highest spam probability):\n\n", len(texts), dir)
	fmt.Fprintf(out, "%-20s %8s %8s %8s %10s\n", "", "reviews", "flagged", "share", "top score")
	var all, flaggedAll int
	var topAll float64
	for _, pol := range []string{"positive", "negative"} {
		for _, deceptive := range []bool{true, false} {
			var n, flagged int
			var top float64
			for _, r := range reviews[pol] {
				if r.deceptive == deceptive {
					n++
					p := m.Score(r.text)
					top = max(top, p)
					if p >= 0.5 {
						flagged++
					}
				}
			}
			class := "truthful"
			if deceptive {
				class = "deceptive"
			}
			fmt.Fprintf(out, "%-20s %8d %8d %7.2f%% %10.4f\n", pol+" "+class, n, flagged, 100*ratioOf(flagged, n), top)
			all, flaggedAll, topAll = all+n, flaggedAll+flagged, max(topAll, top)
		}
	}
	fmt.Fprintf(out, "%-20s %8d %8d %7.2f%% %10.4f\n", "all", all, flaggedAll, 100*ratioOf(flaggedAll, all), topAll)
	fmt.Fprintf(out, "False positive rate on hotel reviews: %.2f %% (%d of %d flagged as spam).\n", 100*ratioOf(flaggedAll, all), flaggedAll, all)
	return nil
}

// describeBlend says what a model reads and how it trains, e.g. "the
// mean of word 1-2-grams and character 3-6-grams models' probabilities".
func describeBlend(b text.Blend) string {
	views := make([]string, len(b.Views))
	for i, v := range b.Views {
		views[i] = describeNgrams(v.Features)
	}
	c := b.Views[0].Config
	train := fmt.Sprintf("L2 %g", c.L2)
	if c.PositiveWeight > 0 && c.PositiveWeight != 1 {
		train = fmt.Sprintf("positive weight %g, %s", c.PositiveWeight, train)
	}
	train += describeTraining(c)
	bits := b.Views[0].Features.Bits
	if len(b.Views) == 1 {
		return fmt.Sprintf("%s hashed into 2^%d, logistic regression, %s", views[0], bits, train)
	}
	weights := make([]string, len(b.Weights))
	for i, w := range b.Weights {
		weights[i] = fmt.Sprintf("%g", w)
	}
	return fmt.Sprintf("the mean (weights %s) of logistic regressions' probabilities on %s, each hashed into 2^%d, %s",
		strings.Join(weights, "/"), strings.Join(views, " and on "), bits, train)
}

// describeSetting says briefly what a candidate of a nested selection
// is: "characters 2-5 and words 1-2, positive weight 3, L2 1e-06".
func describeSetting(b text.Blend) string {
	views := make([]string, len(b.Views))
	for i, v := range b.Views {
		views[i] = describeNgrams(v.Features)
	}
	s := strings.Join(views, " + ")
	if len(views) > 1 {
		s += " averaged"
	}
	if c := b.Views[0].Config; c.PositiveWeight > 0 {
		s += fmt.Sprintf(", positive weight %g", c.PositiveWeight)
	}
	return s + fmt.Sprintf(", L2 %g", b.Views[0].Config.L2) + describeTraining(b.Views[0].Config)
}

// describeTraining names the training options beyond L2 and the positive
// weight: NB scaling and averaged example orders.
func describeTraining(c text.TrainConfig) string {
	var s string
	if c.NB {
		s += ", NB-scaled n-grams"
	}
	if c.Orders > 1 {
		s += fmt.Sprintf(", weights averaged over %d example orders", c.Orders)
	}
	return s
}

// describeNgrams names the n-grams of f: "characters 2-5 and words 1-2".
func describeNgrams(f text.Features) string {
	var parts []string
	if f.CharMax > 0 {
		parts = append(parts, fmt.Sprintf("characters %d-%d", max(1, f.CharMin), f.CharMax))
	}
	if f.WordMax > 0 {
		parts = append(parts, fmt.Sprintf("words %d-%d", max(1, f.WordMin), f.WordMax))
	}
	return strings.Join(parts, " and ")
}

func joinFloats(fs []float64) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = fmt.Sprintf("%g", f)
	}
	return strings.Join(s, ", ")
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "not met"
}

func ratioOf(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// aucAP returns the ROC AUC and the average precision of scores.
func aucAP(scores []float64, labels []bool) (float64, float64, error) {
	auc, err := metrics.AUC(scores, labels)
	if err != nil {
		return 0, 0, err
	}
	ap, err := metrics.AveragePrecision(scores, labels)
	if err != nil {
		return 0, 0, err
	}
	return auc, ap, nil
}

// reviewColumns splits reviews into texts, labels (deceptive) and folds.
func reviewColumns(rs []review) ([]string, []bool, []int) {
	texts, labels, fold := make([]string, len(rs)), make([]bool, len(rs)), make([]int, len(rs))
	for i, r := range rs {
		texts[i], labels[i], fold[i] = r.text, r.deceptive, r.fold
	}
	return texts, labels, fold
}

// trainTestReviews trains b on one set of reviews and tests it on another.
func trainTestReviews(b text.Blend, train, test []review) (text.Confusion, error) {
	texts, labels, _ := reviewColumns(train)
	m, err := text.TrainBlend(b, texts, labels)
	if err != nil {
		return text.Confusion{}, err
	}
	var c text.Confusion
	for _, r := range test {
		c.Add(m.Score(r.text) >= 0.5, r.deceptive)
	}
	return c, nil
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
// class directories, each with fold1..fold5 of text files, every fold
// holding reviews of both classes.
func loadReviews(dir string) ([]review, error) {
	classes, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("want the op_spam_v1.4 layout (positive_polarity and negative_polarity directories): %w", err)
	}
	var out []review
	var count [2][5]int // [deceptive][fold]
	for _, cl := range classes {
		deceptive := strings.HasPrefix(cl.Name(), "deceptive")
		if !cl.IsDir() || (!deceptive && !strings.HasPrefix(cl.Name(), "truthful")) {
			continue
		}
		for f := 1; f <= 5; f++ {
			fdir := filepath.Join(dir, cl.Name(), fmt.Sprintf("fold%d", f))
			files, err := os.ReadDir(fdir)
			if err != nil {
				return nil, fmt.Errorf("want fold1..fold5 in %s: %w", filepath.Join(dir, cl.Name()), err)
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
				count[b2i(deceptive)][f-1]++
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
	for f := range 5 {
		if count[0][f] == 0 || count[1][f] == 0 {
			return nil, fmt.Errorf("%s: fold%d holds %d deceptive and %d truthful reviews; every fold needs both", dir, f+1, count[1][f], count[0][f])
		}
	}
	return out, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
