package loginsim_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/account/loginsim"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// TestMassAttackRulesExist keeps the evaluation's list of mass-attack
// rules in step with the default rules.
func TestMassAttackRulesExist(t *testing.T) {
	var names []string
	for _, r := range (account.LoginKind{}).DefaultRules() {
		names = append(names, r.Name)
	}
	for _, name := range loginsim.MassAttackRules {
		if !slices.Contains(names, name) {
			t.Errorf("mass-attack rule %q is not a default login rule", name)
		}
	}
}

// TestSimulation runs a small simulation through the engine with the
// default rules and checks it against the account-protection targets,
// with some slack for its size.
func TestSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulation of 1,500 customers")
	}
	sim := loginsim.New(loginsim.Config{Seed: 3, Customers: 1500, Days: 14, Takeovers: 150})
	store := memory.New()
	defer store.Close()
	eng, err := engine.New(engine.Config{Geo: sim.World(), BuiltinLists: rules.BuiltinLists(), Now: time.Now},
		store, features.NewMemory(features.MemoryConfig{}), account.LoginKind{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(context.Background(), eng, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := res.Legitimate
	if l.Attempts < 2000 || l.Share(l.Challenged) > 0.03 || l.Blocked > 0 {
		t.Errorf("customers: %d sign-ins, %d challenged, %d blocked", l.Attempts, l.Challenged, l.Blocked)
	}
	for _, s := range res.Attacks {
		want := 0.9
		switch s.Scenario {
		case loginsim.ScenarioNaive, loginsim.ScenarioVPN:
			want = 0.97
		case loginsim.ScenarioDistributed:
			want = 0.6
		}
		if s.StoppedShare() < want {
			t.Errorf("%s: %.1f%% of %d challenged or blocked, want %.0f%%", s.Scenario, 100*s.StoppedShare(), s.Attempts, 100*want)
		}
		switch s.Scenario {
		case loginsim.ScenarioStuffing, loginsim.ScenarioDistributed:
			if s.FirstFlagged < 0 || s.FirstFlagged > 30*time.Second {
				t.Errorf("%s first flagged after %s", s.Scenario, s.FirstFlagged)
			}
			if s.Takeovers > 0 {
				t.Errorf("%s: %d takeovers", s.Scenario, s.Takeovers)
			}
		}
	}
	for _, s := range res.Attacks {
		if s.Scenario == loginsim.ScenarioTargeted && s.StoppedBy["new_device_and_network"] < s.Challenged/2 {
			t.Errorf("targeted attackers: %d challenged, stopped by %v", s.Challenged, s.StoppedBy)
		}
		if s.Scenario == loginsim.ScenarioStuffing && (len(s.TopRules(1)) != 1 || s.TopRules(1)[0] != "credential_stuffing_ip") {
			t.Errorf("botnet stuffing stopped by %v, want credential_stuffing_ip most", s.StoppedBy)
		}
	}
	if len(res.Attacks) != 8 || len(res.LegitimateKinds) != 4 {
		t.Errorf("%d attack scenarios, %d kinds of customer sign-in", len(res.Attacks), len(res.LegitimateKinds))
	}
	for i, auc := range res.AUC {
		if auc < 0.95 {
			t.Errorf("%s: login-risk ROC AUC %.3f", res.Curves[i].Name, auc)
		}
	}
	if res.Decisions < 2*l.Attempts {
		t.Errorf("%d decisions for %d sign-ins", res.Decisions, l.Attempts)
	}
}

// TestSameSeedSameResult checks that a seed fixes the whole evaluation:
// two runs of one seed through fresh engines measure exactly the same.
func TestSameSeedSameResult(t *testing.T) {
	run := func(seed uint64) *loginsim.Result {
		t.Helper()
		sim := loginsim.New(loginsim.Config{Seed: seed, Customers: 300, Days: 4, Takeovers: 20})
		store := memory.New()
		defer store.Close()
		eng, err := engine.New(engine.Config{Geo: sim.World(), BuiltinLists: rules.BuiltinLists()},
			store, features.NewMemory(features.MemoryConfig{}), account.LoginKind{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := sim.Run(context.Background(), eng, store, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Elapsed = 0
		return res
	}
	a, b := run(9), run(9)
	if a.Decisions < 1000 || !reflect.DeepEqual(a, b) {
		t.Errorf("two runs of seed 9 differ (or are tiny: %d decisions):\n%+v\n%+v", a.Decisions, a.Legitimate, b.Legitimate)
	}
}
