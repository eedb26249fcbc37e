// Package content judges what users post to a shop — reviews,
// questions, answers, comments, marketplace listings, profiles — before
// it is published: spam, malicious or phishing links, fake reviews and
// abusive language, with the spans of text that caused each verdict.
package content

// Finding is one thing in a post's text that counts against it (or, for
// hidden characters, that someone tried to hide something), with where it
// is: Start and End are byte offsets into the original text as posted
// (not into a normalised form), Start < End.
type Finding struct {
	// Code names what was found (the Code* constants).
	Code string `json:"code"`
	// Field is the part of the post it is in: "text" or "title" (Scan
	// leaves it empty; the assessment fills it in).
	Field string `json:"field,omitempty"`
	// Start and End delimit the finding in the original text.
	Start int `json:"start"`
	End   int `json:"end"`
	// Detail says what it is in words ("phone number", "Telegram handle
	// @cheapdeals", "insult \"idiot\"").
	Detail string `json:"detail,omitempty"`
}

// Codes of findings.
const (
	// CodeContactPhone is a phone number, also when spelled out or
	// spaced to dodge filters ("zero seven nine ...", "0 7 9 1 ...").
	CodeContactPhone = "contact_phone"
	// CodeContactEmail is an e-mail address, also obfuscated
	// ("jane at example dot com", "jane(at)example.com").
	CodeContactEmail = "contact_email"
	// CodeContactMessenger is a messenger handle or invitation:
	// WhatsApp, Telegram (@handle, t.me/...), Signal, WeChat, Kik, Snapchat,
	// Skype, Discord, Line, Viber, Instagram DM requests.
	CodeContactMessenger = "contact_messenger"
	// CodeOffPlatformPayment asks to pay outside the shop: wire/bank
	// transfer, Western Union, MoneyGram, gift cards, crypto wallets and
	// addresses, PayPal "friends and family", Zelle, Cash App, Venmo.
	CodeOffPlatformPayment = "offplatform_payment"
	// CodeAbuseInsult is an insult aimed at someone.
	CodeAbuseInsult = "abuse_insult"
	// CodeAbuseProfanity is profanity.
	CodeAbuseProfanity = "abuse_profanity"
	// CodeAbuseThreat is a threat of violence or harm.
	CodeAbuseThreat = "abuse_threat"
	// CodeHiddenZeroWidth is a run of zero-width or other invisible
	// characters inside the text.
	CodeHiddenZeroWidth = "hidden_zero_width"
	// CodeHiddenBidi is a bidirectional control character (right-to-left
	// override and friends) that reorders what a reader sees.
	CodeHiddenBidi = "hidden_bidi"
	// CodeMixedScript is a word mixing scripts with look-alike letters
	// ("pаypal" with a Cyrillic а) to dodge filters.
	CodeMixedScript = "mixed_script"
	// CodeShouting is text mostly in capitals, or runs of repeated
	// punctuation or letters ("!!!!!!", "soooooo").
	CodeShouting = "shouting"
	// CodeSpamPhrase is a phrase typical of spam ("click here", "earn
	// $500 a day", "limited offer", "100% free").
	CodeSpamPhrase = "spam_phrase"
	// CodeLink is a link in the text (the phishing check of it adds its
	// own code: CodeLinkPhishing, CodeLinkSuspicious).
	CodeLink = "link"
	// CodeLinkPhishing is a link the phishing check calls phishing or
	// finds on a known-bad list.
	CodeLinkPhishing = "link_phishing"
	// CodeLinkSuspicious is a link the phishing check calls suspicious.
	CodeLinkSuspicious = "link_suspicious"
)
