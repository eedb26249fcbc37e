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

	"github.com/shopguard/shopguard/internal/botscore"
)

// maxTrafficSessions bounds --sessions of train and eval traffic (a
// session averages some 200 requests).
const maxTrafficSessions = 1_000_000

// checkTrafficFlags checks the simulation flags of train and eval traffic.
func checkTrafficFlags(sessions int) error {
	if sessions < 100 || sessions > maxTrafficSessions {
		return usageError{fmt.Errorf("--sessions %d outside 100..%d", sessions, maxTrafficSessions)}
	}
	return nil
}

// newTrainTraffic is 'shopguard train traffic'.
func newTrainTraffic(env *Env) *cobra.Command {
	cfg := botscore.DefaultTrainConfig()
	var (
		out  string
		seed uint64
	)
	cmd := &cobra.Command{
		Use:   "traffic --out FILE [--seed 1] [--sessions 12000] [--trees 300]",
		Short: "Train the gateway's bot score on simulated traffic with ground truth",
		Long: `train traffic simulates the traffic of people (new and returning visitors,
cached assets, slow phones, quick skimmers, several people behind one address,
visitors passing a challenge, app users) and bots (floods, fast and slow scrapers, headless
browsers, credential stuffers, card testers, vulnerability scanners, API
abusers, mismatched fingerprints, bots imitating people), replays it through
the gateway's per-client tracker and trains gradient-boosted trees on the
features the tracker gives at each request, labelled by their session.
Sessions, not requests, are split: 70% train, 10% stop training and
calibrate the score, 20% are held out for 'shopguard eval traffic'.

The same flags give the same file, byte for byte; the defaults give the model
built into shopguard (internal/botscore/model.gbdt).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("--out FILE is required")}
			}
			if err := checkTrafficFlags(cfg.Sim.Sessions); err != nil {
				return err
			}
			if cfg.Params.Trees < 1 || cfg.Params.Trees > 5000 {
				return usageError{fmt.Errorf("--trees %d outside 1..5000", cfg.Params.Trees)}
			}
			cfg.Sim.Seed, cfg.Params.Seed = seed, seed
			progress, done := treeProgress(env.Stderr, cfg.Params.Trees)
			cfg.Progress = progress
			m, rep, err := botscore.Train(cmd.Context(), cfg)
			done()
			if err != nil {
				return err
			}
			b, err := m.MarshalBinary()
			if err != nil {
				return err
			}
			if err := os.WriteFile(out, b, 0o644); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "model\t%s (%s, %d bytes)\n", out, m.Version(), len(b))
			fmt.Fprintf(tw, "traffic\tseed %d, %d sessions: %d train, %d valid, the rest held out for 'shopguard eval traffic'\n",
				seed, cfg.Sim.Sessions, rep.Sessions[botscore.SplitTrain], rep.Sessions[botscore.SplitValid])
			fmt.Fprintf(tw, "rows\ttrain %d (%d of bots), valid %d\n", rep.TrainRows, rep.TrainBotRows, rep.ValidRows)
			fmt.Fprintf(tw, "trees\t%d\n", rep.Trees)
			fmt.Fprintf(tw, "valid ROC AUC\t%.4f\nvalid average precision\t%.4f\n", rep.ValidAUC, rep.ValidAP)
			fmt.Fprintf(tw, "time\tsimulate and replay %s, train %s\n", rep.DataTime.Round(time.Millisecond), rep.TrainTime.Round(time.Millisecond))
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write the model to this file (required)")
	f.Uint64Var(&seed, "seed", cfg.Sim.Seed, "seed of the simulation and of the training")
	f.IntVar(&cfg.Sim.Sessions, "sessions", cfg.Sim.Sessions, "simulated sessions (clients)")
	f.IntVar(&cfg.Params.Trees, "trees", cfg.Params.Trees, "most trees (early stopping on the validation sessions)")
	return cmd
}

// newEvalTraffic is 'shopguard eval traffic'.
func newEvalTraffic(env *Env) *cobra.Command {
	def := botscore.DefaultTrainConfig().Sim
	var (
		modelFile, export string
		sim               = def
	)
	cmd := &cobra.Command{
		Use:   "traffic [--model FILE] [--seed 1] [--sessions 12000] [--export FILE.csv]",
		Short: "Measure the bot score on held-out simulated sessions, beside a rule",
		Long: `eval traffic simulates traffic as 'shopguard train traffic' does (the same
--seed and --sessions make the same sessions) and scores every request of the
held-out test sessions with the bot score (--model FILE, by default the one
built into shopguard) and with a rule, "rate > X or bare_pages > Y", whose X and Y
are tuned on the train sessions. It prints ROC AUC and PR AUC (average
precision) over the test rows (the requests a model trains on: the first 8 of a
session, every 4th up to 128, then every 16th), precision, recall and F1 at the
thresholds 50, 70 and 90, and per session: the share of people's sessions with
a request scored at the threshold or above (false positives: a customer who
would be challenged), the share of bots' sessions so caught, and how many
requests into a session a bot is caught (median), overall and per persona.

--export writes the rows of all three splits as CSV (see
bench/botscore/baseline.py, which trains scikit-learn models on them and prints
the same measurements).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTrafficFlags(sim.Sessions); err != nil {
				return err
			}
			var m *botscore.Model
			if modelFile == "" {
				m = botscore.DefaultModel()
			} else {
				b, err := os.ReadFile(modelFile)
				if err != nil {
					return err
				}
				if m, err = botscore.LoadModel(b); err != nil {
					return fmt.Errorf("--model %s: %w", modelFile, err)
				}
			}
			ctx := cmd.Context()
			start := time.Now()
			rule, err := botscore.TuneRule(ctx, sim)
			if err != nil {
				return err
			}
			ec := botscore.EvalConfig{Sim: sim, Scorers: []botscore.NamedScorer{{Name: "model", Scorer: m}, {Name: "rule", Scorer: rule}}}
			var fh *os.File
			if export != "" {
				if fh, err = os.Create(export); err != nil {
					return err
				}
				defer fh.Close()
				ec.Export = fh
			}
			ev, err := botscore.Evaluate(ctx, ec)
			if err != nil {
				return err
			}
			if fh != nil {
				if err := fh.Close(); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "rows written to %s\n", export)
			}
			out := env.Stdout
			fmt.Fprintf(out, "model %s (%d trees); rule %s (tuned on the train sessions)\n", m.Version(), m.Trees(), rule)
			fmt.Fprintf(out, "traffic: seed %d, %d sessions; held out: %d sessions (%d people, %d bots), %d requests, %d rows; %s\n\n",
				sim.Seed, sim.Sessions, ev.Sessions, ev.HumanSessions, ev.BotSessions, ev.Requests, ev.Rows, time.Since(start).Round(time.Millisecond))
			return printTrafficEval(out, ev)
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelFile, "model", "", "model file from 'shopguard train traffic' (default: the built-in model)")
	f.Uint64Var(&sim.Seed, "seed", def.Seed, "seed of the simulation")
	f.IntVar(&sim.Sessions, "sessions", def.Sessions, "simulated sessions (clients), of which about 20% are held out")
	f.StringVar(&export, "export", "", "write every split's rows, features and scores to this CSV file")
	return cmd
}

