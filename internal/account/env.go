package account

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
)

// Entity kinds that exist only for logins.
const (
	// kindAccountIP is one account tried from one IP address.
	kindAccountIP risk.EntityKind = "account_ip"
	// kindPassword is a password, known by its hash's first 5 hex characters.
	kindPassword risk.EntityKind = "password_prefix"
	// kindCountry is a country, as a distinct-count dimension.
	kindCountry risk.EntityKind = "country"
	// kindUnknownFromIP counts, per IP, attempts on accounts that do not exist.
	kindUnknownFromIP risk.EntityKind = "ip_unknown_accounts"
	// kindUserAgent is a User-Agent string (by its hash).
	kindUserAgent risk.EntityKind = "user_agent"
	// kindASN is an autonomous system (known with geo.asn_db).
	kindASN risk.EntityKind = "asn"
	// kindShop is every login of the tenant: the baseline that distributed
	// attacks raise.
	kindShop risk.EntityKind = "shop"
	// kindShopHour is every login of the tenant in one hour of the week
	// (0 = Sunday 00:00-01:00 UTC): the usual failure rate of this hour.
	kindShopHour risk.EntityKind = "shop_hour_of_week"
	// kindOS and kindBrowser are the operating system and the browser
	// family and major version a User-Agent names (ParseUserAgent).
	kindOS      risk.EntityKind = "os"
	kindBrowser risk.EntityKind = "browser"
	// kindShopUnknown is every login of the tenant, counting (as its sum)
	// attempts on accounts that do not exist.
	kindShopUnknown risk.EntityKind = "shop_unknown_accounts"
)

// scope is the feature-store scope of login keys.
const scope = string(risk.EventLogin)

// slot is one key of a login's observations.
type slot int

const (
	slotAccount slot = iota
	slotIP
	slotIPPrefix
	slotDevice
	slotAccountIP
	slotPassword
	slotUnknown
	slotUserAgent
	slotASN
	slotShop
	slotSession
	slotShopHour
	// slotCountry, slotOS and slotBrowser count the population's logins
	// per country, operating system and browser for the login-risk model.
	slotCountry
	slotOS
	slotBrowser
	// slotShopUnknown counts the shop's attempts on accounts that do not
	// exist: a leaked list tried from many addresses raises it.
	slotShopUnknown
	numSlots
)

// The account's confirmed history lives in its own scope: a device,
// network, IP or country joins it only with a successful sign-in (which the
// shop reports after any step-up), never with an attempt, a failure or a
// challenge, so an attacker who retries after a challenge is still new.
const scopeKnown = "login_known"

// HistoryScope is the feature-store scope of the accounts' confirmed
// sign-ins: give it a long history (features.MemoryConfig.History) so that
// customers who sign in rarely stay familiar.
const HistoryScope = scopeKnown

// Confirmed-history keys, read before an attempt (PeekKeys) and recorded
// by a success (Observations).
const (
	knownAccount = iota
	knownDevice
	knownNetwork
	knownIP
	knownCountry
	knownASN
	knownOS
	knownBrowser
	knownUserAgent
	numKnown
)

// knownKeys returns the account's confirmed-history keys for this attempt
// (a key with an empty value does not apply).
func (l *Login) knownKeys(tenant string) [numKnown]features.Key {
	acct := l.account()
	k := func(kind risk.EntityKind, v string) features.Key {
		if v == "" {
			return features.Key{}
		}
		return features.Key{Tenant: tenant, Scope: scopeKnown, Kind: kind, Value: acct + "|" + v}
	}
	return [numKnown]features.Key{
		knownAccount:   {Tenant: tenant, Scope: scopeKnown, Kind: risk.EntityUser, Value: acct},
		knownDevice:    k(risk.EntityDevice, l.DeviceID),
		knownNetwork:   k(risk.EntityIPPrefix, l.prefix),
		knownIP:        k(risk.EntityIP, l.IP),
		knownCountry:   k(kindCountry, l.loc.Country),
		knownASN:       k(kindASN, asnKey(l.loc.ASN)),
		knownOS:        k(kindOS, l.client.OS),
		knownBrowser:   k(kindBrowser, l.browserKey()),
		knownUserAgent: k(kindUserAgent, l.uaKey),
	}
}

