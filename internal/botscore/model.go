package botscore

import (
	"bufio"
	"context"
	"crypto/sha256"
	_ "embed" // the default model
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/ml/metrics"
)

// defaultModelFile is the model 'shopguard train traffic' makes with its
// defaults (DefaultTrainConfig).
//
//go:embed model.gbdt
var defaultModelFile []byte

// ErrModel wraps every reason LoadModel refuses a model file.
var ErrModel = errors.New("botscore: unusable model")

// Model turns a client's Features into a bot score: gradient-boosted
// trees trained on simulated traffic with ground truth (Train). The score
// is a probability calibrated (Platt) on the rows of the validation
// sessions, built as the training rows are (every request of people, a
// sample of bots'), of which about a quarter are bots': 50 is even odds
// under that prior, not under a shop's own mix.
type Model struct {
	trees   *gbdt.Model
	version string
}

// LoadModel decodes a model file (gbdt's format) whose inputs are
// FeatureNames, in order.
func LoadModel(b []byte) (*Model, error) {
	m, err := gbdt.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if !slices.Equal(m.Features, FeatureNames[:]) {
		return nil, fmt.Errorf("%w: its features %q are not the tracker's %q", ErrModel, m.Features, FeatureNames[:])
	}
	return &Model{trees: m, version: modelVersion(b)}, nil
}

// DefaultModel returns the model built into shopguard. It decodes it on
// every call: keep the result.
func DefaultModel() *Model {
	m, err := LoadModel(defaultModelFile)
	if err != nil {
		panic(fmt.Sprintf("botscore: the built-in model does not load: %v", err)) // a build error, caught by its test
	}
	return m
}

// modelVersion names a model file by its contents.
func modelVersion(b []byte) string {
	sum := sha256.Sum256(b)
	return "botscore-" + hex.EncodeToString(sum[:6])
}

// Score returns the bot score of f: the calibrated probability that the
// client is a bot, from 0 to 100. It does not allocate.
func (m *Model) Score(f Features) int {
	x := ModelInput(f)
	return m.trees.Score(x[:])
}

// Probability returns the calibrated probability that f is a bot's.
func (m *Model) Probability(f Features) float64 {
	x := ModelInput(f)
	return m.trees.Probability(x[:])
}

// ModelInput returns what a model reads of f: f with the request count
// capped at historyLen. The count of a client's requests grows for as long
// as the Tracker remembers it (days, for an office's or a carrier's
// address), past anything the simulated sessions teach, and the other
// features describe only the latest historyLen requests anyway.
func ModelInput(f Features) Features {
	f[FRequests] = math.Min(f[FRequests], historyLen)
	return f
}

// Contributions returns how much each feature moved f's raw score (log
// odds, before calibration) from bias, the average (TreeSHAP): the
// reasons of a score.
func (m *Model) Contributions(f Features) (phi Features, bias float64) {
	x := ModelInput(f)
	c, bias := m.trees.Contributions(x[:])
	copy(phi[:], c)
	return phi, bias
}

// Version names the model by its file's contents ("botscore-" and 12 hex
// digits of its SHA-256).
func (m *Model) Version() string { return m.version }

// Trees returns the number of trees.
func (m *Model) Trees() int { return len(m.trees.Trees) }

// MarshalBinary encodes the model file.
func (m *Model) MarshalBinary() ([]byte, error) { return m.trees.MarshalBinary() }

// Split is the part of a simulation a session belongs to.
type Split uint8

// The splits: sessions are split, not rows, so that no session teaches the
// model and tests it.
const (
	SplitTrain Split = iota // 70% of the sessions
	SplitValid              // 10%: early stopping and calibration
	SplitTest               // 20%: held out, for 'shopguard eval traffic'
)

var splitNames = [...]string{"train", "valid", "test"}

// String returns train, valid or test.
func (s Split) String() string { return splitNames[s] }

// SplitOf returns the split of session id of the simulation with seed
// seed: a hash of both, so that it does not depend on the persona.
func SplitOf(seed uint64, id int) Split {
	switch h := splitmix(seed^splitmix(uint64(id))) % 100; {
	case h < 70:
		return SplitTrain
	case h < 80:
		return SplitValid
	}
	return SplitTest
}

