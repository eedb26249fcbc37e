package dashboard

import (
	"cmp"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// overviewView is the overview page and its live fragment.
type overviewView struct {
	Window    string
	Chart     template.HTML
	Totals    map[string]int64 // by action
	Decisions int64
	Money     []moneyRow
	Attacks   []attack
	Risky     []riskyGroup
	Queue     int
	Updated   time.Time
}

// moneyRow is the money reviewed and blocked in one currency.
type moneyRow struct {
	Currency                   string
	Reviewed, Blocked, Allowed int64
}

// attack is a spike of stopped decisions sharing a signature: the reason
// that drove them.
type attack struct {
	Signature string
	Message   string
	Count     int
	Actors    int // distinct IPs and devices
	Amount    map[string]int64
	LastSeen  time.Time
	Example   string
	Active    bool
}

// riskyGroup is the riskiest entities of one kind.
type riskyGroup struct {
	Kind     string
	Entities []riskyEntity
}

type riskyEntity struct {
	Value    string
	Count    int
	MaxScore int
}

const (
	overviewWindow = time.Hour
	attackWindow   = 15 * time.Minute
	attackMin      = 5 // stopped decisions of one signature in attackWindow that make an attack
)

func (s *Server) overview(w http.ResponseWriter, r *http.Request, sess *session) {
	v, err := s.overviewData(r, sess)
	if err != nil {
		s.log.Error("dashboard: overview", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The overview could not be loaded.")
		return
	}
	s.render(w, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", User: &sess.user, CSRF: sess.csrf, Data: v})
}

// live serves the overview's refreshing part (the page's script swaps it in).
func (s *Server) live(w http.ResponseWriter, r *http.Request, sess *session) {
	v, err := s.overviewData(r, sess)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.pages["live"].ExecuteTemplate(w, "livefragment", view{User: &sess.user, Data: v}); err != nil {
		s.log.Error("dashboard: render live", "error", err)
	}
}

func (s *Server) overviewData(r *http.Request, sess *session) (overviewView, error) {
	ctx := r.Context()
	now := s.cfg.Now().UTC()
	tenant := sess.user.Tenant
	from := now.Add(-overviewWindow).Truncate(time.Minute)
	stats, err := s.store.MinuteStats(ctx, tenant, from, now.Add(time.Minute))
	if err != nil {
		return overviewView{}, err
	}
	v := overviewView{Window: "last 60 minutes", Totals: map[string]int64{}, Updated: now}
	bars := make([]minuteBar, 0, 61)
	for m := from; !m.After(now); m = m.Add(time.Minute) {
		bars = append(bars, minuteBar{Minute: m, Counts: map[risk.Action]int64{}})
	}
	money := map[string]*moneyRow{}
	for _, st := range stats {
		i := int(st.Minute.Sub(from) / time.Minute)
		if i >= 0 && i < len(bars) {
			bars[i].Counts[st.Action] += st.Count
		}
		v.Totals[string(st.Action)] += st.Count
		v.Decisions += st.Count
		if st.Currency == "" {
			continue
		}
		m := money[st.Currency]
		if m == nil {
			m = &moneyRow{Currency: st.Currency}
			money[st.Currency] = m
		}
		switch st.Action {
		case risk.ActionReview, risk.ActionChallenge:
			m.Reviewed += st.AmountMinor
		case risk.ActionBlock:
			m.Blocked += st.AmountMinor
		default:
			m.Allowed += st.AmountMinor
		}
	}
	for _, m := range money {
		v.Money = append(v.Money, *m)
	}
	slices.SortFunc(v.Money, func(a, b moneyRow) int { return cmp.Compare(b.Blocked+b.Reviewed, a.Blocked+a.Reviewed) })
	v.Chart = stackedBars(bars, "Decisions per minute by action, last 60 minutes")

	stopped, err := s.store.SearchEvents(ctx, storage.EventSearch{Tenant: tenant,
		Actions: []risk.Action{risk.ActionReview, risk.ActionChallenge, risk.ActionBlock},
		Limit:   1000, ScanLimit: 50_000})
	if err != nil {
		return v, err
	}
	v.Attacks = attacks(stopped, now)
	v.Risky = riskiest(stopped)
	queue, err := s.store.SearchEvents(ctx, storage.EventSearch{Tenant: tenant, Actions: []risk.Action{risk.ActionReview},
		Unlabelled: true, Limit: 1000, ScanLimit: s.cfg.ScanLimit})
	if err != nil {
		return v, err
	}
	v.Queue = len(queue)
	return v, nil
}

// signature is the reason that drove a decision: the first reason that
// demanded the action, else the heaviest.
func signature(a risk.Assessment) (string, string) {
	var best *risk.Reason
	for i := range a.Reasons {
		r := &a.Reasons[i]
		if r.Action == a.Action {
			return r.Code, r.Message
		}
		if best == nil || r.Weight > best.Weight {
			best = r
		}
	}
	if best == nil {
		return "score", "score over the threshold"
	}
	return best.Code, best.Message
}

// attacks groups the recent stopped decisions by signature.
func attacks(evs []storage.Event, now time.Time) []attack {
	by := map[string]*attack{}
	actors := map[string]map[string]bool{}
	for _, e := range evs {
		if now.Sub(e.ReceivedAt) > attackWindow {
			continue
		}
		sig, msg := signature(e.Assessment)
		a := by[sig]
		if a == nil {
			a = &attack{Signature: sig, Message: msg, Amount: map[string]int64{}, Example: e.ID}
			by[sig] = a
			actors[sig] = map[string]bool{}
		}
		a.Count++
		if e.Currency != "" {
			a.Amount[e.Currency] += e.AmountMinor
		}
		if e.ReceivedAt.After(a.LastSeen) {
			a.LastSeen, a.Example = e.ReceivedAt, e.ID
		}
		for _, en := range entitiesOf(e.Payload) {
			if en.Kind == "ip" || en.Kind == "device" {
				actors[sig][en.Kind+":"+en.Value] = true
			}
		}
	}
	out := make([]attack, 0, len(by))
	for sig, a := range by {
		a.Actors = len(actors[sig])
		a.Active = a.Count >= attackMin
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b attack) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// riskiest ranks the entities of stopped decisions by how often they appear.
func riskiest(evs []storage.Event) []riskyGroup {
	counts := map[string]map[string]*riskyEntity{}
	for _, e := range evs {
		for _, en := range entitiesOf(e.Payload) {
			if counts[en.Kind] == nil {
				counts[en.Kind] = map[string]*riskyEntity{}
			}
			re := counts[en.Kind][en.Value]
			if re == nil {
				re = &riskyEntity{Value: en.Value}
				counts[en.Kind][en.Value] = re
			}
			re.Count++
			re.MaxScore = max(re.MaxScore, e.Assessment.Score)
		}
	}
	var out []riskyGroup
	for _, k := range []string{"ip", "device", "card", "user", "email"} {
		g := riskyGroup{Kind: k}
		for _, re := range counts[k] {
			g.Entities = append(g.Entities, *re)
		}
		slices.SortFunc(g.Entities, func(a, b riskyEntity) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.MaxScore, a.MaxScore), cmp.Compare(a.Value, b.Value))
		})
		if len(g.Entities) > 5 {
			g.Entities = g.Entities[:5]
		}
		if len(g.Entities) > 0 {
			out = append(out, g)
		}
	}
	return out
}
