package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/fraud"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// harness is an engine over in-memory storage with a settable clock.
type harness struct {
	eng   *engine.Engine
	store *memory.Store
	feats *features.Memory
	now   time.Time
}

func newHarness(t *testing.T, store *memory.Store) *harness {
	t.Helper()
	h := &harness{store: store, feats: features.NewMemory(features.MemoryConfig{}), now: t0}
	if h.store == nil {
		h.store = memory.New()
	}
	eng, err := engine.New(engine.Config{BuiltinLists: rules.BuiltinLists(), Now: func() time.Time { return h.now }}, h.store, h.feats, fraud.Kind{})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	return h
}

// tx builds a validated transaction from a JSON document.
func (h *harness) tx(t *testing.T, doc map[string]any) *fraud.Transaction {
	t.Helper()
	data, _ := json.Marshal(doc)
	var tx fraud.Transaction
	if err := json.Unmarshal(data, &tx); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if err := tx.Validate(h.now); err != nil {
		t.Fatalf("invalid transaction %s: %v", data, err)
	}
	return &tx
}

func (h *harness) decide(t *testing.T, tenant string, doc map[string]any) engine.Decision {
	t.Helper()
	d, err := h.eng.Decide(context.Background(), tenant, h.tx(t, doc))
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	return d
}

// simple returns a minimal transaction document at the harness clock.
func (h *harness) simple(id string, amount int64) map[string]any {
	return map[string]any{"id": id, "created_at": h.now.Format(time.RFC3339Nano), "amount_minor": amount, "currency": "EUR"}
}

// scenario is one file under testdata/scenarios.
type scenario struct {
	Description string       `yaml:"description"`
	Rules       []rules.Rule `yaml:"rules"`
	Lists       []struct {
		Name    string         `yaml:"name"`
		Kind    rules.ListKind `yaml:"kind"`
		Effect  rules.Effect   `yaml:"effect"`
		Entries []string       `yaml:"entries"`
	} `yaml:"lists"`
	Base  map[string]any `yaml:"base"`
	Steps []struct {
		Repeat int            `yaml:"repeat"`
		After  string         `yaml:"after"`
		Every  string         `yaml:"every"`
		Tx     map[string]any `yaml:"tx"`
		Expect struct {
			Action     risk.Action `yaml:"action"`
			MinScore   *int        `yaml:"min_score"`
			MaxScore   *int        `yaml:"max_score"`
			Reasons    []string    `yaml:"reasons"`
			NotReasons []string    `yaml:"not_reasons"`
			Shadow     []string    `yaml:"shadow"`
		} `yaml:"expect"`
	} `yaml:"steps"`
}

// merge deep-merges b over a, replacing "{i}" in strings with i.
func merge(a, b map[string]any, i int) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = subst(v, i)
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = merge(am, bm, i)
				continue
			}
		}
		out[k] = subst(v, i)
	}
	return out
}

func subst(v any, i int) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "{i}", fmt.Sprint(i))
	case map[string]any:
		return merge(x, nil, i)
	}
	return v
}

func codes(rs []risk.Reason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}

func duration(t *testing.T, s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("bad duration %q: %v", s, err)
	}
	return d
}

