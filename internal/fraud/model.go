package fraud

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/risk"
)

// modelFeature is one input of the learned model, read from the rule
// environment, with the words an analyst reads in a reason.
type modelFeature struct {
	name string
	get  func(*Env) float64
	// says renders the feature's value for a reason ("card seen on 6 devices in 24h").
	says func(v float64) string
}

func num(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

// entityFeatures are the per-entity inputs.
var entityMetrics = []struct {
	metric string
	get    func(*Entity) float64
	says   string // with %s for the entity and %s for the value
}{
	{"new", func(e *Entity) float64 { return b2f(e.New) }, "%s never seen before"},
	{"first_seen_days", func(e *Entity) float64 { return e.FirstSeenDays }, "%s first seen %s days ago"},
	{"seconds_since_last", func(e *Entity) float64 { return e.SecondsSinceLast }, "%s's previous order %s seconds ago"},
	{"count_1h", func(e *Entity) float64 { return float64(e.Count1h) }, "%s used %s times in the last hour"},
	{"count_24h", func(e *Entity) float64 { return float64(e.Count24h) }, "%s used %s times in 24h"},
	{"count_7d", func(e *Entity) float64 { return float64(e.Count7d) }, "%s used %s times in 7 days"},
	{"count_30d", func(e *Entity) float64 { return float64(e.Count30d) }, "%s used %s times in 30 days"},
	{"amount_24h", func(e *Entity) float64 { return e.Amount24h }, "%s spent %s in 24h"},
	{"amount_30d", func(e *Entity) float64 { return e.Amount30d }, "%s spent %s in 30 days"},
	{"avg_amount_30d_before", func(e *Entity) float64 { return e.AvgAmount30dBefore }, "%s's average order %s"},
	{"cards_24h", func(e *Entity) float64 { return float64(e.Cards24h) }, "%s used %s different cards in 24h"},
	{"users_30d", func(e *Entity) float64 { return float64(e.Users30d) }, "%s used by %s customer accounts in 30 days"},
	{"devices_24h", func(e *Entity) float64 { return float64(e.Devices24h) }, "%s seen on %s devices in 24h"},
	{"ips_24h", func(e *Entity) float64 { return float64(e.IPs24h) }, "%s seen from %s IPs in 24h"},
	{"emails_30d", func(e *Entity) float64 { return float64(e.Emails30d) }, "%s used with %s e-mail addresses in 30 days"},
}

// modelFeatures lists the model's inputs in order. Appending is safe;
// reordering or removing invalidates trained models (NewModel checks).
// The hour of day is left out on purpose: shops' fraud rarely depends on
// it, and with few labelled frauds a tree learns the hours they happened
// to fall on.
var modelFeatures = func() []modelFeature {
	fs := []modelFeature{
		{"amount", func(e *Env) float64 { return e.Amount }, func(v float64) string { return "amount " + num(v) }},
		{"user.account_age_days", func(e *Env) float64 { return e.User.AccountAgeDays }, func(v float64) string {
			if v < 0 {
				return "no customer account"
			}
			return "account " + num(v) + " days old"
		}},
		{"user.guest", func(e *Env) float64 { return b2f(e.User.Guest) }, func(v float64) string {
			return map[bool]string{true: "guest checkout", false: "signed-in customer"}[v == 1]
		}},
		{"items.count", func(e *Env) float64 { return float64(e.Items.Count) }, func(v float64) string { return num(v) + " order lines" }},
		{"items.max_price_minor", func(e *Env) float64 { return float64(e.Items.MaxPriceMinor) }, func(v float64) string { return "most expensive item " + num(v/100) }},
		{"signals.amount_vs_user_avg_30d", func(e *Env) float64 { return e.Signals.AmountVsUserAvg30d }, func(v float64) string { return "amount is " + num(v) + "× this customer's 30-day average" }},
		{"signals.new_device_for_user", func(e *Env) float64 { return b2f(e.Signals.NewDeviceForUser) }, flag("known customer on a new device")},
		{"signals.new_card_for_user", func(e *Env) float64 { return b2f(e.Signals.NewCardForUser) }, flag("known customer with a new card")},
		{"signals.new_ip_for_user", func(e *Env) float64 { return b2f(e.Signals.NewIPForUser) }, flag("known customer from a new IP")},
		{"signals.new_address_for_user", func(e *Env) float64 { return b2f(e.Signals.NewAddressForUser) }, flag("known customer shipping to a new address")},
		{"signals.billing_shipping_country_mismatch", func(e *Env) float64 { return b2f(e.Signals.BillingShippingCountryMismatch) }, flag("billing and shipping countries differ")},
		{"signals.card_billing_country_mismatch", func(e *Env) float64 { return b2f(e.Signals.CardBillingCountryMismatch) }, flag("card issued outside the billing country")},
		{"signals.card_shipping_country_mismatch", func(e *Env) float64 { return b2f(e.Signals.CardShippingCountryMismatch) }, flag("card issued outside the shipping country")},
	}
	// The merchant's history is not an input (a shop is usually its only
	// merchant); its known frauds are.
	for _, ent := range modelEntities[:len(modelEntities)-1] {
		for _, m := range entityMetrics {
			fs = append(fs, entityFeature(ent.name, ent.get, m.metric, m.get, m.says))
		}
	}
	// Appended later: where the IP address is, then what is known of each
	// entity's earlier frauds.
	fs = append(fs,
		modelFeature{"signals.ip_card_country_mismatch", func(e *Env) float64 { return b2f(e.Signals.IPCardCountryMismatch) }, flag("IP address in another country than the card's")},
		modelFeature{"signals.ip_shipping_country_mismatch", func(e *Env) float64 { return b2f(e.Signals.IPShippingCountryMismatch) }, flag("IP address in another country than the shipping address")},
	)
	for _, ent := range modelEntities {
		for _, m := range labelMetrics {
			fs = append(fs, entityFeature(ent.name, ent.get, m.metric, m.get, m.says))
		}
	}
	return fs
}()

// modelEntities are the entities whose features are model inputs, in
// input order.
var modelEntities = []struct {
	name string
	get  func(*FeatEnv) *Entity
}{{"user", func(f *FeatEnv) *Entity { return f.User }}, {"card", func(f *FeatEnv) *Entity { return f.Card }},
	{"ip", func(f *FeatEnv) *Entity { return f.IP }}, {"ip_prefix", func(f *FeatEnv) *Entity { return f.IPPrefix }},
	{"device", func(f *FeatEnv) *Entity { return f.Device }}, {"email", func(f *FeatEnv) *Entity { return f.Email }},
	{"address", func(f *FeatEnv) *Entity { return f.Address }}, {"merchant", func(f *FeatEnv) *Entity { return f.Merchant }}}

// labelMetrics are the per-entity inputs from fraud labels known at scoring time.
var labelMetrics = []struct {
	metric string
	get    func(*Entity) float64
	says   string
}{
	{"frauds_30d", func(e *Entity) float64 { return float64(e.Frauds30d) }, "%s has %s earlier orders known to be fraud (30 days)"},
	{"fraud_share_30d", func(e *Entity) float64 { return e.FraudShare30d }, "%s: share %s of its orders in 30 days known to be fraud"},
}

// entityFeature is the model input metric of the entity called name.
func entityFeature(name string, entOf func(*FeatEnv) *Entity, metric string, get func(*Entity) float64, says string) modelFeature {
	return modelFeature{
		name: "features." + name + "." + metric,
		get: func(e *Env) float64 {
			x := entOf(e.Features)
			if !x.Present {
				return math.NaN()
			}
			return get(x)
		},
		says: func(v float64) string { return fmt.Sprintf(says, entityWord(name), num(v)) },
	}
}

func flag(text string) func(float64) string {
	return func(v float64) string {
		if v == 1 {
			return text
		}
		return "not: " + text
	}
}

func entityWord(name string) string {
	switch name {
	case "user":
		return "customer"
	case "ip_prefix":
		return "network"
	case "address":
		return "shipping address"
	case "email":
		return "e-mail"
	}
	return name
}

// ModelFeatureNames returns the names of the model's inputs, in order.
func ModelFeatureNames() []string {
	out := make([]string, len(modelFeatures))
	for i, f := range modelFeatures {
		out[i] = f.name
	}
	return out
}

// ModelRow appends the model's inputs read from env to dst.
func ModelRow(env *Env, dst []float64) []float64 {
	for _, f := range modelFeatures {
		dst = append(dst, f.get(env))
	}
	return dst
}

// ErrModelFeatures means a model was trained on other inputs than this
// version of shopguard computes.
var ErrModelFeatures = errors.New("fraud: the model's features do not match this shopguard")

// Model scores transactions with a trained gradient-boosted model and
// explains high scores with each input's exact contribution.
type Model struct {
	gb      *gbdt.Model
	version string
	// ExplainFrom is the score from which decisions get reasons (TreeSHAP
	// costs about a millisecond for a 300-tree model).
	explainFrom float64
}

// NewModel wraps a trained model; its features must be ModelFeatureNames
// or, for a model trained by an earlier version, a prefix of them.
func NewModel(gb *gbdt.Model, version string) (*Model, error) {
	names := ModelFeatureNames()
	if len(gb.Features) == 0 || len(gb.Features) > len(names) || !slices.Equal(gb.Features, names[:len(gb.Features)]) {
		return nil, fmt.Errorf("%w (%d inputs, want %d)", ErrModelFeatures, len(gb.Features), len(modelFeatures))
	}
	return &Model{gb: gb, version: version, explainFrom: 30}, nil
}

// Version names the model.
func (m *Model) Version() string { return m.version }

// GBDT returns the trained trees the model scores with.
func (m *Model) GBDT() *gbdt.Model { return m.gb }

// Assess returns the model's score (0-100) for env (a *Env) and, when the
// score is at least 30, the inputs that raised it most as reasons.
func (m *Model) Assess(env any) (float64, []risk.Reason) {
	e, ok := env.(*Env)
	if !ok {
		return 0, nil
	}
	var buf [160]float64
	row := ModelRow(e, buf[:0])
	score := math.Round(100*m.gb.Probability(row)*10) / 10
	if score < m.explainFrom {
		return score, nil
	}
	phi, _ := m.gb.Contributions(row)
	idx := make([]int, len(phi))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(phi[b], phi[a]) })
	var reasons []risk.Reason
	for _, i := range idx[:min(3, len(idx))] {
		if phi[i] <= 0 {
			break
		}
		f := modelFeatures[i]
		v := row[i]
		text := "unknown " + f.name
		if !math.IsNaN(v) {
			text = f.says(v)
		}
		reasons = append(reasons, risk.Reason{Code: "model:" + f.name, Message: "model: " + text,
			Weight: math.Round(phi[i]*1000) / 1000})
	}
	return score, reasons
}
