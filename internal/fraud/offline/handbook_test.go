package offline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/shopguard/shopguard/internal/ml/gbdt"
)

// TestHandbookSplit runs the handbook protocol when the data is present
// (SHOPGUARD_TEST_FDH_DIR names the directory of its daily .csv.gz files).
func TestHandbookSplit(t *testing.T) {
	dir := os.Getenv("SHOPGUARD_TEST_FDH_DIR")
	if dir == "" {
		t.Skip("set SHOPGUARD_TEST_FDH_DIR to the Fraud Detection Handbook files (see bench/README.md) to run the evaluation")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.csv.gz"))
	cols := HandbookColumns
	cols.Given = HandbookFeatures
	txs, err := LoadCSV(paths, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []Inputs{InputsStreaming, InputsGiven, InputsBoth} {
		p := HandbookProtocol()
		p.Inputs = in
		res, _, err := Evaluate(context.Background(), txs, p, gbdt.Params{Trees: 500, LearningRate: 0.05, EarlyStopping: 50, Seed: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("inputs %d: "+"train %d rows (%d frauds), test %d rows (%d frauds), %d trees; AUC %.3f AP %.3f CP@100 %.3f; replay %s, train %s, predict %s/row",
			in, res.TrainRows, res.TrainFrauds, res.TestRows, res.TestFrauds, res.Trees, res.AUC, res.AP, res.CardPrecision, res.ReplayTime, res.TrainTime, res.PredictPerRow)
	}
}
