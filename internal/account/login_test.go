package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/geo"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestValidate(t *testing.T) {
	valid := `{"id":"l1","created_at":"2026-03-01T12:00:00Z","user_id":"u1","ip":"203.0.113.7","outcome":"success"}`
	tests := []struct {
		name, doc string
		fields    []string // fields named by the errors (nil: valid)
	}{
		{"valid", valid, nil},
		{"identifier only", `{"id":"l1","created_at":"2026-03-01T12:00:00Z","identifier":"Ana@Example.com","ip":"203.0.113.7","outcome":"unknown_user"}`, nil},
		{"nothing", `{}`, []string{"id", "created_at", "user_id", "ip", "outcome"}},
		{"bad ip", strings.Replace(valid, "203.0.113.7", "300.1.1.1", 1), []string{"ip"}},
		{"ip with zone", strings.Replace(valid, "203.0.113.7", "fe80::1%eth0", 1), []string{"ip"}},
		{"bad outcome", strings.Replace(valid, `"success"`, `"maybe"`, 1), []string{"outcome"}},
		{"session without its id", strings.Replace(valid, `"success"`, `" SESSION "`, 1), []string{"session_id"}},
		{"bad time", strings.Replace(valid, "2026-03-01T12:00:00Z", "yesterday", 1), []string{"created_at"}},
		{"future", strings.Replace(valid, "2026-03-01T12:00:00Z", "2026-03-05T12:00:00Z", 1), []string{"created_at"}},
		{"ancient", strings.Replace(valid, "2026-03-01T12:00:00Z", "1999-12-31T23:00:00Z", 1), []string{"created_at"}},
		{"long user agent", strings.Replace(valid, `"outcome"`, `"user_agent":"`+strings.Repeat("a", 1025)+`","outcome"`, 1), []string{"user_agent"}},
		{"control character", strings.Replace(valid, `"u1"`, `"u\u0001"`, 1), []string{"user_id"}},
		{"password prefix too short", strings.Replace(valid, `"outcome"`, `"password_hash_prefix":"abc","outcome"`, 1), []string{"password_hash_prefix"}},
		{"password prefix not hex", strings.Replace(valid, `"outcome"`, `"password_hash_prefix":"abcdg","outcome"`, 1), []string{"password_hash_prefix"}},
		{"keystrokes", strings.Replace(valid, `"outcome"`, `"keystrokes":{"hold_ms":[95.5,80,102],"flight_ms":[120,-15.25]},"outcome"`, 1), nil},
		{"keystrokes of one key", strings.Replace(valid, `"outcome"`, `"keystrokes":{"hold_ms":[95],"flight_ms":[]},"outcome"`, 1), []string{"keystrokes.hold_ms"}},
		{"keystrokes without flights", strings.Replace(valid, `"outcome"`, `"keystrokes":{"hold_ms":[95,80]},"outcome"`, 1), []string{"keystrokes.flight_ms"}},
		{"keystroke held too long", strings.Replace(valid, `"outcome"`, `"keystrokes":{"hold_ms":[95,2001],"flight_ms":[3]},"outcome"`, 1), []string{"keystrokes.hold_ms[1]"}},
		{"negative hold", strings.Replace(valid, `"outcome"`, `"keystrokes":{"hold_ms":[-1,20],"flight_ms":[3]},"outcome"`, 1), []string{"keystrokes.hold_ms[0]"}},
		{"pause between keys", strings.Replace(valid, `"outcome"`, `"keystrokes":{"hold_ms":[95,80,70],"flight_ms":[3,5001]},"outcome"`, 1), []string{"keystrokes.flight_ms[1]"}},
		{"too many keys", strings.Replace(valid, `"outcome"`, `"keystrokes":{"hold_ms":[`+strings.Repeat("90,", 128)+`90],"flight_ms":[]},"outcome"`, 1), []string{"keystrokes.hold_ms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantFields(t, tc.doc, &account.Login{}, tc.fields)
		})
	}
}

