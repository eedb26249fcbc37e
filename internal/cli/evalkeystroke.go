package cli

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/authn/keystroke/offline"
	"github.com/shopguard/shopguard/internal/ml/metrics"
)

// Target of the keystroke evaluation (issue 7, strong authentication): the
// stronger detector's mean EER on timing features at most this share of
// scaled Manhattan's.
const (
	targetKeystrokeRatio = 0.8
	targetKeystrokeName  = "robust-manhattan"
)

func newEvalKeystroke(env *Env) *cobra.Command {
	var (
		data, roc string
		train     int
		validate  bool
	)
	cmd := &cobra.Command{
		Use:   "keystroke --data DIR [--train N] [--roc FILE.svg] [--validate]",
		Short: "Measure the keystroke-rhythm detectors' equal-error rates on recorded typing",
		Long: `eval keystroke measures the typing-rhythm detectors of internal/authn/keystroke
with the protocol of Killourhy and Maxion (DSN 2009) on the 56-subject mobile
data set (51 typings of ".tie5Roanl" each; --data is the directory of its
CSV files, e.g. ../shared/data/keystroke/mobile-tie5Roanl-56subjects/data).
For each subject a template is trained on the first --train repetitions; the
subject's remaining repetitions are scored as genuine and the first 5
repetitions of every other subject as impostors; the equal-error rate (EER)
is computed per subject. It prints each detector's mean EER over subjects,
its standard deviation and its ratio to scaled Manhattan's, on the timing
features a web page can measure (hold, down-down, up-down) and, for
reference, on all 71 features (with the touch screen's pressure and finger
area). --roc writes the ROC curves of the scores pooled over subjects as an
SVG image. --validate first prints the cross-validation on enrolment
repetitions only that chose the detectors' settings. docs/keystroke-eval.md
describes the protocol and the detectors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if data == "" {
				return usageError{errors.New("--data DIR is required: the directory of the mobile data set's CSV files (../shared/data/keystroke/mobile-tie5Roanl-56subjects/data)")}
			}
			if st, err := os.Stat(data); err != nil {
				return usageError{fmt.Errorf("--data %s: %w", data, err)}
			} else if !st.IsDir() {
				return usageError{fmt.Errorf("--data %s: not a directory", data)}
			}
			subjects, err := offline.LoadDir(data)
			if err != nil {
				return fmt.Errorf("--data %s: %w", data, err)
			}
			p := offline.KillourhyMaxion(train)
			sets := []offline.FeatureSet{offline.Timing, offline.AllFeatures}
			start := time.Now()
			if validate {
				v, err := p.Validation()
				if err != nil {
					return usageError{fmt.Errorf("--train %d: %w", train, err)}
				}
				rows, err := offline.Run(subjects, v, sets, offline.Grid())
				if err != nil {
					return protocolError(train, err)
				}
				printKeystrokeValidation(env.Stdout, v, rows)
			}
			rows, err := offline.Run(subjects, p, sets, offline.Detectors())
			if err != nil {
				return protocolError(train, err)
			}
			fmt.Fprintf(env.Stderr, "evaluated in %s\n", time.Since(start).Round(time.Millisecond))
			if roc != "" {
				if err := writeKeystrokeROC(roc, rows); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "ROC curves written to %s\n", roc)
			}
			printKeystrokeResult(env.Stdout, subjects, p, rows)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "directory of the mobile data set's CSV files, one per subject (required)")
	f.IntVar(&train, "train", 25, "enrolment repetitions per subject (the rest are genuine tests)")
	f.StringVar(&roc, "roc", "", "write the ROC curves of the pooled scores to this SVG file")
	f.BoolVar(&validate, "validate", false, "first print the cross-validation on enrolment repetitions that chose the detectors' settings")
	return cmd
}

// protocolError names --train in an error of a protocol that does not fit
// the data.
func protocolError(train int, err error) error {
	if errors.Is(err, offline.ErrProtocol) {
		return usageError{fmt.Errorf("--train %d: %w", train, err)}
	}
	return err
}

// repetitions formats a protocol's range of repetitions, counted from 1.
func repetitions(from, n int) string { return fmt.Sprintf("%d-%d", from+1, from+n) }

// printKeystrokeResult prints the protocol, the table of rows (the first
// row of each feature set being its baseline) and the verdict on the
// target.
func printKeystrokeResult(out io.Writer, subjects []offline.Subject, p offline.Protocol, rows []offline.Row) {
	least, most := len(subjects[0].Repetitions), 0
	for _, s := range subjects {
		least, most = min(least, len(s.Repetitions)), max(most, len(s.Repetitions))
	}
	genuine := fmt.Sprint(most - p.Train)
	if least != most {
		genuine = fmt.Sprintf("%d-%d", least-p.Train, most-p.Train)
	}
	fmt.Fprintf(out, "%d subjects; enrol on repetitions %s; genuine tests: the remaining %s per subject; impostor tests: repetitions %s of the %d others\n\n",
		len(subjects), repetitions(0, p.Train), genuine, repetitions(p.ImpostorFrom, p.Impostors), len(subjects)-1)
	baselines := map[offline.FeatureSet]offline.Result{}
	for _, r := range rows {
		if _, ok := baselines[r.Features]; !ok {
			baselines[r.Features] = r.Result // the first detector is the baseline
		}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "detector\tfeatures\tmean EER\tsd\tratio to baseline\tsubjects better / worse\tpooled EER\t")
	ratio := math.NaN() // MISSED unless the target's row is found
	for i, r := range rows {
		if i > 0 && r.Features != rows[i-1].Features {
			fmt.Fprintln(tw, "\t\t\t\t\t\t\t")
		}
		c := offline.Compare(r.Result, baselines[r.Features])
		versus := fmt.Sprintf("%d / %d", c.Better, c.Worse)
		if i == 0 || r.Features != rows[i-1].Features {
			versus = "(baseline)"
		}
		fmt.Fprintf(tw, "%s\t%s (%d)\t%.2f%%\t%.2f%%\t%.2f\t%s\t%.2f%%\t\n", r.Name, r.Features, len(r.Features.Of(subjects[0].Repetitions[0])),
			100*r.Mean, 100*r.SD, c.Ratio, versus, 100*r.Pooled)
		if r.Name == targetKeystrokeName && r.Features == offline.Timing {
			ratio = c.Ratio
		}
	}
	tw.Flush()
	verdict := "ok"
	if !(ratio <= targetKeystrokeRatio) {
		verdict = "MISSED"
	}
	fmt.Fprintf(out, "\ntarget: %s mean EER <= %.1f x scaled-manhattan's on timing features: %.2f, %s\n",
		targetKeystrokeName, targetKeystrokeRatio, ratio, verdict)
}

// printKeystrokeValidation prints, per feature set, the ten best settings
// of the validation protocol and where the reported detectors rank.
func printKeystrokeValidation(out io.Writer, v offline.Protocol, rows []offline.Row) {
	fmt.Fprintf(out, "validation on enrolment repetitions only: enrol on %s, genuine tests %s, impostor tests %s of the others; %d settings\n\n",
		repetitions(0, v.Train), repetitions(v.Train, v.Genuine), repetitions(v.ImpostorFrom, v.Impostors), len(offline.Grid()))
	reported := map[string]string{} // settings -> reported name
	for _, c := range offline.Detectors() {
		reported[fmt.Sprint(c.Detector)] = c.Name
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tfeatures\tsettings\tmean EER\tsd\treported as\t")
	best := offline.Best(rows)
	rank := 0
	for i, r := range best {
		if i > 0 && r.Features != best[i-1].Features {
			fmt.Fprintln(tw, "\t\t\t\t\t\t")
			rank = 0
		}
		rank++
		if name, ok := reported[r.Name]; rank <= 10 || ok {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%.2f%%\t%.2f%%\t%s\t\n", rank, r.Features, r.Name, 100*r.Mean, 100*r.SD, name)
		}
	}
	tw.Flush()
	fmt.Fprintln(out)
}

// writeKeystrokeROC writes the ROC curves of the pooled scores of the
// reported detectors, leaving out the ablations (names with a comma).
func writeKeystrokeROC(path string, rows []offline.Row) error {
	var curves []metrics.Curve
	for _, r := range rows {
		if strings.Contains(r.Name, ",") {
			continue
		}
		points, err := metrics.ROC(r.Scores, r.Impostor)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		curves = append(curves, metrics.Curve{
			Name:   fmt.Sprintf("%s, %s (pooled EER %.1f%%)", r.Name, r.Features, 100*r.Pooled),
			Points: points,
		})
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = metrics.WriteROCSVG(f, "keystroke detectors, subjects pooled (positive: impostor)", curves)
	return errors.Join(err, f.Close())
}
