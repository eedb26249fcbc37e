package phishing

import (
	"fmt"
	"math"
	"strings"
	"sync/atomic"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Checker judges links with everything shopguard knows: the lexical
// rules and lookalike checks of Check, the learned URL model when one is
// loaded, and the known-bad and allow lists. It is safe for concurrent
// use; the model can be swapped while it serves.
type Checker struct {
	model    atomic.Pointer[URLModel]
	messages atomic.Pointer[MessageModel]
	list     *URLList
}

// NewChecker returns a checker that consults list (nil: no lists).
func NewChecker(list *URLList) *Checker { return &Checker{list: list} }

// SetModel makes m the learned URL model (nil: none).
func (c *Checker) SetModel(m *URLModel) { c.model.Store(m) }

// Model returns the learned URL model, or nil.
func (c *Checker) Model() *URLModel { return c.model.Load() }

// Weights of the model's and the lists' reasons.
const (
	// modelWeightMax is the weight of a certain model: alone it makes a
	// link phishing; at probability 0.75 it makes it suspicious.
	modelWeightMax = 70
	// modelOrdinary is the probability under which the model vouches for
	// a link, with weight modelOrdinaryWeight.
	modelOrdinary       = 0.1
	modelOrdinaryWeight = -10
	listedWeight        = 100
	allowedWeight       = -60
)

// Check judges raw for tenant against the protected domains, as the
// package's Check does, and adds what the lists and the model say. A
// text that is not a URL is a field error.
func (c *Checker) Check(tenant, raw string, protected []string) (Result, error) {
	u, err := Parse(raw)
	if err != nil {
		return Result{}, risk.Invalid("url", "is not a link shopguard can check: %s", strings.TrimPrefix(err.Error(), ErrNotURL.Error()+": "))
	}
	return c.check(tenant, u, parseBrands(protected)), nil
}

// CheckURL judges a parsed link for tenant against parsed protected
// domains (see ParseProtected): for callers that check many links.
func (c *Checker) CheckURL(tenant string, u URL, protected Protected) Result {
	return c.check(tenant, u, protected.brands)
}

// Protected are protected domains parsed once for many checks.
type Protected struct{ brands []URL }

// ParseProtected parses protected domains (names that do not parse are
// left out).
func ParseProtected(domains []string) Protected { return Protected{brands: parseBrands(domains)} }

func (c *Checker) check(tenant string, u URL, brands []URL) Result {
	res := Result{URL: u.Raw, Canonical: u.Canonical, Host: u.Host, UnicodeHost: u.UnicodeHost, RegisteredDomain: u.RegisteredDomain,
		Features: Extract(u), Reasons: []Reason{}}
	add := func(code string, weight int, format string, args ...any) {
		res.Reasons = append(res.Reasons, Reason{Code: code, Weight: weight, Message: fmt.Sprintf(format, args...)})
	}
	m := c.Model()
	c.judgeAll(tenant, u, res.Features, brands, m, add, &res.Lookalike)
	for _, t := range u.Targets(maxTargets) {
		res.Targets = append(res.Targets, t.Canonical)
	}
	if n := len(res.Targets); n > 0 {
		last, _ := Parse(res.Targets[n-1])
		add("redirects", 15, "the link forwards to %s", displayHost(last))
		c.judgeAll(tenant, last, Extract(last), brands, m, func(code string, weight int, format string, args ...any) {
			add("target_"+code, weight, "where it leads: "+format, args...)
		}, &res.Lookalike)
	}
	if m != nil {
		res.ModelVersion = m.Version()
	}
	score(&res)
	return res
}

// judgeAll adds the reasons of one link: lists, rules, model.
func (c *Checker) judgeAll(tenant string, u URL, f Features, brands []URL, m *URLModel, add func(code string, weight int, format string, args ...any), look **Lookalike) {
	if c.list != nil {
		if match, ok := c.list.Lookup(tenant, u); ok {
			if match.Effect == storage.URLListAllow {
				add("allowed", allowedWeight, "the shop allows %s (its allow list)", match.Expression)
				return
			}
			add("listed", listedWeight, "%s is on the known-bad list %q", match.Expression, match.Source)
		}
	}
	judge(u, f, brands, add, look)
	if m == nil || u.Host == "" {
		return
	}
	for _, b := range brands {
		if b.RegisteredDomain == u.RegisteredDomain {
			return // the shop's own domain: the model judges strangers
		}
	}
	p := m.Score(u)
	switch {
	case p >= 0.5:
		_, top := m.Explain(u, 3)
		names := make([]string, len(top))
		for i, t := range top {
			names[i] = strings.ReplaceAll(t.Feature, "_", " ")
		}
		add("learned_model", int(math.Round(modelWeightMax*(p-0.5)/0.5)),
			"the learned URL model gives %.0f %% that it is phishing (weighing most: %s)", 100*p, strings.Join(names, ", "))
	case p < modelOrdinary:
		add("learned_model", modelOrdinaryWeight, "the learned URL model finds it like ordinary links (%.0f %% phishing)", 100*p)
	}
}

// score sums the reasons into the score and verdict.
func score(res *Result) {
	res.Score = total(res.Reasons)
	res.Verdict = verdictOf(res.Score)
}

// total is the sum of the reasons' weights, kept between 0 and 100.
func total(rs []Reason) int {
	n := 0
	for _, r := range rs {
		n += r.Weight
	}
	return max(0, min(100, n))
}
