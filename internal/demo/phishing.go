package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shopguard/shopguard/client"
)

// ShopDomain is the demo shop's public domain: the one its e-mails come
// from and its links lead to, and the one phishers imitate. (The demo
// itself runs on localhost, its passkey domain, which has no registered
// domain to imitate.) The shop passes it to shopguard as a protected
// domain with every forwarded message.
const ShopDomain = "northwind.shop"

// ReportMessagePath is the shop's "Report a suspicious message" page;
// what shopguard made of a forwarded message is at ReportMessagePath/{id},
// where the form redirects (so that reloading does not forward it again).
const ReportMessagePath = "/report-message"

// MessageVerdictHeader reports shopguard's verdict on a forwarded
// message (phishing, suspicious, safe, or not_checked) on the result page,
// for scripted clients.
const MessageVerdictHeader = "X-Shop-Message-Verdict"

// Limits of the report form. The shop reads at most 64 KiB of a form, and
// form encoding makes an e-mail's source grow by up to a half.
const (
	maxForwardedMessage = 30_000
	maxForwardedSender  = 200
)

// notChecked is the verdict of a forwarded message shopguard did not judge.
const notChecked = "not_checked"

// MessageChecker is what the report page needs from shopguard's API (a
// *client.Client): its message check.
type MessageChecker interface {
	CheckMessage(ctx context.Context, m client.Message) (client.MessageResult, error)
}

var _ MessageChecker = (*client.Client)(nil)

// errNoMessageCheck is returned when the guard's shopguard client has no
// message check.
var errNoMessageCheck = errors.New("demo: the shop's shopguard client cannot check messages")

// CheckMessage asks shopguard about a message a customer forwarded, with
// the guard's timeout. There is no failure policy: when shopguard does
// not answer, the message has not been checked (the shop keeps it and says
// so). Failures other than shopguard's refusals (4xx) are counted with the
// guard's failures.
func (g *Guard) CheckMessage(ctx context.Context, m client.Message) (client.MessageResult, error) {
	mc, ok := g.scorer.(MessageChecker)
	if !ok {
		return client.MessageResult{}, errNoMessageCheck
	}
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	res, err := mc.CheckMessage(ctx, m)
	if err != nil {
		g.noteFailure(err)
		return client.MessageResult{}, fmt.Errorf("demo: check message: %w", err)
	}
	return res, nil
}

// ForwardedMessage is a message a customer forwarded to the shop's report
// page, and what shopguard made of it.
type ForwardedMessage struct {
	ID      string
	At      time.Time
	Channel string
	// Sender is who the customer says sent it ("" when not given).
	Sender string
	// Message is what the customer pasted: an e-mail's source or a text
	// ("" once forwardsKeptWhole newer messages have come).
	Message string
	// AsSource is set when Message went to shopguard as an e-mail's
	// source (headers and all) rather than as text.
	AsSource  bool
	IP        string
	DeviceID  string
	AccountID string // "" when not signed in
	// Result is shopguard's judgement; nil when the check failed (Err
	// says why).
	Result *client.MessageResult
	Err    error
}

// Verdict is shopguard's verdict, or not_checked.
func (f ForwardedMessage) Verdict() string {
	if f.Result == nil {
		return notChecked
	}
	return f.Result.Verdict
}

// forwardBox keeps the forwarded messages (its zero value is empty).
type forwardBox struct {
	mu   sync.Mutex
	list []ForwardedMessage
}

// forwardsKeptWhole is how many of the newest forwarded messages keep
// what the customer pasted; older ones keep their verdict, reasons and
// links (what the result page and the report show), so that a day-long
// demo does not hold every message in memory.
const forwardsKeptWhole = 10_000

// add keeps f, without shopguard's copy of its text and its links'
// measurements (the shop shows neither).
func (b *forwardBox) add(f ForwardedMessage) {
	if f.Result != nil {
		r := *f.Result
		r.Text, r.Links = "", slices.Clone(r.Links)
		for i := range r.Links {
			r.Links[i].Check.Features = nil
		}
		f.Result = &r
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, f)
	if n := len(b.list); n > forwardsKeptWhole {
		b.list[n-1-forwardsKeptWhole].Message = ""
	}
}

// ForwardedMessages returns the messages customers forwarded, oldest first.
func (s *Shop) ForwardedMessages() []ForwardedMessage {
	s.forwards.mu.Lock()
	defer s.forwards.mu.Unlock()
	return slices.Clone(s.forwards.list)
}

func (s *Shop) forwarded(id string) (ForwardedMessage, bool) {
	s.forwards.mu.Lock()
	defer s.forwards.mu.Unlock()
	i := slices.IndexFunc(s.forwards.list, func(f ForwardedMessage) bool { return f.ID == id })
	if i < 0 {
		return ForwardedMessage{}, false
	}
	return s.forwards.list[i], true
}

// reportPage is the report template's data: the form (Result nil) or
// what shopguard made of a forwarded message.
type reportPage struct {
	Domain string
	Result *forwardView
}

// forwardView is a forwarded message's judgement in words.
type forwardView struct {
	Verdict  string // phishing, suspicious, safe, not_checked
	Headline string
	Advice   string
	Reasons  []string
	Pressure []string // the phrases that pressure the reader
	Links    []linkView
}

type linkView struct {
	Href    string
	Site    string
	Verdict string
}

const reportTitle = "Report a suspicious message"

func (s *Shop) reportMessageForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "report_phishing", reportTitle, reportPage{Domain: ShopDomain}, nil)
}

