package content

import (
	"math"
	"strings"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
)

// Env is what a content rule sees.
type Env struct {
	ID               string `expr:"id" json:"id"`
	Kind             string `expr:"kind" json:"kind"`
	TargetID         string `expr:"target_id" json:"target_id,omitempty"`
	ParentID         string `expr:"parent_id" json:"parent_id,omitempty"`
	AuthorID         string `expr:"author_id" json:"author_id"`
	IP               string `expr:"ip" json:"ip,omitempty"`
	IPPrefix         string `expr:"ip_prefix" json:"ip_prefix,omitempty"`
	DeviceID         string `expr:"device_id" json:"device_id,omitempty"`
	Language         string `expr:"language" json:"language,omitempty"`
	Rating           int    `expr:"rating" json:"rating,omitempty"`
	VerifiedPurchase bool   `expr:"verified_purchase" json:"verified_purchase,omitempty"`
	// AccountAgeHours is the author's account age at posting, -1 when
	// the shop did not say.
	AccountAgeHours float64 `expr:"account_age_hours" json:"account_age_hours"`
	// Words counts the words of title and text.
	Words int `expr:"words" json:"words"`

	// Scores are the four verdicts, 0-100 each.
	Scores *Scores `expr:"scores" json:"scores"`
	// Signals count the findings by kind.
	Signals *Signals `expr:"signals" json:"signals"`
	// TextModels are the text models' probabilities as 0-100.
	TextModels *TextModels `expr:"text_models" json:"text_models"`
	// Shadow holds the shadow models' probabilities (recorded, not used).
	Shadow   *TextModels `expr:"shadow" json:"shadow,omitempty"`
	Features *Features   `expr:"features" json:"features"`
	Model    *ModelEnv   `expr:"model" json:"model"`
}

// Scores are a post's four verdicts, each 0-100.
type Scores struct {
	// Spam: advertising, contact harvesting, off-platform deals.
	Spam float64 `expr:"spam" json:"spam"`
	// Links: the worst phishing score of the post's links.
	Links float64 `expr:"links" json:"links"`
	// FakeReview: a review written to order or by a campaign (0 for
	// other kinds).
	FakeReview float64 `expr:"fake_review" json:"fake_review"`
	// Abuse: insults, profanity, threats.
	Abuse float64 `expr:"abuse" json:"abuse"`
}

// Signals count a post's findings by kind.
type Signals struct {
	Links              int `expr:"links" json:"links,omitempty"`
	PhishingLinks      int `expr:"phishing_links" json:"phishing_links,omitempty"`
	SuspiciousLinks    int `expr:"suspicious_links" json:"suspicious_links,omitempty"`
	Phones             int `expr:"phones" json:"phones,omitempty"`
	Emails             int `expr:"emails" json:"emails,omitempty"`
	Messengers         int `expr:"messengers" json:"messengers,omitempty"`
	Contacts           int `expr:"contacts" json:"contacts,omitempty"`
	OffPlatformPayment int `expr:"offplatform_payment" json:"offplatform_payment,omitempty"`
	Insults            int `expr:"insults" json:"insults,omitempty"`
	Profanity          int `expr:"profanity" json:"profanity,omitempty"`
	Threats            int `expr:"threats" json:"threats,omitempty"`
	Hidden             int `expr:"hidden" json:"hidden,omitempty"`
	MixedScript        int `expr:"mixed_script" json:"mixed_script,omitempty"`
	Shouting           int `expr:"shouting" json:"shouting,omitempty"`
	SpamPhrases        int `expr:"spam_phrases" json:"spam_phrases,omitempty"`
}

// TextModels are the text models' probabilities as 0-100 (0 without a
// model) and their versions.
type TextModels struct {
	Spam        float64 `expr:"spam" json:"spam,omitempty"`
	FakeReview  float64 `expr:"fake_review" json:"fake_review,omitempty"`
	Abuse       float64 `expr:"abuse" json:"abuse,omitempty"`
	SpamVersion string  `expr:"spam_version" json:"spam_version,omitempty"`
	FakeVersion string  `expr:"fake_review_version" json:"fake_review_version,omitempty"`
	AbuseVer    string  `expr:"abuse_version" json:"abuse_version,omitempty"`
}

// Task returns task t's probability as 0-100 and the model's version
// ("" when no model of t scored the post).
func (m *TextModels) Task(t Task) (float64, string) {
	switch t {
	case TaskSpam:
		return m.Spam, m.SpamVersion
	case TaskFakeReview:
		return m.FakeReview, m.FakeVersion
	case TaskAbuse:
		return m.Abuse, m.AbuseVer
	}
	return 0, ""
}

