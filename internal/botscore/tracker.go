// Package botscore tells automated clients from people by how they behave
// over their recent requests: how fast and how regularly they come, how
// many different pages they visit, whether pages are followed by the
// images, styles and scripts a browser loads with them, how often they hit
// errors, whether they keep cookies and send referrers, and what their
// fingerprints and challenges said. A Tracker keeps that history per
// client in bounded memory and turns it into Features; a Model (gradient
// boosted trees trained on simulated traffic with ground truth, see
// Simulate and Train) turns Features into a score from 0 (a person) to 100
// (a bot).
package botscore

import (
	"math"
	"sync"
	"time"
)

// Request is what a Tracker learns of one request of a client.
type Request struct {
	At time.Time
	// Path is the URL path (the query left out).
	Path string
	// Page: a document a browser navigates to (GET, accepting HTML);
	// Static: an image, style sheet, script, font or other asset (by
	// extension); neither: an API call, a form post, anything else.
	Page, Static bool
	// Post: a request with a body (POST, PUT, PATCH).
	Post bool
	// Referer: the request names a page it came from; Cookie: it carries
	// a cookie.
	Referer, Cookie bool
	// Mismatch: its user agent and fingerprints or headers disagree.
	Mismatch bool
}

// Challenge outcomes a Tracker counts (see Tracker.Challenge).
const (
	ChallengeIssued = iota
	ChallengePassed
)

// Feature indexes: what Features holds, in order (FeatureNames names
// them).
const (
	// FRequests is the number of requests since the client was first
	// tracked (not capped: models should cap it), FRate the requests per
	// second over the history (from its first
	// to now, at least one second).
	FRequests = iota
	FRate
	// FGapCV is the coefficient of variation of the gaps between
	// requests (people are bursty, scripts regular); FMinGap the shortest
	// gap in seconds.
	FGapCV
	FMinGap
	// FPathDiversity is distinct paths per request.
	FPathDiversity
	// FStatic, FPage and FPost are the shares of assets, page views and
	// posts.
	FStatic
	FPage
	FPost
	// FBarePages is the share of page views (but the latest few seconds')
	// not followed by any asset within pageAssetsWithin: a browser loads a
	// page's images and scripts, a scraper does not.
	FBarePages
	// FErrors and FNotFound are the shares of answers 4xx and 404.
	FErrors
	FNotFound
	// FNoReferer is the share of requests after the first without a
	// Referer; FNoCookie the share after the first without a cookie.
	FNoReferer
	FNoCookie
	// FMismatch is the share whose user agent its fingerprints or headers
	// contradict.
	FMismatch
	// FChallenges and FPassed count the challenges issued to the client
	// and passed by it.
	FChallenges
	FPassed
	// NumFeatures is how many there are.
	NumFeatures
)

// FeatureNames names the features, by index.
var FeatureNames = [NumFeatures]string{"requests", "rate", "gap_cv", "min_gap", "path_diversity", "static", "page", "post",
	"bare_pages", "errors", "not_found", "no_referer", "no_cookie", "mismatch", "challenges", "passed"}

// Features is a client's behaviour, indexed by the F constants.
type Features [NumFeatures]float64

// historyLen is how many recent requests a client's history holds.
const historyLen = 64

// pageAssetsWithin is how soon after a page view a browser asks for its
// assets.
const pageAssetsWithin = 5 * time.Second

// entry is one request in a client's history.
type entry struct {
	ns     int64  // unix ns
	path   uint32 // hash of the path
	status uint16 // 0 until answered
	flags  uint8
}

// The flags of an entry.
const (
	flagPage = 1 << iota
	flagStatic
	flagPost
	flagReferer
	flagCookie
	flagMismatch
)

// client is the history of one client: a ring of its latest requests.
type client struct {
	ring       [historyLen]entry
	n          int // requests recorded (the ring holds the last historyLen)
	challenges uint16
	passed     uint16
	// seenAgain: seen since it was last queued for eviction (see add).
	seenAgain bool
	// scored is the last score ObserveScore computed, at scoredAt (unix
	// ns), with scoredChallenges challenges and passes counted (-1: none).
	scored           int16
	scoredAt         int64
	scoredChallenges uint32
}

// at returns the i-th oldest entry of the history (0 ≤ i < size()).
func (c *client) at(i int) *entry {
	return &c.ring[(c.n-c.size()+i)%historyLen]
}

func (c *client) size() int { return min(c.n, historyLen) }

// Tracker keeps the recent history of many clients in bounded memory:
// past its bound it forgets first the clients not seen again since they
// were queued (a clock, see add). It is safe for
// concurrent use.
type Tracker struct {
	shards [trackerShards]trackerShard
	max    int // clients per shard
}

const trackerShards = 64

type trackerShard struct {
	mu      sync.Mutex
	clients map[string]*client
	// order lists the keys by first sighting, for eviction: a key seen
	// again since it was queued is queued again instead of evicted.
	order []string
	head  int
}

// NewTracker returns a tracker keeping at most maxClients clients
// (at least trackerShards).
func NewTracker(maxClients int) *Tracker {
	t := &Tracker{max: max(1, maxClients/trackerShards)}
	for i := range t.shards {
		t.shards[i].clients = make(map[string]*client)
	}
	return t
}

// shard returns the shard of key.
func (t *Tracker) shard(key string) *trackerShard {
	return &t.shards[hashPath(key)%trackerShards]
}

// Len returns the number of clients tracked.
func (t *Tracker) Len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.clients)
		s.mu.Unlock()
	}
	return n
}

// Observe records r for the client key and returns the client's features
// as of r (r included, its answer not yet known) and r's position for
// Answered.
func (t *Tracker) Observe(key string, r Request) (Features, Ticket) {
	s := t.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ns := s.record(key, r, t.max)
	return c.features(ns), Ticket{key: key, c: c, n: c.n}
}

// record adds r to the history of the client key (tracking it if new)
// and returns the client and r's time in unix ns. Called with s.mu held.
func (s *trackerShard) record(key string, r Request, limit int) (*client, int64) {
	ns := r.At.UnixNano()
	c := s.clients[key]
	if c == nil {
		c = s.add(key, limit)
	} else {
		c.seenAgain = true
	}
	var fl uint8
	for _, f := range [...]struct {
		on   bool
		flag uint8
	}{{r.Page, flagPage}, {r.Static, flagStatic}, {r.Post, flagPost}, {r.Referer, flagReferer}, {r.Cookie, flagCookie}, {r.Mismatch, flagMismatch}} {
		if f.on {
			fl |= f.flag
		}
	}
	c.ring[c.n%historyLen] = entry{ns: ns, path: hashPath(r.Path), flags: fl}
	c.n++
	return c, ns
}

// alwaysScored is how many of a client's first requests ObserveScore
// always scores: a bot is caught in its first few.
const alwaysScored = 16

// ObserveScore records r as Observe does and returns the client's bot
// score by s and how many requests the client has made (r included). A
// client past its first alwaysScored requests whose last score is younger
// than maxAge, with no challenge issued or passed since, keeps that score:
// a busy client (a flood, a crawler, a monitor) then costs the model once
// per maxAge, not once per request.
func (t *Tracker) ObserveScore(key string, r Request, s Scorer, maxAge time.Duration) (score, seen int, tk Ticket) {
	sh := t.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c, ns := sh.record(key, r, t.max)
	ch := uint32(c.challenges)<<16 | uint32(c.passed)
	if c.n <= alwaysScored || c.scored < 0 || ns-c.scoredAt >= int64(maxAge) || ns < c.scoredAt || ch != c.scoredChallenges {
		c.scored, c.scoredAt, c.scoredChallenges = int16(s.Score(c.features(ns))), ns, ch
	}
	return int(c.scored), c.n, Ticket{key: key, c: c, n: c.n}
}

// Ticket names a request recorded by Observe, for Answered: the n-th of
// client c, tracked under key (a client forgotten and seen again is
// another, whose requests the ticket does not name).
type Ticket struct {
	key string
	c   *client
	n   int
}

