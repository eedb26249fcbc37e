package assistant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
)

// Evidence codes of a message verdict.
const (
	evCodeMatches      = "code_registered"
	evCodeOtherUser    = "code_sent_to_someone_else"
	evCodeUnknown      = "code_not_registered"
	evLinksRegistered  = "links_registered"
	evLinkNotInMessage = "link_not_in_registered_message"
	evLinkUnregistered = "link_not_registered"
	evLookalike        = "lookalike_domain"
	evPhishingLink     = "phishing_link"
	evPhishingCues     = "phishing_cues"
	evNothingSentLater = "no_registered_message_to_customer"
)

// verification is what the checks found about one pasted message.
type verification struct {
	verdict  string
	evidence []string
	message  *storage.OutboundMessage // the registered message it is, or whose code it bears
	why      []string                 // sentences for the customer
	checked  *phishing.MessageResult
}

// looksLikeMessage reports whether s carries something to verify: a
// link, a verification code, or the length of a pasted message.
func looksLikeMessage(s string) bool {
	if len(codesIn(s)) > 0 || len([]rune(s)) >= 140 {
		return true
	}
	return strings.Contains(s, "://") || strings.Contains(strings.ToLower(s), "www.")
}

// verify checks a pasted message for c's customer.
func (a *Assistant) verify(ctx context.Context, c *Conversation, text string) (verification, error) {
	var v verification
	var links []phishing.MessageLink
	var shop phishing.Shop
	if a.deps.Messages != nil {
		if a.deps.Shops != nil {
			var err error
			if shop, err = a.deps.Shops.Shop(ctx, c.Tenant); err != nil {
				return v, fmt.Errorf("assistant: the shop's profile: %w", err)
			}
		}
		res, err := a.deps.Messages.CheckMessage(c.Tenant, phishing.Message{Channel: phishing.ChannelChat, Text: text}, shop)
		if err != nil {
			return v, fmt.Errorf("assistant: checking the message: %w", err)
		}
		v.checked, links = &res, res.Links
	}
	var canon []string
	for _, l := range links {
		if l.Check.Canonical != "" && !slices.Contains(canon, l.Check.Canonical) {
			canon = append(canon, l.Check.Canonical)
		}
	}
	reg := a.deps.Registry
	// 1. A verification code settles it, if its message's links are the
	// pasted ones.
	for _, code := range codesIn(text) {
		if reg == nil {
			break
		}
		m, err := reg.OutboundByCode(ctx, c.Tenant, code)
		if errors.Is(err, storage.ErrNotFound) {
			v.evidence = append(v.evidence, evCodeUnknown)
			v.why = append(v.why, fmt.Sprintf("The code %s is not one we have given out.", code))
			continue
		}
		if err != nil {
			return v, fmt.Errorf("assistant: the register: %w", err)
		}
		v.message = &m
		if c.UserID != "" && m.UserID != "" && m.UserID != c.UserID {
			v.evidence = append(v.evidence, evCodeOtherUser)
			v.why = append(v.why, fmt.Sprintf("The code %s belongs to a message we sent to someone else, not to you.", code))
			continue
		}
		var foreign []string
		for _, l := range canon {
			if !slices.Contains(m.Links, l) {
				foreign = append(foreign, l)
			}
		}
		if len(foreign) > 0 {
			v.evidence = append(v.evidence, evCodeMatches, evLinkNotInMessage)
			v.why = append(v.why, fmt.Sprintf("The code %s is from a real message of ours, but this one has a link we did not put in it: %s. Someone has copied our message and changed the link.",
				code, displayLink(foreign[0])))
			v.verdict = VerdictNotOurs
			return v, nil
		}
		v.evidence = append(v.evidence, evCodeMatches)
		v.verdict = VerdictGenuine
		return v, nil
	}
	// 2. The links: ours if registered, imitations if the checks say so.
	var registered, unregistered []string
	for _, l := range canon {
		if reg == nil {
			break
		}
		ms, err := reg.OutboundByLink(ctx, c.Tenant, l, 1)
		if err != nil {
			return v, fmt.Errorf("assistant: the register: %w", err)
		}
		if len(ms) > 0 {
			registered = append(registered, l)
			if v.message == nil {
				v.message = &ms[0]
			}
		} else {
			unregistered = append(unregistered, l)
		}
	}
	bad := false
	for _, l := range links {
		switch {
		case l.Check.Lookalike != nil:
			bad = true
			v.evidence = append(v.evidence, evLookalike)
			v.why = append(v.why, fmt.Sprintf("The link goes to %s, which imitates our %s.", hostOf(l.Check), l.Check.Lookalike.Brand))
		case l.Check.Verdict == phishing.VerdictPhishing:
			bad = true
			v.evidence = append(v.evidence, evPhishingLink)
			v.why = append(v.why, fmt.Sprintf("The link goes to %s: %s.", hostOf(l.Check), strongestReason(l.Check.Reasons)))
		}
	}
	if v.checked != nil && v.checked.Verdict == phishing.VerdictPhishing && !bad {
		bad = true
		v.evidence = append(v.evidence, evPhishingCues)
		v.why = append(v.why, "It has the marks of a phishing message: "+strongestReason(v.checked.Reasons)+".")
	}
	switch {
	case bad || slices.Contains(v.evidence, evCodeUnknown) || slices.Contains(v.evidence, evCodeOtherUser):
		v.verdict = VerdictNotOurs
		if len(unregistered) > 0 && reg != nil {
			v.evidence = append(v.evidence, evLinkUnregistered)
		}
		return v, nil
	case len(registered) > 0 && len(unregistered) == 0:
		v.evidence = append(v.evidence, evLinksRegistered)
		v.verdict = VerdictGenuine
		return v, nil
	case len(unregistered) > 0 && reg != nil && allOurs(unregistered, shop.Protected):
		// Our own site, not a message of ours: a link a friend shared, or
		// one copied from the site. Nothing says it is a trap, nothing
		// that it came from us.
		v.evidence = append(v.evidence, evLinkUnregistered)
		v.why = append(v.why, fmt.Sprintf("The link leads to our own site (%s), but we have no record of sending it to you.", displayLink(unregistered[0])))
	case len(unregistered) > 0 && reg != nil:
		v.evidence = append(v.evidence, evLinkUnregistered)
		v.why = append(v.why, fmt.Sprintf("We never sent a link to %s.", displayLink(unregistered[0])))
		v.verdict = VerdictNotOurs
		return v, nil
	}
	// 3. Nothing in the message decides: what did we send this customer?
	if reg != nil && c.UserID != "" {
		sent, err := reg.OutboundMessages(ctx, storage.OutboundQuery{Tenant: c.Tenant, UserID: c.UserID,
			Since: a.cfg.Now().Add(-a.cfg.RegistryWindow), Limit: 3})
		if err != nil {
			return v, fmt.Errorf("assistant: the register: %w", err)
		}
		if len(sent) == 0 {
			v.evidence = append(v.evidence, evNothingSentLater)
			v.why = append(v.why, fmt.Sprintf("We have not sent you any message in the last %d days.", int(a.cfg.RegistryWindow.Hours()/24)))
			v.verdict = VerdictNotOurs
			return v, nil
		}
	}
	v.verdict = VerdictUnknown
	return v, nil
}

