package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/shopguard/shopguard/client"
)

// SignIn is one entry of the shop's sign-in log.
type SignIn struct {
	ID string
	At time.Time
	// AccountID is the account signed in to; "" when the e-mail typed
	// matches none (Email says what was typed).
	AccountID string
	Email     string
	// Password is what was typed (the shop sends its hash prefix only).
	Password string
	// Failed is set when the password (or the e-mail) was wrong.
	Failed    bool
	IP        string
	DeviceID  string
	UserAgent string
}

// SignInHistory generates the shop's sign-in log of the 60 days before
// now, oldest first, with ids: what a shop adopting shopguard imports with
// its orders, so that its customers' devices and networks are familiar
// from the first minute. Every past order placed from an account (orders,
// from History) came with a sign-in on the same device from the same
// address a few minutes before; customers also signed in to look around,
// from their own devices, at home or on their phone's network. Some
// mistyped their password first, a few their e-mail address.
func (s *Sim) SignInHistory(orders []Order, now time.Time) []SignIn {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, 2))
	byID := make(map[string]*customer, len(s.pop.customers))
	for _, c := range s.pop.customers {
		byID[c.Account.ID] = c
	}
	var out []SignIn
	add := func(c *customer, at time.Time, dev device, ip string) {
		in := SignIn{At: at, AccountID: c.Account.ID, Email: c.Account.Email, Password: c.Password,
			IP: ip, DeviceID: dev.ID, UserAgent: dev.UserAgent}
		before := at.Add(-time.Duration(5+rng.IntN(20)) * time.Second)
		switch x := rng.Float64(); {
		case x < 0.05:
			typo := in
			typo.At, typo.Password, typo.Failed = before, mistype(rng, c.Password), true
			out = append(out, typo)
		case x < 0.06:
			typo := in
			typo.At, typo.AccountID, typo.Email, typo.Failed = before, "", mistype(rng, c.Account.Email), true
			out = append(out, typo)
		}
		out = append(out, in)
	}
	for _, o := range orders {
		if c := byID[o.AccountID]; c != nil {
			add(c, o.CreatedAt.Add(-time.Duration(2+rng.IntN(10))*time.Minute), device{ID: o.DeviceID, UserAgent: o.UserAgent}, o.IP)
		}
	}
	for _, c := range s.pop.customers {
		n := int(math.Round(c.Activity * 0.5 * rng.Float64() * 2))
		for range n {
			at := now.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
			if at.Before(c.Account.CreatedAt) {
				continue
			}
			dev := c.Devices[0]
			if len(c.Devices) > 1 && rng.Float64() < 0.35 {
				dev = c.Devices[1]
			}
			ip := pick(rng, c.HomeIPs)
			if rng.Float64() < 0.1 {
				ip = randomIP(rng, c.Country.Octet)
			}
			add(c, at, dev, ip)
		}
	}
	// Over 60 days a customer who signs in at all has used each of their
	// devices: one sign-in on every device the log does not have yet.
	used := map[string]bool{}
	for _, in := range out {
		used[in.AccountID+"|"+in.DeviceID] = true
	}
	for _, c := range s.pop.customers {
		if !used[c.Account.ID+"|"+c.Devices[0].ID] && (len(c.Devices) < 2 || !used[c.Account.ID+"|"+c.Devices[1].ID]) {
			continue // never signed in: a new account to shopguard
		}
		for _, dev := range c.Devices {
			if used[c.Account.ID+"|"+dev.ID] {
				continue
			}
			at := now.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour))))
			if at.Before(c.Account.CreatedAt) {
				at = c.Account.CreatedAt.Add(time.Minute)
			}
			add(c, at, dev, pick(rng, c.HomeIPs))
		}
	}
	slices.SortStableFunc(out, func(a, b SignIn) int { return a.At.Compare(b.At) })
	for i := range out {
		// Seed-derived ids, like the orders': a second import is a replay.
		out[i].ID = fmt.Sprintf("signin-hist-s%d-%06d", s.cfg.Seed, i+1)
	}
	return out
}

// mistype returns s with one typing slip: a character dropped, doubled or
// two neighbours swapped.
func mistype(rng *rand.Rand, s string) string {
	if len(s) < 3 {
		return s + "x"
	}
	i := 1 + rng.IntN(len(s)-2)
	switch rng.IntN(3) {
	case 0:
		return s[:i] + s[i+1:]
	case 1:
		return s[:i] + s[i:i+1] + s[i:]
	}
	return s[:i-1] + s[i:i+1] + s[i-1:i] + s[i+1:]
}

// trip is where a customer who is abroad during the run connects from.
type trip struct {
	Country country
	// IP is the hotel's or the holiday flat's line.
	IP string
}

// planTrips sends share of the customers abroad for the whole run (from
// their own source of randomness, so that the population stays the same):
// they sign in from their usual devices, from another country's network.
func (p *population) planTrips(rng *rand.Rand, share float64) {
	for _, c := range p.customers {
		if rng.Float64() >= share {
			continue
		}
		dest := pickCountry(rng, countries)
		for dest.Code == c.Country.Code {
			dest = pickCountry(rng, countries)
		}
		c.Trip = &trip{Country: dest, IP: randomIP(rng, dest.Octet)}
	}
}

// ImportSignIns sends the shop's past sign-ins to shopguard, oldest first,
// one at a time (so that every run builds the same history): each as its
// outcome, as the shop's log recorded it.
func (s *Shop) ImportSignIns(ctx context.Context, log []SignIn) error {
	for _, in := range log {
		l := client.Login{ID: in.ID, CreatedAt: in.At.UTC(), IP: in.IP, DeviceID: in.DeviceID, UserAgent: in.UserAgent,
			Outcome: client.LoginSuccess, PasswordHashPrefix: client.PasswordHashPrefix(in.Password)}
		switch {
		case in.AccountID == "":
			l.Identifier, l.Outcome = in.Email, client.LoginUnknownUser
		case in.Failed:
			l.UserID, l.Outcome = in.AccountID, client.LoginBadPassword
		default:
			l.UserID = in.AccountID
		}
		if err := s.guard.ImportLogin(ctx, l); err != nil {
			return err
		}
	}
	return nil
}