// wantFields decodes doc into in, validates it and checks that the errors
// are *risk.FieldError naming exactly fields, in order (none: valid).
func wantFields(t *testing.T, doc string, in interface{ Validate(time.Time) error }, fields []string) {
	t.Helper()
	if err := json.Unmarshal([]byte(doc), in); err != nil {
		t.Fatal(err)
	}
	err := in.Validate(t0)
	var got []string
	for _, e := range flatten(err) {
		var fe *risk.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %v is not a *risk.FieldError", e)
		}
		got = append(got, fe.Field)
	}
	if !slices.Equal(got, fields) {
		t.Errorf("fields %v, want %v (%v)", got, fields, err)
	}
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestIdentifierIsStoredHashed(t *testing.T) {
	var l account.Login
	if err := json.Unmarshal([]byte(`{"id":"l1","created_at":"2026-03-01T12:00:00Z","identifier":" Ana@Example.com ","ip":"::ffff:203.0.113.7","outcome":"UNKNOWN_USER"}`), &l); err != nil {
		t.Fatal(err)
	}
	if err := l.Validate(t0); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(l.Identifier, "sha256:") || strings.Contains(l.Identifier, "ana") || l.IP != "203.0.113.7" || l.Outcome != "unknown_user" {
		t.Errorf("normalised login %+v", l)
	}
	// The same address typed differently counts as the same account, and a
	// stored (hashed) payload decodes to the same thing.
	var again account.Login
	_ = json.Unmarshal([]byte(`{"id":"l2","created_at":"2026-03-01T12:00:00Z","identifier":"ana@example.com","ip":"203.0.113.7","outcome":"unknown_user"}`), &again)
	if err := again.Validate(t0); err != nil || again.Identifier != l.Identifier {
		t.Errorf("identifier hash %q vs %q (%v)", again.Identifier, l.Identifier, err)
	}
	payload, _ := json.Marshal(&l)
	in, err := account.LoginKind{}.Decode(payload)
	if err != nil || in.(*account.Login).Identifier != l.Identifier {
		t.Errorf("decoded %+v, %v", in, err)
	}
}

// harness is an engine with the login kind over in-memory storage.
type harness struct {
	t     *testing.T
	eng   *engine.Engine
	store *memory.Store
	loc   engine.Locator
	now   time.Time
	n     int
}

func newHarness(t *testing.T) *harness {
	return newHarnessAt(t, nil)
}

// newHarnessAt is newHarness with IP addresses located by loc (nil: none).
func newHarnessAt(t *testing.T, loc engine.Locator) *harness {
	h := &harness{t: t, now: t0, store: memory.New(), loc: loc}
	h.restart()
	return h
}

// restart replaces the engine by a new one over the same storage with a
// fresh feature store, as after a restart without a snapshot, and has it
// rebuild the features from the stored events and labels.
func (h *harness) restart() {
	h.t.Helper()
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return h.now }, Geo: h.loc},
		h.store, features.NewMemory(features.MemoryConfig{History: account.HistoryScopes(180 * 24 * time.Hour)}),
		account.LoginKind{}, account.SignupKind{})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := eng.Restore(context.Background(), nil); err != nil {
		h.t.Fatal(err)
	}
	h.eng = eng
}