// DormantScope is the feature-store scope that remembers, per account,
// when it last signed in successfully for longer than its history
// (HistoryScopes): an account back after its history expired is dormant,
// not new.
const DormantScope = "login_dormant"

// HistoryScopes returns the long-history windows account protection needs
// (features.MemoryConfig.History): HistoryScope for history, DormantScope
// for features.MaxHistory.
func HistoryScopes(history time.Duration) map[string]time.Duration {
	return map[string]time.Duration{HistoryScope: history, DormantScope: features.MaxHistory}
}

// numPeeks is the number of keys PeekKeys appends: the confirmed-history
// keys, the label counts of each but the account's, then the account's
// dormancy key.
const numPeeks = 2 * numKnown

// PeekKeys appends the account's confirmed-history keys (all numKnown of
// them; an inapplicable one reads as unknown), then the same keys' label
// counts but the account's own: a device, network, address or browser of
// a sign-in labelled account_takeover is the attacker's, not part of the
// customer's history.
func (l *Login) PeekKeys(tenant string, buf []features.Key) []features.Key {
	keys := l.knownKeys(tenant)
	for i, k := range keys {
		l.known[i] = k.Value != ""
		if k.Value == "" {
			k = features.Key{Tenant: tenant, Scope: scopeKnown, Kind: "none", Value: "-"}
		}
		buf = append(buf, k)
	}
	for _, k := range keys[knownAccount+1:] {
		if k.Value == "" {
			k = features.Key{Tenant: tenant, Kind: "none", Value: "-"}
		}
		k.Scope = LabelScope
		buf = append(buf, k)
	}
	return append(buf, l.dormantKey(tenant))
}

// dormantKey is the account's key in DormantScope.
func (l *Login) dormantKey(tenant string) features.Key {
	return features.Key{Tenant: tenant, Scope: DormantScope, Kind: risk.EntityUser, Value: l.account()}
}

// SetPeeks keeps what the engine read for PeekKeys.
func (l *Login) SetPeeks(aggs []features.Aggregates) {
	l.peeked = len(aggs) == numPeeks
	if !l.peeked {
		return
	}
	copy(l.peeks[:], aggs)
	for i := knownAccount + 1; i < numKnown; i++ {
		l.compromised[i] = aggs[numKnown+i-1].Sum[features.W30d] > 0
	}
	l.lastSignIn = aggs[numPeeks-1].PrevSeen
}

// SkipsLabels reports whether the environment leaves o's label counts
// unused: the confirmed-history keys (PeekKeys reads their label counts
// per account before the attempt) and the shop-wide, per-country,
// per-OS, per-browser and unknown-account counters.
func (l *Login) SkipsLabels(o *features.Observation) bool {
	if o.Key.Scope != scope {
		return true
	}
	switch o.Key.Kind {
	case kindCountry, kindOS, kindBrowser, kindShopHour, kindUnknownFromIP, kindShopUnknown:
		return true
	}
	return false
}

// isNew reports whether the confirmed-history key i is not part of the
// account's history: never confirmed, or labelled as a takeover's.
func (l *Login) isNew(i int) bool { return l.peeks[i].New || l.compromised[i] }

// distinctWindows are the windows whose distinct counts Entity reports.
var distinctWindows = features.Windows(features.W1h, features.W24h)

// keys returns the key of each slot ("" values are left out).
func (l *Login) keys(tenant string) [numSlots]features.Key {
	k := func(sc string, kind risk.EntityKind, v string) features.Key {
		return features.Key{Tenant: tenant, Scope: sc, Kind: kind, Value: v}
	}
	return [numSlots]features.Key{
		slotAccount:     k(scope, risk.EntityUser, l.account()),
		slotIP:          k(scope, risk.EntityIP, l.IP),
		slotIPPrefix:    k(scope, risk.EntityIPPrefix, l.prefix),
		slotDevice:      k(scope, risk.EntityDevice, l.DeviceID),
		slotAccountIP:   k(scope, kindAccountIP, l.account()+"|"+l.IP),
		slotPassword:    k(scope, kindPassword, l.PasswordHashPrefix),
		slotUnknown:     k(scope, kindUnknownFromIP, l.IP),
		slotUserAgent:   k(scope, kindUserAgent, l.uaKey),
		slotASN:         k(scope, kindASN, asnKey(l.loc.ASN)),
		slotShop:        k(scope, kindShop, "all"),
		slotSession:     k(scope, risk.EntitySession, l.SessionID),
		slotShopHour:    k(scope, kindShopHour, strconv.Itoa(int(l.at.Weekday())*24+l.at.Hour())),
		slotCountry:     k(scope, kindCountry, l.loc.Country),
		slotOS:          k(scope, kindOS, l.client.OS),
		slotBrowser:     k(scope, kindBrowser, l.browserKey()),
		slotShopUnknown: k(scope, kindShopUnknown, "all"),
	}
}

