// Package account protects customer accounts: it assesses login attempts
// (brute force on one account or from one address, credential stuffing,
// password spraying, logins from a new device or network) through the
// engine's one decision path.
package account

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

// Login outcomes: the shop may ask before checking the password
// (OutcomeAttempt, pre-authentication risk) and again with the result.
const (
	OutcomeAttempt     = "attempt"
	OutcomeSuccess     = "success"
	OutcomeBadPassword = "bad_password"
	OutcomeUnknownUser = "unknown_user"
	OutcomeMFAFailed   = "mfa_failed"
	OutcomeLocked      = "locked"
	// OutcomeSession is a signed-in request whose IP, device or browser
	// changed (what POST /v1/sessions/check sends): no password involved.
	OutcomeSession = "session"
)

// Outcomes lists the accepted outcome values.
var Outcomes = []string{OutcomeAttempt, OutcomeSuccess, OutcomeBadPassword, OutcomeUnknownUser, OutcomeMFAFailed, OutcomeLocked, OutcomeSession}

// identifierHashPrefix marks an identifier stored as its hash.
const identifierHashPrefix = "sha256:"

const maxFutureSkew = 24 * time.Hour

// Login is a login attempt as the shop sends it to POST /v1/logins.
// Passwords never appear; for password-spraying detection the shop may
// send the first 5 hex characters of the password's SHA-1.
type Login struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	// UserID is the account the attempt is for, when it exists.
	UserID string `json:"user_id,omitempty"`
	// Identifier is what was typed (e-mail or user name). It is kept only
	// as a hash ("sha256:..."), which counts attempts on accounts that do
	// not exist without storing what attackers typed.
	Identifier         string `json:"identifier,omitempty"`
	IP                 string `json:"ip"`
	UserAgent          string `json:"user_agent,omitempty"`
	DeviceID           string `json:"device_id,omitempty"`
	Outcome            string `json:"outcome"`
	PasswordHashPrefix string `json:"password_hash_prefix,omitempty"`
	// SessionID is the shop's session (for session checks), kept only as a
	// hash like Identifier.
	SessionID string `json:"session_id,omitempty"`
	// Keystrokes is the typing rhythm of the password field, when the
	// shop's page measured it: timings only, never the characters. It is
	// kept with the event for the per-customer typing model.
	Keystrokes *Keystrokes `json:"keystrokes,omitempty"`
	// RememberedDevice is the token a passed step-up gave this device
	// (POST /v1/challenges/verify with remember_device), when the shop
	// has one for it. It is checked and dropped, never stored.
	RememberedDevice string `json:"remembered_device,omitempty"`

	// Filled by Validate or Decode.
	at     time.Time
	ip     netip.Addr
	prefix string // the IP's /24 or /48
	uaKey  string // the User-Agent's key (a hash)
	client Client // what the User-Agent names
	loc    geo.Location
	// peeks are the account's confirmed history (see PeekKeys), as the
	// engine read it before this attempt; peeked says it did.
	peeks  [numKnown]features.Aggregates
	peeked bool
	known  [numKnown]bool // which confirmed-history keys apply (PeekKeys)
	// compromised marks confirmed-history values of sign-ins labelled
	// account_takeover or fraud within 30 days (SetPeeks).
	compromised [numKnown]bool
	// lastSignIn is the account's latest confirmed sign-in within
	// features.MaxHistory (DormantScope), as peeked.
	lastSignIn time.Time
	// envMem holds the environment Env builds.
	envMem envMem
	// typing is the typing-rhythm distance SetTypingDistance gave (0: none).
	typing float64
	// remembered is what SetDeviceRemembered said.
	remembered bool
	// reputation is LoginKind.Reputation (Prepare); listFactor and
	// listName are the largest factor of a list the IP (or its network, for
	// a list of prefixes) or device is on, and that list (SetLists).
	reputation map[string]float64
	listFactor float64
	listName   string
}

// Validate checks every field against now (created_at may not lie more
// than a day in the future), normalises values, hashes the identifier and
// returns every problem as joined *risk.FieldError.
func (l *Login) Validate(now time.Time) error {
	return errors.Join(append(l.normalize(), notFuture(l.at, now)...)...)
}

// problems collects field errors.
type problems []error

