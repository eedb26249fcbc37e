package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/risk"
)

//go:embed features.lua
var featuresLua string

// featuresScript is features.lua: Observe, Apply and Read of any number of
// keys in one call, so that a decision's feature update is one round trip.
//
// KEYS: the keys to observe, then those to read. ARGV: event time (unix
// seconds, then nanoseconds within the second), the operation (observe,
// apply or read), the exact-count cap, the sketch precision and the number
// of keys to observe; then per key to observe: the history window in days,
// the amount, the tag, the distinct-windows mask, the number of dimensions
// and per dimension its position in the observation (0..3), kind, value
// hash (hex), sketch register and rank; then per key to read: the number
// of dimension kinds, then the kinds.
var featuresScript = goredis.NewScript(featuresLua)

// Features is a features.Store kept in Redis, shared by every instance
// that uses the same Redis and prefix: what one instance observes, the
// others read at once. Each feature key is one Redis key holding its
// windows, distinct values, sketches, history and tag, with the semantics
// of features.Memory (one script, features.lua, carries them over; the
// suite in featurestest holds both to identical results), and a TTL of
// its retention (features.Retention, or the history window) plus a day of
// wall time, so that Redis holds only keys seen within it. One Observe,
// Apply or Read call is one round trip, whatever the number of keys.
//
// Degraded mode: when Redis does not answer within the State's timeout,
// or fails, the call is answered by this instance's own in-memory store
// (a features.Memory with the same configuration), and Redis is left alone
// for a backoff that grows from 250 ms to 5 s before one call tries it
// again. While degraded, features count only what this instance observed
// since the outage began, so velocity rules see less (they fail open); the
// observations made meanwhile are not copied into Redis when it is back,
// and the next outage starts counting afresh.
//
// Keys are not spread over a Redis Cluster: one call's keys must live on
// one server.
type Features struct {
	st   *State
	cfg  features.MemoryConfig
	cap  string
	prec string
	// local answers while Redis is away; a fresh one starts each outage,
	// so that one outage's counts do not reappear in the next.
	local atomic.Pointer[features.Memory]
	brk   breaker
}

var _ features.Store = (*Features)(nil)

// Features returns the feature store configured by cfg (Shards is
// unused) kept in s.
func (s *State) Features(cfg features.MemoryConfig, log *slog.Logger) *Features {
	cfg = cfg.Normalized()
	f := &Features{
		st: s, cfg: cfg,
		cap: strconv.Itoa(cfg.DistinctCap), prec: strconv.Itoa(cfg.SketchPrecision),
		brk: newBreaker(log, "shared features unreachable: this instance's own counters answer until Redis is back", "shared features reachable again"),
	}
	f.local.Store(features.NewMemory(cfg))
	return f
}

// Degraded reports whether Redis failed last time it was tried, so that
// this instance's own store is answering.
func (f *Features) Degraded() bool { return f.brk.degraded.Load() }

// key returns the Redis key of k: its four fields, each after its length.
func (f *Features) key(k *features.Key) string {
	b := make([]byte, 0, len(f.st.prefix)+len(k.Tenant)+len(k.Scope)+len(k.Kind)+len(k.Value)+24)
	b = append(b, f.st.prefix...)
	b = append(b, "f:"...)
	for _, s := range [...]string{k.Tenant, k.Scope, string(k.Kind), k.Value} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	return string(b)
}

// Observe implements features.Store.
func (f *Features) Observe(ctx context.Context, at time.Time, obs []features.Observation, out []features.Aggregates) error {
	return f.ObserveRead(ctx, at, obs, out, nil, nil)
}