// Observations appends the attempt's feature-store observations for
// tenant, one per key in slot order (skipping a missing device or
// password prefix). Amounts count failures; the unknown-account key counts
// attempts on accounts that do not exist.
func (l *Login) Observations(tenant string, buf []features.Observation) []features.Observation {
	keys := l.keys(tenant)
	failed := 0.0
	if l.Failed() {
		failed = 1
	}
	acct := features.Dim{Kind: risk.EntityUser, Value: l.account()}
	for s := range numSlots {
		k := keys[s]
		if k.Value == "" {
			continue
		}
		o := features.Observation{Key: k, Amount: failed, DistinctWindows: distinctWindows}
		switch s {
		case slotAccount:
			o.Distinct = [features.MaxDistinct]features.Dim{
				{Kind: risk.EntityIP, Value: l.IP}, {Kind: risk.EntityDevice, Value: l.DeviceID},
				{Kind: risk.EntityIPPrefix, Value: keys[slotIPPrefix].Value}, {Kind: kindCountry, Value: l.loc.Country}}
		case slotIP:
			o.Distinct = [features.MaxDistinct]features.Dim{acct, {Kind: risk.EntityDevice, Value: l.DeviceID}}
		case slotIPPrefix, slotPassword, slotUserAgent, slotASN:
			o.Distinct = [features.MaxDistinct]features.Dim{acct}
		case slotDevice:
			o.Distinct = [features.MaxDistinct]features.Dim{acct, {Kind: risk.EntityIP, Value: l.IP}}
		case slotSession:
			o.Distinct = [features.MaxDistinct]features.Dim{{Kind: risk.EntityDevice, Value: l.DeviceID},
				{Kind: risk.EntityIPPrefix, Value: keys[slotIPPrefix].Value}, {Kind: risk.EntityIP, Value: l.IP},
				{Kind: kindUserAgent, Value: keys[slotUserAgent].Value}}
		case slotUnknown, slotShopUnknown:
			o.Amount = 0
			if l.Outcome == OutcomeUnknownUser {
				o.Amount = 1
			}
		}
		buf = append(buf, o)
	}
	if l.Outcome == OutcomeSuccess {
		first := len(buf)
		buf = l.confirmObservations(tenant, buf)
		if tag := placeTag(l.loc, l.at); tag != "" && len(buf) > first {
			buf[first].Tag = tag // the account key: where and when the last confirmed sign-in was
		}
	}
	return buf
}

// confirmObservations appends the observations of the attempt's
// confirmed-history keys (the account's first).
func (l *Login) confirmObservations(tenant string, buf []features.Observation) []features.Observation {
	for _, k := range l.knownKeys(tenant) {
		if k.Value != "" {
			buf = append(buf, features.Observation{Key: k})
		}
	}
	return append(buf, features.Observation{Key: l.dormantKey(tenant)})
}

// ConfirmObservations appends, for an attempt on an existing account that
// an analyst labelled legitimate, its confirmed-history observations: its
// device, network, address, country and browser join the account's
// history as if the sign-in had succeeded (without its place, which
// impossible travel compares with sign-ins at their own times).
func (l *Login) ConfirmObservations(tenant string, buf []features.Observation) []features.Observation {
	if l.UserID == "" {
		return buf
	}
	return l.confirmObservations(tenant, buf)
}

// uaKey is the key of a User-Agent: a hash, so long strings cost no more.
func uaKey(ua string) string {
	if ua == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(ua))
	return hex.EncodeToString(sum[:12])
}

func asnKey(asn uint32) string {
	if asn == 0 {
		return ""
	}
	return strconv.FormatUint(uint64(asn), 10)
}

