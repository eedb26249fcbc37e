package main

import (
	"math"
	"slices"
	"time"
)

// shopCounts is the shop's GET /stats (bench/gateway/attack/shop).
type shopCounts struct {
	Arrived    map[string]int64         `json:"arrived"`
	Served     map[string]int64         `json:"served"`
	Dropped    map[string]int64         `json:"dropped"`
	Buckets    map[string][]int64       `json:"buckets"`
	Statuses   map[string]map[int]int64 `json:"statuses"`
	Flagged    map[string]int64         `json:"client_mismatch"`
	BotScores  map[string][]int64       `json:"bot_scores"`
	MaxWaiting int                      `json:"max_waiting"`
	BucketMS   int64                    `json:"bucket_ms"`
	Slots      int                      `json:"slots"`
	ServiceMS  float64                  `json:"service_time_ms"`
}

// summary is one run's result, as loadgen run writes it.
type summary struct {
	Target   string  `json:"target"`
	Scenario string  `json:"scenario"`
	Start    string  `json:"start"`
	PreS     float64 `json:"pre_s"`
	AttackS  float64 `json:"attack_s"`
	PostS    float64 `json:"post_s"`
	Users    int     `json:"users"`
	// Legit is the customers' view; Attack the attackers'.
	Legit  legitSummary  `json:"legit"`
	Attack attackSummary `json:"attack"`
	// Shop is what reached the shop, and its own CPU and memory.
	Shop struct {
		Counts shopCounts `json:"counts"`
		Usage  usageK     `json:"usage"`
	} `json:"shop"`
	// Proxy is the target's CPU and memory (zero for the shop itself).
	Proxy       usageK `json:"proxy"`
	AttackError string `json:"attack_error,omitempty"`
}

// usageK is usage with the CPU per 1,000 requests sent to the target
// (customers' and attackers').
type usageK struct {
	usage
	PerKReqMS float64 `json:"cpu_ms_per_1k_req"`
}

// latencyFigures are counts and latencies of a set of customer actions;
// the latencies are of the successful ones.
type latencyFigures struct {
	Requests   int64   `json:"requests"`
	OK         int64   `json:"ok"`
	Unfinished int64   `json:"unfinished"`
	P50MS      float64 `json:"p50_ms"`
	P90MS      float64 `json:"p90_ms"`
	P99MS      float64 `json:"p99_ms"`
}

// legitSummary is the customers' view of a run.
type legitSummary struct {
	// Requests counts every action; Window the actions started during the
	// attack window (the same window in the baseline), the figures judged.
	Requests int64                     `json:"requests"`
	All      latencyFigures            `json:"all"`
	Window   latencyFigures            `json:"window"`
	ByKind   map[string]latencyFigures `json:"window_by_kind"`
	// Failures counts the window's failed actions by kind and how they
	// ended ("page proxy 503", "static error").
	Failures map[string]int64 `json:"window_failures"`
	// Sessions, those shown a challenge, the challenge pages and the
	// proof-of-work hashes they computed.
	Sessions           int   `json:"sessions"`
	ChallengedSessions int   `json:"challenged_sessions"`
	ChallengePages     int   `json:"challenge_pages"`
	Hashes             int   `json:"hashes"`
	CheckoutsOK        int64 `json:"checkouts_ok"`
	CheckoutsTried     int64 `json:"checkouts_tried"`
	// Seconds are per-second figures over the whole run, for the time to
	// recover.
	Seconds []latencyFigures `json:"seconds"`
}

// attackSummary is the attackers' view, and what reached the shop.
type attackSummary struct {
	// Counts are the attackers' own counts.
	Counts *attackStats `json:"counts"`
	// Reached counts the attack's requests that arrived at the shop, and
	// ReachedShare their share of those sent.
	Reached      int64   `json:"reached"`
	ReachedShare float64 `json:"reached_share"`
	// MitigatedAfterS is the time from the attack's start after which at
	// most a tenth of what the attackers sent reached the shop, in every
	// half second to the attack's end (-1: never; 0: from the start).
	MitigatedAfterS float64 `json:"mitigated_after_s"`
}

