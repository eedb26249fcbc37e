package gateway

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/botscore"
	"github.com/shopguard/shopguard/internal/gateway/challenge"
	"github.com/shopguard/shopguard/internal/gateway/limit"
)

// The gateway's own paths, never forwarded to the shop.
const (
	challengePrefix = "/.shopguard/"
	challengePath   = challengePrefix + "challenge"
	// ClearanceCookie holds a client's clearance.
	ClearanceCookie = "__shopguard_clearance"
)

// Challenge timing: a puzzle or wait ticket is good for puzzleTTL; the
// fallback waits waitFor.
const (
	puzzleTTL = 5 * time.Minute
	waitFor   = 5 * time.Second
)

// ChallengeLoopRule bounds the challenge pages one address is served: a
// client that keeps coming back without its clearance (no cookies, or a
// bot that never solves) is not shown pages forever but told why, with 429.
// Gateways that share state count it together (Config.SharedChallengeLoop).
var ChallengeLoopRule = limit.Rule{Name: "challenge_loop", Key: limit.KeyIP, Rate: 12.0 / 600, Burst: 12, Counts: limit.CountRequests}

// ChallengeLoopKeys is how many addresses' challenge-loop buckets a
// gateway with c keeps in memory: MaxLimitKeys, at least 1,024.
func (c *Config) ChallengeLoopKeys() int { return max(c.MaxLimitKeys, 1024) }

// challenges issues and checks the gateway's challenges.
type challenges struct {
	signer *challenge.Signer
	loop   Limits
	ttl    time.Duration
	now    func() time.Time
}

// newChallenges returns the challenge state of cfg; without a secret, a
// random one (clearances then last until the gateway restarts and are not
// accepted by other gateways).
func newChallenges(cfg Config) (*challenges, error) {
	key := cfg.ChallengeSecret
	if len(key) == 0 {
		key = make([]byte, challenge.MinKeyLen)
		_, _ = rand.Read(key)
	}
	s, err := challenge.NewSigner(key)
	if err != nil {
		return nil, err
	}
	c := &challenges{signer: s, loop: cfg.SharedChallengeLoop, ttl: cfg.Policy.ClearanceTTL, now: time.Now}
	if c.loop == nil {
		loop, err := limit.New(limit.Config{Rules: []limit.Rule{ChallengeLoopRule}, MaxKeys: cfg.ChallengeLoopKeys()})
		if err != nil {
			return nil, err
		}
		c.loop = loop
	}
	return c, nil
}

// client is what a challenge binds to for r.
func (c *challenges) client(r *http.Request, keys clientKeys) challenge.Client {
	return challenge.Client{Prefix: keys.prefix, Fingerprint: keys.tls, UserAgent: r.UserAgent()}
}

// cleared reports whether r carries a valid clearance.
func (c *challenges) cleared(r *http.Request, client challenge.Client) bool {
	ck, err := r.Cookie(ClearanceCookie)
	return err == nil && c.signer.Cleared(ck.Value, client, c.now()) == nil
}