// reportMessage takes a message a customer received, forwards it to
// shopguard and sends the customer to what shopguard made of it.
func (s *Shop) reportMessage(w http.ResponseWriter, r *http.Request) {
	page := reportPage{Domain: ShopDomain}
	if err := r.ParseForm(); err != nil {
		errs := map[string]string{"form": "unreadable form"}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			errs = map[string]string{"message": fmt.Sprintf("too long: paste at most %s characters", itoaGrouped(maxForwardedMessage))}
		}
		s.render(w, r, http.StatusBadRequest, "report_phishing", reportTitle, page, errs)
		return
	}
	f := ForwardedMessage{Channel: r.PostForm.Get("channel"), Sender: strings.TrimSpace(r.PostForm.Get("sender")),
		Message: strings.TrimSpace(r.PostForm.Get("message")), IP: s.clientIP(r), DeviceID: deviceID(r), At: s.cfg.Now()}
	errs := map[string]string{}
	if !slices.Contains([]string{"email", "sms", "chat"}, f.Channel) {
		errs["channel"] = "choose e-mail, text message (SMS) or chat"
	}
	if len(f.Sender) > maxForwardedSender || strings.ContainsAny(f.Sender, "\r\n") || !utf8.ValidString(f.Sender) {
		errs["sender"] = fmt.Sprintf("at most %d characters on one line", maxForwardedSender)
	}
	switch {
	case len(f.Message) < 3:
		errs["message"] = "paste the message you received (at least 3 characters)"
	case len(f.Message) > maxForwardedMessage:
		errs["message"] = fmt.Sprintf("too long: paste at most %s characters", itoaGrouped(maxForwardedMessage))
	case !utf8.ValidString(f.Message):
		errs["message"] = "this is not readable text (UTF-8)"
	}
	if len(errs) > 0 {
		s.render(w, r, http.StatusBadRequest, "report_phishing", reportTitle, page, errs)
		return
	}
	if a := s.signedIn(w, r); a != nil {
		f.AccountID = a.ID
	}
	res, asSource, err := s.checkForwarded(r.Context(), f)
	if field, msg, ok := inputProblem(err); ok {
		s.render(w, r, http.StatusBadRequest, "report_phishing", reportTitle, page, map[string]string{field: msg})
		return
	}
	f.AsSource = asSource
	if err != nil {
		s.cfg.Log.Warn("forwarded message not checked", "error", err)
		f.Err = err
	} else {
		f.Result = &res
	}
	f.ID = "msg_" + randomHex(12)
	s.forwards.add(f)
	http.Redirect(w, r, ReportMessagePath+"/"+f.ID, http.StatusSeeOther)
}

// checkForwarded sends a forwarded message to shopguard: an e-mail's
// source as such (shopguard then reads its headers), anything else as
// text with the sender the customer gave. A source shopguard cannot read
// goes again as text.
func (s *Shop) checkForwarded(ctx context.Context, f ForwardedMessage) (client.MessageResult, bool, error) {
	m := client.Message{Channel: f.Channel, ProtectedDomains: []string{ShopDomain}}
	if f.Channel == "email" && looksLikeEmailSource(f.Message) {
		m.Raw = f.Message
		res, err := s.guard.CheckMessage(ctx, m)
		var e *client.Error
		if !errors.As(err, &e) || e.Field != "raw" {
			return res, true, err
		}
		m.Raw = ""
	}
	m.Text, m.Sender = f.Message, f.Sender
	res, err := s.guard.CheckMessage(ctx, m)
	return res, false, err
}

// inputProblem reports whether err is shopguard refusing the message as
// input (a field error), and which form field that is about.
func inputProblem(err error) (field, msg string, ok bool) {
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		return "", "", false
	}
	field = "message"
	if e.Field == "sender" {
		field = "sender"
	}
	return field, "we could not read this: " + e.Message, true
}

// looksLikeEmailSource reports whether text is an e-mail's source (header
// fields with a From, a blank line, the body) rather than its text.
func looksLikeEmailSource(text string) bool {
	m, err := mail.ReadMessage(strings.NewReader(text))
	return err == nil && m.Header.Get("From") != ""
}

// reportResult shows a customer what shopguard made of the message they
// forwarded (only to the device that forwarded it).
func (s *Shop) reportResult(w http.ResponseWriter, r *http.Request) {
	f, ok := s.forwarded(r.PathValue("id"))
	if !ok || f.DeviceID == "" || f.DeviceID != deviceID(r) {
		s.notFound(w, r, "That report")
		return
	}
	v := explainForwarded(f)
	w.Header().Set(MessageVerdictHeader, v.Verdict)
	s.render(w, r, http.StatusOK, "report_phishing", "What we found", reportPage{Domain: ShopDomain, Result: &v}, nil)
}

// Codes of shopguard's reasons that say the sender is not who it claims.
var senderCodes = []string{"from_lookalike", "display_name_lookalike", "display_name_impersonation", "display_name_address",
	"sender_name_lookalike", "sender_name_lookalike_domain", "dmarc_fail", "spf_fail", "dkim_fail", "reply_to_lookalike"}

// explainForwarded says what shopguard made of a forwarded message in
// plain words: a headline with the main reasons, what to do, the reasons
// and the links.
func explainForwarded(f ForwardedMessage) forwardView {
	v := forwardView{Verdict: f.Verdict()}
	never := "We never ask for your password, a code or your card details by e-mail, text message or chat."
	if f.Result == nil {
		v.Headline = "We could not check this message automatically just now; we have kept it and our team will look at it."
		v.Advice = "Until then, do not click its links or answer it. " + never
		return v
	}
	res := *f.Result
	why := inWords(res)
	switch res.Verdict {
	case "phishing":
		v.Headline = "This message is a phishing attempt: " + strings.Join(why[:min(2, len(why))], "; ") + "."
		v.Advice = "Do not click its links or answer it. " + never +
			" If you have already entered your password on that page, change it on " + ShopDomain + " now."
	case "suspicious":
		v.Headline = "This message looks suspicious: " + strings.Join(why[:min(2, len(why))], "; ") + "."
		v.Advice = "Do not click its links. If you are unsure, type " + ShopDomain +
			" into your browser yourself and sign in there: anything we need from you will be waiting in your account. " + never
	default:
		v.Headline = "We found no sign of phishing in this message."
		if slices.ContainsFunc(res.Links, func(l client.MessageLink) bool { return isOwn(l.Check) }) {
			v.Headline += " Its links lead to our own site, " + ShopDomain + "."
		}
		v.Advice = "If it still asks for something unusual, do not answer it and contact support. " + never
	}
	rs := slices.Clone(res.Reasons)
	slices.SortStableFunc(rs, func(a, b client.URLReason) int { return b.Weight - a.Weight })
	for _, r := range rs {
		if r.Weight > 0 {
			v.Reasons = append(v.Reasons, r.Message)
		}
	}
	for _, c := range res.Cues {
		if !slices.Contains(v.Pressure, c.Phrase) {
			v.Pressure = append(v.Pressure, c.Phrase)
		}
	}
	for _, l := range res.Links { // an e-mail's text and HTML parts often hold the same links
		if !slices.ContainsFunc(v.Links, func(o linkView) bool { return o.Href == l.Href }) {
			v.Links = append(v.Links, linkView{Href: l.Href, Site: siteOf(l.Check), Verdict: l.Check.Verdict})
		}
	}
	return v
}

