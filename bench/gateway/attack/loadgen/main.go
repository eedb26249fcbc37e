// Command loadgen drives the gateway attack benchmark
// (bench/gateway/attack/run.sh) against one target at a time.
//
// loadgen run sends legitimate customers (browsers at human pace, each from
// its own 127.x address with a cookie jar, passing the gateway's challenge
// pages as their script would) through a target for pre + attack + post,
// and during the attack window one attack scenario. It reads the shop's
// counts (which requests reached it) and the target's CPU and memory from
// /proc, and writes a JSON summary.
//
//	loadgen run -target-name shopguard -target http://127.0.0.1:8000 -shop-stats http://127.0.0.1:3001 \
//	    -scenario flood -proxy-pid 1234 -shop-pid 1200 -out flood.json
//
// loadgen report reads such summaries and prints the table, judged against
// the targets.
//
//	loadgen report results/*.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		printUsage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "report":
		err = reportCmd(os.Args[2:], os.Stdout)
	default:
		printUsage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func printUsage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen run [flags] | loadgen report FILE.json...")
	os.Exit(2)
}

// runConfig is one run's configuration, from its flags.
type runConfig struct {
	targetName, scenario string
	target, shopStats    *url.URL
	pre, attack, post    time.Duration
	humans               humanConfig
	attacks              attackConfig
	proxyPID, shopPID    int
	out                  string
	seed                 uint64
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var cfg runConfig
	var target, shopStats string
	fs.StringVar(&cfg.targetName, "target-name", "", "name of the target in the report")
	fs.StringVar(&target, "target", "", "base URL of the target (the proxy, or the shop itself)")
	fs.StringVar(&shopStats, "shop-stats", "", "base URL of the shop's counts (GET /stats, POST /reset)")
	fs.StringVar(&cfg.scenario, "scenario", scenBaseline, "scenario: "+strings.Join(scenarios, ", "))
	fs.DurationVar(&cfg.pre, "pre", 3*time.Second, "customers alone before the attack")
	fs.DurationVar(&cfg.attack, "attack", 10*time.Second, "the attack's length (the window measured)")
	fs.DurationVar(&cfg.post, "post", 5*time.Second, "customers alone after the attack")
	fs.IntVar(&cfg.humans.users, "users", 50, "customers browsing at once")
	fs.DurationVar(&cfg.humans.think, "think", 2*time.Second, "a customer's mean pause between actions")
	fs.DurationVar(&cfg.humans.timeout, "legit-timeout", 10*time.Second, "a browser's patience for one request")
	fs.IntVar(&cfg.humans.products, "products", 5000, "products in the shop")
	fs.Float64Var(&cfg.attacks.floodRPS, "flood-rps", 1000, "requests/s of the floods")
	fs.Float64Var(&cfg.attacks.scraperRPS, "scraper-rps", 200, "requests/s of the scraper")
	fs.Float64Var(&cfg.attacks.stuffingRPS, "stuffing-rps", 100, "sign-ins/s of the credential stuffing")
	fs.Float64Var(&cfg.attacks.cardRPS, "card-rps", 50, "checkouts/s of the card testing")
	fs.IntVar(&cfg.attacks.dfloodAddrs, "dflood-addrs", 1000, "source addresses of the distributed flood")
	fs.DurationVar(&cfg.attacks.timeout, "attack-timeout", 5*time.Second, "an attack request's timeout")
	fs.StringVar(&cfg.attacks.slowhttptest, "slowhttptest", "slowhttptest", "slowhttptest binary")
	fs.IntVar(&cfg.attacks.slowConns, "slow-conns", 1000, "slowhttptest connections")
	fs.IntVar(&cfg.attacks.slowRate, "slow-rate", 200, "slowhttptest connections opened per second")
	fs.StringVar(&cfg.attacks.slowLog, "slow-log", "", "file for slowhttptest's output")
	fs.IntVar(&cfg.attacks.dslowAddrs, "dslow-addrs", 64, "addresses of the distributed slow POST, one connection each")
	fs.IntVar(&cfg.proxyPID, "proxy-pid", 0, "PID of the proxy (its children count too); 0: none")
	fs.IntVar(&cfg.shopPID, "shop-pid", 0, "PID of the shop; 0: not measured")
	fs.StringVar(&cfg.out, "out", "", "file to write the JSON summary to, one line (default stdout)")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the customers' choices")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.target, err = baseURL("target", target); err != nil {
		return err
	}
	if cfg.shopStats, err = baseURL("shop-stats", shopStats); err != nil {
		return err
	}
	if !slices.Contains(scenarios, cfg.scenario) {
		return fmt.Errorf("-scenario %q: one of %s", cfg.scenario, strings.Join(scenarios, ", "))
	}
	if cfg.pre <= 0 || cfg.attack <= 0 || cfg.post < 0 || cfg.attack+cfg.pre+cfg.post > 10*time.Minute {
		return errors.New("-pre and -attack must be positive, -post not negative, all three at most 10m")
	}
	if cfg.humans.users < 1 || cfg.humans.users > 5000 || cfg.attacks.dfloodAddrs < 1 || cfg.attacks.dfloodAddrs > 60_000 ||
		cfg.attacks.dslowAddrs < 1 || cfg.attacks.dslowAddrs > 256 {
		return errors.New("-users must be 1..5000, -dflood-addrs 1..60000 and -dslow-addrs 1..256")
	}
	for _, r := range []float64{cfg.attacks.floodRPS, cfg.attacks.scraperRPS, cfg.attacks.stuffingRPS, cfg.attacks.cardRPS} {
		if !(r > 0 && r <= 50_000) {
			return errors.New("attack rates must be in (0, 50000] requests/s")
		}
	}
	cfg.humans.base, cfg.attacks.base = cfg.target, cfg.target
	cfg.attacks.products = cfg.humans.products
	cfg.attacks.duration = cfg.attack
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := run(ctx, cfg)
	if err != nil {
		return err
	}
	data, err := json.Marshal(sum) // one line: run.sh gathers them as JSON lines
	if err != nil {
		return fmt.Errorf("encoding the summary: %w", err)
	}
	data = append(data, '\n')
	if cfg.out == "" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(cfg.out, data, 0o644)
}