// Features is the history of the post's author, origin, target and text.
type Features struct {
	Author   *AuthorFeatures `expr:"author" json:"author"`
	IP       *Crowd          `expr:"ip" json:"ip"`
	IPPrefix *Crowd          `expr:"ip_prefix" json:"ip_prefix"`
	Device   *Crowd          `expr:"device" json:"device"`
	Target   *TargetFeatures `expr:"target" json:"target"`
	// TargetRating counts the target's posts with this post's rating.
	TargetRating *Crowd `expr:"target_rating" json:"target_rating"`
	// Campaign is the largest group of near-duplicates of this post.
	Campaign *Campaign `expr:"campaign" json:"campaign"`
}

// AuthorFeatures counts the author's posts (this one included).
type AuthorFeatures struct {
	Posts1h    int64 `expr:"posts_1h" json:"posts_1h"`
	Posts24h   int64 `expr:"posts_24h" json:"posts_24h"`
	Posts7d    int64 `expr:"posts_7d" json:"posts_7d"`
	Targets1h  int64 `expr:"targets_1h" json:"targets_1h"`
	Targets24h int64 `expr:"targets_24h" json:"targets_24h"`
	// FirstPostHours is how long ago the author first posted (0 now).
	FirstPostHours float64 `expr:"first_post_hours" json:"first_post_hours"`
}

// Crowd counts posts from one origin and their distinct authors.
type Crowd struct {
	Posts1h    int64 `expr:"posts_1h" json:"posts_1h,omitempty"`
	Posts24h   int64 `expr:"posts_24h" json:"posts_24h,omitempty"`
	Authors1h  int64 `expr:"authors_1h" json:"authors_1h,omitempty"`
	Authors24h int64 `expr:"authors_24h" json:"authors_24h,omitempty"`
}

// TargetFeatures counts a product's posts and ratings.
type TargetFeatures struct {
	Crowd
	Posts7d  int64 `expr:"posts_7d" json:"posts_7d,omitempty"`
	Posts30d int64 `expr:"posts_30d" json:"posts_30d,omitempty"`
}

// Campaign describes the largest group of earlier posts sharing a
// near-duplicate band with this one.
type Campaign struct {
	// Authors24h and Posts24h are the group's distinct authors and posts
	// in 24 h, this post included (1 when it has no near-duplicate).
	Authors24h int64 `expr:"authors_24h" json:"authors_24h,omitempty"`
	Posts24h   int64 `expr:"posts_24h" json:"posts_24h,omitempty"`
	Authors7d  int64 `expr:"authors_7d" json:"authors_7d,omitempty"`
	// Bands is how many of the post's bands were seen before (0 to
	// NumBands: the more, the closer the copy).
	Bands int `expr:"bands" json:"bands,omitempty"`
}

// ModelEnv is the engine's model score of the post, if a model is set.
type ModelEnv struct {
	Score   float64 `expr:"score" json:"score"`
	Version string  `expr:"version" json:"version,omitempty"`
}

// NewEnv returns an empty environment with every part allocated.
func NewEnv() *Env {
	// One allocation for the environment and all its parts.
	p := new(struct {
		env                               Env
		scores                            Scores
		signals                           Signals
		textModels                        TextModels
		model                             ModelEnv
		features                          Features
		author                            AuthorFeatures
		ip, prefix, device, targetRatings Crowd
		target                            TargetFeatures
		campaign                          Campaign
	})
	p.features = Features{Author: &p.author, IP: &p.ip, IPPrefix: &p.prefix, Device: &p.device,
		Target: &p.target, TargetRating: &p.targetRatings, Campaign: &p.campaign}
	p.env = Env{Scores: &p.scores, Signals: &p.signals, TextModels: &p.textModels, Model: &p.model, Features: &p.features}
	return &p.env
}

// SetModel records the engine model's score for the rules.
func (env *Env) SetModel(score float64, version string) {
	*env.Model = ModelEnv{Score: score, Version: version}
}