// login assesses one attempt a few seconds after the previous one.
func (h *harness) login(user, identifier, ip, device, outcome, password string) engine.Decision {
	h.t.Helper()
	h.n++
	h.now = h.now.Add(5 * time.Second)
	l := &account.Login{ID: fmt.Sprintf("l%d", h.n), CreatedAt: h.now.Format(time.RFC3339Nano), UserID: user, Identifier: identifier,
		IP: ip, DeviceID: device, Outcome: outcome, PasswordHashPrefix: password}
	if err := l.Validate(h.now); err != nil {
		h.t.Fatal(err)
	}
	d, err := h.eng.Decide(context.Background(), "shop", l)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func has(d engine.Decision, rule string) bool {
	return slices.ContainsFunc(d.Reasons, func(r risk.Reason) bool { return r.Code == "rule:"+rule })
}

func TestBruteForceBlocksTheAttackerNotTheCustomer(t *testing.T) {
	h := newHarness(t)
	h.login("u1", "", "198.51.100.1", "home", account.OutcomeSuccess, "")
	var d engine.Decision
	for range 5 {
		d = h.login("u1", "", "203.0.113.66", "bot", account.OutcomeBadPassword, "")
	}
	if d.Action != risk.ActionBlock || !has(d, "account_ip_brute_force") {
		t.Errorf("5th failure from one IP: %s %v", d.Action, d.Reasons)
	}
	// The customer, from home, is not locked out.
	if d := h.login("u1", "", "198.51.100.1", "home", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
		t.Errorf("the real customer after the attack: %s %v", d.Action, d.Reasons)
	}
	// Failures spread over many IPs from a device and networks the account
	// never confirmed: stopped; the customer's own device and network
	// still only get a step-up, never a lockout.
	for i := range 15 {
		d = h.login("u1", "", fmt.Sprintf("192.0.2.%d", i), "bot", account.OutcomeBadPassword, "")
	}
	if !has(d, "account_brute_force") || d.Action == risk.ActionAllow {
		t.Errorf("distributed brute force: %s %v", d.Action, d.Reasons)
	}
	if d := h.login("u1", "", "198.51.100.1", "home", account.OutcomeAttempt, ""); d.Action == risk.ActionBlock || !has(d, "account_brute_force") {
		t.Errorf("the real customer during a distributed attack: %s %v, want a step-up", d.Action, d.Reasons)
	}
}

func TestCredentialStuffing(t *testing.T) {
	h := newHarness(t)
	var d engine.Decision
	for i := range 10 {
		outcome, user, ident := account.OutcomeBadPassword, fmt.Sprintf("u%d", i), ""
		if i%2 == 0 {
			outcome, user, ident = account.OutcomeUnknownUser, "", fmt.Sprintf("victim%d@example.com", i)
		}
		d = h.login(user, ident, "203.0.113.9", "", outcome, "")
	}
	if d.Action != risk.ActionBlock || !has(d, "credential_stuffing_ip") || !has(d, "unknown_accounts_from_ip") {
		t.Errorf("10 accounts from one IP: %s %v", d.Action, d.Reasons)
	}
	// Another IP is unaffected.
	if d := h.login("u100", "", "198.51.100.200", "", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
		t.Errorf("a bystander: %s %v", d.Action, d.Reasons)
	}
}

func TestPasswordSpraying(t *testing.T) {
	h := newHarness(t)
	var d engine.Decision
	for i := range 10 {
		d = h.login(fmt.Sprintf("u%d", i), "", fmt.Sprintf("192.0.%d.%d", i, i), "", account.OutcomeBadPassword, "7c4a8")
	}
	if d.Action != risk.ActionBlock || !has(d, "password_spraying") {
		t.Errorf("one password on 10 accounts: %s %v", d.Action, d.Reasons)
	}
}

func TestNewDeviceAndNetwork(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		if d := h.login("u1", "", "198.51.100.7", "phone", account.OutcomeSuccess, ""); d.Action != risk.ActionAllow {
			t.Fatalf("usual login: %s %v", d.Action, d.Reasons)
		}
	}
	if d := h.login("u1", "", "198.51.100.8", "phone", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
		t.Errorf("same device, neighbouring IP: %s %v", d.Action, d.Reasons)
	}
	d := h.login("u1", "", "203.0.113.50", "laptop-x", account.OutcomeAttempt, "")
	if d.Action != risk.ActionChallenge || !has(d, "new_device_and_network") || !has(d, "unfamiliar_login") {
		t.Errorf("new device and network: %s %v", d.Action, d.Reasons)
	}
	for _, r := range d.Reasons {
		if r.Code == "rule:unfamiliar_login" && !strings.Contains(r.Message, "times likelier an attacker's than this customer's (login-risk model; unfamiliar: network 203.0.113.0/24, device)") {
			t.Errorf("unfamiliar_login says %q", r.Message)
		}
	}
	// The step-up fails, and the attacker tries again: still new, still
	// challenged (attempts and failures never join the confirmed history).
	h.login("u1", "", "203.0.113.50", "laptop-x", account.OutcomeMFAFailed, "")
	if d := h.login("u1", "", "203.0.113.50", "laptop-x", account.OutcomeAttempt, ""); d.Action != risk.ActionChallenge {
		t.Errorf("retry after a failed step-up: %s %v", d.Action, d.Reasons)
	}
	// The customer's own new laptop: the step-up passes, the shop reports
	// the sign-in, and the device is remembered.
	if d := h.login("u1", "", "192.0.2.200", "laptop-ana", account.OutcomeAttempt, ""); d.Action != risk.ActionChallenge {
		t.Errorf("the customer's new laptop on a new network: %s %v", d.Action, d.Reasons)
	}
	h.login("u1", "", "192.0.2.200", "laptop-ana", account.OutcomeSuccess, "")
	if d := h.login("u1", "", "192.0.2.200", "laptop-ana", account.OutcomeAttempt, ""); has(d, "new_device_and_network") || d.Action != risk.ActionAllow {
		t.Errorf("a device after a confirmed sign-in: %s %v", d.Action, d.Reasons)
	}
	// A brand-new account has no history to differ from.
	if d := h.login("u2", "", "203.0.113.51", "laptop-y", account.OutcomeSuccess, ""); d.Action != risk.ActionAllow {
		t.Errorf("first login of a new account: %s %v", d.Action, d.Reasons)
	}
}

