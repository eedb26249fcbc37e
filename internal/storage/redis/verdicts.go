package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// VerdictTTL is how long a published bot verdict stands unless its gateway
// publishes it again (gateways republish a client that stays doubtful
// every minute).
const VerdictTTL = 5 * time.Minute

// BotVerdicts shares gateways' verdicts on clients (a doubtful bot score
// per address) through Redis pub/sub: each gateway publishes on one
// channel and keeps what the others published, with its time, in a
// bounded map, so that reading a verdict costs no round trip. It has the
// methods of gateway.BotVerdicts.
//
// Verdicts are messages, not stored state: a gateway that starts, or that
// was cut off from Redis, hears only verdicts published from then on (a
// doubtful client is republished every minute); while Redis is away
// nothing is shared and each gateway acts on its own scores.
type BotVerdicts struct {
	st      *State
	id      string // this gateway's, so that it skips its own messages
	channel string
	max     int
	out     chan string
	log     *slog.Logger
	brk     breaker

	mu sync.Mutex
	m  map[string][]verdict // by address: the standing verdict of each gateway

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// verdict is one gateway's score of a client, standing until.
type verdict struct {
	from  string
	score int
	until time.Time
}

// BotVerdicts starts sharing verdicts through s; maxClients bounds the
// addresses whose verdicts are kept. Close stops it.
func (s *State) BotVerdicts(maxClients int, log *slog.Logger) *BotVerdicts {
	var id [8]byte
	_, _ = rand.Read(id[:])
	ctx, cancel := context.WithCancel(context.Background())
	v := &BotVerdicts{st: s, id: hex.EncodeToString(id[:]), channel: s.prefix + "bot-verdicts", max: max(maxClients, 1),
		out: make(chan string, 1024), log: log, m: map[string][]verdict{}, cancel: cancel,
		brk: newBreaker(log, "bot verdicts not shared: Redis unreachable", "bot verdicts shared again")}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	v.done.Add(2)
	go v.publish(ctx)
	go v.listen(ctx)
	return v
}

// Publish implements gateway.BotVerdicts: the message is queued and sent
// by a goroutine of its own (dropped when 1,024 are waiting).
func (v *BotVerdicts) Publish(ip string, score int) {
	select {
	case v.out <- v.id + " " + strconv.Itoa(score) + " " + ip:
	default:
	}
}

// Verdict implements gateway.BotVerdicts: the highest standing score
// another gateway published for ip (0: none).
func (v *BotVerdicts) Verdict(ip string) int {
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	best := 0
	for _, x := range v.m[ip] {
		if now.Before(x.until) {
			best = max(best, x.score)
		}
	}
	return best
}

// Len returns how many addresses have verdicts kept.
func (v *BotVerdicts) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.m)
}

// Close stops sharing.
func (v *BotVerdicts) Close() error {
	v.cancel()
	v.done.Wait()
	return nil
}

func (v *BotVerdicts) publish(ctx context.Context) {
	defer v.done.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-v.out:
			if !v.brk.usable() {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, v.st.timeout)
			err := v.st.rdb.Publish(cctx, v.channel, msg).Err()
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					v.brk.failed(fmt.Errorf("redis: publish bot verdict: %w", err))
				}
				continue
			}
			v.brk.recovered()
		}
	}
}

// listen keeps the other gateways' verdicts; go-redis resubscribes after a
// lost connection.
func (v *BotVerdicts) listen(ctx context.Context) {
	defer v.done.Done()
	sub := v.st.rdb.Subscribe(ctx, v.channel)
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			v.receive(m.Payload, time.Now())
		}
	}
}

// receive keeps one message: "<gateway id> <score> <address>"; score 0
// withdraws that gateway's verdict. Malformed messages are ignored.
func (v *BotVerdicts) receive(msg string, now time.Time) {
	from, rest, ok1 := strings.Cut(msg, " ")
	sc, ip, ok2 := strings.Cut(rest, " ")
	score, err := strconv.Atoi(sc)
	if !ok1 || !ok2 || err != nil || score < 0 || score > 100 || ip == "" || len(ip) > 64 || from == v.id {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	list := v.m[ip]
	kept := list[:0]
	for _, x := range list {
		if x.from != from && now.Before(x.until) {
			kept = append(kept, x)
		}
	}
	if score > 0 {
		kept = append(kept, verdict{from: from, score: score, until: now.Add(VerdictTTL)})
	}
	if len(kept) == 0 {
		delete(v.m, ip)
		return
	}
	if _, known := v.m[ip]; !known && len(v.m) >= v.max {
		v.evict(now)
	}
	v.m[ip] = kept
}

// evict makes room for one address: it looks at up to evictScan of them
// (in the map's random order), drops those without a standing verdict,
// and if none was, one of them.
func (v *BotVerdicts) evict(now time.Time) {
	seen, dropped := 0, false
	for ip, list := range v.m {
		standing := false
		for _, x := range list {
			standing = standing || now.Before(x.until)
		}
		if !standing {
			delete(v.m, ip)
			dropped = true
		}
		if seen++; seen == evictScan {
			break
		}
	}
	if dropped {
		return
	}
	for ip := range v.m {
		delete(v.m, ip)
		return
	}
}

// evictScan bounds the addresses evict looks at.
const evictScan = 64
