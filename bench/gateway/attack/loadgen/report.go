package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
)

// The targets: during a flood at least this share of customers'
// requests succeed, with a p99 within this factor of the baseline's; at
// most this share of customers is challenged.
const (
	goalLegitOK        = 0.99
	goalP99Factor      = 2.0
	goalFalseChallenge = 0.01
)

func reportCmd(args []string, w io.Writer) error {
	if len(args) == 0 {
		return errors.New("report: name the JSON summaries")
	}
	var runs []*summary
	for _, name := range args {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		s := &summary{}
		if err := json.Unmarshal(data, s); err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
		if s.Attack.Counts == nil {
			s.Attack.Counts = &attackStats{}
		}
		runs = append(runs, s)
	}
	writeReport(w, runs)
	return nil
}

// writeReport prints the runs as a Markdown table, targets in the order
// they first appear and scenarios in the suite's order, then the verdicts.
func writeReport(w io.Writer, runs []*summary) {
	var targets []string
	base := map[string]*summary{}
	for _, s := range runs {
		if !slices.Contains(targets, s.Target) {
			targets = append(targets, s.Target)
		}
		if s.Scenario == scenBaseline {
			base[s.Target] = s
		}
	}
	sorted := slices.Clone(runs)
	slices.SortStableFunc(sorted, func(a, b *summary) int {
		if c := slices.Index(scenarios, a.Scenario) - slices.Index(scenarios, b.Scenario); c != 0 {
			return c
		}
		return slices.Index(targets, a.Target) - slices.Index(targets, b.Target)
	})
	fmt.Fprintln(w, "| scenario | target | legit ok % | p50 ms | p99 ms | p99 × base | checkouts ok/tried | humans challenged % | attack sent | reached shop % | mitigated after s | recovered after s | proxy CPU ms / 1k req | proxy peak RSS MB | legit failures |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, s := range sorted {
		win := s.Legit.Window
		ratio := "–"
		if b := base[s.Target]; b != nil && b.Legit.Window.P99MS > 0 && win.OK > 0 {
			ratio = fmt.Sprintf("%.2f", win.P99MS/b.Legit.Window.P99MS)
		}
		sent, reached, mitigated := "–", "–", "–"
		if s.Scenario != scenBaseline {
			sent = fmt.Sprint(s.Attack.Counts.Sent)
			if s.Scenario == scenSlowloris || s.Scenario == scenSlowPost || s.Scenario == scenDSlowPost {
				sent += " conns"
				reached = fmt.Sprintf("%d req", s.Attack.Reached)
			} else {
				reached = pct(float64(s.Attack.Reached), float64(s.Attack.Counts.Sent))
				mitigated = "never"
				if s.Attack.MitigatedAfterS >= 0 {
					mitigated = fmt.Sprintf("%.1f", s.Attack.MitigatedAfterS)
				}
			}
		}
		cpu, rss := "–", "–"
		if s.Proxy.CPUMS > 0 || s.Proxy.PeakRSSKB > 0 {
			cpu, rss = fmt.Sprintf("%.1f", s.Proxy.PerKReqMS), fmt.Sprintf("%.0f", float64(s.Proxy.PeakRSSKB)/1024)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.1f | %.1f | %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			s.Scenario, s.Target, pct(float64(win.OK), float64(win.Requests)), win.P50MS, win.P99MS, ratio,
			s.Legit.CheckoutsOK, s.Legit.CheckoutsTried, pct(float64(s.Legit.ChallengedSessions), float64(s.Legit.Sessions)),
			sent, reached, mitigated, recovery(s, base[s.Target]), cpu, rss, failures(s.Legit.Failures))
	}
	fmt.Fprintln(w)
	for _, s := range sorted {
		if n := s.Shop.Counts.Flagged["legit"]; n > 0 {
			fmt.Fprintf(w, "Warning: %s marked %d of the customers' requests in %s as a client whose headers or TLS contradict its user agent: the simulated browsers do not pass for real ones there.\n\n",
				s.Target, n, s.Scenario)
		}
	}
	if lines := botScoreLines(sorted); len(lines) > 0 {
		fmt.Fprintln(w, "Bot scores the gateway told the shop (X-Shopguard-Bot-Score), share of each role's requests that reached it scoring ≥ 50 and ≥ 90:")
		fmt.Fprintln(w)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Issue 10's targets: during a 20× flood ≥ %.0f %% of customers' requests succeed with p99 ≤ %.0f× the baseline's p99; ≤ %.0f %% of customers challenged.\n\n",
		goalLegitOK*100, goalP99Factor, goalFalseChallenge*100)
	for _, t := range targets {
		var parts []string
		for _, sc := range []string{scenFlood, scenDFlood} {
			s := find(runs, t, sc)
			b := base[t]
			if s == nil || b == nil {
				continue
			}
			win := s.Legit.Window
			okShare := frac(float64(win.OK), float64(win.Requests))
			factor := 0.0
			if b.Legit.Window.P99MS > 0 {
				factor = win.P99MS / b.Legit.Window.P99MS
			}
			parts = append(parts, fmt.Sprintf("%s: %s ok (%s), p99 %.2f× (%s)", sc, pct(float64(win.OK), float64(win.Requests)),
				met(okShare >= goalLegitOK), factor, met(win.OK > 0 && factor <= goalP99Factor)))
		}
		var sessions, challenged int
		for _, s := range runs {
			if s.Target == t {
				sessions += s.Legit.Sessions
				challenged += s.Legit.ChallengedSessions
			}
		}
		parts = append(parts, fmt.Sprintf("customers challenged %s of %d sessions (%s)", pct(float64(challenged), float64(sessions)), sessions,
			met(frac(float64(challenged), float64(sessions)) <= goalFalseChallenge)))
		fmt.Fprintf(w, "- **%s**: %s\n", t, strings.Join(parts, "; "))
	}
}