func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/scenarios/*.yaml")
	if len(files) == 0 {
		t.Fatal("no scenarios")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var sc scenario
			dec := yaml.NewDecoder(strings.NewReader(string(data)))
			dec.KnownFields(true)
			if err := dec.Decode(&sc); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			h := newHarness(t, nil)
			ctx := context.Background()
			const tenant = "shop"
			for _, l := range sc.Lists {
				if err := h.eng.CreateList(ctx, tenant, rules.List{Name: l.Name, Kind: l.Kind, Effect: l.Effect}); err != nil {
					t.Fatal(err)
				}
				if _, err := h.eng.EditEntries(ctx, tenant, l.Name, l.Entries, false); err != nil {
					t.Fatal(err)
				}
			}
			if len(sc.Rules) > 0 {
				if _, err := h.eng.ChangeRules(ctx, tenant, "test", func(cur []rules.Rule) ([]rules.Rule, error) {
					return append(cur, sc.Rules...), nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			n := 0
			for si, st := range sc.Steps {
				h.now = h.now.Add(duration(t, st.After, time.Minute))
				reps := max(1, st.Repeat)
				for i := 1; i <= reps; i++ {
					if i > 1 {
						h.now = h.now.Add(duration(t, st.Every, time.Second))
					}
					n++
					doc := merge(merge(map[string]any{"currency": "EUR"}, sc.Base, i), st.Tx, i)
					doc["id"] = fmt.Sprintf("s%d-%d", si, i)
					doc["created_at"] = h.now.Format(time.RFC3339Nano)
					d := h.decide(t, tenant, doc)
					if i < reps {
						continue // expectations apply to the last repetition
					}
					ex := st.Expect
					where := fmt.Sprintf("step %d (event %d): score %d action %s reasons %v shadow %v", si+1, n, d.Score, d.Action, codes(d.Reasons), codes(d.Shadow))
					if ex.Action != "" && d.Action != ex.Action {
						t.Errorf("%s: want action %s", where, ex.Action)
					}
					if ex.MinScore != nil && d.Score < *ex.MinScore {
						t.Errorf("%s: want score >= %d", where, *ex.MinScore)
					}
					if ex.MaxScore != nil && d.Score > *ex.MaxScore {
						t.Errorf("%s: want score <= %d", where, *ex.MaxScore)
					}
					for _, r := range ex.Reasons {
						if !slices.Contains(codes(d.Reasons), r) {
							t.Errorf("%s: want reason %s", where, r)
						}
					}
					for _, r := range ex.NotReasons {
						if slices.Contains(codes(d.Reasons), r) {
							t.Errorf("%s: reason %s must not fire", where, r)
						}
					}
					for _, r := range ex.Shadow {
						if !slices.Contains(codes(d.Shadow), r) {
							t.Errorf("%s: want shadow reason %s", where, r)
						}
					}
					for _, r := range d.Reasons {
						if r.Message == "" || strings.Contains(r.Message, "{{") {
							t.Errorf("%s: reason %s has message %q", where, r.Code, r.Message)
						}
					}
				}
			}
		})
	}
}

func TestIdempotentReplay(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	doc := h.simple("ord-1", 1000)
	doc["device_id"] = "dev1"
	first := h.decide(t, "shop", doc)
	again := h.decide(t, "shop", doc)
	if !again.Replayed || again.ID != first.ID || again.Score != first.Score {
		t.Errorf("repeat = %+v, want the stored decision %+v", again, first)
	}
	doc["amount_minor"] = 2000
	if _, err := h.eng.Decide(ctx, "shop", h.tx(t, doc)); !errorsIs(err, engine.ErrDuplicate) {
		t.Errorf("same id, other content: err = %v, want ErrDuplicate", err)
	}
	// A process that did not see the first request (a restart without
	// replay, another instance) still answers with the stored decision.
	fresh := newHarness(t, h.store)
	doc["amount_minor"] = 1000
	if d, err := fresh.eng.Decide(ctx, "shop", fresh.tx(t, doc)); err != nil || !d.Replayed || d.ID != first.ID {
		t.Errorf("repeat in another process = %+v, %v", d, err)
	}
	// The repeat was not counted: the device has seen one transaction.
	next := h.simple("ord-2", 1000)
	next["device_id"] = "dev1"
	h.decide(t, "shop", next)
	ev, _ := h.store.EventByExternalID(ctx, "shop", risk.EventTransaction, "ord-2")
	var env fraud.Env
	if err := json.Unmarshal(ev.Env, &env); err != nil {
		t.Fatal(err)
	}
	if env.Features.Device.Count24h != 2 {
		t.Errorf("device count after a repeat = %d, want 2", env.Features.Device.Count24h)
	}
}

func TestTenantsAreIsolated(t *testing.T) {
	h := newHarness(t, nil)
	for i := range 5 {
		doc := h.simple(fmt.Sprintf("a-%d", i), 100)
		doc["device_id"] = "shared-dev"
		doc["payment"] = map[string]any{"method": "card", "card_fingerprint": fmt.Sprintf("c%d", i)}
		h.decide(t, "shop-a", doc)
	}
	doc := h.simple("b-1", 100)
	doc["device_id"] = "shared-dev"
	doc["payment"] = map[string]any{"method": "card", "card_fingerprint": "c9"}
	d := h.decide(t, "shop-b", doc)
	if d.Action != risk.ActionAllow || d.Score != 0 {
		t.Errorf("shop-b's first order is judged by shop-a's history: %+v", d)
	}
	if _, err := h.eng.Event(context.Background(), "shop-b", mustEventID(t, h, "shop-a", "a-0")); !errorsIs(err, storage.ErrNotFound) {
		t.Errorf("shop-b reads shop-a's event: %v", err)
	}
	rs, err := h.eng.Rules(context.Background(), "shop-b")
	if err != nil || rs.Version != 1 || len(rs.Rules) != len(fraud.Kind{}.DefaultRules()) {
		t.Errorf("new tenant's rules = version %d with %d rules, %v", rs.Version, len(rs.Rules), err)
	}
}

func mustEventID(t *testing.T, h *harness, tenant, ext string) string {
	t.Helper()
	ev, err := h.store.EventByExternalID(context.Background(), tenant, risk.EventTransaction, ext)
	if err != nil {
		t.Fatal(err)
	}
	return ev.ID
}