// baseURL checks a base URL on loopback.
func baseURL(name, s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("-%s %q: an http:// URL is required", name, s)
	}
	if h := u.Hostname(); h != "localhost" && !strings.HasPrefix(h, "127.") {
		return nil, fmt.Errorf("-%s %q: only loopback targets (127.0.0.0/8)", name, s)
	}
	return u, nil
}

// bucket is the width of the shop's and the attackers' per-bucket counts.
const bucket = 500 * time.Millisecond

// run runs customers and the scenario's attack through the target.
func run(ctx context.Context, cfg runConfig) (*summary, error) {
	if err := post(ctx, cfg.shopStats.String()+"/reset"); err != nil {
		return nil, fmt.Errorf("resetting the shop's counts: %w", err)
	}
	start := time.Now()
	total := cfg.pre + cfg.attack + cfg.post
	// The customers stop starting anything at the end and give up what is
	// still in flight a second later.
	stopCtx, stopHumans := context.WithDeadline(ctx, start.Add(total))
	defer stopHumans()
	hardCtx, cancelHumans := context.WithDeadline(ctx, start.Add(total+time.Second))
	defer cancelHumans()
	watchCtx, stopWatch := context.WithCancel(ctx)
	proxyUsage := watch(watchCtx, cfg.proxyPID)
	shopUsage := watch(watchCtx, cfg.shopPID)
	rec := &recorder{start: start}
	humans := runHumans(hardCtx, stopCtx, cfg.humans, rec, cfg.seed)

	st := newAttackStats(start, bucket)
	var attackErr error
	if sleepCtx(ctx, cfg.pre) {
		attackErr = runAttack(ctx, cfg.scenario, cfg.attacks, st)
	}
	humans.Wait()
	stopWatch()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var shop shopCounts
	if err := getJSON(ctx, cfg.shopStats.String()+"/stats", &shop); err != nil {
		return nil, fmt.Errorf("reading the shop's counts: %w", err)
	}
	s := summarize(cfg, rec, st, shop)
	s.Proxy.usage, s.Shop.Usage.usage = proxyUsage(), shopUsage()
	s.Proxy.PerKReqMS = perK(s.Proxy.CPUMS, s.Legit.Requests+s.Attack.Counts.Sent)
	s.Shop.Usage.PerKReqMS = perK(s.Shop.Usage.CPUMS, s.Legit.Requests+s.Attack.Counts.Sent)
	if attackErr != nil {
		s.AttackError = attackErr.Error()
	}
	return s, nil
}

// perK is CPU milliseconds per 1,000 requests.
func perK(ms float64, requests int64) float64 {
	if requests == 0 {
		return 0
	}
	return ms / float64(requests) * 1000
}

func post(ctx context.Context, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", u, resp.Status)
	}
	return nil
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}