// inWords lists, most telling first, why a message is phishing: the
// lookalike sites it links to, a link that shows one site and leads to
// another, a sender who is not who it claims, other bad links, and the
// pressure it puts on the reader.
func inWords(res client.MessageResult) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range res.Links {
		lk := l.Check.Lookalike
		if lk == nil || seen[lk.Domain] {
			continue
		}
		seen[lk.Domain] = true
		site := lk.Domain
		if rd := l.Check.RegisteredDomain; rd != "" && rd != lk.Domain {
			site += " (really " + rd + ")"
		}
		out = append(out, fmt.Sprintf("it links to %s, which imitates our site (%s)", site, lk.Reason))
	}
	var sender, mismatch, link *client.URLReason
	for i := range res.Reasons {
		r := &res.Reasons[i]
		switch {
		case r.Code == "link_text_mismatch" && mismatch == nil:
			mismatch = r
		case slices.Contains(senderCodes, r.Code) && (sender == nil || r.Weight > sender.Weight):
			sender = r
		case (r.Code == "link_phishing" || r.Code == "link_suspicious") && link == nil:
			link = r
		}
	}
	if mismatch != nil {
		out = append(out, lowerFirst(mismatch.Message))
	}
	if sender != nil {
		out = append(out, "it pretends to come from us, but "+lowerFirst(sender.Message))
	}
	if link != nil && len(seen) == 0 {
		out = append(out, lowerFirst(link.Message))
	}
	var phrases []string
	for _, c := range res.Cues {
		if p := "“" + c.Phrase + "”"; !slices.Contains(phrases, p) && len(phrases) < 3 {
			phrases = append(phrases, p)
		}
	}
	if len(phrases) > 0 {
		out = append(out, "it pressures you ("+strings.Join(phrases, ", ")+")")
	}
	if len(out) == 0 {
		for _, r := range res.Reasons {
			if r.Weight > 0 {
				out = append(out, lowerFirst(r.Message))
				break
			}
		}
	}
	if len(out) == 0 {
		out = append(out, "several small signs add up")
	}
	return out
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r >= 'A' && r <= 'Z' {
		return string(r+'a'-'A') + s[n:]
	}
	return s
}

// isOwn reports whether a checked link is on one of the shop's domains.
func isOwn(c client.URLResult) bool {
	return slices.ContainsFunc(c.Reasons, func(r client.URLReason) bool { return r.Code == "protected_domain" })
}

// siteOf is a checked link's site as a reader sees it.
func siteOf(c client.URLResult) string {
	switch {
	case c.UnicodeHost != "":
		return c.UnicodeHost
	case c.Host != "":
		return c.Host
	}
	return c.URL
}

// ForwardSummary is what customers forwarded to the shop's "Report a
// suspicious message" page and shopguard's verdicts on it, against the
// simulator's truth.
type ForwardSummary struct {
	Forwarded int `json:"forwarded"`
	// Phishing and Genuine count the forwarded messages by truth: the
	// campaign's, and the shop's own. Unmatched counts those the
	// simulator did not forward (a person trying the demo shop).
	Phishing  int `json:"phishing"`
	Genuine   int `json:"genuine"`
	Unmatched int `json:"unmatched"`
	// PhishingVerdicts and GenuineVerdicts count shopguard's verdicts
	// (phishing, suspicious, safe, not_checked) by truth.
	PhishingVerdicts map[string]int `json:"phishing_verdicts"`
	GenuineVerdicts  map[string]int `json:"genuine_verdicts"`
	// Examples are reasons shopguard gave for forwarded phishing.
	Examples []string `json:"examples,omitempty"`
}

// Caught is the number of forwarded phishing messages judged phishing or
// suspicious.
func (s ForwardSummary) Caught() int {
	return s.PhishingVerdicts["phishing"] + s.PhishingVerdicts["suspicious"]
}

// Flagged is the number of the shop's own forwarded messages judged
// phishing or suspicious.
func (s ForwardSummary) Flagged() int {
	return s.GenuineVerdicts["phishing"] + s.GenuineVerdicts["suspicious"]
}

// summarizeForwards joins the shop's forwarded messages with the truth of
// the simulated requests that showed each its result (the redirect after
// the form names the message).
func summarizeForwards(fwd []ForwardedMessage, reqs []RequestRecord) ForwardSummary {
	truth := map[string]Truth{}
	for _, q := range reqs {
		if id, ok := strings.CutPrefix(q.Path, ReportMessagePath+"/"); ok && q.Method == http.MethodGet {
			truth[id] = q.Truth
		}
	}
	s := ForwardSummary{PhishingVerdicts: map[string]int{}, GenuineVerdicts: map[string]int{}}
	kinds := map[string]bool{}
	for _, f := range fwd {
		s.Forwarded++
		t, ok := truth[f.ID]
		switch {
		case !ok:
			s.Unmatched++
		case t.Fraud:
			s.Phishing++
			s.PhishingVerdicts[f.Verdict()]++
			if f.Result != nil && len(s.Examples) < 3 {
				if r, ok := example(*f.Result, kinds); ok {
					s.Examples = append(s.Examples, r)
				}
			}
		default:
			s.Genuine++
			s.GenuineVerdicts[f.Verdict()]++
		}
	}
	return s
}