// ObserveRead implements features.ObserveReader: Observe, then Read of
// keys (without dimensions), in one round trip.
func (f *Features) ObserveRead(ctx context.Context, at time.Time, obs []features.Observation, out []features.Aggregates, keys []features.Key, read []features.Aggregates) error {
	if err := features.CheckObserve(at, obs, len(out)); err != nil {
		return err
	}
	if err := features.CheckRead(at, keys, nil, len(read)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	local := func() error {
		if err := f.local.Load().Observe(ctx, at, obs, out); err != nil {
			return err
		}
		return f.local.Load().Read(ctx, at, keys, nil, read)
	}
	if !f.brk.usable() {
		return local()
	}
	if err := f.exchange(ctx, at, "observe", obs, out, keys, nil, read); err != nil {
		return f.fallBack(ctx, err, local)
	}
	return nil
}

// Apply implements features.Store.
func (f *Features) Apply(ctx context.Context, at time.Time, obs []features.Observation) error {
	if err := features.CheckObserve(at, obs, len(obs)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !f.brk.usable() {
		return f.local.Load().Apply(ctx, at, obs)
	}
	if err := f.exchange(ctx, at, "apply", obs, nil, nil, nil, nil); err != nil {
		return f.fallBack(ctx, err, func() error { return f.local.Load().Apply(ctx, at, obs) })
	}
	return nil
}

// Read implements features.Store.
func (f *Features) Read(ctx context.Context, at time.Time, keys []features.Key, dims [][]risk.EntityKind, out []features.Aggregates) error {
	if err := features.CheckRead(at, keys, dims, len(out)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !f.brk.usable() {
		return f.local.Load().Read(ctx, at, keys, dims, out)
	}
	if err := f.exchange(ctx, at, "read", nil, nil, keys, dims, out); err != nil {
		return f.fallBack(ctx, err, func() error { return f.local.Load().Read(ctx, at, keys, dims, out) })
	}
	return nil
}

// fallBack enters the degraded mode after err, unless the caller's
// context ended (then it returns that), and answers with local.
func (f *Features) fallBack(ctx context.Context, err error, local func() error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	f.brk.failed(err)
	return local()
}

// answerWidth is the number of values features.lua answers per key.
const answerWidth = 37

// exchange runs the script once: it records obs (answering into out
// unless op is apply), then reads keys with dims into read. Keys with an
// empty value read as New without a lookup.
func (f *Features) exchange(ctx context.Context, at time.Time, op string, obs []features.Observation, out []features.Aggregates,
	keys []features.Key, dims [][]risk.EntityKind, read []features.Aggregates) error {
	rkeys := make([]string, 0, len(obs)+len(keys))
	args := make([]any, 0, 6+len(obs)*10+len(keys))
	args = append(args, at.Unix(), at.Nanosecond(), op, f.cap, f.prec, len(obs))
	for i := range obs {
		o := &obs[i]
		rkeys = append(rkeys, f.key(&o.Key))
		nd := 0
		for _, d := range o.Distinct {
			if d.Kind != "" && d.Value != "" {
				nd++
			}
		}
		args = append(args, f.cfg.HistoryDays(o.Key.Scope), strconv.FormatFloat(o.Amount, 'g', -1, 64), o.Tag, int(o.DistinctWindows), nd)
		for p, d := range o.Distinct {
			if d.Kind == "" || d.Value == "" {
				continue
			}
			h := features.HashValue(d.Value)
			reg, rank := features.SketchPosition(h, f.cfg.SketchPrecision)
			// The low three bits of a hash are not part of a value's
			// identity in Memory (they name its slot there).
			args = append(args, p, string(d.Kind), strconv.FormatUint(h>>3, 16), reg, rank)
		}
	}
	var idx []int // the indexes of the keys read from Redis
	for i := range keys {
		if keys[i].Value == "" {
			read[i] = features.Aggregates{New: true}
			continue
		}
		rkeys = append(rkeys, f.key(&keys[i]))
		idx = append(idx, i)
		var kd []risk.EntityKind
		if i < len(dims) {
			kd = dims[i]
		}
		args = append(args, len(kd))
		for _, k := range kd {
			args = append(args, string(k))
		}
	}
	if len(rkeys) == 0 {
		return nil
	}
	want := len(rkeys) * answerWidth
	if op == "apply" {
		want = 0
	}
	ctx, cancel := context.WithTimeout(ctx, f.st.timeout)
	defer cancel()
	res, err := featuresScript.Run(ctx, f.st.rdb, rkeys, args...).Slice()
	if err != nil {
		return fmt.Errorf("redis: features: %w", err)
	}
	if len(res) != want {
		return fmt.Errorf("redis: features: %d values for %d keys", len(res), len(rkeys))
	}
	if f.brk.recovered() {
		f.local.Store(features.NewMemory(f.cfg))
	}
	if op == "apply" {
		return nil
	}
	for i := range obs {
		if err := decode(res[i*answerWidth:(i+1)*answerWidth], &out[i], false); err != nil {
			return fmt.Errorf("redis: features: observation %d: %w", i, err)
		}
	}
	for j, i := range idx {
		o := (len(obs) + j) * answerWidth
		if err := decode(res[o:o+answerWidth], &read[i], true); err != nil {
			return fmt.Errorf("redis: features: key %d: %w", i, err)
		}
	}
	return nil
}

// errShape is wrapped by every error about an answer of the script that
// is not as features.lua writes it.
var errShape = errors.New("unexpected answer")

// decode fills a from one key's answer (see features.lua): new, first
// seen (s, ns), previous seen (observe) or latest (read) (s, ns), history,
// tag, five counts, the five sums as text, then per dimension position
// whether its value was new (observe) and its five distinct counts.
func decode(r []any, a *features.Aggregates, read bool) error {
	*a = features.Aggregates{}
	if num(r[0]) == 1 {
		a.New = true
		if read {
			return nil
		}
	} else {
		a.PrevSeen = unixTime(r[3], r[4])
	}
	a.FirstSeen, a.History = unixTime(r[1], r[2]), num(r[5])
	a.PrevTag, _ = r[6].(string)
	for w := range a.Count {
		a.Count[w] = num(r[7+w])
	}
	sums, _ := r[12].(string)
	for w := range a.Sum {
		txt, rest, _ := strings.Cut(sums, " ")
		x, err := strconv.ParseFloat(txt, 64)
		if err != nil {
			return fmt.Errorf("%w: sums %q: %w", errShape, r[12], err)
		}
		a.Sum[w], sums = x, rest
	}
	for d := range a.Distinct {
		o := 13 + d*(1+int(features.NumWindows))
		a.NewValue[d] = !read && num(r[o]) == 1
		for w := range a.Distinct[d] {
			a.Distinct[d][w] = num(r[o+1+w])
		}
	}
	return nil
}

// num returns an integer of the answer (0 when it is none).
func num(v any) int64 {
	n, _ := v.(int64)
	return n
}

// unixTime returns the time of unix seconds s and nanoseconds ns, in UTC.
func unixTime(s, ns any) time.Time { return time.Unix(num(s), num(ns)).UTC() }