// Env builds the post's rule environment from its analysis (Analyze must
// have run) and the feature aggregates of Observations.
func (p *Post) Env(aggs, _ []features.Aggregates) any {
	env := NewEnv()
	env.ID, env.Kind, env.TargetID, env.ParentID, env.AuthorID = p.ID, p.PostKind, p.TargetID, p.ParentID, p.Author.UserID
	env.IP, env.IPPrefix, env.DeviceID, env.Language = p.Author.IP, risk.IPPrefix(p.ip), p.Author.DeviceID, p.Language
	env.Rating, env.VerifiedPurchase = p.Rating, p.Author.VerifiedPurchase
	env.AccountAgeHours = -1
	if !p.createdAt.IsZero() {
		env.AccountAgeHours = math.Max(0, p.at.Sub(p.createdAt).Hours())
	}
	an := p.analysis
	if an == nil {
		an = &Analysis{}
	}
	env.Words = an.Words
	countSignals(an, env.Signals)
	tm := func(ms [NumTasks]ModelScore) *TextModels {
		return &TextModels{Spam: 100 * ms[TaskSpam].Probability, FakeReview: 100 * ms[TaskFakeReview].Probability, Abuse: 100 * ms[TaskAbuse].Probability,
			SpamVersion: ms[TaskSpam].Version, FakeVersion: ms[TaskFakeReview].Version, AbuseVer: ms[TaskAbuse].Version}
	}
	*env.TextModels = *tm(an.Model)
	if an.Shadow != [NumTasks]ModelScore{} {
		env.Shadow = tm(an.Shadow)
	}
	p.fillFeatures(aggs, env.Features)
	scoreEnv(env, an)
	p.env = env
	return env
}

// Assessed returns the environment the post's last assessment built
// (nil before Env): its scores and signals for the answer.
func (p *Post) Assessed() *Env { return p.env }

// Analysis returns the post's analysis (nil before Analyze).
func (p *Post) Analysis() *Analysis { return p.analysis }

// countSignals counts the findings by kind.
func countSignals(an *Analysis, s *Signals) {
	for _, f := range an.Findings {
		switch f.Code {
		case CodeLink:
			s.Links++
		case CodeLinkPhishing:
			s.PhishingLinks++
		case CodeLinkSuspicious:
			s.SuspiciousLinks++
		case CodeContactPhone:
			s.Phones++
		case CodeContactEmail:
			s.Emails++
		case CodeContactMessenger:
			s.Messengers++
		case CodeOffPlatformPayment:
			s.OffPlatformPayment++
		case CodeAbuseInsult:
			s.Insults++
		case CodeAbuseProfanity:
			s.Profanity++
		case CodeAbuseThreat:
			s.Threats++
		case CodeHiddenZeroWidth, CodeHiddenBidi:
			s.Hidden++
		case CodeMixedScript:
			s.MixedScript++
		case CodeShouting:
			s.Shouting++
		case CodeSpamPhrase:
			s.SpamPhrases++
		}
	}
	s.Links = max(s.Links, an.LinksFound)
	s.Contacts = s.Phones + s.Emails + s.Messengers
}

// fillFeatures copies the aggregates of Observations into f.
func (p *Post) fillFeatures(aggs []features.Aggregates, f *Features) {
	i := 0
	for slot, k := range p.keys("") {
		if k.Value == "" {
			continue
		}
		if i >= len(aggs) {
			return
		}
		a := &aggs[i]
		i++
		crowd := Crowd{Posts1h: a.Count[features.W1h], Posts24h: a.Count[features.W24h],
			Authors1h: a.Distinct[0][features.W1h], Authors24h: a.Distinct[0][features.W24h]}
		switch slot {
		case slotAuthor:
			*f.Author = AuthorFeatures{Posts1h: a.Count[features.W1h], Posts24h: a.Count[features.W24h], Posts7d: a.Count[features.W7d],
				Targets1h: a.Distinct[0][features.W1h], Targets24h: a.Distinct[0][features.W24h]}
			if !a.FirstSeen.IsZero() {
				f.Author.FirstPostHours = math.Max(0, p.at.Sub(a.FirstSeen).Hours())
			}
		case slotIP:
			*f.IP = crowd
		case slotIPPrefix:
			*f.IPPrefix = crowd
		case slotDevice:
			*f.Device = crowd
		case slotTarget:
			*f.Target = TargetFeatures{Crowd: crowd, Posts7d: a.Count[features.W7d], Posts30d: a.Count[features.W30d]}
		case slotTargetRating:
			*f.TargetRating = crowd
		}
	}
	for j := i; j < len(aggs); j++ {
		a := &aggs[j]
		if a.Count[features.W24h] > 1 || a.Count[features.W7d] > 1 {
			f.Campaign.Bands++
		}
		if a.Distinct[0][features.W24h] > f.Campaign.Authors24h {
			f.Campaign.Authors24h = a.Distinct[0][features.W24h]
		}
		f.Campaign.Posts24h = max(f.Campaign.Posts24h, a.Count[features.W24h])
		f.Campaign.Authors7d = max(f.Campaign.Authors7d, a.Distinct[0][features.W7d])
	}
}