// Sampled reports whether the i-th request of a session (from 0) is a
// row of the measurements and, in a bot's session, of the training data:
// every one of the first 8, every 4th up to 128, then every 16th, so that
// long sessions (floods) do not drown the short ones while the first
// requests, where a score must already be right, weigh most.
func Sampled(i int) bool { return i < 8 || i < 128 && i%4 == 0 || i%16 == 0 }

// TrainingRow reports whether the i-th request of a session of a bot (or
// of a person) is a training row: for bots Sampled, for people every
// request. A customer is challenged for the one odd moment of a visit that
// looks like a bot (a burst of tabs, an asset storm on a slow phone), so
// those rare moments must all be learnt: with people's rows sampled like
// bots', three times as many people's sessions scored 90 somewhere.
func TrainingRow(i int, bot bool) bool { return !bot || Sampled(i) }

// positionBucket groups a request's number in its session (from 0) for
// weighting: the first 8 one by one, then by doubling ranges.
func positionBucket(i int) int {
	if i < 8 {
		return i
	}
	return min(5+bits.Len(uint(i)), numBuckets-1) // 8-15: 9, 16-31: 10, ...
}

const numBuckets = 14 // the last holds 2048 and on

// balance weights the rows of d (whose requests had the given numbers in
// their sessions) so that at each position bucket bots and people weigh
// the same, keeping the bucket's total. Bots' sessions are longer than
// people's, so that late in a session most rows are bots'; unweighted,
// the model would learn that a client is a bot for having been around a
// while, which is a fact of the simulation's mix, not of behaviour.
func balance(d *gbdt.Dataset, pos []int) {
	var n [numBuckets][2]float64
	for i, y := range d.Y {
		n[positionBucket(pos[i])][b2i(y)]++
	}
	d.Weight = make([]float64, len(d.Y))
	for i, y := range d.Y {
		c := &n[positionBucket(pos[i])]
		if c[0] == 0 || c[1] == 0 {
			d.Weight[i] = 1
			continue
		}
		d.Weight[i] = (c[0] + c[1]) / (2 * c[b2i(y)])
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Replay feeds s's events to t as the gateway does: Observe for each
// request (fn then gets the request's number in the session, from 0, and
// the features Observe returned, before its answer), Answered when the
// shop answered it, Challenge for challenges.
func Replay(t *Tracker, s *Session, fn func(i int, f Features)) {
	i := 0
	for k := range s.Events {
		e := &s.Events[k]
		switch e.Kind {
		case EventRequest:
			f, tk := t.Observe(s.Key, e.Request)
			if fn != nil {
				fn(i, f)
			}
			i++
			if e.Status != 0 {
				t.Answered(tk, e.Status)
			}
		case EventChallengeIssued:
			t.Challenge(s.Key, ChallengeIssued)
		case EventChallengePassed:
			t.Challenge(s.Key, ChallengePassed)
		}
	}
}

// eachSession makes the sessions of cfg that keep accepts, in parallel,
// replays each through one Tracker and passes it to work; emit gets
// work's results in session order (so that what it builds does not depend
// on the scheduling). It stops at the first error.
func eachSession[T any](ctx context.Context, cfg SimConfig, keep func(id int) bool, work func(s *Session, t *Tracker) T, emit func(id int, v T) error) error {
	cfg = cfg.withDefaults()
	t := NewTracker(2*cfg.Sessions + 64*64) // room for all: no client is forgotten mid-session
	workers := runtime.GOMAXPROCS(0)
	batch := workers * 32
	results := make([]T, batch)
	kept := make([]bool, batch)
	for lo := 0; lo < cfg.Sessions; lo += batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+batch, cfg.Sessions)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for id := lo + w; id < hi; id += workers {
					if kept[id-lo] = keep(id); kept[id-lo] {
						s := SimulateSession(cfg, id)
						results[id-lo] = work(&s, t)
					}
				}
			})
		}
		wg.Wait()
		for id := lo; id < hi; id++ {
			if kept[id-lo] {
				if err := emit(id, results[id-lo]); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sessionRows are a session's sampled feature rows.
type sessionRows struct {
	bot  bool
	rows []float64 // NumFeatures per row
	pos  []int     // the requests' numbers in the session
}

func sampledRows(s *Session, t *Tracker) sessionRows {
	r := sessionRows{bot: s.Bot}
	Replay(t, s, func(i int, f Features) {
		if TrainingRow(i, s.Bot) {
			x := ModelInput(f)
			r.rows = append(r.rows, x[:]...)
			r.pos = append(r.pos, i)
		}
	})
	return r
}

// datasets returns the sampled rows of cfg's training and validation
// sessions, weighted by balance.
func datasets(ctx context.Context, cfg SimConfig) (train, valid *gbdt.Dataset, sessions [2]int, err error) {
	cfg = cfg.withDefaults()
	train = &gbdt.Dataset{Features: FeatureNames[:]}
	valid = &gbdt.Dataset{Features: FeatureNames[:]}
	var pos [2][]int
	err = eachSession(ctx, cfg, func(id int) bool { return SplitOf(cfg.Seed, id) != SplitTest }, sampledRows,
		func(id int, r sessionRows) error {
			d := train
			sp := SplitOf(cfg.Seed, id)
			if sp == SplitValid {
				d = valid
			}
			sessions[sp]++
			d.X = append(d.X, r.rows...)
			pos[sp] = append(pos[sp], r.pos...)
			for range r.pos {
				d.Y = append(d.Y, r.bot)
			}
			return nil
		})
	balance(train, pos[SplitTrain])
	balance(valid, pos[SplitValid])
	return train, valid, sessions, err
}

// TrainConfig says what Train learns from and how.
type TrainConfig struct {
	// Sim is the simulated traffic; its train split teaches the model,
	// its valid split stops training and calibrates the score.
	Sim SimConfig
	// Params are the gradient-boosting settings (Threads is not recorded
	// in the model: it does not change the result).
	Params gbdt.Params
	// Progress, if set, hears of every tree.
	Progress func(gbdt.Progress)
}

// DefaultTrainConfig returns the settings of the built-in model (seed 1,
// DefaultSessions sessions): up to 300 trees of 15 leaves, stopped early
// on the validation sessions, bots and people weighted equally at every
// position in a session (see balance). Small
// trees keep the model file small and a score quick.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Sim: SimConfig{Seed: 1, Sessions: DefaultSessions},
		Params: gbdt.Params{Trees: 300, LearningRate: 0.1, MaxLeaves: 15, MaxDepth: 6, MinDataInLeaf: 50, L2: 1,
			Subsample: 0.8, ColSample: 0.9, Bins: 255, PositiveWeight: 1, EarlyStopping: 30, Seed: 1}}
}

