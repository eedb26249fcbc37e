package demo

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// ScenarioResult is what happened to one scenario's traffic.
type ScenarioResult struct {
	Scenario string `json:"scenario"`
	Fraud    bool   `json:"fraud"`
	Actors   int    `json:"actors"`
	Requests int    `json:"requests"`
	// Errors counts requests that failed or got a 5xx from the shop.
	Errors int `json:"errors"`
	// Refused counts requests answered in front of the shop (by a
	// gateway: refused, shed or challenged), never reaching it.
	Refused   int `json:"refused_in_front"`
	Checkouts int `json:"checkouts"`
	// Allowed includes Declined: allowed by shopguard, refused by the bank.
	Allowed    int `json:"allowed"`
	Declined   int `json:"declined"`
	Reviewed   int `json:"reviewed"`
	Challenged int `json:"challenged"`
	Blocked    int `json:"blocked"`
	// AmountStopped is the value of the checkouts shopguard blocked, held or challenged.
	AmountStopped int64 `json:"amount_stopped_minor"`
	// AmountLost is the value of fraudulent orders paid and then disputed.
	AmountLost int64 `json:"amount_lost_minor"`
	// AmountPaid is the value of paid orders.
	AmountPaid int64 `json:"amount_paid_minor"`
	// ByModel counts the stopped checkouts that the rules alone would
	// have let through: only the model's score or rules on it stopped them.
	ByModel int `json:"stopped_by_model"`
	// Sign-ins by outcome, and sign-ups blocked of all.
	SignIns          int `json:"sign_ins"`
	SignedIn         int `json:"signed_in"`
	SignInWrong      int `json:"sign_in_wrong"`
	SignInChallenged int `json:"sign_in_challenged"`
	SignInBlocked    int `json:"sign_in_blocked"`
	// SteppedUp counts challenged sign-ins completed with a passed step-up
	// (a passkey on shopguard's hosted page, or the authenticator app's
	// code), SteppedUpPasskey those with a passkey; StepUpsFailed those the
	// step-up turned away.
	SteppedUp        int `json:"sign_in_stepped_up"`
	SteppedUpPasskey int `json:"sign_in_stepped_up_passkey"`
	StepUpsFailed    int `json:"sign_in_step_ups_failed"`
	SignUps          int `json:"sign_ups"`
	SignUpsBlocked   int `json:"sign_ups_blocked"`
}

// Stopped is the number of checkouts shopguard blocked, held or challenged.
func (r ScenarioResult) Stopped() int { return r.Reviewed + r.Challenged + r.Blocked }

// StoppedShare is Stopped as a share of Checkouts (0 when there were none).
func (r ScenarioResult) StoppedShare() float64 {
	if r.Checkouts == 0 {
		return 0
	}
	return float64(r.Stopped()) / float64(r.Checkouts)
}

// Report is the outcome of a demo run.
type Report struct {
	Seed      uint64           `json:"seed"`
	Duration  time.Duration    `json:"duration_ns"`
	Customers int              `json:"customers"`
	History   int              `json:"history_orders"`
	Scenarios []ScenarioResult `json:"scenarios"`
	Guard     GuardStats       `json:"guard"`
	// Notices is what shopguard's "was this you?" notifications told the shop.
	Notices NoticeSummary `json:"notices"`
	// Forwarded is what customers forwarded to the shop's report page and
	// what shopguard made of it.
	Forwarded ForwardSummary `json:"forwarded_messages"`
	// Posts is what the content filter did with customers' posts.
	Posts PostSummary `json:"posts"`
}

// Scenario returns the result for a scenario name.
func (r *Report) Scenario(name string) (ScenarioResult, bool) {
	i := slices.IndexFunc(r.Scenarios, func(s ScenarioResult) bool { return s.Scenario == name })
	if i < 0 {
		return ScenarioResult{}, false
	}
	return r.Scenarios[i], true
}

