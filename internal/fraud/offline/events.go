package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
}

// TrainFromEvents trains the transaction model on the tenant's stored
// decisions between from and to, on the environments those decisions saw
// (the same features the live path computes). Events labelled fraud,
// chargeback or account takeover are positives; all others negatives (a
// shop labels what went wrong). The newest testShare of the events tests
// the model; the model is then returned as trained on the rest.
func TrainFromEvents(ctx context.Context, scan storage.EventScanner, tenant string, from, to time.Time, testShare float64, p gbdt.Params, progress func(gbdt.Progress)) (*gbdt.Model, TrainReport, error) {
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
	return m, rep, nil
}
