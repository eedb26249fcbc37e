package phishing

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/ml/text"
)

// A URL view is one way of reading a link as text, learned by its own
// hashed n-gram model: the whole link, its host, its path and query, and
// its words.
type urlView struct {
	name     string
	features text.Features
	text     func(u URL) string
}

var urlViews = []urlView{
	{"url", text.Features{CharMin: 1, CharMax: 5, WordMin: 1, WordMax: 1, Bits: 20}, func(u URL) string { return strings.TrimSpace(u.Raw) }},
	{"host", text.Features{CharMin: 1, CharMax: 5, Bits: 20}, func(u URL) string { return u.Host }},
	{"path", text.Features{CharMin: 1, CharMax: 5, Bits: 20}, func(u URL) string { return u.Path + "?" + u.Query }},
	{"words", text.Features{WordMin: 1, WordMax: 2, Bits: 20}, func(u URL) string { return strings.TrimSpace(u.Raw) }},
}

// URLModelColumns names the columns the URL model's trees read: the
// lexical features, then each view's n-gram score.
func URLModelColumns() []string {
	cols := slices.Clone(LexicalNames)
	for _, v := range urlViews {
		cols = append(cols, v.name+"_ngram_score")
	}
	return cols
}

// URLModel is the learned URL classifier. Each view's n-gram logistic
// regression scores the link; gradient-boosted trees weigh those scores
// with the lexical features (stacking: the trees learn from scores the
// n-gram models gave to links they were not trained on).
type URLModel struct {
	// Views holds one n-gram model per view, in urlViews order.
	Views []*text.Model
	// Trees combine the lexical features and the views' scores.
	Trees *gbdt.Model
	// Info describes the training.
	Info URLModelInfo
}

// URLModelInfo describes how a URL model was trained.
type URLModelInfo struct {
	TrainedAt time.Time `json:"trained_at"`
	Examples  int       `json:"examples"`
	Phishing  int       `json:"phishing"`
	// Sources names the training files and label sources.
	Sources []string `json:"sources,omitempty"`
}

// Version names the model by its training time.
func (m *URLModel) Version() string {
	return "urls-" + m.Info.TrainedAt.UTC().Format("20060102T150405Z")
}

// URLTrainConfig sets the URL model's training. Zero values take defaults.
type URLTrainConfig struct {
	// Text trains the n-gram models (default: 20 epochs, rate 0.3).
	Text text.TrainConfig
	// Trees trains the stacking trees (default: 400 trees at rate 0.05).
	Trees gbdt.Params
	// InnerFolds is how many folds give the trees out-of-fold n-gram
	// scores (default 5).
	InnerFolds int
	// Seed seeds the inner folds and the training order.
	Seed uint64
}

func (c URLTrainConfig) withDefaults() URLTrainConfig {
	if c.Text.Epochs == 0 {
		c.Text.Epochs = 20
	}
	if c.Text.Rate == 0 {
		c.Text.Rate = 0.3
	}
	c.Text.Seed = c.Seed
	if c.Trees.Trees == 0 {
		p := gbdt.DefaultParams()
		p.Trees, p.LearningRate, p.EarlyStopping, p.Seed = 400, 0.05, 0, c.Seed
		c.Trees = p
	}
	if c.InnerFolds < 2 {
		c.InnerFolds = 5
	}
	return c
}

// ErrTooFewURLs means training got too few links of either class.
var ErrTooFewURLs = errors.New("phishing: training needs at least 10 phishing and 10 legitimate links")