// isPageView reports whether r is a browser loading a page: only those
// can be shown a challenge.
func isPageView(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" && mode != "navigate" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// challenge answers a request of route rt without a clearance.
func (g *Gateway) challenge(w http.ResponseWriter, r *http.Request, rt *Route, keys clientKeys) {
	c := g.challenges
	if !isPageView(r) {
		g.metrics.challenge(rt.Name, "refused")
		w.Header().Set("X-Shopguard-Challenge", "required")
		refuse(w, http.StatusForbidden, "this page needs a browser check first: load it in a browser with cookies enabled", 0)
		return
	}
	if d, err := c.loop.Allow(ChallengeLoopRule.Name, keys.ip); err == nil && !d.Allowed {
		g.metrics.challenge(rt.Name, "loop")
		refuse(w, http.StatusTooManyRequests, "too many browser checks without success: please enable cookies (and JavaScript) for this site, then try again in a few minutes",
			max(time.Second, d.RetryAfter.Truncate(time.Second)))
		return
	}
	g.metrics.challenge(rt.Name, "issued")
	if g.bots != nil && keys.ip != "" {
		g.bots.Challenge(keys.ip, botscore.ChallengeIssued)
	}
	client := c.client(r, keys)
	now := c.now()
	page := challengePage{Return: returnPath(r.URL), WaitSeconds: int(waitFor / time.Second)}
	page.WaitURL = challengePath + "?" + url.Values{"wait": {c.signer.Wait(client, waitFor, puzzleTTL, now)}, "return": {page.Return}}.Encode()
	if rt.Challenge == ChallengePoW {
		p, err := c.signer.Puzzle(client, rt.ChallengeBits, puzzleTTL, now)
		if err != nil { // bits are checked when the policy is read
			g.log.Error("challenge puzzle", "route", rt.Name, "error", err)
			refuse(w, http.StatusInternalServerError, "the browser check failed; try again", 0)
			return
		}
		page.Puzzle, page.Bits = p.Token, p.Bits
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	page.Nonce = base64.RawStdEncoding.EncodeToString(nonce[:])
	var buf bytes.Buffer
	if err := challengeTemplate.Execute(&buf, page); err != nil {
		g.log.Error("challenge page", "error", err)
		refuse(w, http.StatusInternalServerError, "the browser check failed; try again", 0)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+page.Nonce+"'; style-src 'nonce-"+page.Nonce+"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Shopguard-Challenge", rt.Challenge)
	w.WriteHeader(http.StatusForbidden)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// serveChallenge checks a solved puzzle (POST) or a wait ticket (GET) and,
// when it passes, sets the clearance and sends the browser back.
func (g *Gateway) serveChallenge(w http.ResponseWriter, r *http.Request, keys clientKeys) {
	c := g.challenges
	if c == nil {
		http.NotFound(w, r)
		return
	}
	var err error
	client := c.client(r, keys)
	now := c.now()
	switch r.Method {
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err = r.ParseForm(); err == nil {
			err = c.signer.Solved(r.PostForm.Get("puzzle"), r.PostForm.Get("counter"), client, now)
		}
	case http.MethodGet:
		err = c.signer.Waited(r.URL.Query().Get("wait"), client, now)
	default:
		w.Header().Set("Allow", "GET, POST")
		refuse(w, http.StatusMethodNotAllowed, "GET or POST", 0)
		return
	}
	back := r.Form.Get("return")
	if back == "" {
		back = r.URL.Query().Get("return")
	}
	if !safeReturn(back) {
		back = "/"
	}
	if err != nil {
		g.metrics.challenge("", "failed")
		g.log.Debug("challenge failed", "error", err)
		// Back to the page, which serves a fresh challenge.
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	g.metrics.challenge("", "passed")
	if g.bots != nil && keys.ip != "" {
		g.bots.Challenge(keys.ip, botscore.ChallengePassed)
	}
	http.SetCookie(w, &http.Cookie{Name: ClearanceCookie, Value: c.signer.Clearance(client, c.ttl, now), Path: "/",
		MaxAge: int(c.ttl / time.Second), HttpOnly: true, Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https",
		SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// returnPath is the path and query a challenge sends the browser back to.
func returnPath(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	if !safeReturn(p) {
		return "/"
	}
	return p
}

// safeReturn reports whether p is a path on this site (never another
// site: "//evil", "/\\evil" and schemes are refused).
func safeReturn(p string) bool {
	if p == "" || len(p) > 2048 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") ||
		strings.HasPrefix(p, challengePrefix) {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && !strings.ContainsAny(p, "\r\n\t")
}

// challengePage is what the challenge template shows.
type challengePage struct {
	Puzzle      string // empty for a wait only
	Bits        int
	Return      string
	WaitURL     string
	WaitSeconds int
	Nonce       string
}

// challengeTemplate is the challenge page: a proof of work in plain
// JavaScript (SHA-256 written out, so it runs without a secure context),
// and for browsers without JavaScript, or a wait route, a refresh after a
// few seconds to the wait ticket.
var challengeTemplate = template.Must(template.New("challenge").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>One moment…</title>
{{if .Puzzle}}<noscript><meta http-equiv="refresh" content="{{.WaitSeconds}};url={{.WaitURL}}"></noscript>
{{else}}<meta http-equiv="refresh" content="{{.WaitSeconds}};url={{.WaitURL}}">{{end}}
<style nonce="{{.Nonce}}">body{font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#222}</style>
</head><body>
<h1>Checking your browser</h1>
<p role="status" id="status">{{if .Puzzle}}This takes a moment and happens once.{{else}}Please wait {{.WaitSeconds}} seconds; this page continues by itself.{{end}}</p>
<p>The shop is protecting itself from automated traffic. Nothing to solve, nothing to type.
{{if .Puzzle}}<noscript>Without JavaScript, this page continues by itself after {{.WaitSeconds}} seconds.</noscript>{{end}}
If nothing happens, <a href="{{.WaitURL}}">continue here</a> after {{.WaitSeconds}} seconds.</p>
{{if .Puzzle}}<form id="f" method="post" action="/.shopguard/challenge">
<input type="hidden" name="puzzle" value="{{.Puzzle}}"><input type="hidden" name="return" value="{{.Return}}">
<input type="hidden" name="counter" id="c" value=""></form>
<script nonce="{{.Nonce}}">
(function () {
  "use strict";
  var token = {{.Puzzle}}, bits = {{.Bits}};
  var K = [], H0 = [], n = 0, p = 2;
  function frac(x) { return ((x - Math.floor(x)) * 4294967296) | 0; }
  for (; n < 64; p++) {
    var prime = true;
    for (var d = 2; d * d <= p; d++) { if (p % d === 0) { prime = false; break; } }
    if (!prime) continue;
    if (n < 8) H0[n] = frac(Math.pow(p, 1 / 2));
    K[n++] = frac(Math.pow(p, 1 / 3));
  }
  function rotr(x, k) { return (x >>> k) | (x << (32 - k)); }
  var W = new Int32Array(64);
  // leadingZeros returns the leading zero bits of SHA-256(s), s ASCII.
  function leadingZeros(s) {
    var len = s.length, blocks = ((len + 8) >> 6) + 1, words = new Int32Array(blocks * 16), i, j;
    for (i = 0; i < len; i++) words[i >> 2] |= s.charCodeAt(i) << (24 - (i & 3) * 8);
    words[len >> 2] |= 0x80 << (24 - (len & 3) * 8);
    words[blocks * 16 - 1] = len * 8;
    var h = H0.slice();
    for (j = 0; j < words.length; j += 16) {
      for (i = 0; i < 64; i++) {
        if (i < 16) { W[i] = words[j + i]; continue; }
        var w15 = W[i - 15], w2 = W[i - 2];
        W[i] = (W[i - 16] + (rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3)) + W[i - 7] + (rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10))) | 0;
      }
      var a = h[0], b = h[1], c = h[2], e = h[4], f = h[5], g = h[6], dd = h[3], hh = h[7];
      for (i = 0; i < 64; i++) {
        var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
        hh = g; g = f; f = e; e = (dd + t1) | 0; dd = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h[0] = (h[0] + a) | 0; h[1] = (h[1] + b) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + dd) | 0;
      h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
    }
    var z = 0;
    for (i = 0; i < 8; i++) { if (h[i] === 0) { z += 32; continue; } return z + Math.clz32(h[i]); }
    return z;
  }
  window.shopguardLeadingZeros = leadingZeros;
  var counter = 0, prefix = token + ":";
  function work() {
    var until = Date.now() + 50;
    while (Date.now() < until) {
      for (var k = 0; k < 500; k++, counter++) {
        if (leadingZeros(prefix + counter) >= bits) {
          document.getElementById("c").value = String(counter);
          document.getElementById("f").submit();
          return;
        }
      }
    }
    setTimeout(work, 0);
  }
  setTimeout(work, 0);
})();
</script>{{end}}
</body></html>
`))
