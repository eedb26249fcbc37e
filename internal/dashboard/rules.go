package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

type rulesView struct {
	Set  engine.RuleSet
	Done string
}

func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request, sess *session) {
	set, err := s.eng.Rules(r.Context(), sess.user.Tenant)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Error("dashboard: rules", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The rules could not be loaded.")
		return
	}
	s.render(w, http.StatusOK, "rules", view{Title: "Rules", Nav: "rules", User: &sess.user, CSRF: sess.csrf,
		Data: rulesView{Set: set, Done: r.URL.Query().Get("done")}})
}

// ruleFormView is the rule editor: the draft, its problems and, after a
// backtest, the report.
type ruleFormView struct {
	Original string // the name being edited ("" for a new rule)
	Rule     rules.Rule
	Outcome  string // "block", "review", ... or "score"
	Period   string
	Kinds    []risk.EventKind
	Problems []rules.CompileError
	Checked  bool
	Report   *engine.BacktestReport
	Examples []storage.Event
}

func (s *Server) ruleForm(w http.ResponseWriter, r *http.Request, sess *session) {
	v := ruleFormView{Rule: rules.Rule{Kind: risk.EventTransaction, Mode: rules.ModeActive}, Outcome: "review",
		Period: "24h", Kinds: s.eng.Kinds()}
	if name := r.PathValue("name"); name != "" {
		set, err := s.eng.Rules(r.Context(), sess.user.Tenant)
		i := slices.IndexFunc(set.Rules, func(x rules.Rule) bool { return x.Name == name })
		if err != nil || i < 0 {
			s.fail(w, r, sess, http.StatusNotFound, "There is no such rule.")
			return
		}
		v.Original, v.Rule = name, set.Rules[i]
		v.Outcome = string(v.Rule.Action)
		if v.Rule.Action == "" {
			v.Outcome = "score"
		}
	}
	s.render(w, http.StatusOK, "rule", view{Title: "Rule", Nav: "rules", User: &sess.user, CSRF: sess.csrf, Data: v})
}

// ruleFromForm reads the editor's fields.
func ruleFromForm(r *http.Request) (rules.Rule, string, map[string]string) {
	f := r.PostForm
	rule := rules.Rule{Name: strings.TrimSpace(f.Get("name")), Kind: risk.EventKind(f.Get("kind")),
		Expression: f.Get("expression"), Description: strings.TrimSpace(f.Get("description")), Mode: rules.Mode(f.Get("mode"))}
	outcome := f.Get("outcome")
	errs := map[string]string{}
	if outcome == "score" {
		n, err := strconv.Atoi(strings.TrimSpace(f.Get("score")))
		if err != nil {
			errs["score"] = "a whole number from -100 to 100"
		}
		rule.Score = n
	} else {
		rule.Action = risk.Action(outcome)
	}
	return rule, outcome, errs
}

func (s *Server) ruleSubmit(w http.ResponseWriter, r *http.Request, sess *session) {
	rule, outcome, errs := ruleFromForm(r)
	v := ruleFormView{Original: r.PostForm.Get("original"), Rule: rule, Outcome: outcome, Period: r.PostForm.Get("period"),
		Kinds: s.eng.Kinds()}
	op := r.PostForm.Get("op")
	ctx := r.Context()
	tenant := sess.user.Tenant
	render := func(status int) {
		s.render(w, status, "rule", view{Title: "Rule", Nav: "rules", User: &sess.user, CSRF: sess.csrf, Data: v, Errors: errs})
	}
	if len(errs) > 0 {
		render(http.StatusBadRequest)
		return
	}
	// Every operation first compiles the draft against the tenant's lists.
	if err := s.eng.ValidateRules(ctx, tenant, []rules.Rule{rule}); err != nil {
		var ce rules.CompileErrors
		if !errors.As(err, &ce) {
			s.log.Error("dashboard: validate rule", "error", err)
			s.fail(w, r, sess, http.StatusServiceUnavailable, "The rule could not be checked.")
			return
		}
		v.Problems = ce
		for _, p := range ce {
			errs[p.Field] = p.Message
		}
		render(http.StatusBadRequest)
		return
	}
	v.Checked = true
	switch op {
	case "check":
		render(http.StatusOK)
	case "backtest":
		period, err := time.ParseDuration(v.Period)
		if err != nil || period <= 0 || period > 90*24*time.Hour {
			errs["period"] = "choose a period"
			render(http.StatusBadRequest)
			return
		}
		now := s.cfg.Now()
		report, err := s.eng.Backtest(ctx, tenant, engine.BacktestRequest{Kind: rule.Kind, From: now.Add(-period), To: now.Add(time.Second),
			Rules: []rules.Rule{withMode(rule, rules.ModeActive)}, Limit: 200_000})
		if err != nil {
			s.log.Error("dashboard: backtest", "error", err)
			s.fail(w, r, sess, http.StatusServiceUnavailable, "The backtest failed: "+err.Error())
			return
		}
		v.Report = &report
		if len(report.Rules) > 0 {
			for _, id := range report.Rules[0].Examples {
				if ev, err := s.eng.Event(ctx, tenant, id); err == nil {
					v.Examples = append(v.Examples, ev)
				}
			}
		}
		s.audit(ctx, sess, "rule.backtest", rule.Name, fmt.Sprintf("%s over %s: %d of %d events matched", rule.Expression, period, matched(report), report.Events))
		render(http.StatusOK)
	case "publish":
		set, err := s.eng.ChangeRules(ctx, tenant, "user:"+sess.user.Name, func(cur []rules.Rule) ([]rules.Rule, error) {
			next := slices.DeleteFunc(slices.Clone(cur), func(x rules.Rule) bool { return x.Name == v.Original && v.Original != "" })
			if i := slices.IndexFunc(next, func(x rules.Rule) bool { return x.Name == rule.Name }); i >= 0 {
				if v.Original != rule.Name {
					return nil, fmt.Errorf("%w: a rule named %s exists", storage.ErrConflict, rule.Name)
				}
				next[i] = rule
				return next, nil
			}
			return append(next, rule), nil
		})
		if errors.Is(err, storage.ErrConflict) {
			errs["name"] = "another rule has this name"
			render(http.StatusConflict)
			return
		}
		if err != nil {
			var ce rules.CompileErrors
			if errors.As(err, &ce) {
				v.Problems = ce
				render(http.StatusBadRequest)
				return
			}
			s.log.Error("dashboard: publish rule", "error", err)
			s.fail(w, r, sess, http.StatusServiceUnavailable, "The rule was not published.")
			return
		}
		s.audit(ctx, sess, "rule.publish", rule.Name, fmt.Sprintf("version %d: %s (%s)", set.Version, rule.Expression, ruleOutcome(rule)))
		http.Redirect(w, r, Prefix+"/rules?done="+urlQueryEscape(fmt.Sprintf("Published %s as version %d.", rule.Name, set.Version)), http.StatusSeeOther)
	default:
		errs["op"] = "unknown operation"
		render(http.StatusBadRequest)
	}
}