// Report tells how training went.
type Report struct {
	// Sessions counts the simulated sessions per split (the test split
	// is not made).
	Sessions [3]int
	// TrainRows and ValidRows count the rows (TrainingRow) of the train
	// and valid sessions; TrainBotRows the training rows of bots.
	TrainRows, TrainBotRows, ValidRows int
	// Trees is the number kept after early stopping.
	Trees int
	// ValidAUC and ValidAP are ROC AUC and average precision of the
	// score on the validation rows.
	ValidAUC, ValidAP float64
	// DataTime is the time to simulate and replay, TrainTime to train.
	DataTime, TrainTime time.Duration
}

// Train simulates cfg.Sim's traffic, replays it through a Tracker and
// trains a model on the feature rows of its train split (TrainingRow,
// weighted by balance), stopping and calibrating on its valid split. The
// same config gives the same model file, byte for byte, whatever the
// number of threads.
func Train(ctx context.Context, cfg TrainConfig) (*Model, Report, error) {
	var rep Report
	start := time.Now()
	train, valid, sessions, err := datasets(ctx, cfg.Sim)
	if err != nil {
		return nil, rep, err
	}
	rep.Sessions[SplitTrain], rep.Sessions[SplitValid] = sessions[0], sessions[1]
	rep.TrainRows, rep.ValidRows = train.Rows(), valid.Rows()
	for _, y := range train.Y {
		if y {
			rep.TrainBotRows++
		}
	}
	rep.DataTime = time.Since(start)
	if valid.Rows() == 0 {
		valid = nil
	}
	start = time.Now()
	gm, err := gbdt.Train(ctx, cfg.Params, train, valid, cfg.Progress)
	if err != nil {
		return nil, rep, fmt.Errorf("botscore: train: %w", err)
	}
	rep.TrainTime = time.Since(start)
	gm.Params.Threads = 0 // the machine's, not the model's
	b, err := gm.MarshalBinary()
	if err != nil {
		return nil, rep, err
	}
	m, err := LoadModel(b) // as it will be used: decoded, versioned
	if err != nil {
		return nil, rep, err
	}
	rep.Trees = m.Trees()
	if valid != nil {
		scores := make([]float64, valid.Rows())
		var f Features
		for r := range scores {
			copy(f[:], valid.X[r*NumFeatures:])
			scores[r] = float64(m.Score(f))
		}
		rep.ValidAUC, _ = metrics.AUC(scores, valid.Y)
		rep.ValidAP, _ = metrics.AveragePrecision(scores, valid.Y)
	}
	return m, rep, nil
}

