package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/shopguard/shopguard/internal/botscore"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/gateway"
	"github.com/shopguard/shopguard/internal/gateway/limit"
	"github.com/shopguard/shopguard/internal/storage/redis"
)

// ErrNoUpstream means shopguard gateway was started without the shop's
// URL.
var ErrNoUpstream = errors.New("gateway.upstream is required: the shop's base URL, e.g. --upstream http://127.0.0.1:3000")

// GatewayConfig turns the operator's gateway settings into the gateway's
// configuration; it fails when the upstream is missing or a setting is
// invalid (config.Load has already checked each one).
func GatewayConfig(c config.Gateway) (gateway.Config, error) {
	if c.Upstream == "" {
		return gateway.Config{}, ErrNoUpstream
	}
	upstream, err := config.ParseUpstream(c.Upstream)
	if err != nil {
		return gateway.Config{}, fmt.Errorf("gateway.upstream: %w", err)
	}
	trusted, err := config.ParseCIDRs(c.TrustedProxies)
	if err != nil {
		return gateway.Config{}, fmt.Errorf("gateway.trusted_proxies: %w", err)
	}
	g := gateway.Config{
		Upstream: upstream, Trusted: gateway.Trusted(trusted), TLSCert: c.TLSCert, TLSKey: c.TLSKey,
		ReadHeaderTimeout: c.ReadHeaderTimeout, IdleTimeout: c.IdleTimeout,
		BodyGrace: c.BodyGrace, MinBodyRate: float64(c.MinBodyRate),
		MaxHeaderBytes: c.MaxHeaderBytes, MaxBodyBytes: c.MaxBodyBytes,
		MaxConns: c.MaxConns, MaxConnsPerIP: c.MaxConnsPerIP,
		UpstreamTimeout: c.UpstreamTimeout,
		Health: gateway.HealthCheck{Path: c.HealthPath, Interval: c.HealthInterval, Timeout: c.HealthTimeout,
			Failures: c.HealthFailures},
		ShutdownTimeout: c.ShutdownTimeout,
		MaxLimitKeys:    c.MaxLimitKeys,
	}
	if c.PolicyFile != "" {
		f, err := os.Open(c.PolicyFile)
		if err != nil {
			return gateway.Config{}, fmt.Errorf("gateway.policy_file: %w", err)
		}
		defer f.Close()
		if g.Policy, err = gateway.ReadPolicy(f); err != nil {
			return gateway.Config{}, fmt.Errorf("gateway.policy_file %s: %w", c.PolicyFile, err)
		}
	}
	if c.ChallengeSecretFile != "" {
		secret, err := os.ReadFile(c.ChallengeSecretFile)
		if err != nil {
			return gateway.Config{}, fmt.Errorf("gateway.challenge_secret_file: %w", err)
		}
		if g.ChallengeSecret = bytes.TrimSpace(secret); len(g.ChallengeSecret) == 0 {
			return gateway.Config{}, fmt.Errorf("gateway.challenge_secret_file %s: empty", c.ChallengeSecretFile)
		}
	}
	switch c.BotModel {
	case "off":
	case "":
		g.BotModel = botscore.DefaultModel()
	default:
		data, err := os.ReadFile(c.BotModel)
		if err != nil {
			return gateway.Config{}, fmt.Errorf("gateway.bot_model: %w", err)
		}
		m, err := botscore.LoadModel(data)
		if err != nil {
			return gateway.Config{}, fmt.Errorf("gateway.bot_model %s: %w", c.BotModel, err)
		}
		g.BotModel = m
	}
	if c.RiskURL != "" {
		g.Risk = gateway.RiskAPI{URL: c.RiskURL, Timeout: c.RiskTimeout}
		if c.RiskKeyFile != "" {
			key, err := os.ReadFile(c.RiskKeyFile)
			if err != nil {
				return gateway.Config{}, fmt.Errorf("gateway.risk_key_file: %w", err)
			}
			if g.Risk.Key = string(bytes.TrimSpace(key)); g.Risk.Key == "" {
				return gateway.Config{}, fmt.Errorf("gateway.risk_key_file %s: empty", c.RiskKeyFile)
			}
		}
	}
	return g, g.Validate()
}

// GatewayState puts the gateway's rate limits (when the policy has any)
// and its challenge-loop buckets in the shared state of st (state.url, a
// Redis) when there is one, and shares its bot verdicts there (when it
// scores bots): then every gateway using the same Redis and prefix shares
// each bucket and knows the clients the others found doubtful. A Redis that does not answer now is not an
// error: the gateway starts with its own buckets (the degraded mode of
// redis.Limits, logged) and shares once Redis answers. It returns what to
// close when the gateway stops.
func GatewayState(ctx context.Context, st config.State, gc *gateway.Config, log *slog.Logger) (io.Closer, error) {
	if st.URL == "" {
		return nopCloser{}, nil
	}
	s, err := redis.Open(redis.Options{URL: st.URL, Timeout: st.Timeout, Prefix: st.Prefix})
	if err != nil {
		return nil, fmt.Errorf("state.url: %w", err)
	}
	if err := s.Ping(ctx); err != nil {
		log.Warn("shared state unreachable at start: rate limits use this gateway's own buckets until it answers", "error", err)
	}
	if len(gc.Policy.Limits) > 0 {
		if gc.SharedLimits, err = s.Limits(gc.Policy.Limits, gc.MaxLimitKeys, log); err != nil {
			s.Close()
			return nil, fmt.Errorf("gateway: %w", err)
		}
	}
	if gc.SharedChallengeLoop, err = s.Limits([]limit.Rule{gateway.ChallengeLoopRule}, gc.ChallengeLoopKeys(), log); err != nil {
		s.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if gc.BotModel == nil {
		return s, nil
	}
	v := s.BotVerdicts(gc.BotClients(), log)
	gc.BotVerdicts = v
	return closers{v, s}, nil
}

// closers closes each in order.
type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// nopCloser closes nothing.
type nopCloser struct{}

func (nopCloser) Close() error { return nil }