// Env is what a login rule sees. Field names (the expr and json tags) are
// the names rules use, e.g. `features.ip.accounts_1h >= 10`.
type Env struct {
	ID        string `expr:"id" json:"id"`
	Outcome   string `expr:"outcome" json:"outcome"`
	UserID    string `expr:"user_id" json:"user_id,omitempty"`
	KnownUser bool   `expr:"known_user" json:"known_user,omitempty"`
	IP        string `expr:"ip" json:"ip"`
	IPPrefix  string `expr:"ip_prefix" json:"ip_prefix"`
	IPCountry string `expr:"ip_country" json:"ip_country,omitempty"`
	// IPCity is where a city database places the IP ("" without one).
	IPCity      string `expr:"ip_city" json:"ip_city,omitempty"`
	IPASN       int64  `expr:"ip_asn" json:"ip_asn,omitempty"`
	DeviceID    string `expr:"device_id" json:"device_id,omitempty"`
	UserAgent   string `expr:"user_agent" json:"user_agent,omitempty"`
	HourUTC     int    `expr:"hour_utc" json:"hour_utc"`
	PasswordSet bool   `expr:"password_prefix_given" json:"password_prefix_given,omitempty"`
	// ClientOS and ClientBrowser are what the User-Agent names
	// ("Windows", "Chrome 131"; see ParseUserAgent).
	ClientOS      string `expr:"client_os" json:"client_os,omitempty"`
	ClientBrowser string `expr:"client_browser" json:"client_browser,omitempty"`

	Features *Features `expr:"features" json:"features"`
	Signals  *Signals  `expr:"signals" json:"signals"`
}

// Features holds the login history of every entity of the attempt.
type Features struct {
	Account   *Entity `expr:"account" json:"account"`
	IP        *Entity `expr:"ip" json:"ip"`
	IPPrefix  *Entity `expr:"ip_prefix" json:"ip_prefix"`
	Device    *Entity `expr:"device" json:"device"`
	AccountIP *Entity `expr:"account_ip" json:"account_ip"`
	Password  *Entity `expr:"password" json:"password"`
	// UserAgent and ASN attribute distributed attacks to a client type or a
	// network operator; Shop is every login of the shop.
	UserAgent *Entity `expr:"user_agent" json:"user_agent"`
	ASN       *Entity `expr:"asn" json:"asn"`
	Shop      *Entity `expr:"shop" json:"shop"`
	// Session is the signed-in session of a session check: the devices,
	// networks, IPs and browsers it has been used from.
	Session *Entity `expr:"session" json:"session"`
}

// Entity is one entity's login history, the current attempt included.
type Entity struct {
	Present bool `expr:"present" json:"present,omitempty"`
	// New is true when shopguard had never seen the entity log in before.
	New bool `expr:"new" json:"new,omitempty"`

	Attempts1m  int64 `expr:"attempts_1m" json:"attempts_1m,omitempty"`
	Attempts1h  int64 `expr:"attempts_1h" json:"attempts_1h,omitempty"`
	Attempts24h int64 `expr:"attempts_24h" json:"attempts_24h,omitempty"`
	Failures1m  int64 `expr:"failures_1m" json:"failures_1m,omitempty"`
	Failures1h  int64 `expr:"failures_1h" json:"failures_1h,omitempty"`
	Failures24h int64 `expr:"failures_24h" json:"failures_24h,omitempty"`

	// Distinct accounts tried (IP, network, device, password).
	Accounts1h  int64 `expr:"accounts_1h" json:"accounts_1h,omitempty"`
	Accounts24h int64 `expr:"accounts_24h" json:"accounts_24h,omitempty"`
	// Distinct IPs, devices, networks and countries (account; IPs also device).
	IPs1h        int64 `expr:"ips_1h" json:"ips_1h,omitempty"`
	IPs24h       int64 `expr:"ips_24h" json:"ips_24h,omitempty"`
	Devices1h    int64 `expr:"devices_1h" json:"devices_1h,omitempty"`
	Devices24h   int64 `expr:"devices_24h" json:"devices_24h,omitempty"`
	Networks24h  int64 `expr:"networks_24h" json:"networks_24h,omitempty"`
	Countries24h int64 `expr:"countries_24h" json:"countries_24h,omitempty"`
	// Browsers24h counts distinct User-Agents (sessions).
	Browsers24h int64 `expr:"browsers_24h" json:"browsers_24h,omitempty"`

	// Compromised30d counts the entity's earlier logins labelled
	// account_takeover or fraud, by when the label arrived.
	Compromised30d int64 `expr:"compromised_30d" json:"compromised_30d,omitempty"`
}