// Scorer scores a client's features from 0 (a person) to 100 (a bot).
// *Model and RuleBaseline are scorers.
type Scorer interface {
	Score(Features) int
}

// NamedScorer is a scorer with a name for reports.
type NamedScorer struct {
	Name   string
	Scorer Scorer
}

// RuleBaseline is the rule a bot score is measured against: a client
// requesting faster than MaxRate per second, or with a larger share of
// page views without assets than MaxBarePages, scores 100; others 0.
type RuleBaseline struct {
	MaxRate, MaxBarePages float64
}

// Score returns 100 if the rule fires on f, else 0.
func (r RuleBaseline) Score(f Features) int {
	if f[FRate] > r.MaxRate || f[FBarePages] > r.MaxBarePages { // NaN: no verdict
		return 100
	}
	return 0
}

// String describes the rule.
func (r RuleBaseline) String() string {
	return fmt.Sprintf("rate > %g or bare_pages > %g", r.MaxRate, r.MaxBarePages)
}

// TuneRule picks the RuleBaseline that best tells the sessions of cfg's
// train split apart (the largest share of bot sessions flagged at some
// request less the share of people's sessions so flagged), from a grid of
// rates (1 to 80 per second) and bare page shares (0.3 to 0.9, or
// never).
func TuneRule(ctx context.Context, cfg SimConfig) (RuleBaseline, error) {
	cfg = cfg.withDefaults()
	var grid []RuleBaseline
	for _, rate := range []float64{1, 2, 3, 5, 8, 13, 20, 30, 50, 80} {
		for _, bare := range []float64{0.3, 0.5, 0.7, 0.9, math.Inf(1)} {
			grid = append(grid, RuleBaseline{MaxRate: rate, MaxBarePages: bare})
		}
	}
	var flagged [2][]int // per class, per rule: sessions flagged
	flagged[0], flagged[1] = make([]int, len(grid)), make([]int, len(grid))
	var sessions [2]int
	type verdicts struct {
		bot     bool
		flagged []bool
	}
	err := eachSession(ctx, cfg, func(id int) bool { return SplitOf(cfg.Seed, id) == SplitTrain },
		func(s *Session, t *Tracker) verdicts {
			v := verdicts{bot: s.Bot, flagged: make([]bool, len(grid))}
			Replay(t, s, func(_ int, f Features) {
				for k, r := range grid {
					v.flagged[k] = v.flagged[k] || r.Score(f) >= 50
				}
			})
			return v
		},
		func(_ int, v verdicts) error {
			c := b2i(v.bot)
			sessions[c]++
			for k, f := range v.flagged {
				flagged[c][k] += b2i(f)
			}
			return nil
		})
	if err != nil {
		return RuleBaseline{}, err
	}
	best, bestJ := grid[0], math.Inf(-1)
	for k, r := range grid {
		if j := ratio(flagged[1][k], sessions[1]) - ratio(flagged[0][k], sessions[0]); j > bestJ {
			best, bestJ = r, j
		}
	}
	return best, nil
}

// confusion counts predictions against the truth.
type confusion struct{ tp, fp, fn, tn int }

