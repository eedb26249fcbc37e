package gateway

import (
	"sync"
	"time"
)

// BotVerdicts shares bot scores between gateways, so that a client one
// gateway finds doubtful (a score of doubtfulFrom or more: challenged,
// served last, not trusted) is doubted by the others from its first
// request there, although each keeps its own history of the client.
type BotVerdicts interface {
	// Publish tells the other gateways the score of the client at ip: a
	// doubtful one, or 0 to withdraw an earlier verdict. It must not block.
	Publish(ip string, score int)
	// Verdict returns the score another gateway published for ip and that
	// still stands (0: none).
	Verdict(ip string) int
}

// verdictRepublish is how often a client that stays doubtful is published
// again, so that its verdict outlives the sharing's expiry only while it
// does.
const verdictRepublish = time.Minute

// sharedVerdicts is the gateway's side of BotVerdicts: it publishes a
// client's score when it becomes doubtful (again every verdictRepublish
// while it stays so) and withdraws it when it no longer is.
type sharedVerdicts struct {
	v   BotVerdicts
	max int

	mu        sync.Mutex
	published map[string]time.Time // clients with a standing verdict of ours, when last published
}

func newSharedVerdicts(v BotVerdicts, max int) *sharedVerdicts {
	return &sharedVerdicts{v: v, max: max, published: map[string]time.Time{}}
}

// merge publishes or withdraws ip's verdict as its own score (at now)
// says, and returns the score to act on: the higher of its own and any
// other gateway's.
func (s *sharedVerdicts) merge(ip string, score int, now time.Time) int {
	doubtful := score >= doubtfulFrom
	s.mu.Lock()
	last, ok := s.published[ip]
	switch {
	case doubtful && (!ok || now.Sub(last) >= verdictRepublish):
		if !ok && len(s.published) >= s.max {
			// Bounded like the histories: forget some client's
			// publication (its verdict expires where it was shared).
			for k := range s.published {
				delete(s.published, k)
				break
			}
		}
		s.published[ip] = now
	case !doubtful && ok:
		delete(s.published, ip)
	default:
		s.mu.Unlock()
		return max(score, s.v.Verdict(ip))
	}
	s.mu.Unlock()
	if doubtful {
		s.v.Publish(ip, score)
	} else {
		s.v.Publish(ip, 0)
	}
	return max(score, s.v.Verdict(ip))
}
