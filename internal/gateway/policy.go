package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shopguard/shopguard/internal/gateway/challenge"
	"github.com/shopguard/shopguard/internal/gateway/limit"
	"github.com/shopguard/shopguard/internal/risk"
)

// Policy is what the gateway enforces per route: the rate limits, and the
// routes they apply to. It is read from a YAML policy file (ReadPolicy):
//
//	limits:
//	  - name: requests_per_ip
//	    key: ip                  # ip, ip_prefix, fingerprint or session
//	    rate: 600/1m             # events per duration, or per second ("10")
//	    burst: 100
//	  - name: failed_logins_per_ip
//	    key: ip
//	    rate: 10/1h
//	    burst: 10
//	    counts: responses        # only these answers take a token
//	    statuses: [401, 403]
//	  - name: failed_logins_per_account
//	    shadow: true             # counted, not enforced, until trusted
//	    key: account             # the login name, read from account_field
//	    rate: 5/1h
//	    burst: 5
//	    counts: responses
//	    statuses: [401, 403]
//	routes:
//	  - name: login
//	    methods: [POST]
//	    path: /account/login     # exact, or a prefix ending in /*
//	    account_field: email     # form or JSON field naming the account
//	    limits: [failed_logins_per_ip, failed_logins_per_account]
//	  - name: checkout
//	    path: /checkout/*
//	    challenge: pow           # browsers prove work once (pow), or wait (wait)
//	    challenge_bits: 14       # pow difficulty: 2^14 hashes on average
//	    challenge_when: always   # or mismatch: only user agents their TLS contradicts
//	    priority: critical       # critical, high, normal (default) or low: who waits least
//	    limits: [requests_per_ip]
//	  - name: everything
//	    path: /*
//	    limits: [requests_per_ip]
//	  - name: api
//	    path: /api/*
//	    challenge: never         # not even under attack: APIs and webhooks
//	    limits: [requests_per_ip]
//	session_cookie: session_id   # the shop's session cookie, for key: session
//	under_attack: false          # start in under-attack mode (held on until an operator ends it)
//	bot_score:                   # what the bot score (gateway.bot_model) does
//	  challenge_above: 90        # page views of clients scoring this or more are challenged
//	  low_priority_above: 70     # their requests wait behind the others at the concurrency limit
//	  shadow: false              # true: only scored, counted and told to the shop
//	auto_under_attack:           # switch it on and off from the shop's health and the traffic
//	  latency: 2s                # distress: the shop's p90 answer time above this,
//	  error_rate: 0.2            # or more than this share of errors (5xx, 502/504, 503),
//	  traffic_factor: 5          # or requests/s above 5x the learned usual rate,
//	  min_rate: 20               # with at least this many requests/s
//	  for: 10s                   # on after distress in 4/5 of this long
//	  cool_down: 5m              # off after this long without distress
//	  learn: 1h                  # time constant of the usual rate
//	clearance_ttl: 30m           # how long a passed challenge lasts
//	admission:                   # at most this many requests in flight to the shop
//	  max_concurrency: 256       # the most, while the shop answers fast
//	  min_concurrency: 8         # the least, however slow it gets
//	  target_latency: 500ms      # the limit shrinks while the p90 is above this
//	  queue_timeout: 2s          # waiting longer for a slot: 503
//	  trusted_below: 30          # a bot score below this over at least
//	  trusted_after: 5           # this many requests: a trusted customer, served first
//	good_bots:                   # crawlers and monitors verified by network
//	  - name: googlebot
//	    user_agent: Googlebot    # a User-Agent containing this claims the bot
//	    networks: [66.249.64.0/19]
//
// A request is checked against the first route that matches it, so
// specific routes come before general ones; a request no route matches is
// not limited.
type Policy struct {
	Limits        []limit.Rule
	Routes        []Route
	SessionCookie string
	// Shadow names the limits in shadow mode: counted, and their would-be
	// refusals counted in the metrics, but nothing refused — a new limit
	// is tried on real traffic before it bites.
	Shadow map[string]bool
	// ClearanceTTL is how long a passed challenge clears its client
	// (default 30 minutes).
	ClearanceTTL time.Duration
	// GoodBots are the crawlers, monitors and webhooks the shop welcomes,
	// verified by the networks they publish.
	GoodBots []GoodBot
	// Admission bounds the requests in flight to the shop (nil: no bound).
	Admission *Admission
	// UnderAttack starts the gateway in under-attack mode, held on (see
	// Gateway.SetUnderAttack).
	UnderAttack bool
	// AutoAttack switches under-attack mode by itself (nil: only an
	// operator does).
	AutoAttack *AutoAttack
	// BotScore says what the bot score does (with Config.BotModel).
	BotScore BotScore
}