// example picks a caught message's strongest reason of a kind not shown
// yet: a bad link (mostly a lookalike), the sender, a link's text (the
// wording's cues and the mail server's other findings say less).
func example(res client.MessageResult, shown map[string]bool) (string, bool) {
	if res.Verdict == "safe" {
		return "", false
	}
	kind := func(code string) string {
		switch {
		case slices.Contains(senderCodes, code):
			return "sender"
		case strings.HasPrefix(code, "link_"):
			return "link"
		}
		return code
	}
	var best *client.URLReason
	for i := range res.Reasons {
		r := &res.Reasons[i]
		k := kind(r.Code)
		if r.Weight > 0 && (k == "sender" || k == "link" || k == "link_text_mismatch") && !shown[k] && (best == nil || r.Weight > best.Weight) {
			best = r
		}
	}
	if best == nil {
		return "", false
	}
	shown[kind(best.Code)] = true // one example per kind
	return best.Message, true
}

// write prints the forwarded messages' lines of the results.
func (s ForwardSummary) write(w io.Writer) {
	if s.Forwarded == 0 {
		return
	}
	fmt.Fprintf(w, "Messages customers forwarded to the shop's \"Report a suspicious message\" page: %d (%d phishing, %d the shop's own",
		s.Forwarded, s.Phishing, s.Genuine)
	if s.Unmatched > 0 {
		fmt.Fprintf(w, ", %d not from the simulation", s.Unmatched)
	}
	fmt.Fprintln(w, ").")
	share := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return 100 * float64(n) / float64(of)
	}
	pv, gv := s.PhishingVerdicts, s.GenuineVerdicts
	fmt.Fprintf(w, "Forwarded phishing caught: %d of %d (%.1f%%; judged phishing %d, suspicious %d, safe %d, not checked %d). The shop's own messages wrongly flagged: %d of %d (phishing %d, suspicious %d, not checked %d).\n",
		s.Caught(), s.Phishing, share(s.Caught(), s.Phishing), pv["phishing"], pv["suspicious"], pv["safe"], pv[notChecked],
		s.Flagged(), s.Genuine, gv["phishing"], gv["suspicious"], gv[notChecked])
	if len(s.Examples) > 0 {
		fmt.Fprintf(w, "Examples of shopguard's reasons: “%s”.\n", strings.Join(s.Examples, "”; “"))
	}
}

// The phishing campaign's shares: of the messages customers receive
// during it, the share that are the shop's own (shipping notices,
// password resets they asked for, codes, newsletters); of those who
// receive a phishing message, the share who forward it to the shop's
// report page; of those who receive one of the shop's own, the share
// who forward that (unsure whether it is real).
const (
	campaignGenuineShare = 0.5
	forwardPhishingShare = 0.3
	forwardGenuineShare  = 0.15
)

// lookalike is a domain the campaign's attacker registered: as it is
// written in links (punycode for another script) and as a reader sees it.
type lookalike struct {
	ASCII, Shown string
}

// campaignDomains are the attacker's domains, a trick each.
var campaignDomains = []lookalike{
	{"n0rthwind.shop", "n0rthwind.shop"},                                       // digit 0 for letter o
	{"northw1nd.shop", "northw1nd.shop"},                                       // digit 1 for letter i
	{"northwind-secure.com", "northwind-secure.com"},                           // a word added, another suffix
	{"northwind-login.shop", "northwind-login.shop"},                           // a word added
	{"north-wind.shop", "north-wind.shop"},                                     // a hyphen added
	{"northwind.store", "northwind.store"},                                     // another suffix
	{"xn--nrthwind-nbh.shop", "n\u043erthwind.shop"},                           // Cyrillic о for o
	{"xn--northwnd-yhh.shop", "northw\u0456nd.shop"},                           // Cyrillic і for i
	{"nortwind.shop", "nortwind.shop"},                                         // a letter left out
	{"northwind.shop.account-verify.net", "northwind.shop.account-verify.net"}, // the shop's name as a subdomain
	{"northwind-verify.web.app", "northwind-verify.web.app"},                   // free hosting
}

// pretext is one story a phishing message tells.
type pretext struct {
	subjects []string
	// sms are whole messages; email the paragraphs of an e-mail. {link}
	// is the link; {first}, {name}, {ref}, {amount}, {fee}, {city},
	// {prize} are filled in.
	sms, email []string
	paths      []string
	button     string // the HTML link's text when it does not show a URL
	shopPath   string // the shop's page the link pretends to be
}

