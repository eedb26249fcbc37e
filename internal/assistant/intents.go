// Package assistant is shopguard's customer-support assistant: it answers
// a shop's customers in a chat, tells them with certainty whether a
// message that claims to come from the shop is genuine (the shop's
// register of what it really sent, and the phishing checks), files their
// phishing reports, and never lets a sensitive request (a new e-mail
// address, a new payout account, order details) through without a
// passkey or authenticator-app step-up. What a customer writes is data,
// never instructions: the assistant's decisions come from its own
// classifier and fixed rules, not from the text.
package assistant

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/shopguard/shopguard/internal/ml/text"
)

// Intents the assistant recognises.
const (
	IntentGreeting        = "greeting"
	IntentGoodbye         = "goodbye"
	IntentOrderStatus     = "order_status"
	IntentReturnRefund    = "return_refund"
	IntentCancelOrder     = "cancel_order"
	IntentShippingInfo    = "shipping_info"
	IntentPaymentProblem  = "payment_problem"
	IntentVerifyMessage   = "verify_message"
	IntentReportPhishing  = "report_phishing"
	IntentChangeEmail     = "change_email"
	IntentChangeAddress   = "change_address"
	IntentChangePhone     = "change_phone"
	IntentChangePayout    = "change_payout"
	IntentResetPassword   = "reset_password"
	IntentOrderDetails    = "order_details"
	IntentAccountSecurity = "account_security"
	IntentHumanAgent      = "human_agent"
)

// Intents lists every intent, in the order documentation shows them.
var Intents = []string{IntentGreeting, IntentGoodbye, IntentOrderStatus, IntentReturnRefund, IntentCancelOrder,
	IntentShippingInfo, IntentPaymentProblem, IntentVerifyMessage, IntentReportPhishing, IntentChangeEmail,
	IntentChangeAddress, IntentChangePhone, IntentChangePayout, IntentResetPassword, IntentOrderDetails,
	IntentAccountSecurity, IntentHumanAgent}

// Example is one labelled utterance.
type Example struct {
	Intent string
	Text   string
}

// ReadExamples reads "intent<TAB>utterance" lines; empty lines and lines
// starting with # are skipped. Every intent must be one of Intents.
func ReadExamples(r io.Reader) ([]Example, error) {
	var out []Example
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		intent, utterance, ok := strings.Cut(line, "\t")
		switch {
		case !ok || strings.TrimSpace(utterance) == "" || strings.Contains(utterance, "\t"):
			return nil, fmt.Errorf("assistant: line %d: want intent<TAB>utterance", n)
		case !slices.Contains(Intents, intent):
			return nil, fmt.Errorf("assistant: line %d: unknown intent %q", n, intent)
		}
		out = append(out, Example{Intent: intent, Text: utterance})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("assistant: reading examples: %w", err)
	}
	return out, nil
}

//go:embed intents/train.tsv
var trainingData []byte

// TrainingExamples returns the intent examples the assistant is trained
// on (intents/train.tsv, written by the project).
func TrainingExamples() ([]Example, error) { return ReadExamples(bytes.NewReader(trainingData)) }

// Classifier recognises a customer's intent: one logistic regression per
// intent (that intent against the others) over character and word
// n-grams, which tolerates typos and unseen phrasings.
type Classifier struct {
	intents []string
	models  []*text.Model
}

// classifierFeatures are the n-grams utterances are hashed into.
var classifierFeatures = text.Features{CharMin: 2, CharMax: 5, WordMin: 1, WordMax: 2, Bits: 18}

// ErrTooFewExamples means an intent had too few examples to learn.
var ErrTooFewExamples = errors.New("assistant: every intent needs at least 5 examples")

// TrainClassifier learns the intents of examples; every intent of
// Intents needs at least 5.
func TrainClassifier(examples []Example) (*Classifier, error) {
	counts := map[string]int{}
	texts := make([]string, len(examples))
	for i, e := range examples {
		counts[e.Intent]++
		texts[i] = e.Text
	}
	for _, intent := range Intents {
		if counts[intent] < 5 {
			return nil, fmt.Errorf("%w: %s has %d", ErrTooFewExamples, intent, counts[intent])
		}
	}
	// The utterances are hashed once for all the intents' models, which
	// train side by side.
	vecs := make([]text.Vector, len(texts))
	for i, t := range texts {
		vecs[i] = classifierFeatures.Vectorize(t)
	}
	c := &Classifier{intents: slices.Clone(Intents), models: make([]*text.Model, len(Intents))}
	var wg sync.WaitGroup
	for k, intent := range Intents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			labels := make([]bool, len(examples))
			for i, e := range examples {
				labels[i] = e.Intent == intent
			}
			c.models[k] = text.TrainVectors(classifierFeatures, vecs, labels, text.TrainConfig{Epochs: 10, NB: true, Orders: 2, Seed: 1,
				PositiveWeight: float64(len(examples)-counts[intent]) / float64(counts[intent]) / 4})
		}()
	}
	wg.Wait()
	return c, nil
}

// Scored is an intent and the classifier's belief in it: the share of
// the intents' one-against-the-rest probabilities that fell to it (all
// Scored of one text sum to 1).
type Scored struct {
	Intent string  `json:"intent"`
	Score  float64 `json:"score"`
}

// Classify returns every intent scored for t, most likely first.
func (c *Classifier) Classify(t string) []Scored {
	probs := make([]float64, len(c.models))
	text.ScoreModels(t, c.models, probs)
	var sum float64
	for _, p := range probs {
		sum += p
	}
	out := make([]Scored, len(probs))
	for i, p := range probs {
		out[i] = Scored{Intent: c.intents[i], Score: p / max(sum, 1e-9)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// Confidence thresholds: below them the assistant asks which of the
// likeliest intents the customer means instead of acting on a guess.
const (
	minTopScore = 0.40
	minMargin   = 0.15
)

// sure reports whether the classifier's answer is clear enough to act on.
func sure(s []Scored) bool {
	return len(s) > 0 && s[0].Score >= minTopScore && (len(s) == 1 || s[0].Score-s[1].Score >= minMargin)
}

// Sure reports whether the most likely of s (as Classify returns them)
// is clear enough for the assistant to act on without asking.
func Sure(s []Scored) bool { return sure(s) }
