package cli

import (
	"context"
	_ "embed" // the demo's gateway policy
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/dashboard"
	"github.com/shopguard/shopguard/internal/demo"
	"github.com/shopguard/shopguard/internal/gateway"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/risk"
)

func newDemo(env *Env, g *globals) *cobra.Command {
	def := demo.DefaultOptions()
	var (
		duration, timeout time.Duration
		seed              uint64
		rate              float64
		customers         int
		scenarios         []string
		headless          bool
		withModel         bool
		exportDir         string
		withGateway       bool
		shopAddr          string
		failPolicy        string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a demo shop under attack, guarded by shopguard, and show what was caught",
		Long: `demo starts shopguard, a small web shop that asks shopguard about every
checkout, sign-in and sign-up and about the messages customers forward to it,
and a simulator that plays the shop's customers and attackers against it (card
testing, stolen cards, credential stuffing, account takeover, password
spraying, brute force, a phishing campaign on lookalike domains; see
--scenarios). It prints the shop's URL, a
progress line, and at the end a results table per scenario.

By default the data lives in a temporary directory removed at the end;
with --data DIR it is kept (and reused by later runs).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			policy, err := risk.ParseAction(failPolicy)
			if err != nil {
				return usageError{fmt.Errorf("--fail-policy: %w", err)}
			}
			if timeout <= 0 {
				return usageError{errors.New("--timeout must be positive")}
			}
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("log-level") && !slices.ContainsFunc(env.Environ, func(kv string) bool {
				return strings.HasPrefix(kv, "SHOPGUARD_LOG_LEVEL=")
			}) && g.configFile == "" {
				cfg.Log.Level = "warn"
			}
			if !cmd.Flags().Changed("addr") {
				cfg.Server.Addr = "127.0.0.1:0"
			}
			if !cmd.Flags().Changed("data") && g.configFile == "" {
				dir, err := os.MkdirTemp("", "shopguard-demo-")
				if err != nil {
					return fmt.Errorf("demo: %w", err)
				}
				defer os.RemoveAll(dir)
				cfg.Storage.DataDir = dir
			}
			opts := def
			opts.Sim.Duration, opts.Sim.Seed, opts.Sim.Rate, opts.Sim.Customers, opts.Sim.Scenarios = duration, seed, rate, customers, scenarios
			opts.Timeout, opts.CheckoutOnFailure, opts.ExportDir, opts.ShopAddr = timeout, policy, exportDir, shopAddr
			return runDemo(cmd.Context(), env, cfg, opts, headless, withModel, withGateway)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&duration, "duration", def.Sim.Duration, "how long the simulated traffic runs (Ctrl-C stops early)")
	f.Uint64Var(&seed, "seed", def.Sim.Seed, "seed for the simulated customers and attackers")
	f.StringSliceVar(&scenarios, "scenarios", nil, "scenarios to run (default all): "+strings.Join(demo.ScenarioNames(), ", "))
	f.Float64Var(&rate, "rate", def.Sim.Rate, "legitimate shopping sessions started per second")
	f.IntVar(&customers, "customers", def.Sim.Customers, "size of the shop's existing customer base")
	f.BoolVar(&headless, "headless", false, "do not open the shop in a browser")
	f.BoolVar(&withModel, "model", true, "train a model on the imported history (and its chargebacks) before the run; --model=false runs on rules alone")
	f.BoolVar(&withGateway, "gateway", true, "put the shop behind shopguard gateway (its floods and scrapers are answered there); --gateway=false exposes the shop itself")
	f.StringVar(&exportDir, "export", "", "write the labelled transactions and requests to this directory")
	f.StringVar(&shopAddr, "shop-addr", def.ShopAddr, "listen address of the demo shop (loopback)")
	f.StringVar(&failPolicy, "fail-policy", string(def.CheckoutOnFailure), "what the shop does when shopguard does not answer a checkout: allow, review or block")
	f.DurationVar(&timeout, "timeout", def.Timeout, "how long the shop waits for shopguard per call")
	f.String("addr", "", "listen address of the shopguard API (default a free loopback port)")
	f.String("log-level", "", "shopguard's log level (default warn for the demo)")
	return cmd
}

// demoUser is the dashboard admin the demo creates (its password is new each run).
const demoUser = "demo-admin"

func runDemo(ctx context.Context, env *Env, cfg config.Config, opts demo.Options, headless, withModel, withGateway bool) error {
	log := logger(env, cfg)
	tuneGC(log)
	var front *demoGateway
	if withGateway {
		var err error
		if front, err = newDemoGateway(cfg, log); err != nil {
			return err
		}
		defer front.close()
		// The dashboard's Gateways page shows it.
		cfg.Server.Gateways = front.adminURL
		opts.Gateway = front.start
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	key, err := a.CreateKey(ctx, "demo", "demo shop", apikey.AllScopes)
	if err != nil {
		return errors.Join(err, a.Close())
	}
	password, err := a.CreateUser(ctx, "demo", demoUser, dashboard.RoleAdmin)
	if err != nil {
		return errors.Join(err, a.Close())
	}
	serveCtx, stopServe := context.WithCancel(context.WithoutCancel(ctx))
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- a.Serve(serveCtx, func(addr net.Addr) { addrc <- addr }) }()
	var apiURL string
	var servedAddr net.Addr
	select {
	case addr := <-addrc:
		apiURL, servedAddr = "http://"+addr.String(), addr
	case err := <-served:
		stopServe()
		return errors.Join(err, a.Close())
	}

	opts.ShopguardURL, opts.APIKey = apiURL, key
	if withModel {
		opts.Train = func(ctx context.Context) (string, error) {
			v, rep, err := a.TrainModel(ctx, "demo", 90, app.SmallDataParams(), true)
			if errors.Is(err, gbdt.ErrTooFewPositives) {
				return fmt.Sprintf("Not enough labelled history to train a model (%d chargebacks); running on rules alone.", rep.Positives), nil
			}
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Trained model %s on %d past orders (%d charged back) in %s; on the newest quarter it held out: ROC AUC %.3f, average precision %.3f.",
				v, rep.Events, rep.Positives, rep.TrainTime.Round(time.Millisecond), rep.AUC, rep.AP), nil
		}
	}
	opts.Out, opts.LiveProgress, opts.Log = env.Stdout, isTerminal(env.Stdout), log
	// The dashboard by name, so that analysts can add and use passkeys
	// (they need a domain name: localhost).
	dashURL := apiURL
	if tcp, ok := servedAddr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		dashURL = "http://localhost:" + strconv.Itoa(tcp.Port)
	}
	opts.Ready = func(shopURL string) {
		fmt.Fprintf(env.Stdout, "\n  Demo shop:      %s\n  Dashboard:      %s/dashboard/  (sign in as %s, password %s)\n  shopguard API:  %s  (tenant demo, key %s)\n\n",
			shopURL, dashURL, demoUser, password, apiURL, key)
		if front != nil {
			fmt.Fprintf(env.Stdout, "  The shop is behind shopguard gateway (%s); its status is on the dashboard's Gateways page.\n\n", front.url)
		}
		fmt.Fprintf(env.Stdout, "Simulating shoppers and attackers for %s; Ctrl-C stops early.\n", opts.Sim.Duration)
		if !headless {
			openBrowser(shopURL)
		}
	}
	_, runErr := demo.Run(ctx, opts)
	if errors.Is(runErr, context.Canceled) {
		runErr = nil // Ctrl-C: the table covers what ran
	}
	stopServe()
	return errors.Join(runErr, <-served, a.Close())
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// openBrowser tries to show url in the desktop's browser; without a
// desktop it does nothing.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return
		}
		cmd = exec.Command("xdg-open", url)
	}
	if cmd.Start() == nil {
		go func() { _ = cmd.Wait() }()
	}
}

// demoPolicy is the gateway policy of the demo shop.
//
//go:embed demo_gateway.yaml
var demoPolicy string

// demoGateway is the shopguard gateway in front of the demo shop: its
// admin address is open from the start (the dashboard is told of it
// before the shop exists); the gateway itself starts with the shop.
type demoGateway struct {
	cfg      config.Config
	log      *slog.Logger
	adminLn  net.Listener
	adminURL string
	url      string
	cancel   context.CancelFunc
	done     []chan error
}

func newDemoGateway(cfg config.Config, log *slog.Logger) (*demoGateway, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo gateway admin: %w", err)
	}
	return &demoGateway{cfg: cfg, log: log, adminLn: ln, adminURL: "http://" + ln.Addr().String()}, nil
}

// start runs the gateway in front of shopURL and returns its URL.
func (d *demoGateway) start(shopURL string) (string, error) {
	gc := d.cfg.Gateway
	gc.Upstream, gc.PolicyFile, gc.HealthPath, gc.RiskURL = shopURL, "", "/healthz", ""
	// Every simulated client comes from this machine, its address in
	// X-Forwarded-For: loopback is the trusted proxy, and the connection
	// cap per address is the simulator's, not a client's.
	gc.TrustedProxies, gc.MaxConnsPerIP = "127.0.0.0/8,::1/128", max(gc.MaxConnsPerIP, 4096)
	gcfg, err := app.GatewayConfig(gc)
	if err != nil {
		return "", err
	}
	if gcfg.Policy, err = gateway.ReadPolicy(strings.NewReader(demoPolicy)); err != nil {
		return "", fmt.Errorf("demo gateway policy: %w", err)
	}
	gw, err := gateway.New(gcfg, d.log)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo gateway: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.url = cancel, "http://"+ln.Addr().String()
	served, admin := make(chan error, 1), make(chan error, 1)
	d.done = []chan error{served, admin}
	go func() { served <- gw.Serve(ctx, ln) }()
	reg := prometheus.NewRegistry()
	reg.MustRegister(gw.Collector())
	srv := &http.Server{Handler: gw.AdminHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		go func() { <-ctx.Done(); _ = srv.Close() }()
		admin <- srv.Serve(d.adminLn)
	}()
	return d.url, nil
}

// close stops the gateway (if it started) and its admin address.
func (d *demoGateway) close() {
	if d.cancel == nil {
		d.adminLn.Close()
		return
	}
	d.cancel()
	for _, c := range d.done {
		if err := <-c; err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Warn("demo gateway", "error", err)
		}
	}
}