// buildReport joins the simulator's ground truth with the shop's orders.
func buildReport(scenarios []Scenario, reqs []RequestRecord, checkouts []CheckoutRecord, orders []Order) []ScenarioResult {
	byName := map[string]*ScenarioResult{}
	var out []*ScenarioResult
	get := func(name string, fraud bool) *ScenarioResult {
		if r, ok := byName[name]; ok {
			return r
		}
		r := &ScenarioResult{Scenario: name, Fraud: fraud}
		byName[name] = r
		out = append(out, r)
		return r
	}
	for _, sc := range scenarios {
		get(sc.Name, sc.Fraud)
	}
	actors := map[string]map[string]bool{}
	for _, q := range reqs {
		r := get(q.Truth.Scenario, q.Truth.Fraud)
		r.Requests++
		switch {
		case q.Refused && q.Status != 0:
			r.Refused++
		case q.Status == 0 || q.Status >= 500:
			r.Errors++
		}
		if actors[r.Scenario] == nil {
			actors[r.Scenario] = map[string]bool{}
		}
		actors[r.Scenario][q.Truth.Actor] = true
		if q.Method == "GET" && strings.HasPrefix(q.Path, PasskeyReturnPath+"?") {
			// Back from shopguard's hosted page with the passkey's approval.
			switch q.Account {
			case "signed_in":
				r.SteppedUp++
				r.SteppedUpPasskey++
			case "step_up_failed":
				r.StepUpsFailed++
			}
			continue
		}
		if q.Method != "POST" {
			continue
		}
		switch q.Path {
		case "/login":
			r.SignIns++
			acct := q.Account
			if acct == "" && q.Status == 200 {
				// A sign-in redirects; the browser followed it, and the
				// header was on the redirect. Refusals are 401 or 403.
				acct = "signed_in"
			}
			switch acct {
			case "signed_in":
				r.SignedIn++
			case "wrong":
				r.SignInWrong++
			case "challenged":
				r.SignInChallenged++
			case "blocked":
				r.SignInBlocked++
			}
		case StepUpPath:
			switch q.Account {
			case "signed_in":
				r.SteppedUp++
			case "step_up_failed":
				r.StepUpsFailed++
			}
		case "/signup":
			r.SignUps++
			if q.Account == "blocked" {
				r.SignUpsBlocked++
			}
		}
	}
	status := map[string]string{}
	modelOnly := map[string]bool{}
	for _, o := range orders {
		status[o.ID] = o.Status
		modelOnly[o.ID] = stoppedByModelOnly(o.Verdict)
	}
	for _, c := range checkouts {
		r := get(c.Truth.Scenario, c.Truth.Fraud)
		r.Checkouts++
		st := c.Status
		if s, ok := status[c.OrderID]; ok && s == StatusChargedBack {
			st = StatusPaid // charged back after being paid
		}
		if (st == StatusHeld || st == StatusChallenged || st == StatusBlocked) && modelOnly[c.OrderID] {
			r.ByModel++
		}
		switch st {
		case StatusPaid:
			r.Allowed++
			r.AmountPaid += c.AmountMinor
			if c.Disputed {
				r.AmountLost += c.AmountMinor
			}
		case StatusDeclined:
			r.Allowed++
			r.Declined++
		case StatusHeld:
			r.Reviewed++
			r.AmountStopped += c.AmountMinor
		case StatusChallenged:
			r.Challenged++
			r.AmountStopped += c.AmountMinor
		case StatusBlocked:
			r.Blocked++
			r.AmountStopped += c.AmountMinor
		}
	}
	res := make([]ScenarioResult, len(out))
	for i, r := range out {
		r.Actors = len(actors[r.Scenario])
		res[i] = *r
	}
	return res
}

// reviewThreshold is shopguard's default score for a review.
const reviewThreshold = 50

// stoppedByModelOnly reports whether a stop came only from the model: no
// reason other than the model's (its score, its explanations, and the
// demo's rules on model.score) demanded an action, and the rules' points
// alone stay under the review threshold.
func stoppedByModelOnly(v Verdict) bool {
	var model float64
	var fromModel bool
	for _, r := range v.Reasons {
		isModel := r.Code == "model" || strings.HasPrefix(r.Code, "model:") || strings.HasPrefix(r.Code, "rule:model_")
		if r.Code == "model" {
			model = r.Weight
		}
		if r.Action != "" {
			if !isModel {
				return false
			}
			fromModel = true
		}
	}
	return fromModel || (model > 0 && float64(v.Score)-model < reviewThreshold)
}