// GoodBot is a welcome bot: a request whose User-Agent contains UserAgent
// claims to be it, and is it when it comes from one of Networks. A
// verified bot is never challenged; one claimed from elsewhere is an
// impostor, treated as a client whose user agent lies.
type GoodBot struct {
	Name      string
	UserAgent string
	Networks  []netip.Prefix
}

// maxGoodBots bounds the catalogue; every request with a User-Agent is
// compared with each entry.
const maxGoodBots = 256

// Challenge kinds of a route.
const (
	// ChallengePoW asks browsers for a proof of work, with a wait for
	// those without JavaScript.
	ChallengePoW = "pow"
	// ChallengeWait asks every client to wait a few seconds.
	ChallengeWait = "wait"
	// ChallengeNever marks a route that is never challenged, even in
	// under-attack mode: APIs and webhooks, which cannot run a page.
	ChallengeNever = "never"
)

// postKinds are the kinds of posts the content filter judges.
var postKinds = []string{"review", "question", "answer", "comment", "listing", "profile"}

// DefaultChallengeBits is a proof of work's default difficulty: 2^14
// SHA-256 hashes on average, a fraction of a second in a phone's browser.
const DefaultChallengeBits = 14

// defaultClearanceTTL is Policy.ClearanceTTL's default.
const defaultClearanceTTL = 30 * time.Minute

// underAttackRoute is the challenge of page views no route challenges
// while the gateway is under attack.
var underAttackRoute = Route{Name: "under_attack", Challenge: ChallengePoW, ChallengeBits: DefaultChallengeBits, Priority: PriorityNormal}

// route returns the first route covering r, nil when none does.
func (p Policy) route(r *http.Request) *Route {
	for i := range p.Routes {
		if p.Routes[i].matches(r) {
			return &p.Routes[i]
		}
	}
	return nil
}

// Route is a set of requests (by method and path) and the limits on them.
type Route struct {
	// Name names the route in logs and metrics.
	Name string
	// Methods are the HTTP methods the route matches (none: all).
	Methods []string
	// Path is an exact path, or a prefix when it ends in "/*" ("/*" is
	// every path).
	Path string
	// Limits are the names of the limits checked, in order.
	Limits []string
	// AccountField names the form or JSON field of the request body that
	// holds the account (e.g. the e-mail of a sign-in), for limits keyed
	// by account; "" when the route has none.
	AccountField string
	// Challenge is "" (none), ChallengePoW or ChallengeWait: a client
	// without a valid clearance gets the challenge page (a page view) or
	// 403 (anything else) instead of the shop. Routes of APIs and webhooks,
	// which cannot run a page, must not challenge.
	Challenge string
	// ChallengeBits is the proof of work's difficulty.
	ChallengeBits int
	// ChallengeMismatchOnly challenges only clients whose user agent and
	// TLS handshake disagree (challenge_when: mismatch); the others pass
	// as on a route without a challenge.
	ChallengeMismatchOnly bool
	// Priority orders the route's requests for a slot when the shop is at
	// its concurrency limit (PriorityCritical .. PriorityLow; default
	// PriorityNormal).
	Priority int
	// Protect sends the route's requests to the risk API first: "" (no),
	// ProtectLogin (sign-ins, the account read from AccountField) or
	// ProtectContent (posts, read from Content).
	Protect string
	// SuccessStatuses are the shop's answers to a protected sign-in that
	// mean success (none: any 2xx or 3xx); other answers below 500 but 429
	// mean a bad password.
	SuccessStatuses []int
	// Content names a protected post's body fields.
	Content ContentFields
}