var pretexts = []pretext{
	{ // the account is locked
		subjects: []string{"Your account has been temporarily locked", "Unusual sign-in activity on your account", "Action required: verify your account",
			"Security alert: new sign-in from {city}"},
		sms: []string{"Northwind: we noticed unusual activity on your account. Verify your account within 24 hours or it will be suspended: {link}",
			"NORTHWIND ALERT: new sign-in from {city}. Not you? Secure your account now: {link}",
			"Your Northwind account has been locked after suspicious activity. Confirm your identity to restore access: {link}"},
		email: []string{"We detected a sign-in to your Northwind Outfitters account from {city} that we could not confirm. For your protection your account has been temporarily restricted.",
			"To restore full access, please confirm your identity within 24 hours:\n{link}",
			"If you do not verify your account, it will be permanently closed and any open orders cancelled."},
		paths: []string{"/account/verify?session={tok}", "/login?continue=account&id={tok}", "/secure/signin"}, button: "Verify my account", shopPath: "/account/security",
	},
	{ // the payment failed
		subjects: []string{"Payment declined for order {ref}", "Problem with your order {ref}", "Your order {ref} is on hold"},
		sms: []string{"Northwind Outfitters: payment for order {ref} failed. Update your payment details today to avoid cancellation: {link}",
			"Your order {ref} ({amount}) could not be processed. Please re-enter your card details: {link}"},
		email: []string{"Unfortunately the payment for your order {ref} ({amount}) could not be processed, and your order is on hold.",
			"Please update your billing information within 48 hours so that we can ship your items:\n{link}",
			"Otherwise your order will be cancelled."},
		paths: []string{"/pay/{ref}", "/billing/update?order={ref}", "/checkout/retry/{tok}"}, button: "Update payment method", shopPath: "/orders/{ref}",
	},
	{ // a fee before delivery
		subjects: []string{"Your parcel could not be delivered", "Delivery attempt failed: parcel {ref}", "Customs fee due for your order"},
		sms: []string{"Your Northwind parcel {ref} is waiting at our depot. A customs fee of {fee} is due. Pay now: {link}",
			"Northwind delivery: we missed you. Reschedule and pay the {fee} redelivery fee within 48 hours: {link}"},
		email: []string{"We tried to deliver your parcel {ref} today but a customs fee of {fee} has not been paid.",
			"Pay the fee now to have your parcel delivered tomorrow:\n{link}",
			"Parcels not claimed within 5 days are returned to the sender."},
		paths: []string{"/track?id={ref}", "/delivery/fee/{tok}", "/parcel/{ref}"}, button: "Pay {fee} and reschedule", shopPath: "/orders/{ref}",
	},
	{ // a refund waits
		subjects: []string{"Refund of {amount} pending", "You are owed a refund"},
		sms:      []string{"Northwind: a refund of {amount} is pending for your order {ref}. Confirm your card details to receive it: {link}"},
		email: []string{"Good news: a refund of {amount} for your order {ref} is waiting for you.",
			"To receive it, confirm your card details within 72 hours:\n{link}"},
		paths: []string{"/refund/claim?ref={ref}", "/refunds/{tok}"}, button: "Claim my refund", shopPath: "/account/orders",
	},
	{ // a prize
		subjects: []string{"Congratulations {first}, you have won!", "You have been selected for a {prize} gift card"},
		sms: []string{"Congratulations {first}! You have been selected to receive a {prize} Northwind gift card. Claim your reward before midnight: {link}",
			"Northwind loyalty: you won a {prize} voucher! Claim it now: {link}"},
		email: []string{"Congratulations! As one of our most loyal customers you have been selected to receive a {prize} gift card.",
			"Claim your reward today only, before it expires:\n{link}",
			"A small handling fee of {fee} applies."},
		paths: []string{"/gift/{tok}", "/rewards/claim?c={tok}"}, button: "Claim my gift card", shopPath: "/gift-cards",
	},
	{ // the password expires
		subjects: []string{"Your password expires today", "Password expiry notice"},
		sms:      []string{"Northwind: your password will expire today. Log in to verify your details and keep your account: {link}"},
		email: []string{"Your Northwind Outfitters password will expire today.",
			"To keep using your account, log in to verify your details:\n{link}",
			"Failure to update your details will result in your account being disabled."},
		paths: []string{"/password/renew?u={tok}", "/account/password"}, button: "Keep my password", shopPath: "/account",
	},
}

// Who phishing messages claim to be.
var (
	spoofNames = []string{"Northwind Outfitters", "Northwind Support", "Northwind Outfitters Security", "NorthWind Customer Service",
		"Northwind Οutfitters", "northwind.shop", "Northwind Deliveries"}
	freemail = []string{"gmail.com", "outlook.com", "yahoo.com", "mail.ru", "proton.me"}
	// compromisedDomains are small businesses' mail servers the attacker
	// broke into and sends from.
	compromisedDomains = []string{"gartenbau-mueller.de", "pizzeria-roma-lyon.fr", "dentysta-kowalski.pl", "hotel-aurora.it", "yoga-utrecht.nl"}
	cities             = []string{"Lagos", "Bucharest", "Moscow", "Jakarta", "Sao Paulo", "Minsk", "Hanoi"}
	greetings          = []string{"Dear {name},", "Hello {first},", "Dear customer,", "Dear Valued Customer,", "Hi {first},"}
	phishSignoffs      = []string{"Northwind Outfitters Security Team", "Kind regards,\nNorthwind Outfitters Customer Care", "The Northwind Team",
		"Thank you for shopping with us,\nNorthwind Outfitters"}
)

// campaignMessage is a message a customer received: a phishing one or
// one of the shop's own.
type campaignMessage struct {
	phishing bool
	channel  string // email, sms or chat
	// sender is the SMS sender, the chat name, or the e-mail's From as a
	// mail client shows it.
	sender string
	// text is an SMS or chat message, or an e-mail's plain-text part (""
	// when it has only HTML); html an e-mail's HTML part; visible the
	// e-mail as its reader sees it.
	text, html, visible string
	header              []string // an e-mail's header fields, in order
}

