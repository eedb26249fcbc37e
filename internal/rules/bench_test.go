package rules

import (
	"encoding/json"
	"os"
	"runtime"
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
)

// loadRules reads a JSON array of rules from testdata.
func loadRules(t testing.TB, name string) []Rule {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var rs []Rule
	if err := json.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

// benignEnv is an ordinary transaction that none of rules20.json matches.
func benignEnv() *testEnv {
	return &testEnv{
		AmountMinor: 4999, Currency: "EUR", Ratio: 1.1, IP: "192.0.2.44", Country: "DE", BIN: 423456,
		Features: testFeatures{Card: testCardFeatures{Count1h: 1, Devices24: 1, AvgAmount: 5000}},
		User:     testUser{Email: "bob@example.com", AgeDays: 30, Verified: true},
	}
}

func BenchmarkEvaluate20(b *testing.B) {
	rs := loadRules(b, "rules20.json")
	set, err := Compile(1, rs, testSchemas(), testLists(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("no-match", func(b *testing.B) {
		env := benignEnv()
		var res Result
		b.ReportAllocs()
		for b.Loop() {
			set.Evaluate(risk.EventTransaction, env, &res)
		}
		if len(res.Active)+len(res.Shadow)+len(res.Errors) != 0 {
			b.Fatalf("unexpected result %+v", res)
		}
	})
	b.Run("three-matches", func(b *testing.B) {
		env := benignEnv()
		env.IP = "203.0.113.9"
		env.Features.Card.Count1h = 12
		env.Currency = "CHF"
		var res Result
		b.ReportAllocs()
		for b.Loop() {
			set.Evaluate(risk.EventTransaction, env, &res)
		}
		if len(res.Active) != 2 || len(res.Shadow) != 1 {
			b.Fatalf("unexpected result %+v", res)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			env := benignEnv()
			var res Result
			for pb.Next() {
				set.Evaluate(risk.EventTransaction, env, &res)
			}
		})
	})
}

func BenchmarkListsContains100k(b *testing.B) {
	l := largeLists(b, 100_000)
	for _, bm := range []struct{ name, list, value string }{
		{"ip-hit-exact", "ips", "10.0.1.2"},
		{"ip-hit-prefix", "ips", "172.16.5.77"},
		{"ip-miss", "ips", "192.0.2.1"},
		{"email-hit", "emails", "user99999@example.com"},
		{"email-miss-mixed-case", "emails", "Nobody@Example.com"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Contains(bm.list, bm.value)
			}
		})
	}
}

// BenchmarkNewLists100k builds a 100k-entry ip list and a 100k-entry email
// list and reports the heap the snapshot retains.
func BenchmarkNewLists100k(b *testing.B) {
	b.ReportAllocs()
	var ms runtime.MemStats
	var retained uint64
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		l := largeLists(b, 100_000)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		retained = ms.HeapAlloc - before
		runtime.KeepAlive(l)
	}
	b.ReportMetric(float64(retained)/(1<<20), "retained-MiB")
}

func BenchmarkCompile20(b *testing.B) {
	rs := loadRules(b, "rules20.json")
	schemas, lists := testSchemas(), testLists(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(1, rs, schemas, lists); err != nil {
			b.Fatal(err)
		}
	}
}