// summarize computes a run's summary.
func summarize(cfg runConfig, rec *recorder, st *attackStats, shop shopCounts) *summary {
	s := &summary{Target: cfg.targetName, Scenario: cfg.scenario, Start: rec.start.UTC().Format(time.RFC3339),
		PreS: cfg.pre.Seconds(), AttackS: cfg.attack.Seconds(), PostS: cfg.post.Seconds(), Users: cfg.humans.users}
	total := cfg.pre + cfg.attack + cfg.post
	inWindow := func(r legitRecord) bool { return r.at >= cfg.pre && r.at < cfg.pre+cfg.attack }
	var all, window []legitRecord
	byKind := map[string][]legitRecord{}
	seconds := make([][]legitRecord, int(math.Ceil(total.Seconds())))
	for _, r := range rec.records {
		if r.unfinished && !inWindow(r) {
			continue // cut off by the run's end, not by the target
		}
		all = append(all, r)
		if inWindow(r) {
			window = append(window, r)
			byKind[r.kind] = append(byKind[r.kind], r)
			if r.failure != "" {
				if s.Legit.Failures == nil {
					s.Legit.Failures = map[string]int64{}
				}
				s.Legit.Failures[r.kind+" "+r.failure]++
			}
		}
		if sec := int(r.at / time.Second); sec >= 0 && sec < len(seconds) {
			seconds[sec] = append(seconds[sec], r)
		}
		if r.kind == kindCheckout {
			s.Legit.CheckoutsTried++
			if r.ok {
				s.Legit.CheckoutsOK++
			}
		}
	}
	s.Legit.Requests = int64(len(rec.records))
	s.Legit.All, s.Legit.Window = figures(all), figures(window)
	s.Legit.ByKind = map[string]latencyFigures{}
	for k, rs := range byKind {
		s.Legit.ByKind[k] = figures(rs)
	}
	for _, rs := range seconds {
		s.Legit.Seconds = append(s.Legit.Seconds, figures(rs))
	}
	s.Legit.Sessions, s.Legit.ChallengedSessions = rec.sessions, rec.challengedSessions
	s.Legit.ChallengePages, s.Legit.Hashes = rec.challengePages, rec.hashes

	s.Attack.Counts = st
	s.Attack.Reached = shop.Arrived["attack"]
	if st.Sent > 0 {
		s.Attack.ReachedShare = float64(s.Attack.Reached) / float64(st.Sent)
	}
	first := int(cfg.pre / bucket)
	last := int((cfg.pre + cfg.attack) / bucket)
	s.Attack.MitigatedAfterS = -1
	if st.Sent > 0 {
		if b := mitigatedFrom(st.SentBuckets, shop.Buckets["attack"], first, last); b >= 0 {
			s.Attack.MitigatedAfterS = float64(b-first) * bucket.Seconds()
		}
	}
	s.Shop.Counts = shop
	return s
}

// mitigatedFrom returns the first bucket in [first, last) from which, in
// every bucket to last, at most a tenth of what was sent arrived (-1: none).
func mitigatedFrom(sent, arrived []int64, first, last int) int {
	at := func(xs []int64, i int) int64 {
		if i < len(xs) {
			return xs[i]
		}
		return 0
	}
	from := -1
	for b := last - 1; b >= first; b-- {
		if float64(at(arrived, b)) > max(1, 0.1*float64(at(sent, b))) {
			break
		}
		from = b
	}
	return from
}

// figures counts rs and takes the percentiles of the successful ones.
func figures(rs []legitRecord) latencyFigures {
	var f latencyFigures
	var lat []time.Duration
	for _, r := range rs {
		f.Requests++
		if r.unfinished {
			f.Unfinished++
		}
		if r.ok {
			f.OK++
			lat = append(lat, r.latency)
		}
	}
	slices.Sort(lat)
	f.P50MS, f.P90MS, f.P99MS = ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99))
	return f
}

// percentile returns the p-th percentile of sorted (nearest rank; 0 for
// none).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }
