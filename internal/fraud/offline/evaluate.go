package offline

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/ml/metrics"
)

// Protocol is a train/delay/test split in days, as the Fraud Detection
// Handbook's get_train_test_set makes it: train on TrainDays from
// TrainFrom, skip DelayDays (labels not yet known), test on TestDays. On
// test day k, customers with a fraud known by then (in the training days,
// or in the delay days up to the day before the k-th) are left out, and
// labels reach the feature store DelayDays after their transaction.
type Protocol struct {
	TrainFrom                      time.Time
	TrainDays, DelayDays, TestDays int
	// TopK is the number of customers an analyst checks per day (card precision@K).
	TopK int
	// ValidShare of the training rows is held out for early stopping and calibration.
	ValidShare float64
	// Export, if set, receives every training and test row (after the
	// protocol's filtering) as CSV: split, day, customer, label, then the
	// features; baselines (bench/ml) train on exactly these rows.
	Export io.Writer
	// Inputs chooses the model's features: InputsStreaming (shopguard's
	// own, from the raw columns), InputsGiven (the data set's precomputed
	// Tx.Given columns), InputsBoth, or InputsLive (the live model's).
	Inputs Inputs
}

// Inputs says which features a model sees.
type Inputs int

// The input choices.
const (
	InputsStreaming Inputs = iota
	InputsGiven
	InputsBoth
	// InputsLive are the live model's inputs (fraud.ModelFeatureNames),
	// computed by the code live decisions run (ReplayLive).
	InputsLive
)

// HandbookProtocol is the handbook's baseline split: train 2018-07-25 to
// 07-31, delay 08-01 to 08-07, test 08-08 to 08-14.
func HandbookProtocol() Protocol {
	return Protocol{TrainFrom: time.Date(2018, 7, 25, 0, 0, 0, 0, time.UTC), TrainDays: 7, DelayDays: 7, TestDays: 7, TopK: 100, ValidShare: 0.15}
}

// DayResult is one test day.
type DayResult struct {
	Day           time.Time
	Rows, Frauds  int
	CardPrecision float64
}

// Result is an evaluation's figures.
type Result struct {
	TrainRows, TrainFrauds, TestRows, TestFrauds int
	Trees                                        int
	AUC, AP, CardPrecision                       float64
	Days                                         []DayResult
	ReplayTime, TrainTime                        time.Duration
	PredictPerRow                                time.Duration
	// Scores and Labels of the test rows (for curves and histograms).
	Scores []float64
	Labels []bool
}

