package gateway

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Decision is one thing the gateway did instead of passing a request to
// the shop as it came: a refusal, a challenge, a block, a request shed at
// the concurrency limit. The decision log (Config.DecisionLog) holds one
// JSON object per line, and the admin endpoint GET /status lists the
// clients with the most.
type Decision struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Route  string    `json:"route,omitempty"`
	// Action is refused (a limit, a size), challenged, blocked (the risk
	// API) or shed (the concurrency limit).
	Action string `json:"action"`
	Status int    `json:"status"`
	// Reason names the limit, challenge or signal behind it.
	Reason string `json:"reason"`
	// BotScore is the client's bot score (absent without one).
	BotScore *int `json:"bot_score,omitempty"`
	// Mismatch says how the client's user agent and fingerprints or
	// headers disagree, if they do.
	Mismatch string `json:"mismatch,omitempty"`
}

// Actions of a Decision.
const (
	ActionRefused    = "refused"
	ActionChallenged = "challenged"
	ActionBlocked    = "blocked"
	ActionShed       = "shed"
)

// maxPathInLog bounds the path a decision records (the client chose it).
const maxPathInLog = 256

// decisionLog writes decisions as JSON lines and keeps the clients with
// the most.
type decisionLog struct {
	mu  sync.Mutex
	w   *bufio.Writer // nil without a log
	err error         // the first write error; later writes are skipped
	top offenders
}

// newDecisionLog returns a log writing to w (nil: none, only counted).
func newDecisionLog(w io.Writer) *decisionLog {
	l := &decisionLog{top: offenders{byClient: make(map[string]*Offender)}}
	if w != nil {
		l.w = bufio.NewWriterSize(w, 64<<10)
	}
	return l
}

// record logs d and counts it against its client.
func (l *decisionLog) record(d Decision) {
	if len(d.Path) > maxPathInLog {
		d.Path = d.Path[:maxPathInLog]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.top.add(d)
	if l.w == nil || l.err != nil {
		return
	}
	b, _ := json.Marshal(d) // a Decision always encodes
	b = append(b, '\n')
	if _, err := l.w.Write(b); err != nil {
		l.err = err
	}
}

// flush writes what is buffered; it returns the first write error.
func (l *decisionLog) flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil && l.err == nil {
		l.err = l.w.Flush()
	}
	return l.err
}

// Offender is a client the gateway refused, challenged or shed, with how
// often and why.
type Offender struct {
	Client   string         `json:"client"`
	Count    int            `json:"count"`
	Reasons  map[string]int `json:"reasons"`
	Last     time.Time      `json:"last"`
	BotScore *int           `json:"bot_score,omitempty"`
	Mismatch string         `json:"mismatch,omitempty"`
}

// maxOffenders bounds the clients counted; maxReasons the reasons kept per
// client.
const (
	maxOffenders = 1024
	maxReasons   = 8
)

// offenders counts decisions per client in bounded memory: when full, the
// least counted of a sample of clients makes room (heavy hitters stay).
type offenders struct {
	byClient map[string]*Offender
}

func (o *offenders) add(d Decision) {
	off := o.byClient[d.Client]
	if off == nil {
		if len(o.byClient) >= maxOffenders {
			var victim string
			least, seen := int(^uint(0)>>1), 0
			for k, v := range o.byClient {
				if v.Count < least {
					victim, least = k, v.Count
				}
				if seen++; seen == 16 {
					break
				}
			}
			delete(o.byClient, victim)
		}
		off = &Offender{Client: d.Client, Reasons: map[string]int{}}
		o.byClient[d.Client] = off
	}
	off.Count++
	off.Last = d.Time
	reason := d.Action + ": " + d.Reason
	if _, ok := off.Reasons[reason]; ok || len(off.Reasons) < maxReasons {
		off.Reasons[reason]++
	}
	if d.BotScore != nil {
		off.BotScore = d.BotScore
	}
	if d.Mismatch != "" {
		off.Mismatch = d.Mismatch
	}
}

// topOffenders returns copies of the n clients with the most decisions.
func (l *decisionLog) topOffenders(n int) []Offender {
	l.mu.Lock()
	defer l.mu.Unlock()
	all := make([]Offender, 0, len(l.top.byClient))
	for _, o := range l.top.byClient {
		c := *o
		c.Reasons = make(map[string]int, len(o.Reasons))
		for k, v := range o.Reasons {
			c.Reasons[k] = v
		}
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b Offender) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return a.Last.Compare(b.Last)
	})
	return all[:min(n, len(all))]
}

// decided records what the gateway did with r instead of passing it.
func (g *Gateway) decided(r *http.Request, st *requestState, route, action string, status int, reason string) {
	d := Decision{Time: time.Now().UTC(), Method: r.Method, Path: r.URL.Path, Route: route, Action: action, Status: status, Reason: reason}
	if ip, ok := g.cfg.Trusted.ClientIP(r); ok {
		d.Client = ip.String()
	}
	if st != nil {
		if st.botScore >= 0 {
			s := st.botScore
			d.BotScore = &s
		}
		d.Mismatch = st.mismatch
	}
	g.decisions.record(d)
}

// flushDecisions flushes the decision log every second until ctx ends,
// then once more.
func (g *Gateway) flushDecisions(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			g.flushDecisionLog()
			return
		case <-t.C:
			g.flushDecisionLog()
		}
	}
}

func (g *Gateway) flushDecisionLog() {
	if err := g.decisions.flush(); err != nil && !g.decisionLogFailed.Swap(true) {
		g.log.Error("decision log: writing failed; decisions are no longer logged", "error", err)
	}
}

// routeName returns rt's name, "" for none.
func routeName(rt *Route) string {
	if rt == nil {
		return ""
	}
	return rt.Name
}