// Signals are derived facts login rules often need.
type Signals struct {
	// New*ForUser are true when an account with confirmed sign-ins (outcome
	// success) logs in from a device, IP, network (/24 or /48) or country
	// none of them used; attempts, failures and challenges never confirm.
	NewDeviceForUser  bool `expr:"new_device_for_user" json:"new_device_for_user,omitempty"`
	NewIPForUser      bool `expr:"new_ip_for_user" json:"new_ip_for_user,omitempty"`
	NewNetworkForUser bool `expr:"new_network_for_user" json:"new_network_for_user,omitempty"`
	NewCountryForUser bool `expr:"new_country_for_user" json:"new_country_for_user,omitempty"`
	// UnknownAccountsIP1h counts attempts from this IP on accounts that do
	// not exist in the last hour (credential stuffing with a leaked list).
	UnknownAccountsIP1h int64 `expr:"unknown_accounts_ip_1h" json:"unknown_accounts_ip_1h,omitempty"`
	// FailureRateIP1h is the IP's failed share of attempts in the last hour.
	FailureRateIP1h float64 `expr:"failure_rate_ip_1h" json:"failure_rate_ip_1h,omitempty"`
	// ShopFailureRate1h and ShopFailureRate24h are the failed share of all
	// the shop's login attempts: a distributed, low-and-slow attack raises
	// the last hour above the day's baseline.
	ShopFailureRate1h  float64 `expr:"shop_failure_rate_1h" json:"shop_failure_rate_1h,omitempty"`
	ShopFailureRate24h float64 `expr:"shop_failure_rate_24h" json:"shop_failure_rate_24h,omitempty"`
	// ShopFailureRateHourOfWeek is the failed share in this hour of the
	// week over the previous weeks (within 30 days; 0 without history): a
	// shop whose Monday-morning rush always mistypes is not under attack.
	ShopFailureRateHourOfWeek float64 `expr:"shop_failure_rate_hour_of_week" json:"shop_failure_rate_hour_of_week,omitempty"`
	// ShopUnknownAccounts1m counts the shop's attempts on accounts that do
	// not exist in the last minute; ShopUnknownAccountsPerMinute24h is the
	// usual rate per minute over 24 hours. A leaked list tried from many
	// addresses, each too slow to notice, raises the first far above the
	// second.
	ShopUnknownAccounts1m           int64   `expr:"shop_unknown_accounts_1m" json:"shop_unknown_accounts_1m,omitempty"`
	ShopUnknownAccountsPerMinute24h float64 `expr:"shop_unknown_accounts_per_minute_24h" json:"shop_unknown_accounts_per_minute_24h,omitempty"`
	// TravelKM is the distance from the account's last confirmed sign-in
	// to this one, less both locations' accuracy radii (0 when either has
	// no coordinates: that needs a city database as geo.country_db);
	// TravelHours is the time since, and TravelSpeedKMH the speed needed
	// (distance over at least one minute). TravelFrom names the last
	// sign-in's place ("Berlin, DE").
	TravelKM       float64 `expr:"travel_km" json:"travel_km,omitempty"`
	TravelHours    float64 `expr:"travel_hours" json:"travel_hours,omitempty"`
	TravelSpeedKMH float64 `expr:"travel_speed_kmh" json:"travel_speed_kmh,omitempty"`
	TravelFrom     string  `expr:"travel_from" json:"travel_from,omitempty"`
	// DormantDays is, for an account whose last successful sign-in is
	// older than its history (account.history) but within 400 days, the
	// days since it: the account is back from dormancy with nothing to be
	// familiar with (0 otherwise).
	DormantDays float64 `expr:"dormant_days" json:"dormant_days,omitempty"`
	// TypingDistance is how far the password's typing rhythm (keystrokes)
	// is from the customer's template, per feature (outlier-robust scaled
	// Manhattan, each feature capped at 4): about 1.3-1.6 for customers'
	// own sign-ins and 2.4 for someone else typing the same password on
	// the 56-subject mobile set; 0 without keystrokes or a template (10
	// confirmed sign-ins with keystrokes make one).
	TypingDistance float64 `expr:"typing_distance" json:"typing_distance,omitempty"`
	// DeviceRemembered says the attempt comes from a device the customer
	// passed a step-up on recently, with the token that step-up gave it
	// (remembered_device): the device is theirs, however new it looks.
	DeviceRemembered bool `expr:"device_remembered" json:"device_remembered,omitempty"`
	// LoginRisk is the login-risk model's log10 likelihood ratio of an
	// attacker against the account's own customer (see model.go): 0 for an
	// account without confirmed sign-ins, below 0 for a familiar login, +1
	// for a login ten times likelier an attacker's.
	LoginRisk float64 `expr:"login_risk" json:"login_risk,omitempty"`
	// Unfamiliar names the features that raised LoginRisk most, e.g.
	// "country FR, device".
	Unfamiliar string `expr:"unfamiliar" json:"unfamiliar,omitempty"`
}

