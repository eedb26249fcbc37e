package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/reference"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

// Signup is a new account as the shop sends it to POST /v1/signups.
type Signup struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	// UserID is the new account's id, when the shop has assigned one.
	UserID    string `json:"user_id,omitempty"`
	Email     string `json:"email"`
	IP        string `json:"ip"`
	DeviceID  string `json:"device_id,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Name      string `json:"name,omitempty"`

	at  time.Time
	ip  netip.Addr
	loc geo.Location
}

// Validate checks every field against now, normalises values and returns
// every problem as joined *risk.FieldError.
func (s *Signup) Validate(now time.Time) error {
	return errors.Join(append(s.normalize(), notFuture(s.at, now)...)...)
}

func (s *Signup) normalize() []error {
	var p problems
	s.at = p.event(s.ID, &s.CreatedAt)
	p.add(risk.CheckText("user_id", s.UserID, 128))
	s.Email = strings.ToLower(strings.TrimSpace(s.Email))
	if s.Email == "" {
		p.add(risk.Missing("email"))
	} else {
		p.add(risk.CheckEmail("email", s.Email))
	}
	s.ip = p.ip(&s.IP)
	p.add(risk.CheckText("device_id", s.DeviceID, 128))
	p.add(risk.CheckText("user_agent", s.UserAgent, 1024))
	p.add(risk.CheckText("name", s.Name, 200))
	return p
}

// emailParts splits a checked address into its local part and domain.
func emailParts(email string) (local, domain string) {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email, ""
	}
	return email[:at], email[at+1:]
}

// EmailPattern is the shape of an address that patterned mass signups
// share: the local part with its "+tag" dropped and every run of digits
// replaced by '#' ("jane.doe1984+shop@example.com" -> "jane.doe#@example.com").
func EmailPattern(email string) string {
	local, domain := emailParts(email)
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	var b strings.Builder
	digits := false
	for _, r := range local {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	return b.String() + "@" + domain
}

// longestDigitRun returns the length of the longest run of digits in s.
func longestDigitRun(s string) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

var (
	_ engine.Kind      = SignupKind{}
	_ engine.Input     = (*Signup)(nil)
	_ engine.Locatable = (*Signup)(nil)
)

// SignupKind registers signups with the engine.
type SignupKind struct{}

// Kind returns risk.EventSignup.
func (SignupKind) Kind() risk.EventKind { return risk.EventSignup }

// NewEnv returns a new, fully allocated *SignupEnv.
func (SignupKind) NewEnv() any { return NewSignupEnv() }

// Decode parses a stored signup payload without the time-dependent checks.
func (SignupKind) Decode(payload []byte) (engine.Input, error) {
	var s Signup
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("account: decode signup: %w", err)
	}
	if err := errors.Join(s.normalize()...); err != nil {
		return nil, fmt.Errorf("account: decode signup: %w", err)
	}
	return &s, nil
}

// DefaultRules returns the signup rules every new tenant starts with.
func (SignupKind) DefaultRules() []rules.Rule {
	signup := risk.EventSignup
	return []rules.Rule{
		{Name: "signup_disposable_email", Kind: signup, Score: 60,
			Expression:  `in_list("` + reference.DisposableDomainsListName + `", email_domain)`,
			Description: "sign-up with an address at the throw-away domain {{ email_domain }}"},
		{Name: "signups_per_ip", Kind: signup, Score: 60,
			Expression:  "features.ip.signups_1h >= 5",
			Description: "{{ features.ip.signups_1h }} accounts created from this IP in an hour"},
		{Name: "signups_per_network", Kind: signup, Score: 40,
			Expression:  "features.ip_prefix.signups_1h >= 20",
			Description: "{{ features.ip_prefix.signups_1h }} accounts created from network {{ ip_prefix }} in an hour"},
		{Name: "signups_per_device", Kind: signup, Action: risk.ActionBlock,
			Expression:  "features.device.signups_24h >= 4",
			Description: "{{ features.device.signups_24h }} accounts created from this device in 24h"},
		{Name: "patterned_emails", Kind: signup, Action: risk.ActionBlock,
			Expression:  "signals.digit_run >= 2 && features.pattern.signups_24h >= 5",
			Description: "{{ features.pattern.signups_24h }} sign-ups in 24h with addresses shaped {{ email_pattern }}: a numbered series"},
	}
}

// Kind returns risk.EventSignup.
func (s *Signup) Kind() risk.EventKind { return risk.EventSignup }

// ExternalID returns the shop's id for the signup.
func (s *Signup) ExternalID() string { return s.ID }

// OccurredAt returns created_at.
func (s *Signup) OccurredAt() time.Time { return s.at }

// Money returns nothing: a signup involves no money.
func (s *Signup) Money() (int64, string) { return 0, "" }

// LabelScope returns "": signups keep no label counts yet.
func (s *Signup) LabelScope() string { return "" }

// Locate records where the IP address is.
func (s *Signup) Locate(loc engine.Locator) {
	if s.ip.IsValid() {
		s.loc = loc.Lookup(s.ip)
	}
}

// Entities appends what lists are matched against.
func (s *Signup) Entities(buf []risk.Entity) []risk.Entity {
	_, domain := emailParts(s.Email)
	buf = append(buf, risk.Entity{Kind: risk.EntityEmail, Value: s.Email}, risk.Entity{Kind: risk.EntityEmailDomain, Value: domain},
		risk.Entity{Kind: risk.EntityIP, Value: s.IP}, risk.Entity{Kind: risk.EntityIPPrefix, Value: risk.IPPrefix(s.ip)})
	if s.DeviceID != "" {
		buf = append(buf, risk.Entity{Kind: risk.EntityDevice, Value: s.DeviceID})
	}
	if s.loc.Country != "" {
		buf = append(buf, risk.Entity{Kind: "country", Value: s.loc.Country})
	}
	return buf
}

// signup slots.
const (
	supIP = iota
	supIPPrefix
	supDevice
	supDomain
	supPattern
	numSupSlots
)

const kindEmailPattern risk.EntityKind = "email_pattern"

func (s *Signup) keys(tenant string) [numSupSlots]features.Key {
	_, domain := emailParts(s.Email)
	k := func(kind risk.EntityKind, v string) features.Key {
		return features.Key{Tenant: tenant, Scope: string(risk.EventSignup), Kind: kind, Value: v}
	}
	return [numSupSlots]features.Key{
		supIP: k(risk.EntityIP, s.IP), supIPPrefix: k(risk.EntityIPPrefix, risk.IPPrefix(s.ip)),
		supDevice: k(risk.EntityDevice, s.DeviceID), supDomain: k(risk.EntityEmailDomain, domain),
		supPattern: k(kindEmailPattern, EmailPattern(s.Email)),
	}
}

// Observations appends one observation per key (a missing device is
// skipped), each counting distinct e-mail addresses.
func (s *Signup) Observations(tenant string, buf []features.Observation) []features.Observation {
	for _, k := range s.keys(tenant) {
		if k.Value == "" {
			continue
		}
		buf = append(buf, features.Observation{Key: k, DistinctWindows: distinctWindows,
			Distinct: [features.MaxDistinct]features.Dim{{Kind: risk.EntityEmail, Value: s.Email}}})
	}
	return buf
}

// SignupEnv is what a signup rule sees.
type SignupEnv struct {
	ID           string `expr:"id" json:"id"`
	UserID       string `expr:"user_id" json:"user_id,omitempty"`
	Email        string `expr:"email" json:"email"`
	EmailDomain  string `expr:"email_domain" json:"email_domain"`
	EmailPattern string `expr:"email_pattern" json:"email_pattern"`
	IP           string `expr:"ip" json:"ip"`
	IPPrefix     string `expr:"ip_prefix" json:"ip_prefix"`
	IPCountry    string `expr:"ip_country" json:"ip_country,omitempty"`
	DeviceID     string `expr:"device_id" json:"device_id,omitempty"`
	UserAgent    string `expr:"user_agent" json:"user_agent,omitempty"`
	Name         string `expr:"name" json:"name,omitempty"`

	Features *SignupFeatures `expr:"features" json:"features"`
	Signals  *SignupSignals  `expr:"signals" json:"signals"`
}

// SignupFeatures holds the signup history of every entity of the signup.
type SignupFeatures struct {
	IP       *SignupEntity `expr:"ip" json:"ip"`
	IPPrefix *SignupEntity `expr:"ip_prefix" json:"ip_prefix"`
	Device   *SignupEntity `expr:"device" json:"device"`
	Domain   *SignupEntity `expr:"email_domain" json:"email_domain"`
	Pattern  *SignupEntity `expr:"pattern" json:"pattern"`
}

// SignupEntity counts signups (the current one included) and the distinct
// e-mail addresses they used.
type SignupEntity struct {
	Present    bool  `expr:"present" json:"present,omitempty"`
	Signups1h  int64 `expr:"signups_1h" json:"signups_1h,omitempty"`
	Signups24h int64 `expr:"signups_24h" json:"signups_24h,omitempty"`
	Signups7d  int64 `expr:"signups_7d" json:"signups_7d,omitempty"`
	Emails1h   int64 `expr:"emails_1h" json:"emails_1h,omitempty"`
	Emails24h  int64 `expr:"emails_24h" json:"emails_24h,omitempty"`
}

// SignupSignals are facts about the address itself.
type SignupSignals struct {
	// DigitRun is the longest run of digits in the local part.
	DigitRun int `expr:"digit_run" json:"digit_run,omitempty"`
	// PlusTag is true when the address carries a "+tag".
	PlusTag bool `expr:"plus_tag" json:"plus_tag,omitempty"`
	// LocalLength is the local part's length in bytes.
	LocalLength int `expr:"local_length" json:"local_length"`
}

// NewSignupEnv returns an empty environment with every part allocated.
func NewSignupEnv() *SignupEnv {
	return &SignupEnv{Features: &SignupFeatures{IP: &SignupEntity{}, IPPrefix: &SignupEntity{}, Device: &SignupEntity{},
		Domain: &SignupEntity{}, Pattern: &SignupEntity{}}, Signals: &SignupSignals{}}
}

// Env builds the signup's rule environment from the feature aggregates.
func (s *Signup) Env(aggs, _ []features.Aggregates) any {
	local, domain := emailParts(s.Email)
	env := NewSignupEnv()
	env.ID, env.UserID, env.Email, env.EmailDomain, env.EmailPattern = s.ID, s.UserID, s.Email, domain, EmailPattern(s.Email)
	env.IP, env.IPPrefix, env.IPCountry, env.DeviceID, env.UserAgent, env.Name = s.IP, risk.IPPrefix(s.ip), s.loc.Country, s.DeviceID, s.UserAgent, s.Name
	*env.Signals = SignupSignals{DigitRun: longestDigitRun(local), PlusTag: strings.Contains(local, "+"), LocalLength: len(local)}
	f := env.Features
	ents := [numSupSlots]*SignupEntity{supIP: f.IP, supIPPrefix: f.IPPrefix, supDevice: f.Device, supDomain: f.Domain, supPattern: f.Pattern}
	i := 0
	for slot, k := range s.keys("") {
		if k.Value == "" || i >= len(aggs) {
			continue
		}
		a := &aggs[i]
		i++
		*ents[slot] = SignupEntity{Present: true, Signups1h: a.Count[features.W1h], Signups24h: a.Count[features.W24h], Signups7d: a.Count[features.W7d],
			Emails1h: a.Distinct[0][features.W1h], Emails24h: a.Distinct[0][features.W24h]}
	}
	return env
}
