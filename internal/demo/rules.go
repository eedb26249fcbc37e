package demo

import (
	"context"
	"fmt"

	"github.com/shopguard/shopguard/client"
)

// RuleSetter is what installing the demo's rules needs (a *client.Client).
type RuleSetter interface {
	PutRule(ctx context.Context, r client.Rule) (*client.RuleVersion, error)
}

// BaselineRules are the rules the demo tenant adds to shopguard's defaults
// (which already catch card testing): the obvious signs of a stolen card,
// and what to do with the model's probability of fraud (which is 0 while
// the tenant has no model): review from 40%, block from 80%.
// They are deliberately plain rules; the learned model of a later release
// should beat them, and the demo's table will show by how much.
func BaselineRules() []client.Rule {
	return []client.Rule{
		{Name: "stolen_card_new_owner", Kind: "transaction", Action: client.ActionBlock,
			Expression: "!features.card.new && features.card.emails_30d >= 2 && (user.guest || user.account_age_days < 1) && features.device.first_seen_days < 1",
			Description: "card already used with another e-mail address ({{ features.card.emails_30d }} in 30 days), " +
				"now by a guest or a new account on a new device"},
		{Name: "model_review", Kind: "transaction", Action: client.ActionReview,
			Expression:  "model.score >= 40",
			Description: "the model puts the chance of fraud at {{ model.score }}%"},
		{Name: "model_block", Kind: "transaction", Action: client.ActionBlock,
			Expression:  "model.score >= 80",
			Description: "the model puts the chance of fraud at {{ model.score }}%"},
		{Name: "foreign_card_new_customer", Kind: "transaction", Action: client.ActionReview,
			Expression: "signals.card_shipping_country_mismatch && (user.guest || user.account_age_days < 1) && features.email.first_seen_days < 1 && amount >= 50",
			Description: "customer never seen before ships {{ amount }} {{ currency }} to {{ shipping.country }} with a card issued in " +
				"{{ payment.card_country }}"},
	}
}

// InstallRules puts the baseline rules into the tenant (replacing earlier
// versions of the same names).
func InstallRules(ctx context.Context, rs RuleSetter) error {
	for _, r := range BaselineRules() {
		if _, err := rs.PutRule(ctx, r); err != nil {
			return fmt.Errorf("demo: install rule %s: %w", r.Name, err)
		}
	}
	return nil
}