// matches reports whether the route covers r.
func (rt Route) matches(r *http.Request) bool {
	if len(rt.Methods) > 0 && !slices.Contains(rt.Methods, r.Method) {
		return false
	}
	if prefix, ok := strings.CutSuffix(rt.Path, "*"); ok {
		return strings.HasPrefix(r.URL.Path, prefix)
	}
	return r.URL.Path == rt.Path
}

// ErrPolicy means a policy file is invalid; the message names every
// problem with its place in the file.
var ErrPolicy = errors.New("gateway: invalid policy")

// maxPolicyBytes bounds a policy file.
const maxPolicyBytes = 1 << 20

// policyFile is the YAML layout of a policy file.
type policyFile struct {
	Limits []struct {
		Name     string `yaml:"name"`
		Key      string `yaml:"key"`
		Rate     string `yaml:"rate"`
		Burst    int    `yaml:"burst"`
		Counts   string `yaml:"counts"`
		Statuses []int  `yaml:"statuses"`
		Shadow   bool   `yaml:"shadow"`
	} `yaml:"limits"`
	Routes []struct {
		Name    string   `yaml:"name"`
		Methods []string `yaml:"methods"`
		Path    string   `yaml:"path"`
		Limits  []string `yaml:"limits"`
		Account string   `yaml:"account_field"`
		Chall   string   `yaml:"challenge"`
		Bits    int      `yaml:"challenge_bits"`
		When    string   `yaml:"challenge_when"`
		Prio    string   `yaml:"priority"`
		Protect string   `yaml:"protect"`
		Success []int    `yaml:"success_statuses"`
		Content *struct {
			Kind   string `yaml:"kind"`
			Text   string `yaml:"text"`
			Title  string `yaml:"title"`
			Rating string `yaml:"rating"`
			Target string `yaml:"target"`
			Author string `yaml:"author"`
		} `yaml:"content"`
	} `yaml:"routes"`
	SessionCookie string `yaml:"session_cookie"`
	ClearanceTTL  string `yaml:"clearance_ttl"`
	UnderAttack   bool   `yaml:"under_attack"`
	BotScore      *struct {
		ChallengeAbove   int  `yaml:"challenge_above"`
		LowPriorityAbove int  `yaml:"low_priority_above"`
		Shadow           bool `yaml:"shadow"`
	} `yaml:"bot_score"`
	AutoAttack *struct {
		Latency       string   `yaml:"latency"`
		ErrorRate     *float64 `yaml:"error_rate"`
		TrafficFactor *float64 `yaml:"traffic_factor"`
		MinRate       *float64 `yaml:"min_rate"`
		For           string   `yaml:"for"`
		CoolDown      string   `yaml:"cool_down"`
		Learn         string   `yaml:"learn"`
	} `yaml:"auto_under_attack"`
	Admission *struct {
		Max    int    `yaml:"max_concurrency"`
		Min    int    `yaml:"min_concurrency"`
		Target string `yaml:"target_latency"`
		Queue  string `yaml:"queue_timeout"`
		// TrustedBelow and TrustedAfter: pointers, so that 0 can be said.
		TrustedBelow *int `yaml:"trusted_below"`
		TrustedAfter *int `yaml:"trusted_after"`
	} `yaml:"admission"`
	GoodBots []struct {
		Name      string   `yaml:"name"`
		UserAgent string   `yaml:"user_agent"`
		Networks  []string `yaml:"networks"`
	} `yaml:"good_bots"`
}