// noisyOr combines independent pieces of evidence given as
// probabilities: 1 - Π(1 - p).
type noisyOr float64

func (n *noisyOr) add(p float64, times int) {
	q := 1 - float64(*n)
	for range min(times, 4) {
		q *= 1 - p
	}
	*n = noisyOr(1 - q)
}

func (n noisyOr) score() float64 { return math.Round(1000*float64(n)) / 10 }

// Evidence weights: the probability one piece of evidence alone gives.
const (
	evSpamPhrase   = 0.3
	evContact      = 0.45
	evOffPlatform  = 0.7
	evShouting     = 0.15
	evHidden       = 0.4
	evMixedScript  = 0.35
	evInsult       = 0.6
	evProfanity    = 0.3
	evThreat       = 0.9
	evModelShare   = 0.6 // a text model alone gives at most this
	evCampaign     = 0.5 // per author beyond the first, of near-duplicates
	evSockpuppets  = 0.35
	evNewUnbought  = 0.25
	evReviewSpree  = 0.5
	evRatingBurst  = 0.3
	campaignAuthor = 2 // authors of near-duplicates before they count
)

// scoreEnv sets env's four scores from its signals, text models and
// features.
func scoreEnv(env *Env, an *Analysis) {
	s := env.Signals
	var spam noisyOr
	spam.add(env.TextModels.Spam/100*evModelShare, 1)
	spam.add(evSpamPhrase, s.SpamPhrases)
	spam.add(evContact, s.Contacts)
	spam.add(evOffPlatform, s.OffPlatformPayment)
	spam.add(evShouting, s.Shouting)
	spam.add(evHidden, s.Hidden)
	spam.add(evMixedScript, s.MixedScript)
	env.Scores.Spam = spam.score()

	for _, l := range an.Links {
		env.Scores.Links = math.Max(env.Scores.Links, float64(min(max(l.Score, 0), 100)))
	}

	var abuse noisyOr
	abuse.add(env.TextModels.Abuse/100*evModelShare, 1)
	abuse.add(evInsult, s.Insults)
	abuse.add(evProfanity, s.Profanity)
	abuse.add(evThreat, s.Threats)
	env.Scores.Abuse = abuse.score()

	if env.Kind != KindReview {
		return
	}
	f := env.Features
	var fake noisyOr
	fake.add(env.TextModels.FakeReview/100*evModelShare, 1)
	if extra := f.Campaign.Authors24h - campaignAuthor + 1; extra > 0 {
		fake.add(evCampaign, int(extra))
	}
	if f.Device.Authors24h >= 3 {
		fake.add(evSockpuppets, int(f.Device.Authors24h-2))
	}
	if !env.VerifiedPurchase && env.AccountAgeHours >= 0 && env.AccountAgeHours < 24 {
		fake.add(evNewUnbought, 1)
	}
	if f.Author.Targets24h >= 10 {
		fake.add(evReviewSpree, 1)
	}
	if f.TargetRating.Posts1h >= 10 && 2*f.TargetRating.Posts1h > f.Target.Posts24h {
		fake.add(evRatingBurst, 1)
	}
	env.Scores.FakeReview = fake.score()
}

// ruleFindings maps the default rules to the finding codes whose spans
// explain them.
var ruleFindings = map[string][]string{
	"content_phishing_link":       {CodeLinkPhishing},
	"content_suspicious_link":     {CodeLinkSuspicious},
	"content_spam":                {CodeSpamPhrase, CodeContactPhone, CodeContactEmail, CodeContactMessenger, CodeOffPlatformPayment, CodeShouting, CodeHiddenZeroWidth, CodeHiddenBidi, CodeMixedScript},
	"content_spam_certain":        {CodeSpamPhrase, CodeContactPhone, CodeContactEmail, CodeContactMessenger, CodeOffPlatformPayment, CodeShouting, CodeHiddenZeroWidth, CodeHiddenBidi, CodeMixedScript},
	"content_contact_details":     {CodeContactPhone, CodeContactEmail, CodeContactMessenger},
	"content_offplatform_payment": {CodeOffPlatformPayment},
	"content_threat":              {CodeAbuseThreat},
	"content_abuse":               {CodeAbuseInsult, CodeAbuseProfanity, CodeAbuseThreat},
	"content_hidden_characters":   {CodeHiddenZeroWidth, CodeHiddenBidi, CodeMixedScript},
}

// RuleFindings returns the finding codes whose spans explain a reason of
// a decision, by its code ("rule:content_spam"); nil for reasons that do
// not point at text.
func RuleFindings(reasonCode string) []string {
	return ruleFindings[strings.TrimPrefix(reasonCode, "rule:")]
}
