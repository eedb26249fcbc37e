package assistant

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/storage"
)

// neverAsk is said with every step-up: real phishing cannot say it and
// then pass the check.
const neverAsk = "We will never ask you for your password, a card number, or a code sent to you by text or e-mail in this chat."

// sensitive maps the intents that need a step-up to the action type the
// challenge guards and what the customer is told it is for.
var sensitive = map[string]struct{ action, does string }{
	IntentChangeEmail:   {"change_email", "change the e-mail address of your account"},
	IntentChangeAddress: {"change_address", "change your address"},
	IntentChangePhone:   {"change_phone", "change your phone number"},
	IntentChangePayout:  {"change_payout", "change your payout bank details"},
	IntentResetPassword: {"change_password", "change your password"},
	IntentOrderDetails:  {"disclose_order", "show you your order details"},
}

// defaultAnswers are the replies to intents that need nothing but words,
// until the shop gives its own (Config.Answers).
var defaultAnswers = map[string]string{
	IntentGoodbye: "You're welcome. If anything about a message from us ever looks odd, ask me here first. Goodbye!",
	IntentOrderStatus: "You can follow your orders in your account, with the carrier's tracking link once an order has shipped. " +
		"If one is late, tell me its order number and I'll pass it to our team.",
	IntentReturnRefund: "You can start a return from the order in your account; the refund goes back to the way you paid once the return reaches us. " +
		"How long you have to return an item is on our returns page.",
	IntentCancelOrder:  "An order can be cancelled from your account until it ships. If it has shipped already, return it instead and you'll get a refund.",
	IntentShippingInfo: "Delivery costs and times for your country are shown at checkout before you pay; express delivery is offered where the carrier has it.",
	IntentPaymentProblem: "If a payment failed, nothing was taken; a pending amount from a failed attempt disappears within a few days. " +
		"If you were charged twice or the wrong amount, tell me the order number and our team will check it. Never send card details in this chat.",
	IntentAccountSecurity: "If you think someone else got into your account: change your password now (I can start that for you after a quick check that it's you), " +
		"sign out of other devices, and check your recent orders and addresses. I'll also ask a colleague to look at it.",
}

// AnswerIntents lists the intents whose answers a shop may replace.
func AnswerIntents() []string {
	out := make([]string, 0, len(defaultAnswers))
	for _, in := range Intents {
		if _, ok := defaultAnswers[in]; ok {
			out = append(out, in)
		}
	}
	return out
}

// manipulationHandoff is how many attempts to instruct the assistant get
// the conversation handed to staff.
const manipulationHandoff = 3

// respond answers in on c at now; it appends the customer's turn.
func (a *Assistant) respond(ctx context.Context, c *Conversation, in MessageInput, now time.Time) (Reply, error) {
	text, secrets := redact(in.Text)
	turn := Turn{Role: RoleCustomer, Text: text, At: now}
	var pre []string
	var acts []Action
	if len(secrets) > 0 {
		pre = append(pre, fmt.Sprintf("Please never share your %s, not even with us. I have removed it from this chat.", strings.Join(secrets, " or ")))
		acts = append(acts, Action{Type: ActionRedacted, Reason: strings.Join(secrets, ", ")})
		if slices.Contains(secrets, secretCode) {
			pre = append(pre, "If someone asked you for a code we sent you, that was not us.")
		}
	}
	if manipulates(text) {
		c.Manipulations++
		pre = append(pre, "I follow the same rules for everyone, whatever a message says.")
		if c.Manipulations == manipulationHandoff {
			c.Handoff = true
			acts = append(acts, Action{Type: ActionHandoff, Reason: "repeated attempts to instruct the assistant"})
		}
	}
	if in.Choice != "" {
		turn.Text = "[chose " + in.Choice + "]"
	}
	c.add(turn)
	r, err := a.dispatch(ctx, c, in, text, now)
	if err != nil {
		return Reply{}, err
	}
	if len(pre) > 0 {
		r.Text = strings.Join(pre, " ") + " " + r.Text
	}
	r.Actions = append(acts, r.Actions...)
	c.Turns[len(c.Turns)-1].Intent = r.Intent
	return r, nil
}