// ReadPolicy reads and checks a policy file, reporting every problem at
// once; unknown keys are problems.
func ReadPolicy(r io.Reader) (Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPolicyBytes+1))
	if err != nil {
		return Policy{}, fmt.Errorf("gateway: reading the policy: %w", err)
	}
	if len(data) > maxPolicyBytes {
		return Policy{}, fmt.Errorf("%w: larger than %d bytes", ErrPolicy, maxPolicyBytes)
	}
	var f policyFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Policy{}, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var p Policy
	for i, l := range f.Limits {
		rate, err := parseRate(l.Rate)
		if err != nil {
			add("limits[%d].rate: %v", i, err)
		}
		counts := limit.Count(l.Counts)
		if counts == "" {
			counts = limit.CountRequests
		}
		rule := limit.Rule{Name: l.Name, Key: limit.KeyKind(l.Key), Rate: rate, Burst: l.Burst, Counts: counts, Statuses: l.Statuses}
		if err := rule.Validate(); err != nil {
			for _, e := range unwrapAll(err) {
				var fe *limit.FieldError
				if errors.As(e, &fe) {
					if fe.Field == "rate" && rate == 0 {
						continue // already said
					}
					add("limits[%d].%s: %s", i, fe.Field, fe.Message)
				} else {
					add("limits[%d]: %v", i, e)
				}
			}
		}
		if slices.ContainsFunc(p.Limits, func(o limit.Rule) bool { return o.Name == l.Name }) {
			add("limits[%d].name: %q is used twice", i, l.Name)
		}
		p.Limits = append(p.Limits, rule)
		if l.Shadow {
			if p.Shadow == nil {
				p.Shadow = map[string]bool{}
			}
			p.Shadow[l.Name] = true
		}
	}
	for i, rt := range f.Routes {
		route := Route{Name: rt.Name, Path: rt.Path, Limits: rt.Limits, AccountField: strings.TrimSpace(rt.Account),
			Challenge: rt.Chall, ChallengeBits: rt.Bits}
		switch rt.Chall {
		case "", ChallengeWait, ChallengeNever:
			if rt.Bits != 0 {
				add("routes[%d].challenge_bits: only for challenge: pow", i)
			}
		case ChallengePoW:
			if route.ChallengeBits == 0 {
				route.ChallengeBits = DefaultChallengeBits
			}
			if route.ChallengeBits < 1 || route.ChallengeBits > challenge.MaxBits {
				add("routes[%d].challenge_bits: %d, must be 1..%d", i, rt.Bits, challenge.MaxBits)
			}
		default:
			add("routes[%d].challenge: %q is not pow, wait or never", i, rt.Chall)
		}
		switch rt.When {
		case "", "always":
		case "mismatch":
			route.ChallengeMismatchOnly = true
			if rt.Chall == "" {
				add("routes[%d].challenge_when: needs a challenge", i)
			}
		default:
			add("routes[%d].challenge_when: %q is not always or mismatch", i, rt.When)
		}
		route.Priority = PriorityNormal
		if rt.Prio != "" {
			if route.Priority = slices.Index(priorityNames[:], rt.Prio); route.Priority < 0 {
				add("routes[%d].priority: %q is not critical, high, normal or low", i, rt.Prio)
				route.Priority = PriorityNormal
			}
		}
		route.Protect, route.SuccessStatuses = rt.Protect, rt.Success
		switch rt.Protect {
		case "":
		case ProtectLogin:
			if route.AccountField == "" {
				add("routes[%d].account_field: required by protect: login (the field holding the e-mail or user name)", i)
			}
		case ProtectContent:
			c := rt.Content
			if c == nil || strings.TrimSpace(c.Text) == "" && strings.TrimSpace(c.Title) == "" {
				add("routes[%d].content: protect: content needs content.text or content.title (the body fields of the post)", i)
				break
			}
			route.Content = ContentFields{Kind: c.Kind, Text: strings.TrimSpace(c.Text), Title: strings.TrimSpace(c.Title),
				Rating: strings.TrimSpace(c.Rating), Target: strings.TrimSpace(c.Target), Author: strings.TrimSpace(c.Author)}
			if !slices.Contains(postKinds, c.Kind) {
				add("routes[%d].content.kind: %q is not one of %s", i, c.Kind, strings.Join(postKinds, ", "))
			}
		default:
			add("routes[%d].protect: %q is not login or content", i, rt.Protect)
		}
		if rt.Content != nil && rt.Protect != ProtectContent {
			add("routes[%d].content: only with protect: content", i)
		}
		if len(rt.Success) > 0 && rt.Protect != ProtectLogin {
			add("routes[%d].success_statuses: only with protect: login", i)
		}
		for _, code := range rt.Success {
			if code < 200 || code > 499 {
				add("routes[%d].success_statuses: %d is not a status from 200 to 499", i, code)
			}
		}
		if strings.HasPrefix(rt.Path, challengePrefix) {
			add("routes[%d].path: %s is the gateway's own", i, challengePrefix)
		}
		if len(route.AccountField) > 64 {
			add("routes[%d].account_field: longer than 64 characters", i)
		}
		if rt.Name == "" {
			add("routes[%d].name: required", i)
		}
		if !strings.HasPrefix(rt.Path, "/") || strings.Contains(strings.TrimSuffix(rt.Path, "*"), "*") {
			add("routes[%d].path: %q must start with / and may end in * (a prefix), nowhere else", i, rt.Path)
		}
		for _, m := range rt.Methods {
			m = strings.ToUpper(strings.TrimSpace(m))
			if m == "" || strings.ContainsFunc(m, func(r rune) bool { return r < 'A' || r > 'Z' }) {
				add("routes[%d].methods: %q is not an HTTP method", i, m)
			}
			route.Methods = append(route.Methods, m)
		}
		if len(rt.Limits) == 0 && (rt.Chall == "" || rt.Chall == ChallengeNever) && rt.Prio == "" && rt.Protect == "" {
			add("routes[%d].limits: name at least one limit (or a challenge, a priority or a protection)", i)
		}
		for _, name := range rt.Limits {
			k := slices.IndexFunc(p.Limits, func(o limit.Rule) bool { return o.Name == name })
			if k < 0 {
				add("routes[%d].limits: %q is not among the limits", i, name)
			} else if p.Limits[k].Key == limit.KeyAccount && route.AccountField == "" {
				add("routes[%d].account_field: required by %q, which is keyed by account", i, name)
			}
		}
		p.Routes = append(p.Routes, route)
	}
	p.SessionCookie = f.SessionCookie
	p.UnderAttack = f.UnderAttack
	p.ClearanceTTL = defaultClearanceTTL
	if f.ClearanceTTL != "" {
		if d, err := time.ParseDuration(f.ClearanceTTL); err != nil || d < time.Minute || d > 7*24*time.Hour {
			add("clearance_ttl: %q, must be a duration from 1m to 168h", f.ClearanceTTL)
		} else {
			p.ClearanceTTL = d
		}
	}
	if p.SessionCookie == "" && slices.ContainsFunc(p.Limits, func(r limit.Rule) bool { return r.Key == limit.KeySession }) {
		add("session_cookie: required by the limits keyed by session")
	}
	if a := f.Admission; a != nil {
		adm := Admission{MinConcurrency: a.Min, MaxConcurrency: a.Max, TargetLatency: 500 * time.Millisecond, QueueTimeout: 2 * time.Second,
			TrustedBelow: defaultTrustedBelow, TrustedAfter: defaultTrustedAfter}
		if a.TrustedBelow != nil {
			if adm.TrustedBelow = *a.TrustedBelow; adm.TrustedBelow < 0 || adm.TrustedBelow > 100 {
				add("admission.trusted_below: %d, must be 0..100 (0: nobody is trusted)", adm.TrustedBelow)
			}
		}
		if a.TrustedAfter != nil {
			if adm.TrustedAfter = *a.TrustedAfter; adm.TrustedAfter < 1 || adm.TrustedAfter > 64 {
				add("admission.trusted_after: %d, must be 1..64 (the requests the bot score remembers)", adm.TrustedAfter)
			}
		}
		if adm.MinConcurrency == 0 {
			adm.MinConcurrency = 4
		}
		if adm.MaxConcurrency < 1 || adm.MaxConcurrency > 100_000 {
			add("admission.max_concurrency: %d, must be 1..100000", a.Max)
		} else if adm.MinConcurrency < 1 || adm.MinConcurrency > adm.MaxConcurrency {
			add("admission.min_concurrency: %d, must be 1..max_concurrency", adm.MinConcurrency)
		}
		parseDurations("admission", add, []durationField{
			{"target_latency", a.Target, &adm.TargetLatency, time.Millisecond, time.Minute},
			{"queue_timeout", a.Queue, &adm.QueueTimeout, 0, 30 * time.Second}})
		p.Admission = &adm
	}
	if b := f.BotScore; b != nil {
		p.BotScore = BotScore{ChallengeAbove: b.ChallengeAbove, LowPriorityAbove: b.LowPriorityAbove, Shadow: b.Shadow}
		for _, v := range []struct {
			name string
			v    int
		}{{"challenge_above", b.ChallengeAbove}, {"low_priority_above", b.LowPriorityAbove}} {
			if v.v < 0 || v.v > 100 {
				add("bot_score.%s: %d, must be a score from 1 to 100 (0: never)", v.name, v.v)
			}
		}
	}
	if a := f.AutoAttack; a != nil {
		aa := DefaultAutoAttack
		parseDurations("auto_under_attack", add, []durationField{
			{"latency", a.Latency, &aa.Latency, 10 * time.Millisecond, time.Minute},
			{"for", a.For, &aa.For, time.Second, 10 * time.Minute},
			{"cool_down", a.CoolDown, &aa.CoolDown, 10 * time.Second, 24 * time.Hour},
			{"learn", a.Learn, &aa.Learn, time.Minute, 7 * 24 * time.Hour}})
		for _, n := range []struct {
			name   string
			v      *float64
			dst    *float64
			lo, hi float64
			what   string
		}{{"error_rate", a.ErrorRate, &aa.ErrorRate, 0, 1, "a share from 0 (not watched) to 1"},
			{"traffic_factor", a.TrafficFactor, &aa.TrafficFactor, 0, 1000, "0 (not watched) or from 1.5 to 1000"},
			{"min_rate", a.MinRate, &aa.MinRate, 0, 1e6, "requests per second from 0 to 1000000"}} {
			if n.v == nil {
				continue
			}
			if v := *n.v; math.IsNaN(v) || v < n.lo || v > n.hi || n.name == "traffic_factor" && v > 0 && v < 1.5 {
				add("auto_under_attack.%s: %v, must be %s", n.name, v, n.what)
				continue
			}
			*n.dst = *n.v
		}
		p.AutoAttack = &aa
	}
	if len(f.GoodBots) > maxGoodBots {
		add("good_bots: %d entries, at most %d", len(f.GoodBots), maxGoodBots)
	}
	for i, b := range f.GoodBots {
		bot := GoodBot{Name: b.Name, UserAgent: b.UserAgent}
		if b.Name == "" || len(b.Name) > 64 {
			add("good_bots[%d].name: required, at most 64 characters", i)
		}
		if slices.ContainsFunc(p.GoodBots, func(o GoodBot) bool { return o.Name == b.Name }) {
			add("good_bots[%d].name: %q is used twice", i, b.Name)
		}
		if len(strings.TrimSpace(b.UserAgent)) < 3 || len(b.UserAgent) > 128 {
			add("good_bots[%d].user_agent: 3 to 128 characters of the bot's User-Agent", i)
		}
		if len(b.Networks) == 0 {
			add("good_bots[%d].networks: name the networks the bot comes from (its operator publishes them)", i)
		}
		for _, n := range b.Networks {
			pfx, err := netip.ParsePrefix(strings.TrimSpace(n))
			if err != nil {
				add("good_bots[%d].networks: %q is not a network such as 66.249.64.0/19", i, n)
				continue
			}
			bot.Networks = append(bot.Networks, pfx.Masked())
		}
		p.GoodBots = append(p.GoodBots, bot)
	}
	if len(problems) > 0 {
		return Policy{}, fmt.Errorf("%w: %s", ErrPolicy, strings.Join(problems, "; "))
	}
	return p, nil
}

