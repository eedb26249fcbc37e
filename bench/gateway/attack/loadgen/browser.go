package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// chromeUA is the User-Agent of the simulated browsers (and of the
// attackers, who copy it).
const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"

// challengeHeader is set by the gateway on its challenge page (pow or
// wait) and on refusals of requests that need one (required).
const challengeHeader = "X-Shopguard-Challenge"

// browser is one customer's browser: its own source address, cookie jar
// and connections; it follows redirects and passes the gateway's challenge
// pages the way the page's script (or, for a wait, its meta refresh) does.
type browser struct {
	base   *url.URL
	client *http.Client
	tr     *chromeTransport
	// challenges counts the challenge pages this browser was shown, and
	// hashes the proof-of-work hashes it computed.
	challenges, hashes int
	// visited is set after the first request: later ones come from the
	// site's own pages.
	visited bool
	// current is the URL of the page the browser shows (after redirects
	// and challenges): the Referer of its subresources, its forms and the
	// next page, as Chrome's default referrer policy sends within a site.
	current string
}

// newBrowser returns a browser connecting from ip to base.
func newBrowser(base *url.URL, ip net.IP, timeout time.Duration) *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	// Six connections, as browsers keep to a host over HTTP/1.1.
	tr := newChromeTransport((&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}).DialContext, 6)
	return &browser{base: base, tr: tr, client: &http.Client{Transport: tr, Jar: jar, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// close drops the browser's connections.
func (b *browser) close() { b.tr.CloseIdleConnections() }

// outcome is how one of the customer's actions ended.
type outcome struct {
	status int
	// shop reports whether the final answer came from the shop (not the
	// gateway or a proxy refusing).
	shop bool
	// challenged reports whether a challenge page was passed on the way.
	challenged bool
	err        error
}

// maxHops bounds the redirects and challenges of one navigation.
const maxHops = 6

// navigate loads a page as the browser's address bar or a form does:
// GET (form nil) or POST of form to path, following redirects and passing
// challenge pages.
func (b *browser) navigate(ctx context.Context, method, path string, form url.Values) outcome {
	var out outcome
	for hop := 0; hop < maxHops; hop++ {
		resp, body, err := b.do(ctx, method, path, form, true)
		if err != nil {
			out.err = err
			return out
		}
		out.status = resp.StatusCode
		out.shop = resp.Header.Get("X-Bench-Shop") == "1"
		switch {
		case resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusMovedPermanently:
			loc, err := b.location(resp)
			if err != nil {
				out.err = err
				return out
			}
			method, path, form = http.MethodGet, loc, nil
		case resp.StatusCode == http.StatusForbidden && !out.shop && (resp.Header.Get(challengeHeader) == "pow" || resp.Header.Get(challengeHeader) == "wait"):
			out.challenged = true
			b.challenges++
			p, err := parseChallenge(body)
			if err != nil {
				out.err = err
				return out
			}
			if p.Puzzle != "" {
				counter, n := solve(p.Puzzle, p.Bits)
				b.hashes += n
				method, path = http.MethodPost, p.Action
				form = url.Values{"puzzle": {p.Puzzle}, "return": {p.Return}, "counter": {counter}}
			} else {
				select {
				case <-ctx.Done():
					out.err = ctx.Err()
					return out
				case <-time.After(time.Duration(p.WaitSeconds) * time.Second):
				}
				method, path, form = http.MethodGet, p.WaitURL, nil
			}
		default:
			if resp.Header.Get("X-Bench-Shop") == "1" && method == http.MethodGet {
				b.current = b.base.String() + path
			}
			return out
		}
	}
	out.err = errors.New("too many redirects or challenges")
	return out
}

// fetch loads a subresource (style sheet, script, image) of a page: no
// challenge can be passed there.
func (b *browser) fetch(ctx context.Context, path string) outcome {
	resp, _, err := b.do(ctx, http.MethodGet, path, nil, false)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{status: resp.StatusCode, shop: resp.Header.Get("X-Bench-Shop") == "1"}
}

// location resolves a redirect's Location to a path on the site.
func (b *browser) location(resp *http.Response) (string, error) {
	u, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("redirect: %w", err)
	}
	if u.Host != b.base.Host {
		return "", fmt.Errorf("redirect to another site %q", u.Host)
	}
	return u.RequestURI(), nil
}

// do sends one request with a browser's headers and reads the whole
// answer.
func (b *browser) do(ctx context.Context, method, path string, form url.Values, page bool) (*http.Response, []byte, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base.String()+path, body)
	if err != nil {
		return nil, nil, err
	}
	site := "same-origin"
	if !b.visited {
		site = "none" // typed into the address bar
	}
	if page {
		setChromeHeaders(req.Header, "document", site)
	} else {
		setChromeHeaders(req.Header, subresourceDest(path), site)
	}
	if b.current != "" {
		req.Header.Set("Referer", b.current)
	}
	req.Header.Set("X-Bench-Role", "legit")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base.Scheme+"://"+b.base.Host)
	}
	b.visited = true
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return resp, data, nil
}

// setChromeHeaders sets the headers Chrome 124 on Linux sends to a
// potentially trustworthy origin (http://127.0.0.1 is one) for a request
// of destination dest ("document" for a navigation or form post, "style",
// "script", "image") from site ("none" when typed, "same-origin"):
// client hints, fetch metadata, Accept, Accept-Language and
// Accept-Encoding. The answer is not decompressed: the shop sends none
// compressed.
func setChromeHeaders(h http.Header, dest, site string) {
	h.Set("User-Agent", chromeUA)
	h.Set("Sec-Ch-Ua", `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`)
	h.Set("Sec-Ch-Ua-Mobile", "?0")
	h.Set("Sec-Ch-Ua-Platform", `"Linux"`)
	h.Set("Accept-Language", "en-GB,en;q=0.9")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Sec-Fetch-Site", site)
	h.Set("Sec-Fetch-Dest", dest)
	switch dest {
	case "document":
		h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8")
		h.Set("Sec-Fetch-Mode", "navigate")
		h.Set("Sec-Fetch-User", "?1")
		h.Set("Upgrade-Insecure-Requests", "1")
	case "style":
		h.Set("Accept", "text/css,*/*;q=0.1")
		h.Set("Sec-Fetch-Mode", "no-cors")
	case "image":
		h.Set("Accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")
		h.Set("Sec-Fetch-Mode", "no-cors")
	default:
		h.Set("Accept", "*/*")
		h.Set("Sec-Fetch-Mode", "no-cors")
	}
}

// subresourceDest is Sec-Fetch-Dest of a subresource.
func subresourceDest(path string) string {
	switch {
	case strings.HasSuffix(path, ".css"):
		return "style"
	case strings.HasSuffix(path, ".js"):
		return "script"
	}
	return "image"
}