// WriteTable prints the results table and the summary lines.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tactors\trequests\tcheckouts\tallowed\t(bank declined)\treviewed\tchallenged\tblocked\tstopped\t(by the model)\tmoney stopped\tmoney lost\t")
	for _, s := range r.Scenarios {
		kind := "legit"
		if s.Fraud {
			kind = "attack"
		}
		fmt.Fprintf(tw, "%s (%s)\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f%%\t%d\t%s\t%s\t\n", s.Scenario, kind, s.Actors, s.Requests,
			s.Checkouts, s.Allowed, s.Declined, s.Reviewed, s.Challenged, s.Blocked, 100*s.StoppedShare(), s.ByModel,
			FormatMoney(s.AmountStopped), FormatMoney(s.AmountLost))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tsign-ins\tsigned in\twrong password\tchallenged\tstepped up\tblocked\tsign-ups\tsign-ups blocked\t")
	for _, s := range r.Scenarios {
		if s.SignIns+s.SignUps == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Scenario, s.SignIns, s.SignedIn, s.SignInWrong,
			s.SignInChallenged, s.SteppedUp, s.SignInBlocked, s.SignUps, s.SignUpsBlocked)
	}
	tw.Flush()
	fmt.Fprintln(w)
	r.writeTraffic(w)
	var legit, attack ScenarioResult
	for _, s := range r.Scenarios {
		acc := &legit
		if s.Fraud {
			acc = &attack
		}
		acc.Checkouts += s.Checkouts
		acc.Reviewed += s.Reviewed
		acc.Challenged += s.Challenged
		acc.Blocked += s.Blocked
		acc.AmountStopped += s.AmountStopped
		acc.AmountLost += s.AmountLost
		acc.AmountPaid += s.AmountPaid
		acc.Errors += s.Errors
		acc.ByModel += s.ByModel
	}
	fmt.Fprintf(w, "Legitimate checkouts wrongly stopped: %d of %d (%.2f%%), worth %s; legitimate sales: %s.\n",
		legit.Stopped(), legit.Checkouts, 100*legit.StoppedShare(), FormatMoney(legit.AmountStopped), FormatMoney(legit.AmountPaid))
	fmt.Fprintf(w, "Attack checkouts stopped: %d of %d (%.1f%%). Money saved: %s. Money lost to chargebacks: %s.\n",
		attack.Stopped(), attack.Checkouts, 100*attack.StoppedShare(), FormatMoney(attack.AmountStopped), FormatMoney(attack.AmountLost))
	fmt.Fprintf(w, "Stopped only thanks to the model (the rules alone would have let them through): %d attack and %d legitimate checkouts.\n",
		attack.ByModel, legit.ByModel)
	var stepped, passkey, attackers int
	for _, s := range r.Scenarios {
		if s.Fraud {
			attackers += s.SteppedUp
			continue
		}
		stepped += s.SteppedUp
		passkey += s.SteppedUpPasskey
	}
	fmt.Fprintf(w, "Step-ups passed by customers: %d (%d with a passkey on shopguard's page, %d with an authenticator app); by attackers: %d.\n",
		stepped, passkey, stepped-passkey, attackers)
	g := r.Guard
	var fb []string
	for a, n := range g.Fallbacks {
		fb = append(fb, fmt.Sprintf("%d × %s", n, a))
	}
	slices.Sort(fb)
	fbText := "none"
	if len(fb) > 0 {
		fbText = strings.Join(fb, ", ")
	}
	r.Notices.write(w)
	r.Forwarded.write(w)
	r.Posts.write(w)
	fmt.Fprintf(w, "shopguard calls from the shop: %d checkouts, %d sign-in or sign-up checks and %d step-up answers and approvals (%d failed, %d timed out; failure policy applied: %s), %d labels sent (%d failed), %d past orders and %d past sign-ins imported.\n",
		g.Calls, g.AccountCalls, g.StepUpCalls, g.Failures, g.Timeouts, fbText, g.Feedback, g.FeedbackFailures, g.Imported, g.ImportedSignIns)
	if legit.Errors+attack.Errors > 0 {
		fmt.Fprintf(w, "Simulated requests that failed or got a 5xx from the shop: %d.\n", legit.Errors+attack.Errors)
	}
}

// writeTraffic prints, per scenario, how many of its requests reached the
// shop and how many were answered in front of it (by a gateway), and the
// share of customers' requests so answered: a gateway must stop floods and
// scrapers without turning customers away.
func (r *Report) writeTraffic(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trequests\treached the shop\trefused in front\t(share)\tfailed or 5xx\t")
	var legit, legitRefused int
	for _, s := range r.Scenarios {
		if s.Requests == 0 {
			continue
		}
		if !s.Fraud {
			legit += s.Requests
			legitRefused += s.Refused
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f%%\t%d\t\n", s.Scenario, s.Requests, s.Requests-s.Refused-s.Errors, s.Refused,
			100*float64(s.Refused)/float64(s.Requests), s.Errors)
	}
	tw.Flush()
	fmt.Fprintln(w)
	if legit > 0 {
		fmt.Fprintf(w, "Customers' requests refused in front of the shop: %d of %d (%.2f%%).\n", legitRefused, legit, 100*float64(legitRefused)/float64(legit))
	}
}