func (p *problems) add(e *risk.FieldError) {
	if e != nil {
		*p = append(*p, e)
	}
}

// event checks and normalises the id and created_at every account event
// carries, and returns the parsed time.
func (p *problems) event(id string, createdAt *string) time.Time {
	if id == "" {
		p.add(risk.Missing("id"))
	} else {
		p.add(risk.CheckText("id", id, 128))
	}
	at, err := risk.ParseTimestamp("created_at", *createdAt, true)
	p.add(err)
	if err == nil {
		*createdAt = at.Format(time.RFC3339Nano) // one spelling per instant
	}
	return at
}

// ip checks a required ip field and writes it back canonical.
func (p *problems) ip(v *string) netip.Addr {
	*v = strings.TrimSpace(*v)
	ip, err := risk.ParseIP("ip", *v, true)
	p.add(err)
	if ip.IsValid() {
		*v = ip.String()
	}
	return ip
}

// notFuture is the error of an event time more than a day after now.
func notFuture(at, now time.Time) []error {
	if !at.IsZero() && at.After(now.Add(maxFutureSkew)) {
		return []error{risk.Invalid("created_at", "lies more than 24h in the future")}
	}
	return nil
}

// normalize checks and normalises everything that does not depend on the
// current time; stored payloads are decoded through it again on replay.
func (l *Login) normalize() []error {
	var p problems
	add := p.add
	l.at = p.event(l.ID, &l.CreatedAt)
	add(risk.CheckText("user_id", l.UserID, 128))
	add(risk.CheckText("identifier", l.Identifier, 320))
	if l.UserID == "" && l.Identifier == "" {
		add(&risk.FieldError{Field: "user_id", Code: "missing_field", Message: "give user_id, or identifier (what was typed) when no account matches"})
	}
	l.Identifier = hashed(strings.ToLower(strings.TrimSpace(l.Identifier)))
	add(risk.CheckText("session_id", l.SessionID, 512))
	l.SessionID = hashed(l.SessionID)
	l.ip = p.ip(&l.IP)
	l.prefix = risk.IPPrefix(l.ip)
	add(risk.CheckText("user_agent", l.UserAgent, 1024))
	l.uaKey = uaKey(l.UserAgent)
	l.client = ParseUserAgent(l.UserAgent)
	add(risk.CheckText("device_id", l.DeviceID, 128))
	l.Outcome = strings.ToLower(strings.TrimSpace(l.Outcome))
	switch {
	case l.Outcome == "":
		add(risk.Missing("outcome"))
	case !slices.Contains(Outcomes, l.Outcome):
		add(risk.Invalid("outcome", "%q is not one of %s", l.Outcome, strings.Join(Outcomes, ", ")))
	case l.Outcome == OutcomeSession:
		if l.SessionID == "" {
			add(&risk.FieldError{Field: "session_id", Code: "missing_field", Message: "is required for a session check"})
		}
		if l.UserID == "" && l.Identifier != "" {
			add(&risk.FieldError{Field: "user_id", Code: "missing_field", Message: "is required for a session check (the signed-in account)"})
		}
	}
	if l.Keystrokes != nil {
		add(l.Keystrokes.check("keystrokes"))
	}
	switch {
	case len(l.RememberedDevice) > maxDeviceToken:
		add(risk.Invalid("remembered_device", "is %d bytes long; at most %d are accepted", len(l.RememberedDevice), maxDeviceToken))
	case l.RememberedDevice != "" && l.DeviceID == "":
		add(risk.Invalid("remembered_device", "needs the device_id it was given for"))
	}
	l.PasswordHashPrefix = strings.ToLower(strings.TrimSpace(l.PasswordHashPrefix))
	if pw := l.PasswordHashPrefix; pw != "" && (len(pw) != 5 || !isHex(pw)) {
		add(risk.Invalid("password_hash_prefix", "must be the first 5 hex characters of the password's SHA-1"))
	}
	return p
}

// Keystrokes is the typing rhythm of one entry of the password: for
// each key, how long it was held, and between consecutive keys the flight
// time from releasing one to pressing the next (negative when the next is
// pressed before the previous is released). Killourhy and Maxion's
// features follow from them (down-down = hold + flight).
type Keystrokes struct {
	HoldMS   []float64 `json:"hold_ms"`
	FlightMS []float64 `json:"flight_ms"`
}