// NewEnv returns an empty environment with every nested part allocated.
func NewEnv() *Env {
	return &Env{Features: &Features{Account: &Entity{}, IP: &Entity{}, IPPrefix: &Entity{}, Device: &Entity{},
		AccountIP: &Entity{}, Password: &Entity{}, UserAgent: &Entity{}, ASN: &Entity{}, Shop: &Entity{}, Session: &Entity{}}, Signals: &Signals{}}
}

// envMem holds a login's environment and its parts, so that building it
// allocates nothing beyond the Login.
type envMem struct {
	env  Env
	f    Features
	sig  Signals
	ents [10]Entity
}

// init wires the parts together and returns the environment.
func (m *envMem) init() *Env {
	e := &m.ents
	m.f = Features{Account: &e[0], IP: &e[1], IPPrefix: &e[2], Device: &e[3], AccountIP: &e[4], Password: &e[5],
		UserAgent: &e[6], ASN: &e[7], Shop: &e[8], Session: &e[9]}
	m.env = Env{Features: &m.f, Signals: &m.sig}
	return &m.env
}

// Env builds the rule environment (a *Env, owned by the Login: a second
// call rebuilds the same one) from the feature aggregates and label
// counts, both in Observations order.
func (l *Login) Env(aggs, labels []features.Aggregates) any {
	env := l.envMem.init()
	l.BuildEnv(aggs, labels, env)
	return env
}

