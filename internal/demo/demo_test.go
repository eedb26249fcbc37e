package demo_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/demo"
)

// startShopguard runs a real shopguard (SQLite in a temp dir) and returns
// its URL and an all-scopes key for tenant demo.
func startShopguard(t *testing.T) (string, string) {
	u, k, _ := startApp(t)
	return u, k
}

func startApp(t *testing.T) (string, string, *app.App) {
	t.Helper()
	a, srv := apptest.Start(t, "")
	return srv.URL, apptest.Key(t, a, "demo"), a
}

// TestDemoCatchesAttacks runs a short seeded demo against a real shopguard
// and checks the figures the README promises: card testing and stolen-card
// use are caught, fewer than 1% of legitimate checkouts are stopped, no
// request fails, and the export holds every transaction with its truth.
func TestDemoCatchesAttacks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 15-second demo; skipped with -short")
	}
	url, key, a := startApp(t)
	opts := demo.DefaultOptions()
	opts.ShopguardURL, opts.APIKey = url, key
	opts.Train = func(ctx context.Context) (string, error) {
		v, rep, err := a.TrainModel(ctx, "demo", 90, app.SmallDataParams(), true)
		return fmt.Sprintf("trained %s: %+v", v, rep), err
	}
	opts.Sim.Duration = 15 * time.Second
	opts.Sim.Rate = 25
	opts.Sim.Customers = 1000
	opts.Sim.Seed = 7
	opts.Timeout = 5 * time.Second // the race detector slows everything down
	opts.ExportDir = t.TempDir()
	var out strings.Builder
	opts.Out = &out
	rep, err := demo.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	t.Logf("demo output:\n%s", out.String())

	legit, _ := rep.Scenario("shoppers")
	testing_, _ := rep.Scenario("card_testing")
	stolen, _ := rep.Scenario("stolen_card")
	if legit.Checkouts < 60 {
		t.Errorf("only %d legitimate checkouts; the figures below need more", legit.Checkouts)
	}
	if share := legit.StoppedShare(); share >= 0.01 {
		t.Errorf("legitimate checkouts stopped: %d of %d (%.2f%%), want < 1%%", legit.Stopped(), legit.Checkouts, 100*share)
	}
	if testing_.Checkouts < 15 || testing_.StoppedShare() < 0.7 {
		t.Errorf("card testing: %d of %d checkouts stopped, want at least 70%% of at least 15", testing_.Stopped(), testing_.Checkouts)
	}
	if stolen.Checkouts < 8 || stolen.StoppedShare() < 0.7 {
		t.Errorf("stolen cards: %d of %d checkouts stopped, want at least 70%% of at least 8", stolen.Stopped(), stolen.Checkouts)
	}
	// The model, trained on the imported history and its chargebacks,
	// stops stolen-card orders the rules let through, and no customer.
	if stolen.ByModel < 1 || legit.ByModel > 0 {
		t.Errorf("stopped only by the model: %d stolen-card and %d legitimate checkouts, want at least 1 and 0", stolen.ByModel, legit.ByModel)
	}
	// Credential stuffing is stopped after its first attempts; customers
	// sign in unhindered.
	stuffing, _ := rep.Scenario("credential_stuffing")
	if stuffing.SignIns < 30 || stuffing.SignInBlocked+stuffing.SignInChallenged < stuffing.SignIns/2 || stuffing.SignedIn > 2 {
		t.Errorf("credential stuffing: %d sign-ins, %d blocked, %d challenged, %d signed in; want at least half of at least 30 stopped and at most 2 takeovers",
			stuffing.SignIns, stuffing.SignInBlocked, stuffing.SignInChallenged, stuffing.SignedIn)
	}
	// Attackers with a customer's right password, from their own computer,
	// are stepped up (the demo shop has no step-up yet, so they stay out).
	ato, _ := rep.Scenario("account_takeover")
	if ato.SignIns < 3 || ato.SignedIn > 0 || ato.SignInBlocked+ato.SignInChallenged < ato.SignIns {
		t.Errorf("account takeover: %d sign-ins, %d blocked, %d challenged, %d signed in; want at least 3, all stopped",
			ato.SignIns, ato.SignInBlocked, ato.SignInChallenged, ato.SignedIn)
	}
	if legit.SignIns < 20 || legit.SignInBlocked > 0 || legit.SignInChallenged*50 > legit.SignIns {
		t.Errorf("customers' sign-ins: %d, %d blocked, %d challenged; want at least 20, none blocked, at most 2%% challenged",
			legit.SignIns, legit.SignInBlocked, legit.SignInChallenged)
	}
	for _, s := range rep.Scenarios {
		if s.Errors > 0 {
			t.Errorf("%s: %d requests failed or got a 5xx", s.Scenario, s.Errors)
		}
	}
	if rep.Guard.Failures > 0 {
		t.Errorf("%d calls to shopguard failed", rep.Guard.Failures)
	}
	for _, want := range []string{"shoppers (legit)", "card_testing (attack)", "stolen_card (attack)", "credential_stuffing (attack)", "account_takeover (attack)", "Legitimate checkouts wrongly stopped", "sign-ups blocked"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// The export holds every checkout with its ground truth, and shopguard
	// has stored each of them.
	rows := readJSONL(t, filepath.Join(opts.ExportDir, "transactions.jsonl"))
	total := rep.History
	for _, s := range rep.Scenarios {
		total += s.Checkouts
	}
	if len(rows) != total {
		t.Errorf("transactions.jsonl has %d rows, want %d (history + checkouts)", len(rows), total)
	}
	if rep.Guard.Imported != rep.History {
		t.Errorf("imported %d past orders, generated %d", rep.Guard.Imported, rep.History)
	}
	c, err := client.New(url, key)
	if err != nil {
		t.Fatal(err)
	}
	var fraud int
	for i, r := range rows {
		if r.Label == "fraud" {
			fraud++
		}
		if r.Label != "fraud" && r.Label != "legit" {
			t.Errorf("row %d: label %q", i, r.Label)
		}
		if r.History {
			continue
		}
		ev, err := c.Event(context.Background(), r.DecisionID)
		switch {
		case err != nil:
			t.Errorf("row %d (order %s, decision %s): not stored in shopguard: %v", i, r.Transaction.ID, r.DecisionID, err)
		case ev.ExternalID != r.Transaction.ID || string(ev.Assessment.Action) != r.Action:
			t.Errorf("row %d: exported order %s action %s, stored %s action %s", i, r.Transaction.ID, r.Action, ev.ExternalID, ev.Assessment.Action)
		}
	}
	if fraud != testing_.Checkouts+stolen.Checkouts {
		t.Errorf("export has %d fraud rows, want %d", fraud, testing_.Checkouts+stolen.Checkouts)
	}
	f, err := os.Open(filepath.Join(opts.ExportDir, "requests.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var reqs int
	for _, s := range rep.Scenarios {
		reqs += s.Requests
	}
	if len(recs) != reqs+1 {
		t.Errorf("requests.csv has %d rows, want %d and a header", len(recs)-1, reqs)
	}
}

func readJSONL(t *testing.T, path string) []demo.ExportedTransaction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []demo.ExportedTransaction
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r demo.ExportedTransaction
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