// Bounds of a keystroke vector: a password of 2..128 keys, holds of up to
// 2 s and flights of -2..5 s (a longer pause is not a typing rhythm).
const (
	minKeys      = 2
	maxKeys      = 128
	maxHoldMS    = 2000
	minFlightMS  = -2000
	maxFlightMS  = 5000
	keystrokeMsg = "must be %d..%d ms"
)

// check validates the vector; field names the object in errors.
func (k *Keystrokes) check(field string) *risk.FieldError {
	switch n := len(k.HoldMS); {
	case n < minKeys || n > maxKeys:
		return risk.Invalid(field+".hold_ms", "has %d values; send one per key, %d..%d keys", n, minKeys, maxKeys)
	case len(k.FlightMS) != n-1:
		return risk.Invalid(field+".flight_ms", "has %d values; send one fewer than hold_ms (%d)", len(k.FlightMS), n-1)
	}
	for i, v := range k.HoldMS {
		if !(v >= 0 && v <= maxHoldMS) {
			return risk.Invalid(fmt.Sprintf("%s.hold_ms[%d]", field, i), keystrokeMsg, 0, maxHoldMS)
		}
	}
	for i, v := range k.FlightMS {
		if !(v >= minFlightMS && v <= maxFlightMS) {
			return risk.Invalid(fmt.Sprintf("%s.flight_ms[%d]", field, i), keystrokeMsg, minFlightMS, maxFlightMS)
		}
	}
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// SessionCheck is a signed-in request whose IP, device or browser changed,
// as the shop sends it to POST /v1/sessions/check (a stolen session cookie
// is used from the thief's device). Send the session_id with the
// successful login too, so that the session knows where it started.
type SessionCheck struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	UserID    string `json:"user_id"`
	SessionID string `json:"session_id"`
	IP        string `json:"ip"`
	DeviceID  string `json:"device_id,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Login returns the check as the login event (outcome session) it is
// assessed as: against the account's confirmed history and the session's.
func (c SessionCheck) Login() *Login {
	return &Login{ID: c.ID, CreatedAt: c.CreatedAt, UserID: c.UserID, SessionID: c.SessionID, IP: c.IP,
		DeviceID: c.DeviceID, UserAgent: c.UserAgent, Outcome: OutcomeSession}
}

// hashed returns v as "sha256:" and 32 hex characters of its SHA-256
// ("" stays ""; an already hashed value, as stored payloads hold, stays).
func hashed(v string) string {
	if v == "" || strings.HasPrefix(v, identifierHashPrefix) {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	return identifierHashPrefix + hex.EncodeToString(sum[:16])
}

// Failed reports whether the outcome is a failed login.
func (l *Login) Failed() bool {
	switch l.Outcome {
	case OutcomeBadPassword, OutcomeUnknownUser, OutcomeMFAFailed, OutcomeLocked:
		return true
	}
	return false
}

// account is the key the attempt counts against: the user id, or the
// identifier's hash when no account matched.
func (l *Login) account() string {
	if l.UserID != "" {
		return l.UserID
	}
	return l.Identifier
}

var (
	_ engine.Kind        = LoginKind{}
	_ engine.Input       = (*Login)(nil)
	_ engine.Locatable   = (*Login)(nil)
	_ engine.Peeker      = (*Login)(nil)
	_ engine.Confirmable = (*Login)(nil)
	_ engine.ListAware   = (*Login)(nil)
	_ engine.Preparer    = LoginKind{}
)

// SetLists notes the largest reputation factor among the lists of the
// reputation table that hold the attempt's IP address or device.
func (l *Login) SetLists(lists *rules.Lists) {
	l.listFactor, l.listName = 0, ""
	for name, f := range l.reputation {
		better := f > l.listFactor || (f == l.listFactor && name < l.listName) // the same list every time
		if better && (lists.Contains(name, l.IP) || (l.DeviceID != "" && lists.Contains(name, l.DeviceID))) {
			l.listFactor, l.listName = f, name
		}
	}
}

// LoginKind registers logins with the engine.
type LoginKind struct {
	// Reputation maps the names of the tenant's IP and device lists of
	// attack sources (known proxies, Tor exits, botnets seen elsewhere) to
	// how many times likelier a sign-in from a listed address, network or
	// device is an attacker's: the login-risk model multiplies its odds by
	// the largest factor that applies. Nil means none. It is read, never
	// written.
	Reputation map[string]float64
}

// Prepare hands a login the kind's reputation table.
func (k LoginKind) Prepare(in engine.Input) {
	if l, ok := in.(*Login); ok {
		l.reputation = k.Reputation
	}
}

// Kind returns risk.EventLogin.
func (LoginKind) Kind() risk.EventKind { return risk.EventLogin }

// NewEnv returns a new, fully allocated *Env.
func (LoginKind) NewEnv() any { return NewEnv() }

// Decode parses a stored login payload without the checks that depend on
// the current time.
func (LoginKind) Decode(payload []byte) (engine.Input, error) {
	var l Login
	if err := json.Unmarshal(payload, &l); err != nil {
		return nil, fmt.Errorf("account: decode login: %w", err)
	}
	if err := errors.Join(l.normalize()...); err != nil {
		return nil, fmt.Errorf("account: decode login: %w", err)
	}
	return &l, nil
}

// DefaultRules returns the login rules every new tenant starts with.
func (LoginKind) DefaultRules() []rules.Rule { return defaultRules() }

// Kind returns risk.EventLogin.
func (l *Login) Kind() risk.EventKind { return risk.EventLogin }

// ExternalID returns the shop's id for the attempt.
func (l *Login) ExternalID() string { return l.ID }

// OccurredAt returns created_at.
func (l *Login) OccurredAt() time.Time { return l.at }

// Money returns nothing: a login involves no money.
func (l *Login) Money() (int64, string) { return 0, "" }

// LabelScope is where account_takeover and fraud labels on logins count
// per entity (an IP or device that took over accounts before).
func (l *Login) LabelScope() string { return LabelScope }

// LabelScope is the feature-store scope of logins' label counts.
const LabelScope = "login_labels"

// Locate records where the IP address is (the engine calls it when
// geolocation databases are configured).
func (l *Login) Locate(loc engine.Locator) {
	if l.ip.IsValid() {
		l.loc = loc.Lookup(l.ip)
	}
}

// Entities appends what lists are matched against: account, IP, network,
// device and the IP's country when known.
func (l *Login) Entities(buf []risk.Entity) []risk.Entity {
	if l.UserID != "" {
		buf = append(buf, risk.Entity{Kind: risk.EntityUser, Value: l.UserID})
	}
	buf = append(buf, risk.Entity{Kind: risk.EntityIP, Value: l.IP}, risk.Entity{Kind: risk.EntityIPPrefix, Value: l.prefix})
	if l.DeviceID != "" {
		buf = append(buf, risk.Entity{Kind: risk.EntityDevice, Value: l.DeviceID})
	}
	if l.loc.Country != "" {
		buf = append(buf, risk.Entity{Kind: "country", Value: l.loc.Country})
	}
	return buf
}

// StepUp returns the sign-in a challenge of this attempt asks the
// customer to approve; ok is false when no account is named.
func (l *Login) StepUp() (s risk.StepUp, ok bool) {
	if l.UserID == "" {
		return risk.StepUp{}, false
	}
	what := "Sign in to your account"
	if l.Outcome == OutcomeSession {
		what = "Continue your signed-in session"
	}
	if c := l.client; c.Browser != "" && c.OS != "" {
		what += " with " + c.Browser + " on " + c.OS
	}
	return risk.StepUp{UserID: l.UserID, Type: "login", Description: what, Reference: l.ID, DeviceID: l.DeviceID}, true
}

// maxDeviceToken bounds a remembered-device token.
const maxDeviceToken = 2048

// SetDeviceRemembered records whether the attempt's remembered_device
// token is valid for its customer and device (authn.Devices.Check), for
// signals.device_remembered, and drops the token (it is a credential and
// is not stored with the event); call it before the attempt is assessed.
func (l *Login) SetDeviceRemembered(ok bool) {
	l.remembered = ok
	l.RememberedDevice = ""
}

// SetTypingDistance records how far the attempt's typing rhythm is from
// the customer's template (authn.Typing.Distance), for
// signals.typing_distance; call it before the attempt is assessed.
func (l *Login) SetTypingDistance(d float64) { l.typing = d }