// ErrNoData means the split selects no training or no test rows.
var ErrNoData = errors.New("offline: the split selects no rows")

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// Evaluate replays txs, trains a model on the protocol's training days and
// measures it on its test days.
func Evaluate(ctx context.Context, txs []Tx, p Protocol, params gbdt.Params, progress func(gbdt.Progress)) (*Result, *gbdt.Model, error) {
	if p.TrainDays < 1 || p.TestDays < 1 || p.DelayDays < 0 || p.TopK < 1 || p.ValidShare <= 0 || p.ValidShare >= 1 {
		return nil, nil, fmt.Errorf("offline: protocol %+v out of range", p)
	}
	res := &Result{}
	start := time.Now()
	delay := time.Duration(p.DelayDays) * 24 * time.Hour
	var rows []float64
	var err error
	names := FeatureNames
	if p.Inputs == InputsLive {
		rows, err = ReplayLive(ctx, txs, delay)
		names = fraud.ModelFeatureNames()
	} else {
		rows, err = Replay(ctx, txs, delay)
	}
	if err != nil {
		return nil, nil, err
	}
	res.ReplayTime = time.Since(start)
	if p.Inputs == InputsGiven || p.Inputs == InputsBoth {
		rows, names, err = withGiven(txs, rows, p.Inputs)
		if err != nil {
			return nil, nil, err
		}
	}
	nf := len(names)
	trainFrom, trainTo := day(p.TrainFrom), day(p.TrainFrom).AddDate(0, 0, p.TrainDays)
	exp := newExporter(p.Export, names)
	fit := &gbdt.Dataset{Features: names}
	valid := &gbdt.Dataset{Features: names}
	known := map[string]bool{}
	for i, tx := range txs {
		if tx.At.Before(trainFrom) || !tx.At.Before(trainTo) {
			continue
		}
		res.TrainRows++
		if tx.Fraud {
			res.TrainFrauds++
			known[tx.Customer] = true
		}
		d := fit
		split := "train"
		if holdOut(tx.ID, p.ValidShare) {
			d, split = valid, "valid"
		}
		exp.row(split, tx, rows[i*nf:(i+1)*nf])
		d.X = append(d.X, rows[i*nf:(i+1)*nf]...)
		d.Y = append(d.Y, tx.Fraud)
	}
	if res.TrainRows == 0 {
		return nil, nil, fmt.Errorf("%w: no transactions from %s to %s", ErrNoData, trainFrom.Format(time.DateOnly), trainTo.Format(time.DateOnly))
	}
	start = time.Now()
	model, err := gbdt.Train(ctx, params, fit, valid, progress)
	if err != nil {
		return nil, nil, err
	}
	res.TrainTime = time.Since(start)
	res.Trees = len(model.Trees)

	byDay := map[time.Time][]int{}
	for i, tx := range txs {
		byDay[day(tx.At)] = append(byDay[day(tx.At)], i)
	}
	detected := map[string]bool{} // customers caught on earlier test days
	var predicted int
	start = time.Now()
	for k := range p.TestDays {
		// Frauds known by test day k: the training days plus the delay
		// days up to the day before the k-th.
		for _, i := range byDay[trainTo.AddDate(0, 0, k-1)] {
			if txs[i].Fraud {
				known[txs[i].Customer] = true
			}
		}
		d := trainTo.AddDate(0, 0, p.DelayDays+k)
		dr := DayResult{Day: d}
		best := map[string]struct {
			score float64
			fraud bool
		}{}
		for _, i := range byDay[d] {
			tx := txs[i]
			if known[tx.Customer] {
				continue
			}
			s := model.Probability(rows[i*nf : (i+1)*nf])
			exp.row("test", tx, rows[i*nf:(i+1)*nf])
			predicted++
			res.Scores = append(res.Scores, s)
			res.Labels = append(res.Labels, tx.Fraud)
			dr.Rows++
			if tx.Fraud {
				dr.Frauds++
			}
			if detected[tx.Customer] {
				continue
			}
			b := best[tx.Customer]
			b.score = max(b.score, s)
			b.fraud = b.fraud || tx.Fraud
			best[tx.Customer] = b
		}
		type cust struct {
			id    string
			score float64
			fraud bool
		}
		var cs []cust
		for id, b := range best {
			cs = append(cs, cust{id, b.score, b.fraud})
		}
		slices.SortFunc(cs, func(a, b cust) int { return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.id, b.id)) })
		var hits int
		for _, c := range cs[:min(p.TopK, len(cs))] {
			if c.fraud {
				hits++
				detected[c.id] = true
			}
		}
		dr.CardPrecision = float64(hits) / float64(p.TopK)
		res.CardPrecision += dr.CardPrecision / float64(p.TestDays)
		res.TestRows += dr.Rows
		res.TestFrauds += dr.Frauds
		res.Days = append(res.Days, dr)
	}
	if predicted > 0 {
		res.PredictPerRow = time.Since(start) / time.Duration(predicted)
	}
	if res.TestRows == 0 {
		return nil, nil, fmt.Errorf("%w: no test transactions", ErrNoData)
	}
	if err := exp.flush(); err != nil {
		return nil, nil, fmt.Errorf("offline: export: %w", err)
	}
	if res.AUC, err = metrics.AUC(res.Scores, res.Labels); err != nil {
		return nil, nil, err
	}
	if res.AP, err = metrics.AveragePrecision(res.Scores, res.Labels); err != nil {
		return nil, nil, err
	}
	return res, model, nil
}

// withGiven returns the rows with the transactions' given columns instead
// of, or after, the streaming features.
func withGiven(txs []Tx, rows []float64, in Inputs) ([]float64, []string, error) {
	ng := len(txs[0].Given)
	if ng == 0 {
		return nil, nil, errors.New("offline: no given feature columns were read")
	}
	names := make([]string, 0, len(FeatureNames)+ng)
	if in == InputsBoth {
		names = append(names, FeatureNames...)
	}
	for i := range ng {
		names = append(names, fmt.Sprintf("given_%d", i))
	}
	nf := len(FeatureNames)
	out := make([]float64, 0, len(txs)*len(names))
	for i, tx := range txs {
		if in == InputsBoth {
			out = append(out, rows[i*nf:(i+1)*nf]...)
		}
		out = append(out, tx.Given...)
	}
	return out, names, nil
}

// exporter writes rows for baselines; a nil writer writes nothing.
type exporter struct {
	w   *csv.Writer
	rec []string
}

func newExporter(w io.Writer, names []string) *exporter {
	if w == nil {
		return &exporter{}
	}
	e := &exporter{w: csv.NewWriter(w)}
	_ = e.w.Write(append([]string{"split", "day", "customer", "label"}, names...))
	return e
}

func (e *exporter) row(split string, tx Tx, x []float64) {
	if e.w == nil {
		return
	}
	label := "0"
	if tx.Fraud {
		label = "1"
	}
	e.rec = append(e.rec[:0], split, day(tx.At).Format(time.DateOnly), tx.Customer, label)
	for _, v := range x {
		if math.IsNaN(v) {
			e.rec = append(e.rec, "")
		} else {
			e.rec = append(e.rec, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	_ = e.w.Write(e.rec)
}

func (e *exporter) flush() error {
	if e.w == nil {
		return nil
	}
	e.w.Flush()
	return e.w.Error()
}

// holdOut puts a fixed share of rows, by a hash of their id, in the
// validation set (the same rows whatever the seed or order).
func holdOut(id string, share float64) bool {
	h := fnv.New64a()
	h.Write([]byte(id))
	return float64(h.Sum64()%10_000)/10_000 < share
}