// BuildEnv fills env (from NewEnv) from the attempt, aggs (the feature
// store's answer to Observations) and labels (the same keys' label
// counts; nil for none).
func (l *Login) BuildEnv(aggs, labels []features.Aggregates, env *Env) {
	f, sig := env.Features, env.Signals
	for _, e := range []*Entity{f.Account, f.IP, f.IPPrefix, f.Device, f.AccountIP, f.Password, f.UserAgent, f.ASN, f.Shop, f.Session} {
		*e = Entity{}
	}
	*sig = Signals{}
	*env = Env{Features: f, Signals: sig,
		ID: l.ID, Outcome: l.Outcome, UserID: l.UserID, KnownUser: l.UserID != "",
		IP: l.IP, IPPrefix: l.prefix, IPCountry: l.loc.Country, IPCity: l.loc.City, IPASN: int64(l.loc.ASN),
		DeviceID: l.DeviceID, UserAgent: l.UserAgent, HourUTC: l.at.Hour(), PasswordSet: l.PasswordHashPrefix != "",
		ClientOS: l.client.OS, ClientBrowser: l.client.Browser,
	}
	ents := [numSlots]*Entity{slotAccount: f.Account, slotIP: f.IP, slotIPPrefix: f.IPPrefix, slotDevice: f.Device,
		slotAccountIP: f.AccountIP, slotPassword: f.Password, slotUserAgent: f.UserAgent, slotASN: f.ASN, slotShop: f.Shop,
		slotSession: f.Session}
	keys := l.keys("")
	var pop [numSlots]int64 // the population's attempts in 30 days
	i := 0
	for s := range numSlots {
		if keys[s].Value == "" {
			continue
		}
		if i >= len(aggs) {
			break
		}
		a := &aggs[i]
		pop[s] = a.Count[features.W30d]
		switch s {
		case slotCountry, slotOS, slotBrowser:
		case slotUnknown:
			sig.UnknownAccountsIP1h = int64(a.Sum[features.W1h])
		case slotShopUnknown:
			sig.ShopUnknownAccounts1m = int64(a.Sum[features.W1m])
			sig.ShopUnknownAccountsPerMinute24h = math.Round(a.Sum[features.W24h]/(24*60)*1000) / 1000
		case slotShopHour:
			// Earlier weeks only: the key is counted in this hour of the
			// week alone, so its last hour is this week's.
			sig.ShopFailureRateHourOfWeek = rate(int64(a.Sum[features.W30d]-a.Sum[features.W1h]), a.Count[features.W30d]-a.Count[features.W1h])
		default:
			fill(ents[s], s, a)
			if i < len(labels) {
				ents[s].Compromised30d = max(0, int64(labels[i].Sum[features.W30d]))
			}
		}
		i++
	}
	sig.FailureRateIP1h = rate(f.IP.Failures1h, f.IP.Attempts1h)
	sig.ShopFailureRate1h = rate(f.Shop.Failures1h, f.Shop.Attempts1h)
	sig.ShopFailureRate24h = rate(f.Shop.Failures24h, f.Shop.Attempts24h)
	// Against the account's confirmed history as it was before this
	// attempt (an account without a confirmed sign-in has none to differ from).
	if p := &l.peeks; l.peeked && !p[knownAccount].New {
		sig.NewIPForUser = l.isNew(knownIP)
		sig.NewDeviceForUser = l.DeviceID != "" && l.isNew(knownDevice)
		sig.NewNetworkForUser = l.isNew(knownNetwork)
		sig.NewCountryForUser = l.loc.Country != "" && l.isNew(knownCountry)
	} else if l.peeked && l.UserID != "" && !l.lastSignIn.IsZero() {
		// Signed in before, but longer ago than the history remembers.
		sig.DormantDays = math.Round(l.at.Sub(l.lastSignIn).Hours()/24*10) / 10
	}
	l.loginRisk(&pop, f, sig)
	l.travel(sig)
	sig.TypingDistance = math.Round(l.typing*1000) / 1000
	sig.DeviceRemembered = l.remembered
}

// rate returns num/den rounded to three decimals, 0 without attempts.
func rate(num, den int64) float64 {
	if den == 0 {
		return 0
	}
	return math.Round(float64(num)/float64(den)*1000) / 1000
}

func fill(e *Entity, s slot, a *features.Aggregates) {
	const h, d = features.W1h, features.W24h
	e.Present, e.New = true, a.New
	e.Attempts1m, e.Attempts1h, e.Attempts24h = a.Count[features.W1m], a.Count[h], a.Count[d]
	e.Failures1m, e.Failures1h, e.Failures24h = int64(a.Sum[features.W1m]), int64(a.Sum[h]), int64(a.Sum[d])
	switch s {
	case slotAccount:
		e.IPs1h, e.IPs24h = a.Distinct[0][h], a.Distinct[0][d]
		e.Devices1h, e.Devices24h = a.Distinct[1][h], a.Distinct[1][d]
		e.Networks24h, e.Countries24h = a.Distinct[2][d], a.Distinct[3][d]
	case slotIP:
		e.Accounts1h, e.Accounts24h = a.Distinct[0][h], a.Distinct[0][d]
		e.Devices1h, e.Devices24h = a.Distinct[1][h], a.Distinct[1][d]
	case slotIPPrefix, slotPassword, slotUserAgent, slotASN:
		e.Accounts1h, e.Accounts24h = a.Distinct[0][h], a.Distinct[0][d]
	case slotDevice:
		e.Accounts1h, e.Accounts24h = a.Distinct[0][h], a.Distinct[0][d]
		e.IPs1h, e.IPs24h = a.Distinct[1][h], a.Distinct[1][d]
	case slotSession:
		e.Devices1h, e.Devices24h = a.Distinct[0][h], a.Distinct[0][d]
		e.Networks24h = a.Distinct[1][d]
		e.IPs1h, e.IPs24h = a.Distinct[2][h], a.Distinct[2][d]
		e.Browsers24h = a.Distinct[3][d]
	}
}