// fill replaces a message's placeholders.
func fill(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// messageVars are the details a message is personalised with.
func messageVars(rng *rand.Rand, c *customer) map[string]string {
	first, _, _ := strings.Cut(c.Account.Name, " ")
	return map[string]string{
		"first": first, "name": c.Account.Name, "ref": fmt.Sprintf("NW-%06d", rng.IntN(1_000_000)),
		"amount": FormatMoney(int64(1500 + rng.IntN(30000))), "fee": FormatMoney(int64(99 + rng.IntN(400))),
		"city": pick(rng, cities), "prize": pick(rng, []string{"50 €", "100 €", "250 €", "500 €"}),
		"tok": randomToken(rng, 10),
	}
}

func randomToken(rng *rand.Rand, n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// paragraph is a piece of an e-mail's body; link, when set, replaces
// "{link}" in it.
type paragraph struct {
	text  string
	href  string // where the link leads
	shown string // what an HTML link shows ("" for the href itself)
	plain string // what the plain-text part writes for the link ("" for the href)
}

// renderBody writes an e-mail's paragraphs as plain text, as HTML and as
// a reader sees the HTML.
func renderBody(ps []paragraph) (text, htmlBody, visible string) {
	var t, h, v strings.Builder
	h.WriteString("<!doctype html><html><body style=\"font-family:Arial,sans-serif\">\n")
	for _, p := range ps {
		shown := cmp.Or(p.shown, p.href)
		plain := cmp.Or(p.plain, p.href)
		t.WriteString(strings.ReplaceAll(p.text, "{link}", plain) + "\n\n")
		v.WriteString(strings.ReplaceAll(p.text, "{link}", shown) + "\n\n")
		esc := strings.ReplaceAll(html.EscapeString(p.text), "\n", "<br>\n")
		a := fmt.Sprintf(`<a href="%s" style="color:#1b5fa8">%s</a>`, html.EscapeString(p.href), html.EscapeString(shown))
		h.WriteString("<p>" + strings.ReplaceAll(esc, "{link}", a) + "</p>\n")
	}
	h.WriteString("</body></html>\n")
	return strings.TrimSpace(t.String()), h.String(), strings.TrimSpace(v.String())
}

// mailHost is the receiving server of a customer's mailbox, the one that
// writes Authentication-Results.
func mailHost(email string) string {
	_, domain, _ := strings.Cut(email, "@")
	if domain == "gmail.com" {
		return "mx.google.com"
	}
	return "mx." + domain
}

// phishingMessage is a message of the campaign to customer c.
func phishingMessage(rng *rand.Rand, c *customer, now time.Time) campaignMessage {
	p := pick(rng, pretexts)
	vars := messageVars(rng, c)
	d := pick(rng, campaignDomains)
	host := d.ASCII
	if x := rng.Float64(); x < 0.15 {
		host = "www." + host
	} else if x < 0.25 && !strings.Contains(host, ".shop.") {
		host = pick(rng, []string{"secure.", "account.", "login."}) + host
	}
	path := fill(pick(rng, p.paths), vars)
	if rng.Float64() < 0.25 { // the kit greets the victim by address
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "email=" + strings.ReplaceAll(c.Account.Email, "@", "%40")
	}
	href := "https://" + host + path
	// How the link is written in text: as its reader sees the name (the
	// other script's letters), or through a link shortener.
	written := href
	if d.Shown != d.ASCII && rng.Float64() < 0.5 {
		written = "https://" + strings.Replace(host, d.ASCII, d.Shown, 1) + path
	}
	m := campaignMessage{phishing: true}
	switch x := rng.Float64(); {
	case x < 0.42:
		m.channel = "sms"
	case x < 0.47:
		m.channel = "chat"
	default:
		m.channel = "email"
	}
	if m.channel != "email" {
		if rng.Float64() < 0.15 {
			written = "https://" + pick(rng, []string{"bit.ly/", "tinyurl.com/", "t.ly/"}) + randomToken(rng, 7)
		}
		vars["link"] = written
		m.text = fill(pick(rng, p.sms), vars)
		if m.channel == "chat" {
			m.sender = pick(rng, []string{"Northwind Support", "Northwind Outfitters ✔", "Northwind Help Desk"})
			m.text = strings.Replace(m.text, "Northwind: ", "", 1)
		} else {
			m.sender = smsSender(rng)
		}
		return m
	}

	// An e-mail: the body, then who it claims to be from and what the
	// customer's mail server found.
	ps := []paragraph{{text: fill(pick(rng, greetings), vars)}}
	htmlPart := rng.Float64() < 0.65
	trick := htmlPart && rng.Float64() < 0.5 // the link shows the shop's own address
	for _, para := range p.email {
		para = fill(para, vars)
		if !strings.Contains(para, "{link}") {
			ps = append(ps, paragraph{text: para})
			continue
		}
		pp := paragraph{text: para, href: href, plain: written, shown: fill(p.button, vars)}
		if trick {
			pp.shown = "https://" + ShopDomain + fill(p.shopPath, vars)
		}
		ps = append(ps, pp)
	}
	ps = append(ps, paragraph{text: pick(rng, phishSignoffs)})
	text, htmlBody, visible := renderBody(ps)
	m.visible = visible
	switch {
	case !htmlPart:
		m.text, m.visible = text, text
	case rng.Float64() < 0.6:
		m.text, m.html = text, htmlBody
	default: // HTML only
		m.html = htmlBody
	}
	name := pick(rng, spoofNames)
	var fromDomain, local, auth string
	mx := mailHost(c.Account.Email)
	switch x := rng.Float64(); {
	case x < 0.35: // from the lookalike domain itself, which the attacker set up properly
		fromDomain, local = strings.TrimPrefix(d.ASCII, "www."), pick(rng, []string{"service", "security", "no-reply", "orders"})
		if rng.Float64() < 0.7 {
			auth = fmt.Sprintf("spf=pass smtp.mailfrom=%s; dkim=pass header.d=%s; dmarc=pass header.from=%s", fromDomain, fromDomain, fromDomain)
		} else {
			auth = fmt.Sprintf("spf=pass smtp.mailfrom=%s; dkim=none; dmarc=none header.from=%s", fromDomain, fromDomain)
		}
	case x < 0.6: // the shop's own address, forged
		fromDomain, local = ShopDomain, pick(rng, []string{"orders", "security", "service"})
		auth = fmt.Sprintf("spf=fail smtp.mailfrom=%s; dkim=none; dmarc=fail (p=quarantine dis=quarantine) header.from=%s", ShopDomain, ShopDomain)
	case x < 0.8: // a free mailbox with the shop's name
		fromDomain = pick(rng, freemail)
		local = pick(rng, []string{"northwind.support", "northwind.service.team", "nw.customer.care"}) + fmt.Sprint(rng.IntN(100))
		auth = fmt.Sprintf("spf=pass smtp.mailfrom=%s; dkim=pass header.d=%s; dmarc=pass header.from=%s", fromDomain, fromDomain, fromDomain)
	default: // a small business's mail server the attacker broke into
		fromDomain, local = pick(rng, compromisedDomains), pick(rng, []string{"info", "kontakt", "office", "contact"})
		auth = fmt.Sprintf("spf=softfail smtp.mailfrom=%s; dkim=none; dmarc=none header.from=%s", fromDomain, fromDomain)
	}
	from := fmt.Sprintf("%s <%s@%s>", mimeName(name), local, fromDomain)
	m.sender = fmt.Sprintf("%s <%s@%s>", name, local, fromDomain)
	ip := fmt.Sprintf("%d.%d.%d.%d", pick(rng, []int{45, 91, 185, 193}), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	helo := "mail." + fromDomain
	if fromDomain == ShopDomain {
		helo = "vps" + fmt.Sprint(rng.IntN(9999)) + ".hosting-cheap.example"
	}
	m.header = []string{
		"Return-Path: <bounce-" + randomToken(rng, 8) + "@" + helo + ">",
		fmt.Sprintf("Received: from %s (%s [%s])\r\n\tby %s with ESMTPS id %s\r\n\tfor <%s>; %s", helo, helo, ip, mx, randomToken(rng, 12), c.Account.Email, now.Format(time.RFC1123Z)),
	}
	if rng.Float64() < 0.85 { // some small providers write none
		m.header = append(m.header, "Authentication-Results: "+mx+";\r\n\t"+strings.ReplaceAll(auth, "; ", ";\r\n\t"))
	}
	m.header = append(m.header, "From: "+from)
	if rng.Float64() < 0.5 {
		rt := pick(rng, []string{"northwind.helpdesk@gmail.com", "support@northwind-help.net", "claims@" + pick(rng, campaignDomains).ASCII})
		m.header = append(m.header, "Reply-To: "+rt)
	}
	m.header = append(m.header, "To: "+mimeName(c.Account.Name)+" <"+c.Account.Email+">",
		"Subject: "+mime.QEncoding.Encode("utf-8", pick(rng, []string{"", "", "⚠️ ", "URGENT: ", "Re: "})+fill(pick(rng, p.subjects), vars)),
		"Date: "+now.Format(time.RFC1123Z),
		"Message-ID: <"+randomToken(rng, 16)+"@"+helo+">",
		"MIME-Version: 1.0")
	return m
}

// smsSender is who a phishing text says it is from: a sender name like
// the shop's (which phones show as they are sent) or a mobile number.
func smsSender(rng *rand.Rand) string {
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf("+44 7700 900%03d", rng.IntN(1000))
	case 1:
		return fmt.Sprintf("+33 6 44 %02d %02d 18", rng.IntN(100), rng.IntN(100))
	}
	return pick(rng, []string{"Northwind", "NWIND-INFO", "N0rthwind", "NW-Secure"})
}

// mimeName writes a display name for a header (encoded when it is not
// ASCII, quoted when it has specials).
func mimeName(name string) string {
	for _, r := range name {
		if r >= utf8.RuneSelf {
			return mime.QEncoding.Encode("utf-8", name)
		}
	}
	if strings.ContainsAny(name, `.,()<>@:;"[]`) {
		return `"` + name + `"`
	}
	return name
}

// genuineMessage is one of the shop's own messages to customer c:
// authenticated e-mails from its domain, texts from its sender name,
// every link on its own site (or a carrier's tracking page).
func genuineMessage(rng *rand.Rand, c *customer, now time.Time) campaignMessage {
	vars := messageVars(rng, c)
	site := "https://" + ShopDomain
	m := campaignMessage{}
	if rng.Float64() < 0.35 {
		m.channel, m.sender = "sms", "Northwind"
		switch rng.IntN(3) {
		case 0:
			m.text = fill("Northwind Outfitters: your order {ref} has shipped. Track it here: "+site+"/t/{tok}", vars)
		case 1:
			m.text = fmt.Sprintf("Your Northwind Outfitters verification code is %06d. It expires in 10 minutes. We will never call you to ask for it.", rng.IntN(1_000_000))
		default:
			m.text = fill("Northwind Outfitters: your order {ref} will be delivered today between 14:00 and 18:00. Change the delivery: "+site+"/orders/{ref}/delivery", vars)
		}
		return m
	}
	m.channel = "email"
	local, subject := "orders", ""
	ps := []paragraph{{text: fill(pick(rng, []string{"Hello {first},", "Hi {first},", "Dear {name},"}), vars)}}
	switch rng.IntN(4) {
	case 0:
		subject = fill("Your order {ref} is on its way", vars)
		track := fmt.Sprintf("00340434%010d", rng.IntN(1e9))
		carrier := pick(rng, []paragraph{
			{text: "Follow your parcel: {link}", href: site + "/t/" + vars["tok"], shown: "Track your parcel"},
			{text: "Follow your parcel with DHL: {link}", href: "https://www.dhl.de/en/privatkunden/pakete-empfangen/verfolgen.html?piececode=" + track, shown: "Track with DHL"},
			{text: "Follow your parcel with DPD: {link}", href: "https://tracking.dpd.de/status/en_US/parcel/" + track, shown: "Track with DPD"},
		})
		ps = append(ps, paragraph{text: fill("Good news: your order {ref} has shipped and should arrive within 3 days.", vars)}, carrier,
			paragraph{text: "See your order: {link}", href: site + "/orders/" + vars["ref"], shown: "Your order"})
	case 1:
		local, subject = "no-reply", "Reset your password"
		ps = append(ps, paragraph{text: "We received a request to reset the password of your Northwind Outfitters account. You can choose a new one here:"},
			paragraph{text: "{link}", href: site + "/account/reset?token=" + randomToken(rng, 32), shown: "Choose a new password"},
			paragraph{text: "This link expires in 60 minutes. If you did not ask for it, ignore this e-mail: your password stays the same."})
	case 2:
		subject = fill("Thank you for your order {ref}", vars)
		ps = append(ps, paragraph{text: fill("Thank you for shopping with us. We have received your order {ref} for {amount} and will let you know when it ships.", vars)},
			paragraph{text: "See your order: {link}", href: site + "/orders/" + vars["ref"], shown: "View your order"})
	default:
		local, subject = "news", pick(rng, []string{"Winter sale: 30 % off jackets and boots", "New in: coffee from Ethiopia", "Your exclusive offer for the weekend"})
		ps = append(ps, paragraph{text: "Our winter sale starts today: 30 % off rain jackets, hiking boots and tents while stocks last."},
			paragraph{text: "{link}", href: site + "/?q=sale&utm_source=newsletter&utm_medium=email&utm_campaign=winter", shown: "Shop the sale"},
			paragraph{text: "You receive this newsletter because you subscribed in your account. Unsubscribe: {link}", href: site + "/account/newsletter?u=" + vars["tok"], shown: "unsubscribe"})
	}
	ps = append(ps, paragraph{text: "Northwind Outfitters"})
	text, htmlBody, visible := renderBody(ps)
	m.text, m.html, m.visible = text, htmlBody, visible
	m.sender = "Northwind Outfitters <" + local + "@" + ShopDomain + ">"
	mx := mailHost(c.Account.Email)
	m.header = []string{
		"Return-Path: <bounce+" + randomToken(rng, 10) + "@mail." + ShopDomain + ">",
		fmt.Sprintf("Received: from mail.%s (mail.%s [203.0.113.25])\r\n\tby %s with ESMTPS id %s\r\n\tfor <%s>; %s", ShopDomain, ShopDomain, mx, randomToken(rng, 12), c.Account.Email, now.Format(time.RFC1123Z)),
		fmt.Sprintf("Authentication-Results: %s;\r\n\tdkim=pass header.d=%s header.s=nw1;\r\n\tspf=pass smtp.mailfrom=mail.%s;\r\n\tdmarc=pass (p=reject) header.from=%s", mx, ShopDomain, ShopDomain, ShopDomain),
		"From: Northwind Outfitters <" + local + "@" + ShopDomain + ">",
		"Reply-To: support@" + ShopDomain,
		"To: " + mimeName(c.Account.Name) + " <" + c.Account.Email + ">",
		"Subject: " + subject,
		"Date: " + now.Format(time.RFC1123Z),
		"Message-ID: <" + randomToken(rng, 16) + "@mail." + ShopDomain + ">",
		"MIME-Version: 1.0",
	}
	return m
}

// source is an e-mail's source as "Show original" shows it.
func (m campaignMessage) source(rng *rand.Rand) string {
	var b strings.Builder
	for _, h := range m.header {
		b.WriteString(h + "\r\n")
	}
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	const enc = "Content-Transfer-Encoding: 8bit\r\n"
	switch {
	case m.html == "":
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n" + enc + "\r\n" + crlf(m.text) + "\r\n")
	case m.text == "":
		b.WriteString("Content-Type: text/html; charset=utf-8\r\n" + enc + "\r\n" + crlf(m.html))
	default:
		boundary := "=_" + randomToken(rng, 20)
		b.WriteString("Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n")
		b.WriteString("--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n" + enc + "\r\n" + crlf(m.text) + "\r\n")
		b.WriteString("--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n" + enc + "\r\n" + crlf(m.html))
		b.WriteString("--" + boundary + "--\r\n")
	}
	return b.String()
}

// form is the report form as the customer fills it in: an e-mail's
// source (as the page asks) or, for some, the text they see with the
// sender; a text message or chat message with its sender.
func (m campaignMessage) form(rng *rand.Rand) url.Values {
	v := url.Values{"channel": {m.channel}}
	switch {
	case m.channel != "email":
		v.Set("message", m.text)
		if rng.Float64() < 0.85 {
			v.Set("sender", m.sender)
		}
	case rng.Float64() < 0.75:
		v.Set("message", m.source(rng))
	default:
		v.Set("message", m.visible)
		if rng.Float64() < 0.6 {
			v.Set("sender", m.sender)
		}
	}
	return v
}

// runPhishingCampaign plays an attacker who registered lookalikes of the
// shop's domain and sends its customers texts and e-mails in the shop's
// name, from a tenth of the run to four fifths of it, while the shop
// sends its own; some customers forward what they received to the
// shop's report page.
func runPhishingCampaign(ctx context.Context, st *Stage) {
	if !st.WaitUntil(ctx, 0.1) {
		return
	}
	// Messages received per second: one per five shopping sessions.
	rate := st.sim.cfg.Rate / 5
	stop := time.Duration(0.8 * float64(st.sim.cfg.Duration))
	customers := st.sim.pop.customers
	for st.sim.Elapsed() < stop {
		if !sleep(ctx, time.Duration(st.rng.ExpFloat64()/rate*float64(time.Second))) {
			break
		}
		c := customers[st.rng.IntN(len(customers))]
		genuine := st.rng.Float64() < campaignGenuineShare
		share := forwardPhishingShare
		if genuine {
			share = forwardGenuineShare
		}
		if st.rng.Float64() >= share { // ignored, deleted, or (not simulated here) clicked
			continue
		}
		st.Go(func(rng *rand.Rand, _ int64) {
			m := phishingMessage(rng, c, st.sim.now())
			if genuine {
				m = genuineMessage(rng, c, st.sim.now())
			}
			forwardMessage(ctx, st, rng, c, m)
		})
	}
	st.Wait()
}

// forwardMessage plays a customer who forwards a message to the shop's
// report page from their own device: the form, then the page it leads to.
func forwardMessage(ctx context.Context, st *Stage, rng *rand.Rand, c *customer, m campaignMessage) {
	if !st.Think(ctx, rng, 5*time.Second, 30*time.Second) { // read it, hesitated
		return
	}
	truth := Truth{Actor: c.Account.ID, Scenario: "phishing_campaign", Fraud: m.phishing}
	dev := pick(rng, c.Devices)
	b := st.NewBrowser(truth, dev.ID, pick(rng, c.HomeIPs), dev.UserAgent)
	// The redirect after the form is followed by hand below, so that the
	// page it names is a request of its own.
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if _, err := b.Get(ctx, ReportMessagePath); err != nil || !st.Think(ctx, rng, 4*time.Second, 15*time.Second) {
		return
	}
	resp, err := b.Post(ctx, ReportMessagePath, m.form(rng))
	if err != nil || resp.Status != http.StatusSeeOther {
		return
	}
	loc := resp.Header.Get("Location")
	id, ok := strings.CutPrefix(loc, ReportMessagePath+"/")
	if !ok || !validToken(id) {
		return
	}
	// A browser follows the redirect even when the run ends meanwhile.
	_, _ = b.Get(context.WithoutCancel(ctx), loc)
}