// durationField is a duration of a policy block: its name, its text ("":
// keep the default), where it goes and its bounds.
type durationField struct {
	name, text string
	dst        *time.Duration
	lo, hi     time.Duration
}

// parseDurations sets each field given, reporting those out of bounds to
// add under block.
func parseDurations(block string, add func(string, ...any), fields []durationField) {
	for _, d := range fields {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v < d.lo || v > d.hi {
			add("%s.%s: %q, must be a duration from %v to %v", block, d.name, d.text, d.lo, d.hi)
			continue
		}
		*d.dst = v
	}
}

// goodBot returns the good bot ua claims to be (nil for none) and whether
// addr is in its networks.
func (p Policy) goodBot(ua string, addr netip.Addr) (*GoodBot, bool) {
	for i := range p.GoodBots {
		b := &p.GoodBots[i]
		if strings.Contains(ua, b.UserAgent) {
			return b, addr.IsValid() && slices.ContainsFunc(b.Networks, func(n netip.Prefix) bool { return n.Contains(addr) })
		}
	}
	return nil, false
}

// unwrapAll returns the errors joined in err (err itself if none are).
func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// parseRate reads a rate: events per second ("10", "0.5") or events per
// duration ("600/1m", "10/1h", "3/10s").
func parseRate(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("required, e.g. 600/1m or 10 (per second)")
	}
	n, per, hasPer := strings.Cut(s, "/")
	events, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if err != nil || events <= 0 {
		return 0, fmt.Errorf("%q: the events must be a positive number", s)
	}
	if !hasPer {
		return events, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: %q is not a positive duration such as 1m or 1h", s, per)
	}
	return events / d.Seconds(), nil
}