// dispatch decides what the message is and answers it.
func (a *Assistant) dispatch(ctx context.Context, c *Conversation, in MessageInput, text string, now time.Time) (Reply, error) {
	// A pending step-up is followed up first: its page closed, or the
	// customer says they are done.
	if c.Pending != nil && (in.StepUp != "" || in.Choice == "" && isAck(text)) {
		return a.followUp(ctx, c, in.StepUp, now)
	}
	if in.StepUp != "" {
		return Reply{Text: "I have no check open in this chat. What can I help you with?"}, nil
	}
	if in.Choice == "" && isAck(text) {
		return Reply{Text: "Is there anything else I can help you with?"}, nil
	}
	awaiting := c.Awaiting
	c.Awaiting = ""
	if in.Choice != "" {
		if awaiting != awaitChoice || !slices.Contains(Intents, in.Choice) {
			return Reply{Text: "That choice is no longer open. What can I help you with?"}, nil
		}
		return a.handle(ctx, c, in.Choice, 0, "", now)
	}
	scored := a.deps.Classifier.Classify(text)
	switch {
	case awaiting == awaitVerify && looksLikeMessage(text):
		return a.handle(ctx, c, IntentVerifyMessage, 0, text, now)
	case awaiting == awaitReport && looksLikeMessage(text):
		return a.handle(ctx, c, IntentReportPhishing, 0, text, now)
	case looksLikeMessage(text) && (scored[0].Intent == IntentVerifyMessage || scored[0].Intent == IntentReportPhishing ||
		len(codesIn(text)) > 0 || !sure(scored)):
		// A pasted message or link: check it whatever else the text says.
		intent := scored[0].Intent
		if intent != IntentReportPhishing {
			intent = IntentVerifyMessage
		}
		return a.handle(ctx, c, intent, scored[0].Score, text, now)
	case !sure(scored):
		c.Awaiting = awaitChoice
		var choices []Choice
		for _, s := range scored[:3] {
			choices = append(choices, Choice{Label: intentLabel(s.Intent), Value: s.Intent})
		}
		return Reply{Text: "I'm not sure I understood. Do you mean one of these?", Choices: choices}, nil
	}
	return a.handle(ctx, c, scored[0].Intent, scored[0].Score, text, now)
}

// handle answers an intent; text is the customer's message when it holds
// what the intent works on (a message to verify or report).
func (a *Assistant) handle(ctx context.Context, c *Conversation, intent string, conf float64, text string, now time.Time) (Reply, error) {
	r := Reply{Intent: intent, Confidence: conf}
	switch intent {
	case IntentGreeting:
		r.Text = greetingText(c.UserID != "")
	case IntentVerifyMessage, IntentReportPhishing:
		if text == "" || !looksLikeMessage(text) {
			if intent == IntentVerifyMessage {
				c.Awaiting = awaitVerify
				r.Text = "I can check that for you. Paste the message here, or just its link, or tell me the verification code it shows."
			} else {
				c.Awaiting = awaitReport
				r.Text = "Thank you for telling us. Paste the message or the link here and I'll check it and pass it to our security team."
			}
			return r, nil
		}
		return a.verifyReply(ctx, c, r, text, now)
	case IntentHumanAgent:
		c.Handoff = true
		r.Text = "I've asked a colleague from our team to take over this chat. They will never ask you for your password or card number either."
		r.Actions = []Action{{Type: ActionHandoff}}
	case IntentAccountSecurity:
		c.Handoff = true
		r.Text = a.answer(intent)
		r.Actions = []Action{{Type: ActionHandoff, Reason: "possible account takeover"}}
		r.Choices = []Choice{{Label: intentLabel(IntentResetPassword), Value: IntentResetPassword}}
		c.Awaiting = awaitChoice
	default:
		if _, ok := sensitive[intent]; ok {
			return a.stepUp(ctx, c, r, now)
		}
		r.Text = a.answer(intent)
		if a.deps.Writer != nil && text != "" && intent != IntentGoodbye {
			if w, err := a.deps.Writer.Write(ctx, Question{Intent: intent, Text: text, Guidance: r.Text}); err == nil {
				if g, ok := generated(w); ok {
					r.Text = g
					r.Actions = []Action{{Type: ActionGenerated}}
				}
			}
		}
	}
	return r, nil
}

