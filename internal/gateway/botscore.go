package gateway

import (
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/botscore"
	"github.com/shopguard/shopguard/internal/gateway/challenge"
)

// BotScorer turns a client's recent behaviour into a score from 0 (a
// person) to 100 (a bot); botscore.Model is one.
type BotScorer interface {
	Score(botscore.Features) int
}

// BotScore is what the policy's bot_score block asks of the score: page
// views of clients scoring at least ChallengeAbove are challenged (0:
// never), requests of clients scoring at least LowPriorityAbove wait
// behind the others for a slot at the shop (0: never). With Shadow the
// score is computed, counted and told to the shop, nothing more.
type BotScore struct {
	ChallengeAbove, LowPriorityAbove int
	Shadow                           bool
}

// botChallengeRoute is the challenge of page views of clients whose bot
// score is at least the policy's challenge_above.
var botChallengeRoute = Route{Name: "bot_score", Challenge: ChallengePoW, ChallengeBits: DefaultChallengeBits, Priority: PriorityLow}

// HeaderBotScore tells the shop a client's bot score (0-100); a client's
// own copy is always dropped.
const HeaderBotScore = "X-Shopguard-Bot-Score"

// DefaultMaxBotClients is how many clients' histories the bot score keeps
// at once.
const DefaultMaxBotClients = 200_000

// BotClients is how many clients' histories (and shared verdicts) a
// gateway with c keeps: MaxBotClients, or DefaultMaxBotClients.
func (c *Config) BotClients() int {
	if c.MaxBotClients <= 0 {
		return DefaultMaxBotClients
	}
	return c.MaxBotClients
}

// staticExtensions are the extensions of the assets a browser loads with
// a page.
var staticExtensions = map[string]bool{".css": true, ".js": true, ".mjs": true, ".png": true, ".jpg": true, ".jpeg": true,
	".gif": true, ".webp": true, ".avif": true, ".svg": true, ".ico": true, ".woff": true, ".woff2": true, ".ttf": true,
	".otf": true, ".map": true, ".mp4": true, ".webm": true, ".json": false}

// botRequest describes r for the tracker.
func botRequest(r *http.Request, at time.Time, mismatch bool) botscore.Request {
	m := r.Method
	return botscore.Request{At: at, Path: r.URL.Path, Page: isPageView(r),
		Static:   (m == http.MethodGet || m == http.MethodHead) && staticExtensions[strings.ToLower(path.Ext(r.URL.Path))],
		Post:     m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch,
		Referer:  r.Header.Get("Referer") != "",
		Cookie:   r.Header.Get("Cookie") != "",
		Mismatch: mismatch}
}

// botScoreMaxAge is how long a busy client keeps its bot score before
// the model scores it again (see botscore.Tracker.ObserveScore).
const botScoreMaxAge = time.Second

// scoreBot records r in its client's history and scores the client; it
// returns the score (-1 without a scorer).
func (g *Gateway) scoreBot(r *http.Request, keys clientKeys, st *requestState) int {
	if g.bots == nil || keys.ip == "" {
		return -1
	}
	score, seen, tk := g.bots.ObserveScore(keys.ip, botRequest(r, st.start, st.mismatch != ""), g.cfg.BotModel, botScoreMaxAge)
	st.botTicket, st.tracked, st.botSeen = tk, true, seen
	if g.shared != nil {
		score = g.shared.merge(keys.ip, score, st.start)
	}
	g.metrics.botScore(score)
	return score
}

// tunedChallenge returns the challenge ch made harder for a client that
// looks automated: a proof of work two bits (four times the work) harder
// for a user agent that lies or a bot score of 90 or more, three bits for
// both or a score of 98 or more, up to challenge.MaxBits. A person's phone
// solves the route's own difficulty in a fraction of a second; a farm of
// solvers pays several times over. Other challenges are returned as they
// are.
func tunedChallenge(ch *Route, st *requestState) *Route {
	if ch.Challenge != ChallengePoW {
		return ch
	}
	extra := 0
	switch {
	case st.botScore >= 98 || st.botScore >= 90 && st.mismatch != "":
		extra = 3
	case st.botScore >= 90 || st.mismatch != "":
		extra = 2
	}
	if extra == 0 {
		return ch
	}
	tuned := *ch
	tuned.ChallengeBits = min(ch.ChallengeBits+extra, challenge.MaxBits)
	return &tuned
}