// Limits holds the token buckets of a policy's limits: a limit.Limiter in
// this process, or a store that several gateways share. It must have the
// policy's rules and pass limittest's suite.
type Limits interface {
	Allow(rule, key string) (limit.Decision, error)
	Observe(rule, key string, status int) error
	// Len is how many keys the buckets in this process hold.
	Len() int
}

// limiter applies a policy: per request, the first matching route's
// limits, each with the key of its kind.
type limiter struct {
	policy Policy
	lim    Limits
	kinds  map[string]limit.KeyKind
}

// newLimiter returns the limiter of p: its buckets in shared, or when
// that is nil in this process, holding at most maxKeys keys.
func newLimiter(p Policy, maxKeys int, shared Limits) (*limiter, error) {
	lim := shared
	if lim == nil {
		l, err := limit.New(limit.Config{Rules: p.Limits, MaxKeys: maxKeys})
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		lim = l
	}
	l := &limiter{policy: p, lim: lim, kinds: map[string]limit.KeyKind{}}
	for _, r := range p.Limits {
		l.kinds[r.Name] = r.Key
	}
	return l, nil
}

// limited is a request's route and the keys its limits are counted on,
// for the response to count against.
type limited struct {
	route *Route
	keys  []string // per route limit; "" when the request has no such key
}

