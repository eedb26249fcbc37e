package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"html"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shopguard/shopguard/client"
)

// totpPeriod is the authenticator apps' time step, in seconds.
const totpPeriod = 30

// TOTPEnroller is what setting up customers' authenticator apps needs from
// shopguard's API (a *client.Client).
type TOTPEnroller interface {
	EnrolTOTP(ctx context.Context, userID, issuer, accountName string) (*client.TOTPEnrolment, error)
	ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error)
	RemoveTOTP(ctx context.Context, userID string) error
}

var _ TOTPEnroller = (*client.Client)(nil)

// authenticator is the app on a customer's phone: the secret, and the last
// time step whose code the customer typed (shopguard accepts a step's
// code once, so the customer waits for the next one).
type authenticator struct {
	secret   string
	lastStep atomic.Int64
}

// code returns the code for a time step.
func (a *authenticator) code(step int64) (string, error) {
	return totp.GenerateCodeCustom(a.secret, time.Unix(step*totpPeriod, 0),
		totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// nextCode waits, if need be, for a time step whose code the customer has
// not typed yet, and returns its code; ok is false when ctx ends first.
func (a *authenticator) nextCode(ctx context.Context, now func() time.Time) (code string, ok bool, err error) {
	for {
		t := now()
		step := t.Unix() / totpPeriod
		last := a.lastStep.Load()
		if step <= last {
			if !sleep(ctx, time.Unix((last+1)*totpPeriod, 0).Sub(t)+10*time.Millisecond) {
				return "", false, nil
			}
			continue
		}
		if a.lastStep.CompareAndSwap(last, step) {
			code, err := a.code(step)
			return code, err == nil, err
		}
	}
}

// planApps picks the customers who set up an authenticator app (from
// their own source of randomness, so that the population stays the same).
func (p *population) planApps(rng *rand.Rand, share float64) {
	for _, c := range p.customers {
		c.wantsApp = rng.Float64() < share
	}
}

// EnrolApps sets up the authenticator app of the customers who have one,
// as each did once in the shop's account settings: shopguard makes the
// secret, the customer's phone keeps it (the shop does not), and the
// first code confirms it. An app enrolled by an earlier run against the
// same shopguard is replaced. It enrols a few customers at a time and
// returns how many apps it set up.
func (s *Sim) EnrolApps(ctx context.Context, e TOTPEnroller, issuer string) (int, error) {
	return s.forEachCustomer(func(c *customer) bool { return c.wantsApp },
		func(c *customer) error { return s.enrolApp(ctx, e, issuer, c) })
}

// forEachCustomer runs do, a few at a time, for the customers pick picks,
// and returns how many there were; the first failure stops a worker.
func (s *Sim) forEachCustomer(pick func(*customer) bool, do func(*customer) error) (int, error) {
	var todo []*customer
	for _, c := range s.pop.customers {
		if pick(c) {
			todo = append(todo, c)
		}
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	const workers = 4
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(todo); i += workers {
				if errs[i] = do(todo[i]); errs[i] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return len(todo), nil
}

func (s *Sim) enrolApp(ctx context.Context, e TOTPEnroller, issuer string, c *customer) error {
	id := c.Account.ID
	en, err := e.EnrolTOTP(ctx, id, issuer, c.Account.Email)
	if ce := (*client.Error)(nil); errors.As(err, &ce) && ce.Status == http.StatusConflict {
		if err := e.RemoveTOTP(ctx, id); err != nil {
			return fmt.Errorf("demo: remove %s's earlier app: %w", id, err)
		}
		en, err = e.EnrolTOTP(ctx, id, issuer, c.Account.Email)
	}
	if err != nil {
		return fmt.Errorf("demo: enrol %s's app: %w", id, err)
	}
	app := &authenticator{secret: en.Secret}
	code, ok, err := app.nextCode(ctx, s.now)
	if err != nil || !ok {
		return fmt.Errorf("demo: %s's first code: %w", id, errors.Join(err, ctx.Err()))
	}
	if _, err := e.ConfirmTOTP(ctx, id, code); err != nil {
		return fmt.Errorf("demo: confirm %s's app: %w", id, err)
	}
	c.App = app
	return nil
}

// hiddenField matches the shop's hidden form fields.
var hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"<>]*)">`)

// stepUp answers the step-up page the shop showed after a sign-in (resp):
// the customer with their passkey on shopguard's hosted page if they have
// one, else with their app's code, correcting a code the shop did not
// take once; anyone else, who has neither, types a made-up code once or
// twice and gives up (or, offered only a passkey, looks at the hosted page
// and gives up). It returns the last answer.
func (b *Browser) stepUp(ctx context.Context, resp Response, email string) (Response, error) {
	fields := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(string(resp.Body), -1) {
		fields.Set(m[1], m[2])
	}
	var passkeyPage string
	if m := passkeyLink.FindStringSubmatch(string(resp.Body)); m != nil {
		passkeyPage = html.UnescapeString(m[1])
	}
	hasForm := fields.Get("pending") != "" && fields.Get("challenge") != ""
	if !hasForm && passkeyPage == "" {
		return resp, fmt.Errorf("demo: step-up page without its form or passkey link (status %d)", resp.Status)
	}
	sim := b.st.sim
	h := fnv.New64a()
	fmt.Fprint(h, b.truth.Actor, b.IP, email, resp.Header.Get(LoginHeader))
	rng := rand.New(rand.NewPCG(sim.cfg.Seed, h.Sum64()))
	var app *authenticator
	c := sim.pop.byID[b.truth.Actor]
	if c != nil && !b.truth.Fraud {
		app = c.App
		if c.Passkey != nil && passkeyPage != "" {
			if !b.st.Think(ctx, rng, 2*time.Second, 5*time.Second) { // reading the page, reaching for the phone
				return resp, ctx.Err()
			}
			return b.passkeyStepUp(ctx, rng, c.Passkey, passkeyPage)
		}
	}
	if !hasForm { // only a passkey, and not theirs
		if passkeyPage != "" {
			_, err := b.Get(ctx, passkeyPage)
			return resp, err
		}
		return resp, nil
	}
	tries := 1 + rng.IntN(2) // an attacker's made-up codes
	if app != nil {
		tries = 2 // a customer corrects a code typed too late once
	}
	for range tries {
		if !b.st.Think(ctx, rng, 3*time.Second, 8*time.Second) { // finding the phone, reading the code
			return resp, ctx.Err()
		}
		code := fmt.Sprintf("%06d", rng.IntN(1_000_000))
		if app != nil {
			var ok bool
			var err error
			if code, ok, err = app.nextCode(ctx, sim.now); err != nil || !ok {
				return resp, errors.Join(err, ctx.Err())
			}
		}
		form := url.Values{"code": {code}, "challenge": {fields.Get("challenge")}, "pending": {fields.Get("pending")}}
		var err error
		if resp, err = b.Post(ctx, StepUpPath, form); err != nil || resp.Header.Get(StepUpHeader) == "" {
			return resp, err // signed in, or turned away
		}
	}
	return resp, nil
}