// TestTakeoverLabelsMarkTheSource checks that an account_takeover label on
// a login counts against its IP and device for later logins.
func TestTakeoverLabelsMarkTheSource(t *testing.T) {
	h := newHarness(t)
	d := h.login("u1", "", "203.0.113.77", "evil", account.OutcomeSuccess, "")
	if _, err := h.eng.AddFeedback(context.Background(), "shop", engine.Feedback{EventID: d.ID, Label: string(risk.LabelAccountTakeover)}); err != nil {
		t.Fatal(err)
	}
	d = h.login("u2", "", "203.0.113.77", "other", account.OutcomeAttempt, "")
	if !has(d, "compromising_source") {
		t.Errorf("login from an IP that took over an account: %s %v", d.Action, d.Reasons)
	}
}

func FuzzDecodeLogin(f *testing.F) {
	f.Add([]byte(`{"id":"l1","created_at":"2026-03-01T12:00:00Z","user_id":"u1","ip":"203.0.113.7","outcome":"success"}`))
	f.Add([]byte(`{"id":"l1","created_at":"2026-03-01T12:00:00+02:00","identifier":"a@b.c","ip":"::1","outcome":"unknown_user","password_hash_prefix":"ABCDE"}`))
	f.Add([]byte(`{"id":"l2","created_at":"2026-03-01T12:00:00Z","user_id":"u1","ip":"::1","outcome":"success","keystrokes":{"hold_ms":[90,1e3],"flight_ms":[-3]}}`))
	f.Add([]byte(`{"ip":"1.2.3.4%x","outcome":5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l account.Login
		if roundTrip(t, data, &l, account.LoginKind{}) {
			_ = l.Observations("t", nil)
			_ = l.Env(nil, nil)
		}
	})
}

// roundTrip is the decode fuzz tests' check: data that decodes into in
// either fails validation with errors that name their field, or is valid
// and survives storage (its payload decodes through kind to the same
// payload). It reports whether in is valid.
func roundTrip(t *testing.T, data []byte, in interface{ Validate(time.Time) error }, kind engine.Kind) bool {
	t.Helper()
	if json.Unmarshal(data, in) != nil {
		return false
	}
	err := in.Validate(t0)
	for _, e := range flatten(err) {
		var fe *risk.FieldError
		if !errors.As(e, &fe) || fe.Field == "" {
			t.Fatalf("error %v names no field", e)
		}
	}
	if err != nil {
		return false
	}
	payload, _ := json.Marshal(in)
	decoded, derr := kind.Decode(payload)
	if derr != nil {
		t.Fatalf("stored payload %s does not decode: %v", payload, derr)
	}
	if again, _ := json.Marshal(decoded); string(again) != string(payload) {
		t.Fatalf("payload changed on decode:\n%s\n%s", payload, again)
	}
	return true
}

// TestDistributedStuffing: a day of ordinary logins sets the shop's
// baseline failure rate; then one client (a User-Agent) fails on many
// accounts from many addresses, each too slow to trip the per-IP rules.
func TestDistributedStuffing(t *testing.T) {
	h := newHarness(t)
	loginUA := func(user, ip, ua, outcome string) engine.Decision {
		h.t.Helper()
		h.n++
		l := &account.Login{ID: fmt.Sprintf("l%d", h.n), CreatedAt: h.now.Format(time.RFC3339Nano), UserID: user,
			IP: ip, UserAgent: ua, Outcome: outcome}
		if err := l.Validate(h.now); err != nil {
			h.t.Fatal(err)
		}
		d, err := h.eng.Decide(context.Background(), "shop", l)
		if err != nil {
			h.t.Fatal(err)
		}
		return d
	}
	browser := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	for i := range 600 { // 23 hours of customers, one in 20 mistyping
		h.now = h.now.Add(138 * time.Second)
		outcome := account.OutcomeSuccess
		if i%20 == 0 {
			outcome = account.OutcomeBadPassword
		}
		loginUA(fmt.Sprintf("c%d", i%200), fmt.Sprintf("198.51.%d.%d", i%100, i%200), browser, outcome)
	}
	var d engine.Decision
	for i := range 80 { // then an hour: 80 accounts, 80 addresses, one bot
		h.now = h.now.Add(40 * time.Second)
		d = loginUA(fmt.Sprintf("c%d", i), fmt.Sprintf("192.0.2.%d", i), "python-requests/2.31", account.OutcomeBadPassword)
		if i < 40 && has(d, "distributed_stuffing_user_agent") {
			t.Fatalf("attempt %d already flagged: %v", i, d.Reasons)
		}
	}
	if !has(d, "distributed_stuffing_user_agent") {
		t.Errorf("80 accounts failing from one client: %s %v", d.Action, d.Reasons)
	}
	if has(d, "credential_stuffing_ip") || has(d, "ip_brute_force") {
		t.Errorf("per-IP rules fired on one attempt per IP: %v", d.Reasons)
	}
	// Customers' ordinary browser is not blamed.
	h.now = h.now.Add(time.Second)
	if d := loginUA("c7", "198.51.100.77", browser, account.OutcomeSuccess); has(d, "distributed_stuffing_user_agent") {
		t.Errorf("a customer's login: %v", d.Reasons)
	}
}

// TestSessionCheck: a session started by a confirmed sign-in, later used
// from the customer's other browser and from a thief's device.
func TestSessionCheck(t *testing.T) {
	h := newHarness(t)
	check := func(session, ip, device, ua string) engine.Decision {
		t.Helper()
		h.n++
		h.now = h.now.Add(time.Minute)
		l := account.SessionCheck{ID: fmt.Sprintf("c%d", h.n), CreatedAt: h.now.Format(time.RFC3339Nano), UserID: "u1",
			SessionID: session, IP: ip, DeviceID: device, UserAgent: ua}.Login()
		if err := l.Validate(h.now); err != nil {
			t.Fatal(err)
		}
		d, err := h.eng.Decide(context.Background(), "shop", l)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// Two confirmed sign-ins: the phone at home, the laptop at work.
	for _, s := range []struct{ session, ip, device, ua string }{
		{"sess-1", "198.51.100.7", "phone", "Mobile Safari"}, {"sess-2", "203.0.113.20", "laptop", "Firefox"}} {
		h.n++
		h.now = h.now.Add(time.Minute)
		l := &account.Login{ID: fmt.Sprintf("l%d", h.n), CreatedAt: h.now.Format(time.RFC3339Nano), UserID: "u1", IP: s.ip,
			DeviceID: s.device, UserAgent: s.ua, Outcome: account.OutcomeSuccess, SessionID: s.session}
		if err := l.Validate(h.now); err != nil {
			t.Fatal(err)
		}
		if _, err := h.eng.Decide(context.Background(), "shop", l); err != nil {
			t.Fatal(err)
		}
	}
	if d := check("sess-1", "198.51.100.9", "phone", "Mobile Safari"); d.Action != risk.ActionAllow {
		t.Errorf("the phone on another address of its network: %s %v", d.Action, d.Reasons)
	}
	if d := check("sess-1", "203.0.113.20", "laptop", "Firefox"); d.Action != risk.ActionChallenge || !has(d, "session_moved_device") {
		t.Errorf("the phone's session cookie in the customer's laptop: %s %v", d.Action, d.Reasons)
	}
	if d := check("sess-2", "192.0.2.66", "thief", "Chrome"); d.Action != risk.ActionBlock || !has(d, "session_from_unknown_device_and_network") {
		t.Errorf("the laptop's session from an unknown device and network: %s %v", d.Action, d.Reasons)
	}
	l := account.SessionCheck{ID: "bad", CreatedAt: h.now.Format(time.RFC3339Nano), UserID: "u1", IP: "192.0.2.1"}.Login()
	var fe *risk.FieldError
	if err := l.Validate(h.now); !errors.As(err, &fe) || fe.Field != "session_id" {
		t.Errorf("a check without session_id: %v", err)
	}
}

// TestHourOfWeekBaseline: in a shop where one hour of the week always has
// many failures (a weekly batch of customers with expired passwords, say),
// that hour's usual rate, not the day's, is the baseline: the same pattern
// raises no alarm, while the same hour without that history does.
func TestHourOfWeekBaseline(t *testing.T) {
	run := func(history bool) engine.Decision {
		h := newHarness(t)
		login := func(user, ip, ua, outcome string) engine.Decision {
			t.Helper()
			h.n++
			l := &account.Login{ID: fmt.Sprintf("l%d", h.n), CreatedAt: h.now.Format(time.RFC3339Nano), UserID: user, IP: ip, UserAgent: ua, Outcome: outcome}
			if err := l.Validate(h.now); err != nil {
				t.Fatal(err)
			}
			d, err := h.eng.Decide(context.Background(), "shop", l)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		start := h.now // Sunday 2026-03-01 12:00 UTC
		for week := range 4 {
			for hour := range 7 * 24 {
				if week == 3 && hour == 7*24-1 {
					break // the fourth Saturday 11:00 comes below
				}
				h.now = start.Add(time.Duration(week*7*24+hour) * time.Hour)
				batch := hour == 7*24-1 && history // Saturday 11:00: the weekly batch
				for i := range 6 {
					outcome := account.OutcomeSuccess
					if batch || (hour+i)%40 == 0 {
						outcome = account.OutcomeBadPassword
					}
					ua := "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0"
					if batch {
						ua = "ShopApp/3.1"
					}
					login(fmt.Sprintf("c%d", (hour*6+i)%300), fmt.Sprintf("198.51.%d.%d", i, hour%200), ua, outcome)
					h.now = h.now.Add(time.Minute)
				}
			}
		}
		// The fourth week's Saturday 11:00: the app's customers fail on 60 accounts.
		h.now = start.Add(time.Duration(3*7*24+7*24-1) * time.Hour)
		var d engine.Decision
		for i := range 60 {
			h.now = h.now.Add(30 * time.Second)
			d = login(fmt.Sprintf("c%d", i), fmt.Sprintf("192.0.2.%d", i), "ShopApp/3.1", account.OutcomeBadPassword)
		}
		return d
	}
	if d := run(false); !has(d, "distributed_stuffing_user_agent") {
		t.Errorf("without a history for this hour: %s %v, want distributed_stuffing_user_agent", d.Action, d.Reasons)
	}
	if d := run(true); has(d, "distributed_stuffing_user_agent") {
		t.Errorf("in the hour that always looks like this: %v", d.Reasons)
	}
}

// TestUnknownAccountWave checks the shop-wide detector of a leaked list
// tried from many addresses: attempts on accounts that do not exist, each
// from another address, minute by minute against the usual rate.
func TestUnknownAccountWave(t *testing.T) {
	wave := func(h *harness, n, from int) engine.Decision {
		var d engine.Decision
		for i := range n {
			d = h.login("", fmt.Sprintf("leak%d@example.com", from+i), fmt.Sprintf("198.18.%d.%d", i, from%250+1), "", account.OutcomeUnknownUser, "")
		}
		return d
	}
	t.Run("quiet shop", func(t *testing.T) {
		h := newHarness(t)
		for range 3 {
			h.login("ana", "", "192.0.2.10", "ana-phone", account.OutcomeSuccess, "")
		}
		wave(h, 5, 0)
		d := h.login("", "leak-next@example.com", "198.18.99.1", "", account.OutcomeAttempt, "")
		if d.Action != risk.ActionChallenge || !has(d, "distributed_stuffing_unknown_accounts") {
			t.Errorf("an unknown account during the wave: %s %v", d.Action, d.Reasons)
		}
		// Customers on their own devices are not bothered; a known account
		// from a device it never used is stepped up while the wave lasts.
		if d := h.login("ana", "", "192.0.2.10", "ana-phone", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
			t.Errorf("the customer's own phone during the wave: %s %v", d.Action, d.Reasons)
		}
		if d := h.login("ana", "", "192.0.2.10", "bot-7", account.OutcomeAttempt, ""); !has(d, "stuffing_wave_unfamiliar_device") || d.Action != risk.ActionChallenge {
			t.Errorf("an unfamiliar device during the wave: %s %v", d.Action, d.Reasons)
		}
		// A minute later the wave is over.
		h.now = h.now.Add(2 * time.Minute)
		if d := h.login("", "someone@example.com", "198.18.99.2", "", account.OutcomeAttempt, ""); has(d, "distributed_stuffing_unknown_accounts") {
			t.Errorf("after the wave: %s %v", d.Action, d.Reasons)
		}
	})
	t.Run("busy shop", func(t *testing.T) {
		// About 2 attempts a minute on unknown accounts all day long: 5 in
		// a minute are usual, 5 times the usual rate is a wave.
		h := newHarness(t)
		for i := range 3000 {
			h.now = h.now.Add(20 * time.Second)
			h.login("", fmt.Sprintf("typo%d@example.com", i), fmt.Sprintf("203.0.%d.%d", i/250, i%250+1), "", account.OutcomeUnknownUser, "")
		}
		if d := wave(h, 5, 0); has(d, "distributed_stuffing_unknown_accounts") {
			t.Errorf("5 more in a minute in a busy shop: %s %v", d.Action, d.Reasons)
		}
		if d := wave(h, 10, 100); !has(d, "distributed_stuffing_unknown_accounts") {
			t.Errorf("15 in a minute in a busy shop: %s %v", d.Action, d.Reasons)
		}
	})
}

// TestTakeoverLabelLeavesTheHistory checks that a device and network that
// signed in to an account, once the sign-in is labelled account_takeover,
// are the attacker's again, not the customer's.
func TestTakeoverLabelLeavesTheHistory(t *testing.T) {
	h := newHarness(t)
	for range 5 {
		h.login("ana", "", "198.51.100.7", "ana-phone", account.OutcomeSuccess, "")
	}
	// The attacker got in once (before the shop asked shopguard, say) ...
	in := h.login("ana", "", "203.0.113.66", "evil", account.OutcomeSuccess, "")
	if d := h.login("ana", "", "203.0.113.66", "evil", account.OutcomeAttempt, ""); has(d, "new_device_and_network") {
		t.Fatalf("a confirmed device: %s %v", d.Action, d.Reasons)
	}
	// ... and the analyst marks that sign-in as a takeover.
	if _, err := h.eng.AddFeedback(context.Background(), "shop", engine.Feedback{EventID: in.ID, Label: string(risk.LabelAccountTakeover)}); err != nil {
		t.Fatal(err)
	}
	d := h.login("ana", "", "203.0.113.66", "evil", account.OutcomeAttempt, "")
	if d.Action != risk.ActionChallenge || !has(d, "new_device_and_network") || !has(d, "unfamiliar_login") {
		t.Errorf("the attacker's device after the takeover label: %s %v", d.Action, d.Reasons)
	}
	if d := h.login("ana", "", "198.51.100.7", "ana-phone", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
		t.Errorf("the customer's own phone: %s %v", d.Action, d.Reasons)
	}
}

// places locates a few addresses, like a city database would.
type places map[string]geo.Location

func (p places) Lookup(ip netip.Addr) geo.Location { return p[ip.String()] }

func TestImpossibleTravelRule(t *testing.T) {
	h := newHarnessAt(t, places{
		"198.51.100.7": {Country: "DE", City: "Berlin", Latitude: 52.52, Longitude: 13.405, AccuracyKM: 20},
		"203.0.113.9":  {Country: "BR", City: "São Paulo", Latitude: -23.55, Longitude: -46.63, AccuracyKM: 20},
		"192.0.2.33":   {Country: "DE", City: "Hamburg", Latitude: 53.55, Longitude: 9.99, AccuracyKM: 20},
	})
	for range 3 {
		h.login("ana", "", "198.51.100.7", "ana-phone", account.OutcomeSuccess, "")
	}
	// Her own phone, minutes later, from the other side of the world: a
	// VPN, or a stolen phone; either way a step-up.
	d := h.login("ana", "", "203.0.113.9", "ana-phone", account.OutcomeAttempt, "")
	if d.Action != risk.ActionChallenge || !has(d, "impossible_travel") {
		t.Errorf("Berlin to São Paulo in seconds: %s %v", d.Action, d.Reasons)
	}
	for _, r := range d.Reasons {
		if r.Code == "rule:impossible_travel" && !strings.Contains(r.Message, "km from the last confirmed sign-in (Berlin, DE)") {
			t.Errorf("impossible_travel says %q", r.Message)
		}
	}
	// Hamburg, 255 km away: possible by train.
	h.now = h.now.Add(3 * time.Hour)
	if d := h.login("ana", "", "192.0.2.33", "ana-phone", account.OutcomeAttempt, ""); has(d, "impossible_travel") {
		t.Errorf("Berlin to Hamburg in three hours: %s %v", d.Action, d.Reasons)
	}
}

// TestSafeFeedbackJoinsTheHistory checks that an analyst's legit label on
// a challenged sign-in confirms its device and network, also after the
// features are rebuilt from storage, and that a takeover label after it
// takes them out again.
func TestSafeFeedbackJoinsTheHistory(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		h.login("ana", "", "198.51.100.7", "ana-phone", account.OutcomeSuccess, "")
	}
	d := h.login("ana", "", "203.0.113.5", "ana-laptop", account.OutcomeAttempt, "")
	if !has(d, "new_device_and_network") {
		t.Fatalf("a new laptop on a new network: %s %v", d.Action, d.Reasons)
	}
	// The customer gave up at the step-up and called support, who vouch for her.
	label := func(id string, l risk.Label) {
		t.Helper()
		h.now = h.now.Add(time.Minute)
		if _, err := h.eng.AddFeedback(context.Background(), "shop", engine.Feedback{EventID: id, Label: string(l)}); err != nil {
			t.Fatal(err)
		}
	}
	label(d.ID, risk.LabelLegit)
	check := func(when string, wantKnown bool) {
		t.Helper()
		got := h.login("ana", "", "203.0.113.5", "ana-laptop", account.OutcomeAttempt, "")
		if known := !has(got, "new_device_and_network") && got.Action == risk.ActionAllow; known != wantKnown {
			t.Errorf("%s: %s %v, want known %v", when, got.Action, got.Reasons, wantKnown)
		}
	}
	check("after the legit label", true)
	h.restart()
	check("after a restart", true)
	// A second legit label confirms nothing more; a takeover label reverses it.
	label(d.ID, risk.LabelFalsePositive)
	label(d.ID, risk.LabelAccountTakeover)
	check("after the takeover label", false)
	h.restart()
	check("after another restart", false)
}

// TestReputationLists checks the configurable reputation table: a sign-in
// from an address on a listed attack-source list is that many times
// likelier an attacker's, and says so.
func TestReputationLists(t *testing.T) {
	ctx := context.Background()
	h := &harness{t: t, now: t0, store: memory.New()}
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return h.now }},
		h.store, features.NewMemory(features.MemoryConfig{}), account.LoginKind{Reputation: map[string]float64{"known-proxies": 100}})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	if err := eng.CreateList(ctx, "shop", rules.List{Name: "known-proxies", Kind: rules.ListIP, Effect: rules.EffectNone}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.EditEntries(ctx, "shop", "known-proxies", []string{"203.0.113.0/24"}, false); err != nil {
		t.Fatal(err)
	}
	for i := range 100 { // the shop's other customers
		h.login(fmt.Sprintf("c%d", i), "", fmt.Sprintf("198.18.%d.%d", i%50, i+1), fmt.Sprintf("dev%d", i), account.OutcomeSuccess, "")
	}
	for range 10 {
		h.login("ana", "", "198.51.100.7", "ana-phone", account.OutcomeSuccess, "")
	}
	// Her own phone from another network: familiar enough to pass, unless
	// the network is a known proxy.
	if d := h.login("ana", "", "192.0.2.9", "ana-phone", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
		t.Errorf("own phone, another network: %s %v", d.Action, d.Reasons)
	}
	d := h.login("ana", "", "203.0.113.9", "ana-phone", account.OutcomeAttempt, "")
	if !has(d, "unfamiliar_login") || d.Action != risk.ActionChallenge {
		t.Fatalf("own phone through a known proxy: %s %v", d.Action, d.Reasons)
	}
	for _, r := range d.Reasons {
		if r.Code == "rule:unfamiliar_login" && !strings.Contains(r.Message, "a source on list known-proxies") {
			t.Errorf("unfamiliar_login says %q", r.Message)
		}
	}
}

// TestDormantAccountReturns checks that an account back after its history
// expired (180 days here) is stepped up rather than treated as brand new,
// and that it is familiar again once the sign-in is confirmed, also after
// a restart that rebuilds the features from stored events.
func TestDormantAccountReturns(t *testing.T) {
	h := newHarness(t)
	h.login("u1", "", "198.51.100.1", "home", account.OutcomeSuccess, "")
	h.now = h.now.Add(100 * 24 * time.Hour)
	if d := h.login("u1", "", "198.51.100.1", "home", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow || has(d, "dormant_account_returns") {
		t.Errorf("back after 100 days, within the history: %s %v", d.Action, d.Reasons)
	}
	h.login("u1", "", "198.51.100.1", "home", account.OutcomeSuccess, "")
	h.now = h.now.Add(200 * 24 * time.Hour)
	h.restart()
	d := h.login("u1", "", "198.51.100.1", "home", account.OutcomeAttempt, "")
	if d.Action != risk.ActionChallenge || !has(d, "dormant_account_returns") {
		t.Fatalf("back after 200 days: %s %v", d.Action, d.Reasons)
	}
	for _, r := range d.Reasons {
		if r.Code == "rule:dormant_account_returns" && !strings.Contains(r.Message, "first sign-in in 200 days") {
			t.Errorf("reason says %q", r.Message)
		}
	}
	h.login("u1", "", "198.51.100.1", "home", account.OutcomeSuccess, "") // after the step-up
	if d := h.login("u1", "", "198.51.100.1", "home", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
		t.Errorf("after the confirmed return: %s %v", d.Action, d.Reasons)
	}
	// An account never seen is new, not dormant; one away longer than
	// shopguard remembers (400 days) is new too.
	if d := h.login("u2", "", "198.51.100.2", "other", account.OutcomeAttempt, ""); has(d, "dormant_account_returns") {
		t.Errorf("a new account: %s %v", d.Action, d.Reasons)
	}
	h.login("u3", "", "198.51.100.3", "third", account.OutcomeSuccess, "")
	h.now = h.now.Add(401 * 24 * time.Hour)
	if d := h.login("u3", "", "198.51.100.3", "third", account.OutcomeAttempt, ""); has(d, "dormant_account_returns") {
		t.Errorf("back after 401 days: %s %v", d.Action, d.Reasons)
	}
}
