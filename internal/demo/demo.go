package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/risk"
)

// Options configures a demo run.
type Options struct {
	// ShopguardURL and APIKey reach the shopguard API (a key with every scope).
	ShopguardURL string
	APIKey       string
	// ShopAddr is where the demo shop listens (127.0.0.1:0 picks a port).
	ShopAddr string

	Sim SimConfig // ShopURL is filled in by Run

	// Timeout and CheckoutOnFailure set the shop's calls to shopguard.
	Timeout           time.Duration
	CheckoutOnFailure risk.Action
	// PasswordCost is the shop's bcrypt cost (the demo imports thousands of
	// accounts at start; production shops use bcrypt.DefaultCost or more).
	PasswordCost int

	// ExportDir, when set, receives the labelled data (see Export).
	ExportDir string
	// Out receives the progress line and the results table.
	Out io.Writer
	// LiveProgress rewrites one progress line (for a terminal) instead of
	// printing a line every ten seconds.
	LiveProgress bool
	// Train, if set, is called once the history and its chargebacks are
	// imported, to train and install a model; it returns a line to print.
	Train func(ctx context.Context) (string, error)
	// Gateway, if set, puts a gateway in front of the shop: it is called
	// with the shop's own URL once the shop listens and returns the
	// gateway's URL (on loopback), which browsers and the simulator then
	// use. The gateway must trust this machine as a proxy: the simulator
	// sends each simulated client's address in X-Forwarded-For.
	Gateway func(shopURL string) (string, error)
	// Ready, if set, is called with the shop's URL once it is listening.
	Ready func(shopURL string)
	Log   *slog.Logger
}

// DefaultOptions returns the settings `shopguard demo` starts from.
func DefaultOptions() Options {
	return Options{
		ShopAddr: "127.0.0.1:0",
		Sim: SimConfig{Seed: 1, Duration: time.Minute, Rate: 20, Customers: 1500, Pace: 0.25,
			DisputeShare: 0.9, DisputeDelay: 3 * time.Second, NewDeviceShare: 0.03, AppShare: 0.6, PasskeyShare: 0.35},
		Timeout: time.Second, CheckoutOnFailure: risk.ActionReview, PasswordCost: bcrypt.MinCost,
		Out: io.Discard,
	}
}