// check applies the limits of r's route rt (nil: none). It returns the refusal (the
// first limit that refuses, and when to retry) or, when allowed, what
// the response must be counted against. A limit in shadow mode that
// would refuse is reported to shadowRefused and refuses nothing.
func (l *limiter) check(r *http.Request, rt *Route, client clientKeys, shadowRefused func(limit string)) (lt limited, refusedBy string, retry time.Duration) {
	if rt == nil || len(rt.Limits) == 0 {
		return limited{}, "", 0
	}
	lt = limited{route: rt, keys: make([]string, len(rt.Limits))}
	for k, name := range rt.Limits {
		var key string
		if kind := l.kinds[name]; kind == limit.KeyAccount {
			key = accountKey(r, rt.AccountField)
		} else {
			key = client.key(kind, r, l.policy.SessionCookie)
		}
		if key == "" {
			continue // the request has no such key (no TLS, no session): the limit cannot apply
		}
		lt.keys[k] = key
		d, err := l.lim.Allow(name, key)
		switch {
		case err != nil || d.Allowed:
		case l.policy.Shadow[name]:
			shadowRefused(name)
		default:
			return lt, name, d.RetryAfter
		}
	}
	return lt, "", 0
}

// observe counts a response's status against the response-counting
// limits of its route.
func (l *limiter) observe(lt limited, status int) {
	if lt.route == nil {
		return
	}
	for k, name := range lt.route.Limits {
		if lt.keys[k] != "" {
			_ = l.lim.Observe(name, lt.keys[k], status) // ErrCountsRequests for the others: nothing to count
		}
	}
}

