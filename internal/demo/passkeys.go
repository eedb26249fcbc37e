package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/client/virtualkey"
)

// PasskeyEnroller is what setting up customers' passkeys needs from
// shopguard's API (a *client.Client).
type PasskeyEnroller interface {
	SetRelyingParty(ctx context.Context, rp client.RelyingParty) (*client.RelyingParty, error)
	Passkeys(ctx context.Context, userID string) ([]client.Passkey, error)
	RevokePasskey(ctx context.Context, userID, id string) error
	BeginPasskeyRegistration(ctx context.Context, userID, userName, displayName, name string) (*client.CeremonyStart, error)
	FinishPasskeyRegistration(ctx context.Context, userID, ceremonyID string, credential json.RawMessage) (*client.Passkey, error)
}

var _ PasskeyEnroller = (*client.Client)(nil)

// planPasskeys picks the customers who made a passkey for the shop (from
// their own source of randomness, so that the population stays the same).
func (p *population) planPasskeys(rng *rand.Rand, share float64) {
	for _, c := range p.customers {
		c.wantsPasskey = rng.Float64() < share
	}
}

// EnrolPasskeys makes the shop's domain (the shop's origin, which must be
// on localhost: passkeys need a domain name) the relying party of its
// passkeys and registers a passkey for each customer who has one, as each
// did once in the shop's account settings: a synced passkey (backed up to
// their phone's and laptop's password manager) that never leaves their
// devices. Passkeys from an earlier run against the same shopguard are
// revoked first. It returns how many passkeys it registered.
func (s *Sim) EnrolPasskeys(ctx context.Context, e PasskeyEnroller, shopName string) (int, error) {
	origin := s.shop.Scheme + "://" + s.shop.Host
	if _, err := e.SetRelyingParty(ctx, client.RelyingParty{ID: s.shop.Hostname(), Name: shopName, Origins: []string{origin}}); err != nil {
		return 0, fmt.Errorf("demo: set the shop's passkey domain: %w", err)
	}
	return s.forEachCustomer(func(c *customer) bool { return c.wantsPasskey },
		func(c *customer) error { return enrolPasskey(ctx, e, origin, c) })
}

func enrolPasskey(ctx context.Context, e PasskeyEnroller, origin string, c *customer) error {
	id := c.Account.ID
	old, err := e.Passkeys(ctx, id)
	if err != nil {
		return fmt.Errorf("demo: %s's passkeys: %w", id, err)
	}
	for _, k := range old {
		if err := e.RevokePasskey(ctx, id, k.ID); err != nil {
			return fmt.Errorf("demo: revoke %s's earlier passkey: %w", id, err)
		}
	}
	start, err := e.BeginPasskeyRegistration(ctx, id, c.Account.Email, c.Account.Name, "Phone")
	if err != nil {
		return fmt.Errorf("demo: register %s's passkey: %w", id, err)
	}
	key := virtualkey.New(virtualkey.Options{BackupEligible: true, BackupState: true})
	cred, err := key.Create(origin, start.Options)
	if err != nil {
		return fmt.Errorf("demo: %s's authenticator: %w", id, err)
	}
	if _, err := e.FinishPasskeyRegistration(ctx, id, start.ID, cred); err != nil {
		return fmt.Errorf("demo: register %s's passkey: %w", id, err)
	}
	c.Passkey = key
	return nil
}

// passkeyLink matches the step-up page's link to shopguard's hosted page.
var passkeyLink = regexp.MustCompile(`id="passkey-link" href="([^"<>]+)"`)

// hostedCeremony is the first step of a passkey ceremony as the hosted
// page's endpoints answer it.
type hostedCeremony struct {
	ID      string          `json:"ceremony_id"`
	Options json.RawMessage `json:"options"`
}

// hostedAnswer is the hosted page's answer to the customer's passkey.
type hostedAnswer struct {
	Status   string `json:"status"`
	Redirect string `json:"redirect"`
}

// passkeyStepUp confirms the sign-in on shopguard's hosted page (served
// under the shop's origin) as the customer's browser does: it opens the
// page, begins the passkey check, lets the authenticator sign (the
// customer touches the sensor), sends the answer, and follows the page
// back to the shop. It returns the shop's last answer.
func (b *Browser) passkeyStepUp(ctx context.Context, rng *rand.Rand, key *virtualkey.Authenticator, page string) (Response, error) {
	sim := b.st.sim
	hosted, err := url.Parse(page)
	if err != nil || hosted.IsAbs() {
		return Response{}, fmt.Errorf("demo: step-up page links to %q, not a page of the shop", page)
	}
	if _, err := b.Get(ctx, hosted.RequestURI()); err != nil {
		return Response{}, err
	}
	var start hostedCeremony
	if err := b.postJSON(ctx, hosted.Path+"/passkey-options?"+hosted.RawQuery, nil, &start); err != nil {
		return Response{}, err
	}
	if !b.st.Think(ctx, rng, time.Second, 3*time.Second) { // the fingerprint or face prompt
		return Response{}, ctx.Err()
	}
	cred, err := key.Get(sim.shop.Scheme+"://"+sim.shop.Host, start.Options)
	if err != nil {
		return Response{}, fmt.Errorf("demo: the customer's authenticator: %w", err)
	}
	var ans hostedAnswer
	if err := b.postJSON(ctx, hosted.Path+"/answer?"+hosted.RawQuery,
		map[string]any{"method": "passkey", "ceremony_id": start.ID, "credential": json.RawMessage(cred)}, &ans); err != nil {
		return Response{}, err
	}
	back, err := url.Parse(ans.Redirect)
	if err != nil || ans.Status != "passed" || back.Host != sim.shop.Host {
		return Response{}, fmt.Errorf("demo: the passkey step-up ended %q, redirect %q", ans.Status, ans.Redirect)
	}
	return b.Get(ctx, back.RequestURI())
}

// postJSON sends body as JSON to the shop (the hosted page's endpoints)
// and decodes the answer into out; a 4xx or 5xx is an error.
func (b *Browser) postJSON(ctx context.Context, path string, body, out any) error {
	sim := b.st.sim
	if sim.sent.Add(1) > sim.cfg.MaxRequests {
		return ErrRequestBudget
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("demo: encode: %w", err)
	}
	u, err := sim.shop.Parse(path)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, u.String(), bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	b.identify(req.Header)
	start := sim.now()
	resp, err := b.client.Do(req)
	rec := RequestRecord{At: start, Truth: b.truth, Method: http.MethodPost, Path: u.Path, ClientIP: b.IP, Latency: sim.now().Sub(start)}
	if err != nil {
		sim.record(rec)
		return fmt.Errorf("demo: %s: %w", u.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	rec.Status, rec.Latency = resp.StatusCode, sim.now().Sub(start)
	rec.Refused = resp.Header.Get(ShopHeader) == ""
	sim.record(rec)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", u.Path, err)
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("demo: %s answered %d: %s", u.Path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("demo: %s: %w", u.Path, err)
	}
	return nil
}