func withMode(r rules.Rule, m rules.Mode) rules.Rule {
	r.Mode = m
	return r
}

func matched(rep engine.BacktestReport) int {
	if len(rep.Rules) == 0 {
		return 0
	}
	return rep.Rules[0].MatchedTotal
}

func ruleOutcome(r rules.Rule) string {
	if r.Action != "" {
		return string(r.Action)
	}
	return fmt.Sprintf("%+d points", r.Score)
}

func (s *Server) ruleMode(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	mode := rules.Mode(r.PostForm.Get("mode"))
	if mode != rules.ModeActive && mode != rules.ModeShadow && mode != rules.ModeDisabled {
		s.fail(w, r, sess, http.StatusBadRequest, "Choose active, shadow or disabled.")
		return
	}
	set, err := s.eng.ChangeRules(r.Context(), sess.user.Tenant, "user:"+sess.user.Name, func(cur []rules.Rule) ([]rules.Rule, error) {
		next := slices.Clone(cur)
		i := slices.IndexFunc(next, func(x rules.Rule) bool { return x.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: rule %s", storage.ErrNotFound, name)
		}
		next[i].Mode = mode
		return next, nil
	})
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The rule was not changed: "+err.Error())
		return
	}
	s.audit(r.Context(), sess, "rule.mode", name, fmt.Sprintf("version %d: mode %s", set.Version, mode))
	http.Redirect(w, r, Prefix+"/rules?done="+urlQueryEscape(fmt.Sprintf("%s is now %s (version %d).", name, mode, set.Version)), http.StatusSeeOther)
}

func (s *Server) ruleDelete(w http.ResponseWriter, r *http.Request, sess *session) {
	name := r.PathValue("name")
	set, err := s.eng.ChangeRules(r.Context(), sess.user.Tenant, "user:"+sess.user.Name, func(cur []rules.Rule) ([]rules.Rule, error) {
		next := slices.DeleteFunc(slices.Clone(cur), func(x rules.Rule) bool { return x.Name == name })
		if len(next) == len(cur) {
			return nil, fmt.Errorf("%w: rule %s", storage.ErrNotFound, name)
		}
		return next, nil
	})
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The rule was not deleted: "+err.Error())
		return
	}
	s.audit(r.Context(), sess, "rule.delete", name, fmt.Sprintf("version %d", set.Version))
	http.Redirect(w, r, Prefix+"/rules?done="+urlQueryEscape(fmt.Sprintf("Deleted %s (version %d).", name, set.Version)), http.StatusSeeOther)
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, storage.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, risk.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusServiceUnavailable
}

type versionsView struct {
	Versions []engine.RuleSet
	Current  engine.RuleSet
	Previous *engine.RuleSet
}

func (s *Server) ruleVersions(w http.ResponseWriter, r *http.Request, sess *session) {
	cur, err := s.eng.Rules(r.Context(), sess.user.Tenant)
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "The rules could not be loaded.")
		return
	}
	v := versionsView{Current: cur}
	for n := cur.Version; n >= 1 && n > cur.Version-100; n-- {
		rs, err := s.eng.RuleSetVersion(r.Context(), sess.user.Tenant, n)
		if err != nil {
			break
		}
		v.Versions = append(v.Versions, rs)
	}
	s.render(w, http.StatusOK, "versions", view{Title: "Rule versions", Nav: "rules", User: &sess.user, CSRF: sess.csrf, Data: v})
}

func (s *Server) ruleVersion(w http.ResponseWriter, r *http.Request, sess *session) {
	n, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || n < 1 {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such version.")
		return
	}
	rs, err := s.eng.RuleSetVersion(r.Context(), sess.user.Tenant, n)
	if err != nil {
		s.fail(w, r, sess, statusOf(err), "There is no such version.")
		return
	}
	v := versionsView{Current: rs}
	if prev, err := s.eng.RuleSetVersion(r.Context(), sess.user.Tenant, n-1); err == nil {
		v.Previous = &prev
	}
	s.render(w, http.StatusOK, "version", view{Title: fmt.Sprintf("Rules, version %d", n), Nav: "rules", User: &sess.user, CSRF: sess.csrf, Data: v})
}
