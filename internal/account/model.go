package account

import (
	"math"
	"strings"

	"github.com/shopguard/shopguard/internal/features"
)

// The login-risk model after Freeman et al., "Who Are You? A Statistical
// Approach to Measuring User Authenticity" (NDSS 2016), as validated at
// scale by Wiefling et al. (IFIP SEC 2019, ACM TOPS 2022). It asks how
// likely this login's features are for an attacker (a random member of the
// shop's login population, more so from a source that took over accounts
// before) against how likely they are for this customer, given the
// customer's confirmed sign-ins:
//
//	login_risk = log10 Π_levels p(value | parent, attacker) / p(value | parent, customer)
//
// Features form hierarchies, coarse to fine: country → network operator
// (ASN) → network (/24 or /48) → IP address; operating system → browser
// and major version → the full User-Agent string; and the device id. A
// level's value is judged given its parent's, so a new country counts
// once, not again for its ASN, network and address.
//
// The customer's probability is smoothed towards the population's
// (Dirichlet smoothing with weight modelSmoothing), so a value the customer
// never used is possible but unlikely — the more confirmed sign-ins without
// it, the less likely — and a value the customer always uses is weaker
// evidence when everyone uses it (a country, a common browser) than when it
// is rare (the customer's own network or device):
//
//	p(v | parent, customer) = (c_u(v) + α·p_g(v|parent)) / (c_u(parent) + α)
//	p(v | parent, attacker) = p_g(v | parent)
//
// c_u counts the customer's confirmed sign-ins (outcome success, so never
// an attacker's attempt) within the history the feature store keeps for
// HistoryScope (account.history, six months by default; 30 days at
// least); p_g is the share of the shop's login attempts with the parent's
// value that had v, over the same window. An IP address, network or device
// that took over accounts before (account_takeover or fraud labels within
// 30 days) multiplies the attacker's likelihood by reputationFactor, and
// one on an attack-source list of LoginKind.Reputation by that list's
// factor (the configurable reputation table). A positive login_risk
// favours an attacker: +1 means ten times likelier an
// attacker than the customer.

// modelSmoothing is the Dirichlet weight α of the population prior.
const modelSmoothing = 1.0

// reputationFactor multiplies an attacker's likelihood of a login from an
// IP address, network or device that took over accounts before.
const reputationFactor = 10.0

// unfamiliarLevel is the smallest contribution (log10) a level needs to be
// named among a login's unfamiliar features.
const unfamiliarLevel = 0.5

// modelLevel is one level of a feature hierarchy.
type modelLevel struct {
	name   string // for reasons: "new device"
	known  int    // index in knownKeys
	slot   slot   // the population's key
	parent int    // index in modelLevels of the parent level; -1 for none
	// shown is the level's value as reasons show it; nil where the value
	// says nothing to a reader (a User-Agent hash, a device id).
	shown func(*Login) string
}

var modelLevels = [...]modelLevel{
	{name: "country", known: knownCountry, slot: slotCountry, parent: -1, shown: func(l *Login) string { return l.loc.Country }},
	{name: "network operator", known: knownASN, slot: slotASN, parent: 0, shown: func(l *Login) string { return "AS" + asnKey(l.loc.ASN) }},
	{name: "network", known: knownNetwork, slot: slotIPPrefix, parent: 1, shown: func(l *Login) string { return l.prefix }},
	{name: "IP address", known: knownIP, slot: slotIP, parent: 2, shown: func(l *Login) string { return l.IP }},
	{name: "operating system", known: knownOS, slot: slotOS, parent: -1, shown: func(l *Login) string { return l.client.OS }},
	{name: "browser", known: knownBrowser, slot: slotBrowser, parent: 4, shown: func(l *Login) string { return l.client.Browser }},
	{name: "browser build", known: knownUserAgent, slot: slotUserAgent, parent: 5},
	{name: "device", known: knownDevice, slot: slotDevice, parent: -1},
}

// browserKey is the browser level's value: the browser given the OS.
func (l *Login) browserKey() string {
	if l.client.Browser == "" {
		return ""
	}
	return l.client.OS + "|" + l.client.Browser
}

// loginRisk computes the model from the peeked confirmed history, the
// population's counts per slot (pop, 30 days, this attempt included) and
// the attempt's label counts, and writes signals.login_risk and
// signals.unfamiliar. An account without confirmed sign-ins has no history
// to compare with and gets 0.
func (l *Login) loginRisk(pop *[numSlots]int64, f *Features, sig *Signals) {
	if !l.peeked || l.peeks[knownAccount].New {
		return
	}
	var applies [len(modelLevels)]bool
	var contrib [len(modelLevels)]float64
	total := 0.0
	for i, lv := range modelLevels {
		if !l.known[lv.known] || pop[lv.slot] == 0 {
			continue
		}
		applies[i] = true
		// The nearest applicable ancestor is the parent; none means the
		// whole history (the customer's sign-ins, the shop's attempts).
		cuPar, cgPar := l.confirmed(knownAccount), pop[slotShop]
		for p := lv.parent; p >= 0; p = modelLevels[p].parent {
			if applies[p] {
				cuPar, cgPar = l.confirmed(modelLevels[p].known), pop[modelLevels[p].slot]
				break
			}
		}
		cu := min(l.confirmed(lv.known), cuPar)
		pg := 1.0
		if cgPar > 0 {
			pg = min(1, float64(pop[lv.slot])/float64(cgPar))
		}
		pu := (float64(cu) + modelSmoothing*pg) / (float64(cuPar) + modelSmoothing)
		contrib[i] = math.Log10(pg / pu)
		total += contrib[i]
	}
	var b strings.Builder
	if f.IP.Compromised30d > 0 || f.IPPrefix.Compromised30d > 0 || f.Device.Compromised30d > 0 ||
		l.compromised[knownDevice] || l.compromised[knownIP] || l.compromised[knownNetwork] {
		total += math.Log10(reputationFactor)
		b.WriteString("a source of earlier takeovers")
	}
	if l.listFactor > 1 {
		total += math.Log10(l.listFactor)
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("a source on list ")
		b.WriteString(l.listName)
	}
	sig.LoginRisk = math.Round(total*100) / 100
	for i, c := range contrib {
		if c < unfamiliarLevel {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		lv := &modelLevels[i]
		b.WriteString(lv.name)
		if lv.shown != nil {
			b.WriteString(" ")
			b.WriteString(lv.shown(l))
		}
	}
	sig.Unfamiliar = b.String()
}

// confirmed is the number of the account's confirmed sign-ins with the
// value of history key i within the history (0 for a value never
// confirmed or labelled as a takeover's).
func (l *Login) confirmed(i int) int64 {
	if l.isNew(i) {
		return 0
	}
	a := &l.peeks[i]
	return max(a.History, a.Count[features.W30d]) // History when the store keeps HistoryScope longer
}