// printTrafficEval prints ev's tables.
func printTrafficEval(w io.Writer, ev *botscore.Evaluation) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scorer\tROC AUC\tPR AUC\t\n")
	for _, r := range ev.Results {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t\n", r.Name, r.AUC, r.AP)
	}
	fmt.Fprintf(tw, "\t\t\t\n")
	fmt.Fprintf(tw, "threshold\tscorer\tprecision\trecall\tF1\tpeople's sessions flagged\tbots' sessions caught\tmedian requests to catch\t\n")
	for i, th := range ev.Thresholds {
		for _, r := range ev.Results {
			a := r.At[i]
			fmt.Fprintf(tw, "%d\t%s\t%.4f\t%.4f\t%.4f\t%s\t%s\t%s\t\n", th, r.Name, a.Precision, a.Recall, a.F1, trafficPercent(a.HumanFPR), trafficPercent(a.BotRecall), trafficCount(a.MedianCatch))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, bot := range []bool{false, true} {
		if bot {
			fmt.Fprintf(w, "\nbots' sessions caught (recall), and in brackets the median number of requests until caught, per persona:\n")
		} else {
			fmt.Fprintf(w, "\npeople's sessions flagged (false positives: challenged customers), per persona:\n")
		}
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		head := []string{"persona", "sessions"}
		for _, r := range ev.Results {
			for _, th := range ev.Thresholds {
				head = append(head, fmt.Sprintf("%s@%d", r.Name, th))
			}
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(head, "\t"))
		for pi, p := range ev.Results[0].At[0].Personas {
			if p.Bot != bot {
				continue
			}
			row := []string{p.Persona, fmt.Sprint(p.Sessions)}
			for _, r := range ev.Results {
				for i := range ev.Thresholds {
					q := r.At[i].Personas[pi]
					cell := trafficPercent(q.Rate())
					if bot {
						cell += " (" + trafficCount(q.MedianCatch) + ")"
					}
					row = append(row, cell)
				}
			}
			fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// trafficPercent formats a share, "-" when undefined.
func trafficPercent(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// trafficCount formats a median count, "-" when undefined.
func trafficCount(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%g", v)
}