// Run plays a demo: it installs the baseline rules, starts the shop,
// imports its customers and their past orders, runs the simulator, prints
// progress and the results table to opts.Out, and exports the labelled
// data if asked. It returns the report; ctx ending stops the run early
// (the report covers what ran).
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	sg, err := client.New(opts.ShopguardURL, opts.APIKey, client.WithRetries(0))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := InstallRules(ctx, sg); err != nil {
		return nil, err
	}
	// Links in posts and messages that imitate the shop's domain are
	// phishing.
	if _, err := sg.SetPhishingProfile(ctx, client.PhishingProfile{ProtectedDomains: []string{ShopDomain}}); err != nil {
		return nil, fmt.Errorf("demo: phishing profile: %w", err)
	}
	guard, err := NewGuard(GuardConfig{Timeout: opts.Timeout, CheckoutOnFailure: opts.CheckoutOnFailure}, sg)
	if err != nil {
		return nil, err
	}
	proc := NewProcessor()
	catalog := NewCatalog()
	prefix := "demo-" + strconv.FormatInt(time.Now().UnixMilli(), 36)
	shop, err := NewShop(ShopConfig{Name: "Northwind Outfitters (demo)", OrderPrefix: prefix, TrustClientIPHeader: true,
		PasswordCost: opts.PasswordCost, Shopguard: opts.ShopguardURL, Log: opts.Log}, catalog, guard, proc)
	if err != nil {
		return nil, err
	}
	// The shop trusts the simulator's client-address header, so it must
	// never listen beyond this machine.
	host, _, err := net.SplitHostPort(opts.ShopAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: shop address %q: %w", opts.ShopAddr, err)
	}
	if err := checkLoopback(host); err != nil {
		return nil, fmt.Errorf("demo: shop address: %w", err)
	}
	ln, err := net.Listen("tcp", opts.ShopAddr)
	if err != nil {
		return nil, fmt.Errorf("demo: shop listen: %w", err)
	}
	srv := &http.Server{Handler: shop, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	// Browsers reach the shop by name: passkeys need a domain (localhost).
	// shopguard's webhooks reach it by address.
	addrURL := "http://" + ln.Addr().String()
	shopURL := "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if opts.Gateway != nil {
		front, err := opts.Gateway(addrURL)
		if err != nil {
			return nil, fmt.Errorf("demo: gateway: %w", err)
		}
		u, err := url.Parse(front)
		if err != nil || u.Port() == "" {
			return nil, fmt.Errorf("demo: gateway address %q: not a URL with a port", front)
		}
		if err := checkLoopback(u.Hostname()); err != nil {
			return nil, fmt.Errorf("demo: gateway address: %w", err)
		}
		shopURL = "http://localhost:" + u.Port()
	}

	simCfg := opts.Sim
	simCfg.ShopURL = shopURL
	sim, err := NewSim(simCfg, proc, nil)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	fmt.Fprintf(opts.Out, "Preparing the shop: %d customers and their last 60 days of orders and sign-ins...\n", simCfg.Customers)
	if err := importAccounts(shop, sim); err != nil {
		return nil, err
	}
	apps, err := sim.EnrolApps(ctx, sg, "Northwind Outfitters")
	if err != nil {
		return nil, err
	}
	passkeys, err := sim.EnrolPasskeys(ctx, sg, "Northwind Outfitters")
	if err != nil {
		return nil, err
	}
	history, chargebacks := sim.History(catalog, time.Now())
	signIns := sim.SignInHistory(history, time.Now())
	if err := shop.ImportSignIns(ctx, signIns); err != nil {
		return nil, err
	}
	// One order at a time: the same features, so the same model, every run.
	if err := shop.ImportHistory(ctx, history, 1); err != nil {
		return nil, err
	}
	// The shop's chargeback records come with the history: they are the
	// labels a model learns from.
	byID := make(map[string]time.Time, len(history))
	for _, o := range history {
		byID[o.ID] = o.CreatedAt
	}
	for _, id := range chargebacks {
		disputed := byID[id].Add(20 * 24 * time.Hour)
		if now := time.Now(); disputed.After(now) {
			disputed = now
		}
		if err := guard.Label(ctx, id, "chargeback", "imported chargeback", disputed); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(opts.Out, "Imported %d customers (%d with a passkey, %d with an authenticator app), %d past sign-ins and %d past orders (%d charged back) into shopguard in %s.\n",
		simCfg.Customers, passkeys, apps, len(signIns), len(history), len(chargebacks), time.Since(started).Round(100*time.Millisecond))
	if opts.Train != nil {
		summary, err := opts.Train(ctx)
		if err != nil {
			return nil, fmt.Errorf("demo: train the model: %w", err)
		}
		fmt.Fprintln(opts.Out, summary)
	}
	// "Was this you?" notices start with the run's sign-ins, not the
	// imported ones.
	hook, err := registerWebhook(ctx, sg, addrURL, shop.Inbox())
	if err != nil {
		return nil, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := sg.DeleteWebhook(dctx, hook.ID); err != nil {
			opts.Log.Warn("demo: the shop's webhook endpoint was not removed", "webhook", hook.ID, "error", err)
		}
	}()
	if opts.Ready != nil {
		opts.Ready(shopURL)
	}

	runCtx, stop := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { every(runCtx, 200*time.Millisecond, func() { shop.ProcessChargebacks(ctx, time.Now()) }) })
	bg.Go(func() { progress(runCtx, opts, sim, shop) })
	runErr := sim.Run(ctx)
	stop()
	bg.Wait()
	ran := sim.Elapsed()
	// Chargebacks arrive weeks after the fact in real life; deliver the
	// rest now so that shopguard has every label.
	shop.ProcessChargebacks(context.WithoutCancel(ctx), time.Now().Add(365*24*time.Hour))
	if opts.LiveProgress {
		fmt.Fprintln(opts.Out)
	}
	if err := awaitNotices(ctx, sg, hook.ID); err != nil && ctx.Err() == nil {
		opts.Log.Warn("demo: waiting for the last notices", "error", err)
	}

	scs, _ := scenariosByName(simCfg.Scenarios)
	orders := shop.Orders()
	checkouts := sim.Checkouts()
	reqs := sim.Requests()
	rep := &Report{Seed: simCfg.Seed, Duration: ran, Customers: simCfg.Customers, History: len(history),
		Scenarios: buildReport(scs, reqs, checkouts, orders), Guard: guard.Stats(),
		Notices:   summarizeNotices(shop.Inbox().Notices(), shop.Inbox().Stats(), reqs),
		Forwarded: summarizeForwards(shop.ForwardedMessages(), reqs), Posts: summarizePosts(reqs)}
	fmt.Fprintf(opts.Out, "\nResults after %s (seed %d):\n\n", rep.Duration.Round(time.Second), rep.Seed)
	rep.WriteTable(opts.Out)
	if opts.ExportDir != "" {
		if err := Export(opts.ExportDir, exportRows(history, orders, checkouts), reqs); err != nil {
			return rep, err
		}
		fmt.Fprintf(opts.Out, "Labelled data written to %s (transactions.jsonl, transactions.csv, requests.csv).\n", opts.ExportDir)
	}
	select {
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			return rep, fmt.Errorf("demo: shop server: %w", err)
		}
	default:
	}
	return rep, runErr
}

// importAccounts moves the simulated customers into the shop, hashing
// passwords on every core.
func importAccounts(shop *Shop, sim *Sim) error {
	accounts, passwords := sim.Accounts()
	errs := make([]error, len(accounts))
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(accounts); i += workers {
				errs[i] = shop.ImportAccount(accounts[i], passwords[i])
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// progress prints a status line: rewritten every second on a terminal,
// a new line every ten seconds otherwise.
func progress(ctx context.Context, opts Options, sim *Sim, shop *Shop) {
	interval := 10 * time.Second
	if opts.LiveProgress {
		interval = time.Second
	}
	every(ctx, interval, func() {
		scs, _ := scenariosByName(opts.Sim.Scenarios)
		res := buildReport(scs, sim.Requests(), sim.Checkouts(), shop.Orders())
		var reqs, legit, legitStopped, attacks, attacksStopped int
		for _, r := range res {
			reqs += r.Requests
			if r.Fraud {
				attacks += r.Checkouts
				attacksStopped += r.Stopped()
			} else {
				legit += r.Checkouts
				legitStopped += r.Stopped()
			}
		}
		line := fmt.Sprintf("[%3.0fs/%s] requests %d · legit checkouts %d (stopped %d) · attack checkouts %d (stopped %d)",
			sim.Elapsed().Seconds(), opts.Sim.Duration, reqs, legit, legitStopped, attacks, attacksStopped)
		if opts.LiveProgress {
			fmt.Fprintf(opts.Out, "\r%-100s", line)
		} else {
			fmt.Fprintln(opts.Out, line)
		}
	})
}
