// Package layering holds the test that keeps shopguard's import direction
// (DESIGN.md): risk imports nothing of ours; capability packages never
// import transport or concrete storage; transport packages never import
// each other; only app picks storage backends.
package layering

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/shopguard/shopguard/"

// rule forbids packages matching from to import packages matching to.
type rule struct {
	why  string
	from func(pkg string) bool
	to   func(imp string) bool
}

func prefix(ps ...string) func(string) bool {
	return func(s string) bool {
		return slices.ContainsFunc(ps, func(p string) bool { return s == p || strings.HasPrefix(s, p+"/") })
	}
}

func is(ps ...string) func(string) bool {
	return func(s string) bool { return slices.Contains(ps, s) }
}

var (
	transport    = []string{"internal/api", "internal/gateway", "internal/dashboard"}
	backends     = []string{"internal/storage/sqlite", "internal/storage/memory", "internal/storage/postgres", "internal/storage/redis"}
	capabilities = []string{"internal/features", "internal/rules", "internal/ml", "internal/fraud", "internal/account",
		"internal/authn", "internal/content", "internal/phishing", "internal/assistant", "internal/engine", "internal/reference",
		"internal/botscore"}
)

var rules = []rule{
	{"risk is the core and imports nothing of ours", is("internal/risk"), prefix("internal", "client")},
	{"capability packages never import transport", prefix(capabilities...), prefix(transport...)},
	{"capability packages never import concrete storage", prefix(capabilities...), prefix(backends...)},
	{"transport packages never import each other (api)", is("internal/api"), prefix("internal/gateway", "internal/dashboard")},
	{"transport packages never import each other (gateway)", is("internal/gateway"), prefix("internal/api", "internal/dashboard")},
	{"transport packages never import each other (dashboard)", is("internal/dashboard"), prefix("internal/api", "internal/gateway")},
	{"only app chooses storage backends", func(p string) bool {
		return !prefix("internal/app", "internal/storage")(p)
	}, prefix(backends...)},
	{"the demo talks to shopguard only through the public client", prefix("internal/demo"),
		func(imp string) bool { return strings.HasPrefix(imp, "internal/") && imp != "internal/risk" }},
	{"the public client imports nothing internal", prefix("client"), prefix("internal")},
}

func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var checked int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			checked++
			for _, r := range rules {
				if r.from(pkg) && r.to(imp) {
					t.Errorf("%s imports %s: %s", pkg, imp, r.why)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d imports; is go list seeing the module?", checked)
	}
}

// TestRulesCatchViolations makes sure the rules are not vacuous.
func TestRulesCatchViolations(t *testing.T) {
	for _, tc := range [][2]string{
		{"internal/risk", "internal/features"},
		{"internal/fraud", "internal/api"},
		{"internal/engine", "internal/storage/sqlite"},
		{"internal/api", "internal/gateway"},
		{"internal/cli", "internal/storage/sqlite"},
		{"internal/demo", "internal/engine"},
		{"client", "internal/risk"},
	} {
		var caught bool
		for _, r := range rules {
			caught = caught || (r.from(tc[0]) && r.to(tc[1]))
		}
		if !caught {
			t.Errorf("%s importing %s is not caught", tc[0], tc[1])
		}
	}
	for _, tc := range [][2]string{{"internal/app", "internal/storage/sqlite"}, {"internal/fraud", "internal/engine"}, {"internal/demo", "internal/risk"}} {
		for _, r := range rules {
			if r.from(tc[0]) && r.to(tc[1]) {
				t.Errorf("%s importing %s is wrongly refused: %s", tc[0], tc[1], r.why)
			}
		}
	}
}