func (c *confusion) add(pred, truth bool) {
	switch {
	case pred && truth:
		c.tp++
	case pred:
		c.fp++
	case truth:
		c.fn++
	default:
		c.tn++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func (c *confusion) precision() float64 { return ratio(c.tp, c.tp+c.fp) }
func (c *confusion) recall() float64    { return ratio(c.tp, c.tp+c.fn) }
func (c *confusion) f1() float64        { return ratio(2*c.tp, 2*c.tp+c.fp+c.fn) }

// EvalConfig says what Evaluate measures.
type EvalConfig struct {
	// Sim is the simulated traffic; its test split is measured.
	Sim SimConfig
	// Thresholds are the scores at which a client counts as flagged
	// (default 50, 70, 90).
	Thresholds []int
	// Scorers are measured side by side.
	Scorers []NamedScorer
	// Export, if set, receives every split as CSV for other learners:
	// the training rows of the train and valid splits (TrainingRow; to be
	// weighted as Train weighs them, see balance) and every request of
	// the test split (column sampled tells which count as rows), with
	// each scorer's score. Columns: split, session, persona, label (1:
	// bot), request (its number in the session, from 0), sampled, the
	// features (FeatureNames; empty when undefined), then score_NAME per
	// scorer.
	Export io.Writer
}

// Evaluation is what Evaluate measured on the test split.
type Evaluation struct {
	// Sessions, HumanSessions and BotSessions count the test sessions;
	// Rows their sampled rows, Requests all their requests.
	Sessions, HumanSessions, BotSessions, Rows, Requests int
	Thresholds                                           []int
	Results                                              []ScorerResult
}

// ScorerResult is one scorer's measurements.
type ScorerResult struct {
	Name string
	// AUC and AP are ROC AUC and average precision (PR AUC) of the
	// scores of the sampled test rows.
	AUC, AP float64
	// At holds the measurements at each threshold, in order.
	At []ThresholdResult
}

// ThresholdResult measures a scorer at one threshold.
type ThresholdResult struct {
	Threshold int
	// Precision, Recall and F1 over the sampled test rows.
	Precision, Recall, F1 float64
	// HumanFPR is the share of human sessions with at least one request
	// scored at or above the threshold (a customer who would be
	// challenged); BotRecall the share of bot sessions with one.
	HumanFPR, BotRecall float64
	// MedianCatch is the median number of requests (from 1) until a
	// caught bot session first reaches the threshold.
	MedianCatch float64
	// Personas are the sessions flagged per persona, people first.
	Personas []PersonaResult
}

// PersonaResult counts one persona's test sessions and those flagged.
type PersonaResult struct {
	Persona           string
	Bot               bool
	Sessions, Flagged int
	// MedianCatch is the median number of requests until a flagged
	// session was first flagged.
	MedianCatch float64
}

// Rate returns the share flagged.
func (p PersonaResult) Rate() float64 { return ratio(p.Flagged, p.Sessions) }

// sessionScores are one test session's scores: per scorer, per request.
type sessionScores struct {
	bot     bool
	persona string
	sampled []bool
	scores  [][]uint8 // [scorer][request]
	csv     []byte
}

// Evaluate replays cfg.Sim's test sessions through a Tracker, scores every
// request with each scorer and measures them.
func Evaluate(ctx context.Context, cfg EvalConfig) (*Evaluation, error) {
	sim := cfg.Sim.withDefaults()
	if len(cfg.Thresholds) == 0 {
		cfg.Thresholds = []int{50, 70, 90}
	}
	var w *bufio.Writer
	if cfg.Export != nil {
		w = bufio.NewWriter(cfg.Export)
		w.WriteString("split,session,persona,label,request,sampled")
		for _, n := range FeatureNames {
			w.WriteString("," + n)
		}
		for _, s := range cfg.Scorers {
			w.WriteString(",score_" + s.Name)
		}
		w.WriteString("\n")
	}
	keep := func(id int) bool { return cfg.Export != nil || SplitOf(sim.Seed, id) == SplitTest }
	work := func(s *Session, t *Tracker) sessionScores {
		split := SplitOf(sim.Seed, s.ID)
		r := sessionScores{bot: s.Bot, persona: s.Persona, scores: make([][]uint8, len(cfg.Scorers))}
		Replay(t, s, func(i int, f Features) {
			if split != SplitTest && !TrainingRow(i, s.Bot) {
				return
			}
			r.sampled = append(r.sampled, Sampled(i))
			for k, sc := range cfg.Scorers {
				r.scores[k] = append(r.scores[k], uint8(min(max(sc.Scorer.Score(f), 0), 100)))
			}
			if cfg.Export != nil {
				r.csv = appendCSVRow(r.csv, split, s, i, ModelInput(f), r.scores)
			}
		})
		if split != SplitTest {
			r.scores = nil // only exported
		}
		return r
	}
	var test []sessionScores
	err := eachSession(ctx, sim, keep, work, func(_ int, r sessionScores) error {
		if w != nil {
			if _, err := w.Write(r.csv); err != nil {
				return fmt.Errorf("botscore: export: %w", err)
			}
			r.csv = nil
		}
		if r.scores != nil {
			test = append(test, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("botscore: export: %w", err)
		}
	}
	return measure(test, cfg.Thresholds, cfg.Scorers)
}

// appendCSVRow appends the export row of request i of s.
func appendCSVRow(b []byte, split Split, s *Session, i int, f Features, scores [][]uint8) []byte {
	b = append(b, split.String()...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.ID), 10)
	b = append(b, ',')
	b = append(b, s.Persona...)
	b = append(b, ',', '0')
	if s.Bot {
		b[len(b)-1] = '1'
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, ',', '0')
	if Sampled(i) {
		b[len(b)-1] = '1'
	}
	for _, v := range f {
		b = append(b, ',')
		if !math.IsNaN(v) {
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	}
	for _, sc := range scores {
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(sc[len(sc)-1]), 10)
	}
	return append(b, '\n')
}

// measure computes the Evaluation of the test sessions' scores.
func measure(test []sessionScores, thresholds []int, scorers []NamedScorer) (*Evaluation, error) {
	ev := &Evaluation{Sessions: len(test), Thresholds: thresholds}
	var labels []bool
	for _, s := range test {
		if s.bot {
			ev.BotSessions++
		} else {
			ev.HumanSessions++
		}
		ev.Requests += len(s.sampled)
		for _, ok := range s.sampled {
			if ok {
				labels = append(labels, s.bot)
			}
		}
	}
	ev.Rows = len(labels)
	if ev.HumanSessions == 0 || ev.BotSessions == 0 {
		return nil, errors.New("botscore: the test split needs both people and bots: simulate more sessions")
	}
	for k, sc := range scorers {
		res := ScorerResult{Name: sc.Name}
		scores := make([]float64, 0, len(labels))
		for _, s := range test {
			for i, ok := range s.sampled {
				if ok {
					scores = append(scores, float64(s.scores[k][i]))
				}
			}
		}
		var err error
		if res.AUC, err = metrics.AUC(scores, labels); err != nil {
			return nil, fmt.Errorf("botscore: %s: %w", sc.Name, err)
		}
		if res.AP, err = metrics.AveragePrecision(scores, labels); err != nil {
			return nil, fmt.Errorf("botscore: %s: %w", sc.Name, err)
		}
		for _, th := range thresholds {
			res.At = append(res.At, measureAt(test, k, th, scores, labels))
		}
		ev.Results = append(ev.Results, res)
	}
	return ev, nil
}

// measureAt measures scorer k at threshold th.
func measureAt(test []sessionScores, k, th int, rowScores []float64, labels []bool) ThresholdResult {
	tr := ThresholdResult{Threshold: th}
	var c confusion
	for i, y := range labels {
		c.add(rowScores[i] >= float64(th), y)
	}
	tr.Precision, tr.Recall, tr.F1 = c.precision(), c.recall(), c.f1()
	index := map[string]int{}
	for _, bot := range []bool{false, true} {
		for _, p := range PersonaNames(bot) {
			index[p] = len(tr.Personas)
			tr.Personas = append(tr.Personas, PersonaResult{Persona: p, Bot: bot})
		}
	}
	catches := make([][]int, len(tr.Personas))
	var humans, humansFlagged, bots, botsFlagged int
	var allCatches []int
	for _, s := range test {
		pi := index[s.persona]
		p := &tr.Personas[pi]
		p.Sessions++
		first := slices.IndexFunc(s.scores[k], func(v uint8) bool { return int(v) >= th })
		if s.bot {
			bots++
		} else {
			humans++
		}
		if first < 0 {
			continue
		}
		p.Flagged++
		catches[pi] = append(catches[pi], first+1)
		if s.bot {
			botsFlagged++
			allCatches = append(allCatches, first+1)
		} else {
			humansFlagged++
		}
	}
	for i := range tr.Personas {
		tr.Personas[i].MedianCatch = median(catches[i])
	}
	tr.HumanFPR, tr.BotRecall, tr.MedianCatch = ratio(humansFlagged, humans), ratio(botsFlagged, bots), median(allCatches)
	return tr
}

// median returns the median of v (NaN when empty).
func median(v []int) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return float64(v[n/2])
	} else {
		return float64(v[n/2-1]+v[n/2]) / 2
	}
}
