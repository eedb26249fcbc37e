package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/ml/gbdt"
	"github.com/shopguard/shopguard/internal/ml/metrics"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// badLabels are the labels that make a transaction a positive example.
var badLabels = map[risk.Label]bool{risk.LabelFraud: true, risk.LabelChargeback: true, risk.LabelAccountTakeover: true}

// TrainReport describes a model trained from stored events.
type TrainReport struct {
	Events, Positives   int
	TrainRows, TestRows int
	Trees               int
	// AUC and AP are measured on the newest TestShare of the events,
	// which the model did not see.
	AUC, AP   float64
	TrainTime time.Duration
	// BaselineAUC and BaselineAP are the baseline model's figures on the
	// same test events (when one was given: HasBaseline).
	HasBaseline             bool
	BaselineAUC, BaselineAP float64
}

// TrainFromEvents trains the transaction model on the tenant's stored
// decisions between from and to, on the environments those decisions saw
// (the same features the live path computes). Events labelled fraud,
// chargeback or account takeover are positives; all others negatives (a
// shop labels what went wrong). The newest testShare of the events tests
// the model; the model is then returned as trained on the rest. A
// baseline model (the champion, say; nil for none) is measured on the same
// test events, so the two can be compared fairly.
func TrainFromEvents(ctx context.Context, scan storage.EventScanner, tenant string, from, to time.Time, testShare float64, p gbdt.Params, baseline *gbdt.Model, progress func(gbdt.Progress)) (*gbdt.Model, TrainReport, error) {
	names := fraud.ModelFeatureNames()
	var rows []float64
	var labels []bool
	err := scan.ScanEvents(ctx, storage.EventQuery{Tenant: tenant, Kind: risk.EventTransaction, From: from, To: to}, func(ev *storage.Event) error {
		env := fraud.NewEnv() // fresh: stored environments leave zero values out
		if err := json.Unmarshal(ev.Env, env); err != nil {
			return fmt.Errorf("offline: event %s: stored features: %w", ev.ID, err)
		}
		rows = fraud.ModelRow(env, rows)
		bad := false
		for _, l := range ev.Labels {
			bad = bad || badLabels[l.Label]
		}
		labels = append(labels, bad)
		return nil
	})
	var rep TrainReport
	if err != nil {
		return nil, rep, err
	}
	rep.Events = len(labels)
	for _, l := range labels {
		if l {
			rep.Positives++
		}
	}
	if testShare <= 0 || testShare >= 1 {
		return nil, rep, fmt.Errorf("offline: test share %v outside (0, 1)", testShare)
	}
	nf := len(names)
	cut := int(float64(len(labels)) * (1 - testShare))
	split := func(lo, hi int) *gbdt.Dataset {
		return &gbdt.Dataset{Features: names, X: rows[lo*nf : hi*nf], Y: labels[lo:hi]}
	}
	// Validation (early stopping, calibration): the last sixth of the training part.
	vcut := cut - cut/6
	train, valid, test := split(0, vcut), split(vcut, cut), split(cut, len(labels))
	rep.TrainRows, rep.TestRows = cut, len(labels)-cut
	start := time.Now()
	m, err := gbdt.Train(ctx, p, train, valid, progress)
	if err != nil {
		return nil, rep, err
	}
	rep.TrainTime, rep.Trees = time.Since(start), len(m.Trees)
	scores := make([]float64, test.Rows())
	for i := range scores {
		scores[i] = m.Raw(test.X[i*nf : (i+1)*nf])
	}
	rep.AUC, _ = metrics.AUC(scores, test.Y) // undefined (0) when the test part has one class
	rep.AP, _ = metrics.AveragePrecision(scores, test.Y)
	if baseline != nil && len(baseline.Features) <= nf {
		// An older model reads a prefix of today's inputs.
		for i := range scores {
			scores[i] = baseline.Raw(test.X[i*nf : (i+1)*nf])
		}
		rep.HasBaseline = true
		rep.BaselineAUC, _ = metrics.AUC(scores, test.Y)
		rep.BaselineAP, _ = metrics.AveragePrecision(scores, test.Y)
	}
	return m, rep, nil
}

// Comparison is how the champion and a challenger ranked the same labelled
// decisions.
type Comparison struct {
	Champion, Challenger string
	// Events were scored by both; Positives of them are labelled bad.
	Events, Positives           int
	ChampionAUC, ChampionAP     float64
	ChallengerAUC, ChallengerAP float64
}

// CompareModels measures the champion (the assessment's model score) and
// the challenger (its shadow reason) on the tenant's stored transaction
// decisions between from and to that both scored, against their labels.
func CompareModels(ctx context.Context, scan storage.EventScanner, tenant, challenger string, from, to time.Time) (Comparison, error) {
	c := Comparison{Challenger: challenger}
	var champ, chall []float64
	var labels []bool
	err := scan.ScanEvents(ctx, storage.EventQuery{Tenant: tenant, Kind: risk.EventTransaction, From: from, To: to}, func(ev *storage.Event) error {
		a := ev.Assessment
		if a.ModelVersion == "" {
			return nil
		}
		cs, ok := -1.0, false
		for _, r := range a.Shadow {
			if r.Code == engine.ChallengerCode+challenger {
				cs, ok = r.Weight, true
			}
		}
		if !ok {
			return nil
		}
		ms := 0.0
		for _, r := range a.Reasons {
			if r.Code == "model" {
				ms = r.Weight
			}
		}
		c.Champion = a.ModelVersion
		bad := false
		for _, l := range ev.Labels {
			bad = bad || badLabels[l.Label]
		}
		champ, chall, labels = append(champ, ms), append(chall, cs), append(labels, bad)
		return nil
	})
	if err != nil {
		return c, err
	}
	c.Events = len(labels)
	for _, l := range labels {
		if l {
			c.Positives++
		}
	}
	if c.ChampionAUC, err = metrics.AUC(champ, labels); err != nil {
		return c, fmt.Errorf("offline: compare over %d decisions: %w", c.Events, err)
	}
	c.ChampionAP, _ = metrics.AveragePrecision(champ, labels)
	c.ChallengerAUC, _ = metrics.AUC(chall, labels)
	c.ChallengerAP, _ = metrics.AveragePrecision(chall, labels)
	return c, nil
}
