package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/gateway"
)

func newGateway(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway --upstream URL",
		Short: "Run the reverse proxy in front of the shop (127.0.0.1:8000 by default)",
		Long: `Run shopguard's gateway: a reverse proxy in front of the shop that forwards
HTTP/1.1, HTTP/2 (with TLS), streaming responses and WebSockets, terminates TLS
(gateway.tls_cert and gateway.tls_key), believes X-Forwarded-For only from
gateway.trusted_proxies, and keeps slow and greedy clients from exhausting the
shop: header deadlines, a minimum request-body rate, request size limits and
per-client connection caps. gateway.policy_file declares rate limits per route
and client key, including limits that count the shop's answers (failed logins,
declined payments, 404s). With gateway.health_path it checks the shop and
answers 503 itself while the shop is down. With state.url (a Redis) the rate
limits are shared by every gateway using it; while it is unreachable each
gateway enforces them with its own buckets. Every setting is under gateway.
(and state.) in the config file (shopguard config check prints them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			gcfg, err := app.GatewayConfig(cfg.Gateway)
			if errors.Is(err, app.ErrNoUpstream) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			log := logger(env, cfg)
			tuneGC(log)
			state, err := app.GatewayState(cmd.Context(), cfg.State, &gcfg, log)
			if err != nil {
				return err
			}
			defer state.Close()
			switch p := cfg.Gateway.DecisionLog; p {
			case "":
			case "-":
				gcfg.DecisionLog = env.Stdout
			default:
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
				if err != nil {
					return fmt.Errorf("gateway.decision_log: %w", err)
				}
				defer f.Close()
				gcfg.DecisionLog = f
			}
			gw, err := gateway.New(gcfg, log)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", cfg.Gateway.Addr)
			if err != nil {
				return fmt.Errorf("gateway.addr: %w", err)
			}
			scheme := "http"
			if gcfg.TLSCert != "" {
				scheme = "https"
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			var admin *http.Server
			adminDone := make(chan error, 1)
			if cfg.Gateway.AdminAddr != "" {
				aln, err := net.Listen("tcp", cfg.Gateway.AdminAddr)
				if err != nil {
					ln.Close()
					return fmt.Errorf("gateway.admin_addr: %w", err)
				}
				reg := prometheus.NewRegistry()
				reg.MustRegister(gw.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
				admin = &http.Server{Handler: gw.AdminHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})), ReadHeaderTimeout: 5 * time.Second}
				go func() { adminDone <- admin.Serve(aln) }()
				fmt.Fprintf(env.Stdout, "gateway metrics on http://%s/metrics\n", aln.Addr())
			}
			fmt.Fprintf(env.Stdout, "shopguard gateway listening on %s://%s, forwarding to %s\n", scheme, ln.Addr(), gcfg.Upstream.Redacted())
			err = gw.Serve(ctx, ln)
			if admin != nil {
				sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer scancel()
				err = errors.Join(err, admin.Shutdown(sctx))
				if aerr := <-adminDone; !errors.Is(aerr, http.ErrServerClosed) {
					err = errors.Join(err, aerr)
				}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.String("upstream", "", "the shop's base URL, e.g. http://127.0.0.1:3000 (gateway.upstream)")
	f.String("listen", "", "listen address host:port (gateway.addr, default 127.0.0.1:8000)")
	f.String("admin", "", "address of /metrics and /healthz for operators (gateway.admin_addr, default 127.0.0.1:8001)")
	f.String("tls-cert", "", "PEM certificate file to serve HTTPS (gateway.tls_cert)")
	f.String("tls-key", "", "PEM private key file (gateway.tls_key)")
	f.String("trusted-proxies", "", "comma-separated CIDRs whose X-Forwarded-For is believed (gateway.trusted_proxies)")
	f.String("health-path", "", "path of the shop to check, e.g. /healthz (gateway.health_path)")
	f.String("policy", "", "YAML file of rate limits per route (gateway.policy_file)")
	f.String("log-level", "", "log level: debug, info, warn or error")
	return cmd
}
