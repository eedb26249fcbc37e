package content

import (
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

// DefaultRules returns the content rules every new tenant starts with:
// the four scores turned into points, and the signals that alone decide.
// Near copies count only when the post shares two or more bands with
// earlier posts (one shared band is also what two unrelated reviews of a
// product share now and then), and a campaign is judged by the near-copy
// rules alone, not again as a fake review: three or four accounts are
// held for a moderator, five or more rejected.
func (Kind) DefaultRules() []rules.Rule {
	c := risk.EventContent
	return []rules.Rule{
		{Name: "content_phishing_link", Kind: c, Action: risk.ActionBlock,
			Expression:  "signals.phishing_links > 0",
			Description: "a link in the post leads to a phishing or known-bad site ({{ scores.links }}/100)"},
		{Name: "content_suspicious_link", Kind: c, Score: 55,
			Expression:  "signals.suspicious_links > 0 && signals.phishing_links == 0",
			Description: "a link in the post looks suspicious ({{ scores.links }}/100)"},
		{Name: "content_spam_certain", Kind: c, Action: risk.ActionBlock,
			Expression:  "scores.spam >= 90",
			Description: "spam ({{ scores.spam }}/100)"},
		{Name: "content_spam", Kind: c, Score: 55,
			Expression:  "scores.spam >= 50 && scores.spam < 90",
			Description: "probably spam ({{ scores.spam }}/100)"},
		{Name: "content_contact_details", Kind: c, Score: 50,
			Expression:  `signals.contacts > 0 && kind != "profile"`,
			Description: "contact details in a {{ kind }}: a way to take the deal off the shop ({{ signals.contacts }})"},
		{Name: "content_offplatform_payment", Kind: c, Score: 70,
			Expression:  "signals.offplatform_payment > 0",
			Description: "asks to pay outside the shop (wire transfer, gift cards, crypto, friends-and-family)"},
		{Name: "content_threat", Kind: c, Action: risk.ActionBlock,
			Expression:  "signals.threats > 0",
			Description: "threatens violence or harm"},
		{Name: "content_abuse", Kind: c, Score: 55,
			Expression:  "scores.abuse >= 50 && signals.threats == 0",
			Description: "abusive language ({{ scores.abuse }}/100)"},
		{Name: "content_hidden_characters", Kind: c, Score: 30,
			Expression:  "signals.hidden > 0 || signals.mixed_script > 0",
			Description: "invisible, direction-reversing or look-alike characters hide what the text says"},
		{Name: "content_campaign", Kind: c, Action: risk.ActionBlock,
			Expression:  "features.campaign.authors_24h >= 5 && features.campaign.bands >= 2",
			Description: "{{ features.campaign.authors_24h }} accounts posted near-copies of this text in 24 h: a campaign"},
		{Name: "content_near_copies", Kind: c, Score: 55,
			Expression:  "features.campaign.authors_24h >= 3 && features.campaign.authors_24h < 5 && features.campaign.bands >= 2",
			Description: "{{ features.campaign.authors_24h }} accounts posted near-copies of this text in 24 h"},
		{Name: "content_fake_review", Kind: c, Score: 55,
			Expression:  `kind == "review" && scores.fake_review >= 60 && features.campaign.authors_24h < 3`,
			Description: "probably a fake review ({{ scores.fake_review }}/100)"},
		{Name: "content_sockpuppets", Kind: c, Score: 60,
			Expression:  "features.device.authors_24h >= 3",
			Description: "{{ features.device.authors_24h }} accounts posted from this device in 24 h"},
		{Name: "content_author_flood", Kind: c, Score: 50,
			Expression:  "features.author.posts_1h >= 10",
			Description: "the author posted {{ features.author.posts_1h }} times in an hour"},
		{Name: "content_review_spree", Kind: c, Score: 45,
			Expression:  `kind == "review" && features.author.targets_24h >= 10`,
			Description: "the author reviewed {{ features.author.targets_24h }} products in 24 h"},
		{Name: "content_rating_burst", Kind: c, Score: 30,
			Expression:  `kind == "review" && features.target_rating.posts_1h >= 10`,
			Description: "{{ features.target_rating.posts_1h }} {{ rating }}-star reviews of this product in an hour"},
	}
}