// verifyReply checks a pasted message and answers; a message that is not
// ours, or one the customer reports, is filed as a phishing report.
func (a *Assistant) verifyReply(ctx context.Context, c *Conversation, r Reply, text string, now time.Time) (Reply, error) {
	v, err := a.verify(ctx, c, text)
	if err != nil {
		return Reply{}, err
	}
	var reported string
	if v.verdict == VerdictNotOurs || r.Intent == IntentReportPhishing && v.verdict != VerdictGenuine {
		if reported, err = a.fileReport(ctx, c, text, "reported in the support chat ("+v.verdict+"): "+strings.Join(v.evidence, ", "), now); err != nil {
			return Reply{}, err
		}
	}
	r.Text = verdictText(v, c, reported)
	if r.Intent == IntentReportPhishing && v.verdict == VerdictUnknown && reported != "" {
		r.Text += fmt.Sprintf(" I have passed it to our security team (report %s).", reported)
	}
	act := Action{Type: ActionVerdict, Verdict: v.verdict, Evidence: v.evidence}
	if v.message != nil && v.verdict == VerdictGenuine {
		act.MessageID = v.message.ID
	}
	r.Actions = []Action{act}
	if reported != "" {
		r.Actions = append(r.Actions, Action{Type: ActionReported, ReportID: reported})
	}
	return r, nil
}

// stepUp starts the step-up that guards a sensitive intent.
func (a *Assistant) stepUp(ctx context.Context, c *Conversation, r Reply, now time.Time) (Reply, error) {
	s := sensitive[r.Intent]
	switch {
	case c.UserID == "" && r.Intent == IntentResetPassword:
		r.Text = "Use \"Forgot password\" on the sign-in page: it sends a reset link to the e-mail address of your account. " + neverAsk
		r.Actions = []Action{{Type: ActionRefused, Intent: r.Intent, Reason: "not signed in"}}
		return r, nil
	case c.UserID == "":
		r.Text = fmt.Sprintf("I can only %s for a signed-in customer, after a check that it's really you. Please sign in and open this chat again. %s", s.does, neverAsk)
		r.Actions = []Action{{Type: ActionRefused, Intent: r.Intent, Reason: "not signed in"}}
		return r, nil
	case a.deps.StepUps == nil:
		c.Handoff = true
		r.Text = fmt.Sprintf("I can't %s from this chat; I've asked a colleague to help you. %s", s.does, neverAsk)
		r.Actions = []Action{{Type: ActionHandoff, Intent: r.Intent, Reason: "step-up unavailable"}}
		return r, nil
	}
	if c.Pending != nil && c.Pending.Intent == r.Intent {
		r.Text = "The check for this is still open: please approve it in the window I opened (or open it again with the button). " + neverAsk
		r.Actions = []Action{{Type: ActionStepUp, Intent: r.Intent, ChallengeID: c.Pending.ChallengeID, HostedURL: c.Pending.HostedURL}}
		return r, nil
	}
	ret := ""
	if c.ReturnURL != "" {
		ret = withQuery(c.ReturnURL, "action", s.action)
	}
	ch, err := a.deps.StepUps.Create(ctx, c.Tenant, authn.ChallengeInput{UserID: c.UserID, DeviceID: c.DeviceID, ReturnURL: ret,
		Action: authn.Action{Type: s.action, Description: "Asked in the support chat: " + s.does, Reference: c.ID}})
	if errors.Is(err, authn.ErrNoFactor) {
		c.Handoff = true
		r.Text = fmt.Sprintf("To %s I must first check that it's you with a passkey or an authenticator app, and your account has neither yet. "+
			"You can add one under Account → Security. Until then I've asked a colleague to help you; they will verify you another way. %s", s.does, neverAsk)
		r.Actions = []Action{{Type: ActionHandoff, Intent: r.Intent, Reason: "no second factor enrolled"}}
		return r, nil
	}
	if err != nil {
		return Reply{}, fmt.Errorf("assistant: starting the step-up: %w", err)
	}
	hosted := ""
	if a.deps.Pages != nil {
		hosted = a.deps.Pages.ChallengeURL(c.Tenant, ch.ID, ret)
	}
	c.Pending = &Pending{Intent: r.Intent, ChallengeID: ch.ID, HostedURL: hosted, Since: now}
	r.Text = fmt.Sprintf("To keep your account safe I need to check that it's really you before I %s. "+
		"Please approve it with your passkey (fingerprint or face unlock) or your authenticator app in the window that opens. %s", s.does, neverAsk)
	r.Actions = []Action{{Type: ActionStepUp, Intent: r.Intent, ChallengeID: ch.ID, HostedURL: hosted}}
	return r, nil
}