// clientKeys are the keys of one request's client.
type clientKeys struct {
	addr   netip.Addr
	ip     string
	prefix string
	// tls is the TLS fingerprint (JA4; "" for plain HTTP), which
	// clearances are bound to; fingerprint, the key of fingerprint
	// limits, adds the header order's (headerOrderPrint), which differs
	// between a browser's kinds of requests.
	tls, fingerprint string
}

// newClientKeys computes r's keys.
func newClientKeys(r *http.Request, trusted Trusted) clientKeys {
	var c clientKeys
	if ip, ok := trusted.ClientIP(r); ok {
		if peer := peerOf(r); peer.ok && ip == peer.addr {
			c.addr, c.ip, c.prefix = ip, peer.text, peer.prefix // kept for the connection
		} else {
			c.addr, c.ip, c.prefix = ip, ip.String(), risk.IPPrefix(ip)
		}
	}
	_, ja4 := Fingerprints(r)
	c.tls = ja4
	switch order := headerOrderPrint(r); {
	case ja4 != "" && order != "":
		c.fingerprint = ja4 + "/" + order
	case ja4 != "":
		c.fingerprint = ja4
	default:
		c.fingerprint = order
	}
	return c
}

// key returns the key of kind for r ("" when r has none).
func (c clientKeys) key(kind limit.KeyKind, r *http.Request, sessionCookie string) string {
	switch kind {
	case limit.KeyIP:
		return c.ip
	case limit.KeyIPPrefix:
		return c.prefix
	case limit.KeyFingerprint:
		return c.fingerprint
	case limit.KeySession:
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" && len(ck.Value) <= limit.MaxKeyLen {
			return ck.Value
		}
	}
	return ""
}

// maxAccountBody is the most of a request body read to find its fields:
// a sign-in form or a review is far smaller; a larger body has none.
const maxAccountBody = 64 << 10

// accountKey returns the account r's body names in field (an urlencoded
// form or a JSON object), as a key: trimmed, lower-cased and hashed, so
// that the limiter holds no e-mail addresses ("" when there is none). The
// body is read up to maxAccountBody and put back for the shop.
func accountKey(r *http.Request, field string) string {
	account := strings.ToLower(strings.TrimSpace(bodyFields(r, field)[0]))
	if account == "" {
		return ""
	}
	return hashValue(account)
}

// hashValue returns a key standing for v without holding it: the hex of
// the first half of its SHA-256.
func hashValue(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:16])
}

// bodyFields returns the values of the named fields of r's body (an
// urlencoded form or a JSON object; a JSON number or boolean as its text),
// "" for a field that is absent or named "". The body is read up to
// maxAccountBody and put back for the shop; a larger one, or another type,
// has no fields.
func bodyFields(r *http.Request, fields ...string) []string {
	out := make([]string, len(fields))
	if r.Body == nil || r.Body == http.NoBody || !slices.ContainsFunc(fields, func(f string) bool { return f != "" }) {
		return out
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxAccountBody+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	if err != nil || len(buf) > maxAccountBody {
		return out
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/x-www-form-urlencoded":
		if form, err := url.ParseQuery(string(buf)); err == nil {
			for i, f := range fields {
				if f != "" {
					out[i] = form.Get(f)
				}
			}
		}
	case "application/json":
		var obj map[string]json.RawMessage
		if json.Unmarshal(buf, &obj) == nil {
			for i, f := range fields {
				raw := obj[f]
				if f == "" || len(raw) == 0 {
					continue
				}
				if json.Unmarshal(raw, &out[i]) != nil && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9' || raw[0] == 't' || raw[0] == 'f') {
					out[i] = string(raw) // a number or boolean
				}
			}
		}
	}
	return out
}

// readCloser reads from one reader and closes another (a body partly read
// and put back).
type readCloser struct {
	io.Reader
	io.Closer
}
