package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Links signs the links to shopguard's hosted pages that a shop hands its
// customers: a challenge's step-up page and an enrolment page. A link is
// its own credential (an HMAC over what it opens), so the pages need no
// API key and no session, and a link cannot be changed into another
// challenge's, customer's or shop's.
type Links struct {
	key []byte
}

// NewLinks returns links signed with a key derived from sealKey (the same
// on every instance that shares the sealing key).
func NewLinks(sealKey []byte) *Links {
	return &Links{key: deriveKey(sealKey, "shopguard hosted page link key v1")}
}

// mac returns the base64url HMAC over the parts.
func (l *Links) mac(parts ...string) string {
	m := hmac.New(sha256.New, l.key)
	for _, p := range parts {
		m.Write([]byte(strconv.Itoa(len(p))))
		m.Write([]byte{':'})
		m.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// valid compares a link's mac with the one it should have.
func (l *Links) valid(got string, parts ...string) bool {
	return hmac.Equal([]byte(got), []byte(l.mac(parts...)))
}

// HostedPrefix is where the hosted pages are served.
const HostedPrefix = "/stepup"

// ChallengePath returns the path and query of the tenant's challenge id's
// step-up page; returnURL (optional) is where the page sends the
// customer afterwards.
func (l *Links) ChallengePath(tenant, id, returnURL string) string {
	q := url.Values{"t": {tenant}, "k": {l.mac("challenge", tenant, id, returnURL)}}
	if returnURL != "" {
		q.Set("r", returnURL)
	}
	return HostedPrefix + "/c/" + url.PathEscape(id) + "?" + q.Encode()
}

// CheckChallenge reports whether mac is the link of the tenant's
// challenge id with returnURL.
func (l *Links) CheckChallenge(tenant, id, returnURL, mac string) bool {
	return l.valid(mac, "challenge", tenant, id, returnURL)
}

// EnrolLink is what an enrolment link opens: a page where the tenant's
// customer adds a passkey or an authenticator app until it expires.
type EnrolLink struct {
	Tenant string
	UserID string
	// AccountName is how the customer's device and app show the account
	// (an e-mail; "" for the user id).
	AccountName string
	// Expires is when the link stops working (Unix seconds).
	Expires int64
	// ReturnURL is where the page sends the customer afterwards ("" for none).
	ReturnURL string
}

func (e EnrolLink) parts() []string {
	return []string{"enrol", e.Tenant, e.UserID, e.AccountName, strconv.FormatInt(e.Expires, 10), e.ReturnURL}
}

// EnrolmentPath returns the path and query of e's page.
func (l *Links) EnrolmentPath(e EnrolLink) string {
	q := url.Values{"t": {e.Tenant}, "u": {e.UserID}, "e": {strconv.FormatInt(e.Expires, 10)}, "k": {l.mac(e.parts()...)}}
	if e.AccountName != "" {
		q.Set("n", e.AccountName)
	}
	if e.ReturnURL != "" {
		q.Set("r", e.ReturnURL)
	}
	return HostedPrefix + "/enrol?" + q.Encode()
}

// ParseEnrolment returns the enrolment a link's query opens, if its mac
// is right and it has not expired at now.
func (l *Links) ParseEnrolment(q url.Values, now time.Time) (EnrolLink, bool) {
	exp := q.Get("e")
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || strings.HasPrefix(exp, "+") || now.Unix() >= n {
		return EnrolLink{}, false
	}
	e := EnrolLink{Tenant: q.Get("t"), UserID: q.Get("u"), AccountName: q.Get("n"), Expires: n, ReturnURL: q.Get("r")}
	if e.Tenant == "" || e.UserID == "" || !l.valid(q.Get("k"), e.parts()...) {
		return EnrolLink{}, false
	}
	return e, true
}