// followUp answers about the pending step-up.
func (a *Assistant) followUp(ctx context.Context, c *Conversation, id string, now time.Time) (Reply, error) {
	p := c.Pending
	r := Reply{Intent: p.Intent}
	if id != "" && id != p.ChallengeID {
		r.Text = "That is not the check this chat opened."
		return r, nil
	}
	ch, err := a.deps.StepUps.Get(ctx, c.Tenant, p.ChallengeID)
	if errors.Is(err, storage.ErrNotFound) {
		c.Pending = nil
		r.Text = "That check has expired, so nothing was changed. Ask me again if you still want to."
		r.Actions = []Action{{Type: ActionRefused, Intent: p.Intent, Reason: "expired"}}
		return r, nil
	}
	if err != nil {
		return Reply{}, fmt.Errorf("assistant: following the step-up: %w", err)
	}
	s := sensitive[p.Intent]
	switch ch.Status {
	case authn.StatusPassed:
		c.Pending = nil
		r.Text = fmt.Sprintf("Thank you, that's confirmed: you can now %s in the page the check opened.", strings.TrimPrefix(s.does, "show you "))
		if p.Intent == IntentOrderDetails {
			r.Text = "Thank you, that's confirmed: your order details are in the page the check opened."
		}
		r.Actions = []Action{{Type: ActionVerified, Intent: p.Intent, ChallengeID: ch.ID}}
	case authn.StatusPending:
		r.Text = "I don't see the check approved yet. Please finish it in the window I opened (or open it again with the button). " + neverAsk
		r.Actions = []Action{{Type: ActionStepUp, Intent: p.Intent, ChallengeID: ch.ID, HostedURL: p.HostedURL}}
	default:
		c.Pending = nil
		c.Handoff = true
		r.Text = "The check did not succeed, so nothing was changed. If you did not ask for this yourself, someone may be trying to get into your account: " +
			"I've asked a colleague to look at it."
		r.Actions = []Action{{Type: ActionRefused, Intent: p.Intent, ChallengeID: ch.ID, Reason: ch.Status}, {Type: ActionHandoff, Reason: "step-up " + ch.Status}}
	}
	return r, nil
}

// answer is the shop's answer to intent, or the default one.
func (a *Assistant) answer(intent string) string {
	if t, ok := a.cfg.Answers[intent]; ok {
		return t
	}
	return defaultAnswers[intent]
}

// isAck reports whether s only says the customer did what was asked.
func isAck(s string) bool {
	switch strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".! ") {
	case "done", "ok", "okay", "i did it", "finished", "did it", "approved", "i approved it", "i'm done", "im done", "completed", "all done", "yes":
		return true
	}
	return false
}

// greetingText is the first message of a conversation.
func greetingText(signedIn bool) string {
	s := "Hello! I can help with orders, returns, delivery and your account, and I can tell you whether a message that claims to be from us is genuine: just paste it here."
	if !signedIn {
		s += " To change account details, please sign in first."
	}
	return s + " " + neverAsk
}

// intentLabel is how a choice shows an intent.
func intentLabel(intent string) string {
	switch intent {
	case IntentVerifyMessage:
		return "Check whether a message is from us"
	case IntentReportPhishing:
		return "Report a scam message or site"
	case IntentHumanAgent:
		return "Talk to a person"
	case IntentResetPassword:
		return "Change my password"
	case IntentOrderDetails:
		return "See my order details"
	}
	s := humanTemplate(intent)
	return strings.ToUpper(s[:1]) + s[1:]
}

// withQuery adds name=value to u's query.
func withQuery(u, name, value string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	q.Set(name, value)
	p.RawQuery = q.Encode()
	return p.String()
}