// TrainURLModel fits a URL model to links and their labels (true:
// phishing).
func TrainURLModel(ctx context.Context, urls []URL, labels []bool, cfg URLTrainConfig) (*URLModel, error) {
	if len(urls) != len(labels) {
		return nil, fmt.Errorf("phishing: %d links, %d labels", len(urls), len(labels))
	}
	var pos int
	for _, l := range labels {
		if l {
			pos++
		}
	}
	if pos < 10 || len(labels)-pos < 10 {
		return nil, ErrTooFewURLs
	}
	cfg = cfg.withDefaults()
	texts := make([][]string, len(urlViews))
	for vi, v := range urlViews {
		texts[vi] = make([]string, len(urls))
		for i, u := range urls {
			texts[vi][i] = v.text(u)
		}
	}
	// Out-of-fold scores for the trees, and each view's final model, one
	// view per goroutine.
	oof := make([][]float64, len(urlViews))
	m := &URLModel{Views: make([]*text.Model, len(urlViews))}
	fold := text.Folds(labels, cfg.InnerFolds, cfg.Seed+1)
	errs := make([]error, len(urlViews))
	var wg sync.WaitGroup
	for vi, v := range urlViews {
		wg.Go(func() {
			vecs := make([]text.Vector, len(urls))
			for i, t := range texts[vi] {
				vecs[i] = v.features.Vectorize(t)
			}
			oof[vi] = make([]float64, len(urls))
			for fi := range cfg.InnerFolds {
				if ctx.Err() != nil {
					errs[vi] = ctx.Err()
					return
				}
				var tv []text.Vector
				var tl []bool
				for i := range vecs {
					if fold[i] != fi {
						tv, tl = append(tv, vecs[i]), append(tl, labels[i])
					}
				}
				fm := text.TrainVectors(v.features, tv, tl, cfg.Text)
				for i := range vecs {
					if fold[i] == fi {
						oof[vi][i] = fm.ScoreVector(vecs[i])
					}
				}
			}
			m.Views[vi] = text.TrainVectors(v.features, vecs, labels, cfg.Text)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d := &gbdt.Dataset{Features: URLModelColumns(), Y: labels}
	d.X = make([]float64, 0, len(urls)*len(d.Features))
	for i, u := range urls {
		d.X = Lexical(u, d.X)
		for vi := range urlViews {
			d.X = append(d.X, oof[vi][i])
		}
	}
	trees, err := gbdt.Train(ctx, cfg.Trees, d, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("phishing: URL model trees: %w", err)
	}
	m.Trees = trees
	m.Info = URLModelInfo{TrainedAt: time.Now().UTC().Truncate(time.Second), Examples: len(urls), Phishing: pos}
	return m, nil
}

// row is the trees' input for u.
func (m *URLModel) row(u URL) []float64 {
	x := Lexical(u, make([]float64, 0, len(LexicalNames)+len(urlViews)))
	for vi, v := range urlViews {
		x = append(x, m.Views[vi].Score(v.text(u)))
	}
	return x
}

// Score returns the probability that u is a phishing link.
func (m *URLModel) Score(u URL) float64 { return m.Trees.Probability(m.row(u)) }

// Influence is one input of the URL model and how much it moved a score
// (in log-odds; positive towards phishing).
type Influence struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
	Weight  float64 `json:"weight"`
}

// Explain scores u and names the inputs that moved the score most
// towards phishing, heaviest first (at most k).
func (m *URLModel) Explain(u URL, k int) (score float64, top []Influence) {
	x := m.row(u)
	phi, _ := m.Trees.Contributions(x)
	cols := URLModelColumns()
	for i, w := range phi {
		if w > 0 {
			top = append(top, Influence{Feature: cols[i], Value: x[i], Weight: w})
		}
	}
	slices.SortFunc(top, func(a, b Influence) int {
		if a.Weight != b.Weight {
			if a.Weight > b.Weight {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Feature, b.Feature)
	})
	if len(top) > k {
		top = top[:k]
	}
	return m.Trees.Probability(x), top
}

// Grams names the n-grams of the link the whole-link view weighed most
// towards phishing, heaviest first (at most k).
func (m *URLModel) Grams(u URL, k int) []text.Weighed {
	return m.Views[0].Explain(urlViews[0].text(u), k)
}

// The URL model file: "SGURLM", a format version (uint16), then sections
// each a length (uint32) and its bytes: a JSON header (info and view
// names), each view's text model file, the trees' model file; last, a
// CRC-32 (IEEE) of everything before it. Little-endian.
const (
	urlModelMagic   = "SGURLM"
	urlModelVersion = 1
)

type urlModelHeader struct {
	Info  URLModelInfo `json:"info"`
	Views []string     `json:"views"`
}

// MarshalBinary encodes the model in the URL model file format.
func (m *URLModel) MarshalBinary() ([]byte, error) {
	if len(m.Views) != len(urlViews) || m.Trees == nil {
		return nil, errors.New("phishing: incomplete URL model")
	}
	h := urlModelHeader{Info: m.Info}
	for _, v := range urlViews {
		h.Views = append(h.Views, v.name)
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("phishing: URL model header: %w", err)
	}
	sections := [][]byte{hb}
	for _, v := range m.Views {
		b, err := v.MarshalBinary()
		if err != nil {
			return nil, err
		}
		sections = append(sections, b)
	}
	tb, err := m.Trees.MarshalBinary()
	if err != nil {
		return nil, err
	}
	sections = append(sections, tb)
	le := binary.LittleEndian
	var b bytes.Buffer
	b.WriteString(urlModelMagic)
	b.Write(le.AppendUint16(nil, urlModelVersion))
	for _, s := range sections {
		b.Write(le.AppendUint32(nil, uint32(len(s))))
		b.Write(s)
	}
	b.Write(le.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes(), nil
}

// ErrCorruptModel wraps every reason a URL model file is refused.
var ErrCorruptModel = errors.New("phishing: corrupt URL model file")

// DecodeURLModel reads a URL model file.
func DecodeURLModel(data []byte) (*URLModel, error) {
	le := binary.LittleEndian
	if len(data) < len(urlModelMagic)+2+4 {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorruptModel, len(data))
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != le.Uint32(data[len(data)-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorruptModel)
	}
	if string(body[:len(urlModelMagic)]) != urlModelMagic {
		return nil, fmt.Errorf("%w: not a URL model", ErrCorruptModel)
	}
	if v := le.Uint16(body[len(urlModelMagic):]); v != urlModelVersion {
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrCorruptModel, v, urlModelVersion)
	}
	rest := body[len(urlModelMagic)+2:]
	var sections [][]byte
	for len(rest) > 0 {
		if len(rest) < 4 || uint64(le.Uint32(rest)) > uint64(len(rest)-4) {
			return nil, fmt.Errorf("%w: truncated section", ErrCorruptModel)
		}
		n := le.Uint32(rest)
		sections, rest = append(sections, rest[4:4+n]), rest[4+n:]
	}
	if len(sections) != len(urlViews)+2 {
		return nil, fmt.Errorf("%w: %d sections, want %d", ErrCorruptModel, len(sections), len(urlViews)+2)
	}
	var h urlModelHeader
	if err := json.Unmarshal(sections[0], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorruptModel, err)
	}
	m := &URLModel{Info: h.Info}
	for vi, v := range urlViews {
		if vi >= len(h.Views) || h.Views[vi] != v.name {
			return nil, fmt.Errorf("%w: views %v, want %s in position %d", ErrCorruptModel, h.Views, v.name, vi+1)
		}
		tm, err := text.DecodeModel(sections[1+vi])
		if err != nil {
			return nil, fmt.Errorf("%w: view %s: %w", ErrCorruptModel, v.name, err)
		}
		if tm.Features != v.features {
			return nil, fmt.Errorf("%w: view %s has other n-grams than this version reads", ErrCorruptModel, v.name)
		}
		m.Views = append(m.Views, tm)
	}
	trees, err := gbdt.Decode(sections[len(sections)-1])
	if err != nil {
		return nil, fmt.Errorf("%w: trees: %w", ErrCorruptModel, err)
	}
	if !slices.Equal(trees.Features, URLModelColumns()) {
		return nil, fmt.Errorf("%w: the trees read other columns than this version makes", ErrCorruptModel)
	}
	m.Trees = trees
	if p := m.Trees.Probability(make([]float64, len(trees.Features))); math.IsNaN(p) {
		return nil, fmt.Errorf("%w: trees give no probability", ErrCorruptModel)
	}
	return m, nil
}