// Answered records the status the request of tk was answered with (while
// it is still in its client's history).
func (t *Tracker) Answered(tk Ticket, status int) {
	s := t.shard(tk.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[tk.key]; c != nil && c == tk.c && tk.n > c.n-historyLen && tk.n <= c.n {
		c.ring[(tk.n-1)%historyLen].status = uint16(min(max(status, 0), math.MaxUint16))
	}
}

// Challenge counts a challenge issued to (ChallengeIssued) or passed by
// (ChallengePassed) the client key.
func (t *Tracker) Challenge(key string, outcome int) {
	s := t.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[key]
	if c == nil {
		c = s.add(key, t.max)
	}
	switch outcome {
	case ChallengeIssued:
		c.challenges = min(c.challenges+1, math.MaxUint16)
	case ChallengePassed:
		c.passed = min(c.passed+1, math.MaxUint16)
	}
}

// add starts tracking key, forgetting a client when the shard is full:
// the queue is a clock (second chance), so a client seen again since it
// was queued goes round once more, and one seen only once goes first — a
// flood from a million addresses evicts its own keys, not the customers
// who keep coming back. Each round trip consumes a sighting, so adding
// costs O(1) amortized. Called with s.mu held.
func (s *trackerShard) add(key string, limit int) *client {
	for len(s.clients) >= limit && s.head < len(s.order) {
		old := s.order[s.head]
		s.order[s.head] = ""
		s.head++
		oc := s.clients[old]
		if oc == nil {
			continue
		}
		if oc.seenAgain {
			oc.seenAgain = false
			s.order = append(s.order, old)
			continue
		}
		delete(s.clients, old)
	}
	if s.head > 64 && s.head > len(s.order)/2 {
		s.order = append([]string(nil), s.order[s.head:]...)
		s.head = 0
	}
	c := &client{scored: -1}
	s.clients[key] = c
	s.order = append(s.order, key)
	return c
}

// features computes the client's features at now (unix ns). Called with
// its shard's lock held.
func (c *client) features(now int64) Features {
	var f Features
	n := c.size()
	f[FRequests] = float64(c.n)
	f[FChallenges], f[FPassed] = float64(c.challenges), float64(c.passed)
	first := c.at(0).ns
	f[FRate] = float64(n) / math.Max(float64(now-first)/1e9, 1)
	var sum, sumSq float64
	minGap := math.Inf(1)
	var paths [historyLen]uint32
	var static, page, post, bare, pagesJudged, answered, errs, notFound, noRef, noCookie, mismatch float64
	for i := range n {
		e := c.at(i)
		paths[i] = e.path
		if i > 0 {
			g := float64(e.ns-c.at(i-1).ns) / 1e9
			g = math.Max(g, 0)
			sum += g
			sumSq += g * g
			minGap = math.Min(minGap, g)
			if e.flags&flagReferer == 0 {
				noRef++
			}
			if e.flags&flagCookie == 0 {
				noCookie++
			}
		}
		switch {
		case e.flags&flagStatic != 0:
			static++
		case e.flags&flagPage != 0:
			page++
			if now-e.ns > int64(pageAssetsWithin) {
				pagesJudged++
				if !assetFollows(c, i, n) {
					bare++
				}
			}
		}
		if e.flags&flagPost != 0 {
			post++
		}
		if e.flags&flagMismatch != 0 {
			mismatch++
		}
		if e.status != 0 {
			answered++
			if e.status >= 400 && e.status < 500 {
				errs++
				if e.status == 404 {
					notFound++
				}
			}
		}
	}
	nf := float64(n)
	f[FStatic], f[FPage], f[FPost], f[FMismatch] = static/nf, page/nf, post/nf, mismatch/nf
	f[FBarePages], f[FErrors], f[FNotFound], f[FNoReferer], f[FNoCookie] = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if pagesJudged > 0 {
		f[FBarePages] = bare / pagesJudged
	}
	if answered > 0 {
		f[FErrors], f[FNotFound] = errs/answered, notFound/answered
	}
	f[FGapCV], f[FMinGap] = math.NaN(), math.NaN()
	if n > 1 {
		f[FNoReferer], f[FNoCookie] = noRef/(nf-1), noCookie/(nf-1)
		mean := sum / (nf - 1)
		f[FMinGap] = minGap
		if n > 2 && mean > 0 {
			sd := math.Sqrt(math.Max(sumSq/(nf-1)-mean*mean, 0))
			f[FGapCV] = sd / mean
		}
	}
	distinct := 0
	sortU32(paths[:n])
	for i := range n {
		if i == 0 || paths[i] != paths[i-1] {
			distinct++
		}
	}
	f[FPathDiversity] = float64(distinct) / nf
	return f
}

// assetFollows reports whether an asset request follows the page view at
// position i within pageAssetsWithin.
func assetFollows(c *client, i, n int) bool {
	p := c.at(i).ns
	for j := i + 1; j < n; j++ {
		e := c.at(j)
		if e.ns-p > int64(pageAssetsWithin) {
			return false
		}
		if e.flags&flagStatic != 0 {
			return true
		}
	}
	return false
}

// sortU32 sorts a small slice in place (insertion sort: at most
// historyLen elements, no allocation).
func sortU32(a []uint32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// hashPath returns a 32-bit hash of a path or key (FNV-1a).
func hashPath(p string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(p); i++ {
		h = (h ^ uint32(p[i])) * 16777619
	}
	return h
}
