package phishing

import (
	"regexp"
	"slices"
	"strings"
)

// Kinds of cue: the levers phishing kits pull in their messages.
const (
	CueUrgency    = "urgency"
	CueCredential = "credential_request"
	CuePayment    = "payment_request"
	CueThreat     = "threat"
	CuePrize      = "prize"
)

// CueKinds lists the kinds of cue.
var CueKinds = []string{CueUrgency, CueCredential, CuePayment, CueThreat, CuePrize}

// Cue is a phrase of a message that pulls one of the levers, with its
// byte offsets in the text (for highlighting).
type Cue struct {
	Kind   string `json:"kind"`
	Phrase string `json:"phrase"`
	Start  int    `json:"start"`
	End    int    `json:"end"`
}

// cuePatterns are case-insensitive, word-bounded phrases per kind. They
// are English; a shop in another language adds its own with rules.
var cuePatterns = map[string]*regexp.Regexp{
	CueUrgency: cueRegexp(`urgent(ly)?`, `immediately`, `right away`, `act now`, `as soon as possible`, `asap`,
		`within (24|48|72) hours`, `within \d+ (hours|days|minutes)`, `today only`, `last (chance|warning|reminder)`,
		`final (notice|warning|reminder)`, `expires? (today|soon|in \d+)`, `time[- ]sensitive`, `don'?t delay`, `hurry`),
	CueCredential: cueRegexp(`(verify|confirm|validate|update|re-?enter) (your )?(account|identity|details|information|login|password|credentials|e-?mail)`,
		`(enter|provide|send|give) (us )?(your )?(password|pin|passcode|one[- ]time (code|password)|otp|security (code|question)|login details|sign[- ]in details)`,
		`password (will )?expire`, `log ?in to (verify|confirm|restore|unlock|secure)`, `sign ?in to (verify|confirm|restore|unlock|secure)`,
		`(verification|security|authentication) code`, `unusual (sign[- ]in|login|activity)`, `suspicious (activity|sign[- ]in|login)`),
	CuePayment: cueRegexp(`(update|confirm|verify|re-?enter) (your )?(payment|billing|card|bank)( details| information| method)?`,
		`payment (failed|declined|was unsuccessful|could not be processed)`, `card (number|details)`, `cvv|cvc`,
		`gift ?cards?`, `(bank|wire) transfer`, `bitcoin|crypto(currency)? wallet`, `(pay|settle) (a|the) (small )?(fee|charge)`,
		`customs (fee|charge|duty)`, `outstanding (balance|payment|invoice)`, `refund (is )?(pending|waiting|available)`),
	CueThreat: cueRegexp(`(account|order|card|access) (has been |will be |is )?(suspended|locked|closed|blocked|disabled|terminated|on hold|restricted)`,
		`(suspend|lock|close|block|disable|terminate|cancel)(ed)? your (account|order|card|access)`, `legal action`,
		`permanently (deleted|closed|lost)`, `failure to (comply|respond|verify|update)`, `avoid (suspension|closure|cancellation)`),
	CuePrize: cueRegexp(`(you('ve| have)? )?(won|win|winner)`, `prize`, `reward`, `congratulations`, `claim (your|now|it)`,
		`free (gift|voucher|iphone|coupon)`, `selected (for|to receive)`, `lucky`, `cash ?back bonus`, `exclusive offer`),
}

func cueRegexp(phrases ...string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)\b(` + strings.Join(phrases, "|") + `)\b`)
}

// maxCues bounds the cues reported per message.
const maxCues = 50

// FindCues returns the cues in text, in order of position.
func FindCues(text string) []Cue {
	var out []Cue
	for _, kind := range CueKinds {
		for _, loc := range cuePatterns[kind].FindAllStringIndex(text, maxCues) {
			out = append(out, Cue{Kind: kind, Phrase: text[loc[0]:loc[1]], Start: loc[0], End: loc[1]})
		}
	}
	slices.SortStableFunc(out, func(a, b Cue) int { return a.Start - b.Start })
	if len(out) > maxCues {
		out = out[:maxCues]
	}
	return out
}