// allOurs reports whether every link is on one of the protected domains.
func allOurs(links, protected []string) bool {
	for _, l := range links {
		u, err := phishing.Parse(l)
		if err != nil || !slices.Contains(protected, u.RegisteredDomain) {
			return false
		}
	}
	return len(protected) > 0
}

// verdictText is the reply about a verified message.
func verdictText(v verification, c *Conversation, reported string) string {
	var b strings.Builder
	switch v.verdict {
	case VerdictGenuine:
		m := v.message
		what := humanTemplate(m.Template)
		if m.Summary != "" && (c.UserID != "" && m.UserID == c.UserID || m.UserID == "") {
			what = fmt.Sprintf("%s (%s)", what, m.Summary)
		}
		fmt.Fprintf(&b, "Yes, this is genuine: we sent this %s by %s on %s.", what, channelName(m.Channel), m.SentAt.Format("2 January 2006 at 15:04 MST"))
		b.WriteString(" Even so, we will never ask you for your password or card number by message.")
	case VerdictNotOurs:
		b.WriteString("No, we did not send this. ")
		b.WriteString(strings.Join(v.why, " "))
		b.WriteString(" Don't click its links, don't enter your password or card details, and don't reply to it.")
		if reported != "" {
			fmt.Fprintf(&b, " We have reported it to our security team (report %s).", reported)
		}
	default:
		b.WriteString("I can't confirm that this message is from us: it carries no verification code and no link we registered.")
		if len(v.why) > 0 {
			b.WriteString(" " + strings.Join(v.why, " "))
		}
		b.WriteString(" To be safe, don't use its links: open our site by typing its address yourself. Our genuine messages show a verification code (like 7KQ4-MD2X) that you can give me to check.")
	}
	return b.String()
}

func hostOf(r phishing.Result) string {
	if r.UnicodeHost != "" {
		return r.UnicodeHost
	}
	return r.Host
}

// displayLink shortens a canonical link for a reply.
func displayLink(l string) string {
	if u, err := phishing.Parse(l); err == nil && u.Host != "" {
		if u.UnicodeHost != "" {
			return u.UnicodeHost
		}
		return u.Host
	}
	return l
}

func strongestReason(rs []phishing.Reason) string {
	best := phishing.Reason{Message: "it looks like a phishing site"}
	for _, r := range rs {
		if r.Weight > best.Weight {
			best = r
		}
	}
	return strings.TrimSuffix(best.Message, ".")
}

// humanTemplate turns "order_confirmation" into "order confirmation".
func humanTemplate(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "_", " "), "-", " ")
}

func channelName(ch string) string {
	switch ch {
	case storage.OutboundEmail:
		return "e-mail"
	case storage.OutboundSMS:
		return "text message"
	case storage.OutboundPush:
		return "app notification"
	case storage.OutboundPhone:
		return "phone"
	}
	return ch
}

// fileReport files a customer's phishing report of text from c.
func (a *Assistant) fileReport(ctx context.Context, c *Conversation, text, note string, now time.Time) (string, error) {
	if a.deps.Reports == nil {
		return "", nil
	}
	if len(text) > storage.MaxReportMessage {
		text = text[:storage.MaxReportMessage]
	}
	rep := storage.PhishingReport{Tenant: c.Tenant, Kind: storage.ReportKindMessage, Message: text, Reporter: storage.ReporterCustomer,
		ReporterID: c.UserID, Note: note, CreatedAt: now.Truncate(time.Microsecond), Status: storage.ReportPending}
	rep, err := storage.FileReport(ctx, a.deps.Reports, rep)
	if err != nil {
		return "", fmt.Errorf("assistant: filing the report: %w", err)
	}
	return rep.ID, nil
}
