package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/account/loginsim"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/ml/metrics"
)

// Targets of the account evaluation (issue: account protection).
const (
	targetNaiveVPN        = 0.99
	targetTargeted        = 0.95
	targetLegitChallenged = 0.02
	targetLegitBlocked    = 0.001
	targetDetect          = 30 * time.Second
)

func newEvalAccount(env *Env) *cobra.Command {
	var (
		cfg     loginsim.Config
		roc     string
		history time.Duration
	)
	cmd := &cobra.Command{
		Use:   "account [--customers N] [--days D] [--seed S] [--roc FILE.svg]",
		Short: "Simulate a shop's sign-ins and attacks on them and measure what login protection stops",
		Long: `eval account runs a seeded simulation of a shop's customers signing in (usual
devices and networks, mistyped passwords, new devices, travel) and of attacks on
them (account takeover by naive, VPN and targeted attackers who know the
password; credential stuffing from a botnet and from residential proxies;
password spraying; brute force) through the decision engine with the default
rules, in compressed event time, as a shop calls it: before the password check
and after it, with a step-up after a challenge that customers pass and
attackers fail. It prints, per scenario, the share challenged or blocked, the
customers' re-authentication and block rates, how soon each mass attack was
flagged, and the ROC AUC of the login-risk model per attacker model; --roc
writes the ROC curves as an SVG image. The first --warmup-days only build
history and are not measured. docs/account-eval.md states the simulation's
assumptions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case cfg.Customers < 100:
				return usageError{fmt.Errorf("--customers %d: at least 100", cfg.Customers)}
			case cfg.Days < 2 || cfg.Days > 400:
				return usageError{fmt.Errorf("--days %d: 2..400", cfg.Days)}
			case cfg.WarmupDays < 1 || cfg.WarmupDays >= cfg.Days:
				return usageError{fmt.Errorf("--warmup-days %d: 1..%d (fewer than --days)", cfg.WarmupDays, cfg.Days-1)}
			case cfg.Takeovers < 1:
				return usageError{fmt.Errorf("--takeovers %d: at least 1", cfg.Takeovers)}
			}
			conf := config.Default()
			conf.Account.History = history
			if err := conf.Validate(); err != nil {
				return usageError{fmt.Errorf("--history: %w", err)}
			}
			sim := loginsim.New(cfg)
			eng, store, err := app.NewScratchEngine(conf, sim.World(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				return err
			}
			defer store.Close()
			bar := progressbar.NewOptions(sim.Attempts(), progressbar.OptionSetWriter(env.Stderr),
				progressbar.OptionSetDescription("sign-ins"), progressbar.OptionShowCount(), progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(200*time.Millisecond))
			res, err := sim.Run(cmd.Context(), eng, store, func(done int) { _ = bar.Set(done) })
			_ = bar.Finish()
			fmt.Fprintln(env.Stderr)
			if err != nil {
				return err
			}
			if roc != "" {
				if err := writeROC(roc, res.Curves); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "ROC curves written to %s\n", roc)
			}
			if !printAccountResult(env.Stdout, res) {
				fmt.Fprintln(env.Stdout, "\nsome targets are missed (marked MISSED)")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&cfg.Seed, "seed", 1, "simulation seed")
	f.IntVar(&cfg.Customers, "customers", 20000, "customer accounts")
	f.IntVar(&cfg.Days, "days", 28, "simulated days")
	f.IntVar(&cfg.WarmupDays, "warmup-days", 14, "first days that only build history (not measured)")
	f.DurationVar(&history, "history", config.Default().Account.History, "account.history: how far back confirmed sign-ins count for the login-risk model")
	f.IntVar(&cfg.Takeovers, "takeovers", 1000, "account-takeover attempts per attacker model")
	f.StringVar(&roc, "roc", "", "write the login-risk model's ROC curves to this SVG file")
	return cmd
}

func writeROC(path string, curves []metrics.Curve) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = metrics.WriteROCSVG(f, "login-risk model: account takeover vs customers' sign-ins", curves)
	return errors.Join(err, f.Close())
}

// printAccountResult prints the tables and reports whether every target
// was met.
func printAccountResult(out io.Writer, res *loginsim.Result) bool {
	ok := true
	mark := func(met bool) string {
		if met {
			return "ok"
		}
		ok = false
		return "MISSED"
	}
	pct := func(s loginsim.Stats, n int) string { return fmt.Sprintf("%.2f%%", 100*s.Share(n)) }
	fmt.Fprintf(out, "%d decisions in %s (%.0f per second)\n\n", res.Decisions, res.Elapsed.Round(time.Millisecond),
		float64(res.Decisions)/res.Elapsed.Seconds())

	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "customers' sign-ins (measured weeks)\tsign-ins\tchallenged\tblocked\treviewed\t")
	for _, s := range append([]loginsim.Stats{res.Legitimate}, res.LegitimateKinds...) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", s.Scenario, s.Attempts, pct(s, s.Challenged), pct(s, s.Blocked), pct(s, s.Reviewed))
	}
	l := res.Legitimate
	fmt.Fprintf(tw, "target: challenged <= %.0f%%, blocked <= %.1f%%\t\t%s\t%s\t\t\n", 100*targetLegitChallenged, 100*targetLegitBlocked,
		mark(l.Share(l.Challenged) <= targetLegitChallenged), mark(l.Share(l.Blocked) <= targetLegitBlocked))
	tw.Flush()

	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "attack\tattempts\tchallenged or blocked\tblocked\treviewed\ttakeovers\tfirst flagged\tfirst stopped\ttarget\t")
	for _, s := range res.Attacks {
		target := ""
		switch s.Scenario {
		case loginsim.ScenarioNaive, loginsim.ScenarioVPN:
			target = fmt.Sprintf(">= %.0f%% stopped: %s", 100*targetNaiveVPN, mark(s.StoppedShare() >= targetNaiveVPN))
		case loginsim.ScenarioTargeted:
			target = fmt.Sprintf(">= %.0f%% stopped: %s", 100*targetTargeted, mark(s.StoppedShare() >= targetTargeted))
		case loginsim.ScenarioStuffing, loginsim.ScenarioDistributed:
			target = fmt.Sprintf("flagged within %s: %s", targetDetect, mark(s.FirstFlagged >= 0 && s.FirstFlagged <= targetDetect))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t\n", s.Scenario, s.Attempts, pct(s, s.Challenged+s.Blocked),
			pct(s, s.Blocked), pct(s, s.Reviewed), s.Takeovers, since(s.FirstFlagged), since(s.FirstStopped), target)
	}
	tw.Flush()

	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "challenged or blocked by\trules of those calls, attempts each (most first)\t")
	for _, s := range append([]loginsim.Stats{res.Legitimate}, res.Attacks...) {
		var parts []string
		for _, name := range s.TopRules(4) {
			parts = append(parts, fmt.Sprintf("%s %d", name, s.StoppedBy[name]))
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", s.Scenario, strings.Join(parts, ", "))
	}
	tw.Flush()

	fmt.Fprintln(out, "\nlogin-risk model (signals.login_risk) against the customers' sign-ins:")
	for i, c := range res.Curves {
		tpr2, _ := metrics.TPRAt(c.Points, 0.02)
		fmt.Fprintf(out, "  %-28s ROC AUC %.4f   caught at 2%% of customers: %.1f%%\n", c.Name, res.AUC[i], 100*tpr2)
	}
	return ok
}

// since formats a detection delay ("-" for never).
func since(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(100 * time.Millisecond).String()
}