// recovery is the time after the attack's end from which every second
// has ≥ 99 % of customers' requests succeeding with a p90 ≤ 2× the
// baseline's p99 (a second holds ~60 requests: its own p99 is its slowest
// one, and its median and p90 swing with the mix of static files, pages and
// the slower sign-ins and checkouts): "–" when no second of the attack was worse, ">Ns" when the
// run ended first.
func recovery(s, base *summary) string {
	if s.Scenario == scenBaseline || base == nil || base.Legit.Window.P99MS == 0 {
		return "–"
	}
	good := func(f latencyFigures) bool {
		return f.Requests == 0 || frac(float64(f.OK), float64(f.Requests)) >= goalLegitOK && f.P90MS <= goalP99Factor*base.Legit.Window.P99MS
	}
	from := int(s.PreS)
	end := int(s.PreS + s.AttackS)
	secs := s.Legit.Seconds
	if end > len(secs) {
		return "–"
	}
	if !slices.ContainsFunc(secs[from:end], func(f latencyFigures) bool { return !good(f) }) {
		return "–"
	}
	rec := len(secs)
	for i := len(secs) - 1; i >= end; i-- {
		if !good(secs[i]) {
			break
		}
		rec = i
	}
	if rec == len(secs) {
		return fmt.Sprintf(">%.0f", s.PostS)
	}
	return fmt.Sprint(rec - end)
}

// failures lists the commonest ways customers' actions failed, most
// first, at most three ("–" for none).
func failures(m map[string]int64) string {
	if len(m) == 0 {
		return "–"
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range keys[:min(3, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func find(runs []*summary, target, scenario string) *summary {
	for _, s := range runs {
		if s.Target == target && s.Scenario == scenario {
			return s
		}
	}
	return nil
}

func frac(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// pct formats a/b as a percentage ("–" when b is 0).
func pct(a, b float64) string {
	if b == 0 {
		return "–"
	}
	v := a / b * 100
	if v > 99 && v < 100 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// botScoreLines describes, per run that had them, the bot scores the shop
// was told, by role.
func botScoreLines(runs []*summary) []string {
	var lines []string
	for _, s := range runs {
		var parts []string
		for _, role := range []string{"legit", "attack"} {
			h := s.Shop.Counts.BotScores[role]
			var n, over50, over90 int64
			for i, c := range h {
				n += c
				if i >= 5 {
					over50 += c
				}
				if i >= 9 {
					over90 += c
				}
			}
			if n > 0 {
				parts = append(parts, fmt.Sprintf("%s %s %% / %s %% of %d", role, pct(float64(over50), float64(n)), pct(float64(over90), float64(n)), n))
			}
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("- %s, %s: %s", s.Scenario, s.Target, strings.Join(parts, "; ")))
		}
	}
	return lines
}
