package phishing_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

const (
	add, remove  = storage.URLListAdd, storage.URLListRemove
	block, allow = storage.URLListBlock, storage.URLListAllow
)

// change returns a change listing expression expr.
func change(op, tenant, effect, source, expr string) storage.URLListChange {
	return storage.URLListChange{Op: op, URLListEntry: storage.URLListEntry{Tenant: tenant, Effect: effect, Source: source,
		Hash: phishing.HashExpression(expr)}}
}

func mustParse(t testing.TB, raw string) phishing.URL {
	t.Helper()
	u, err := phishing.Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	return u
}

func TestURLListLookup(t *testing.T) {
	l := phishing.NewURLList()
	changes := []storage.URLListChange{
		change(add, "", block, "urlhaus", "evil.test/"),
		change(add, "", block, "openphish", "phish.example.net/login/secure.php?id=7"),
		change(add, "t1", allow, "operator", "shop.example/"),
		change(add, "", block, "feed-a", "shop.example/hacked/"),
		change(add, "t2", block, "report", "bad.example.org/x/"),
		change(add, "", block, "feed-c", "evil.test/payload.bin"),
		change(add, "", block, "feed-b", "evil.test/payload.bin"),
		change(add, "t3", block, "report", "evil.test/payload.bin"),
		change(add, "", block, "feed-a", "198.51.100.7/"),
	}
	if n := l.Apply(changes); n != len(changes) || l.Len() != len(changes) {
		t.Fatalf("Apply = %d, Len = %d; want %d", n, l.Len(), len(changes))
	}
	tests := []struct {
		tenant, url                    string
		effect, tenantOf, source, expr string // "" effect: no match
	}{
		{"t1", "http://sub.evil.test/any/thing.html", block, "", "urlhaus", "evil.test/"},
		{"t1", "https://evil.test/payload.bin?x=1", block, "", "feed-b", "evil.test/payload.bin"},
		{"t3", "https://evil.test/payload.bin", block, "t3", "report", "evil.test/payload.bin"},
		{"t1", "http://phish.example.net/login/secure.php?id=7", block, "", "openphish", "phish.example.net/login/secure.php?id=7"},
		{"t1", "http://www.phish.example.net/login/secure.php?id=7#top", block, "", "openphish", "phish.example.net/login/secure.php?id=7"},
		{"t1", "http://phish.example.net/login/secure.php", "", "", "", ""},
		{"t1", "http://phish.example.net/login/secure.php?id=8", "", "", "", ""},
		{"t1", "https://www.shop.example/hacked/page.html", allow, "t1", "operator", "shop.example/"},
		{"t2", "https://www.shop.example/hacked/page.html", block, "", "feed-a", "shop.example/hacked/"},
		{"", "https://www.shop.example/hacked/page.html", block, "", "feed-a", "shop.example/hacked/"},
		{"t2", "https://www.shop.example/cart", "", "", "", ""},
		{"t1", "http://bad.example.org/x/y", "", "", "", ""},
		{"t2", "http://bad.example.org/x/y", block, "t2", "report", "bad.example.org/x/"},
		{"t1", "http://notevil.test/", "", "", "", ""},
		{"t1", "http://evil.test.example/", "", "", "", ""},
		{"t1", "http://3325256711/admin", block, "", "feed-a", "198.51.100.7/"},
	}
	for _, tt := range tests {
		t.Run(tt.tenant+" "+tt.url, func(t *testing.T) {
			m, ok := l.Lookup(tt.tenant, mustParse(t, tt.url))
			if ok != (tt.effect != "") {
				t.Fatalf("Lookup = %+v, %v", m, ok)
			}
			if !ok {
				return
			}
			if m.Effect != tt.effect || m.Tenant != tt.tenantOf || m.Source != tt.source || m.Expression != tt.expr {
				t.Errorf("Lookup = %+v, want %s %q %s %s", m, tt.effect, tt.tenantOf, tt.source, tt.expr)
			}
			if m.Hash != phishing.HashExpression(m.Expression) {
				t.Errorf("match hash %x is not the hash of %q", m.Hash, m.Expression)
			}
		})
	}
}

func TestURLListApply(t *testing.T) {
	l := phishing.NewURLList()
	u := mustParse(t, "https://evil.test/x")
	listed := func() bool { _, ok := l.Lookup("t1", u); return ok }
	steps := []struct {
		changes []storage.URLListChange
		applied int
		len     int
		listed  bool
	}{
		{[]storage.URLListChange{change(add, "", block, "f", "evil.test/"), change(add, "", block, "f", "evil.test/")}, 1, 1, true},
		{[]storage.URLListChange{change(add, "", block, "g", "evil.test/")}, 1, 2, true},
		{[]storage.URLListChange{change(remove, "", block, "f", "evil.test/")}, 1, 1, true},
		{[]storage.URLListChange{change(remove, "", block, "f", "evil.test/"), change(remove, "", block, "g", "other.test/")}, 0, 1, true},
		{[]storage.URLListChange{change(remove, "", block, "g", "evil.test/")}, 1, 0, false},
		{[]storage.URLListChange{change(add, "", "deny", "g", "evil.test/"), change("upsert", "", block, "g", "evil.test/")}, 0, 0, false},
		{[]storage.URLListChange{change(add, "t2", block, "g", "evil.test/")}, 1, 1, false}, // another tenant's
	}
	for i, s := range steps {
		if n := l.Apply(s.changes); n != s.applied || l.Len() != s.len || listed() != s.listed {
			t.Errorf("step %d: Apply = %d, Len = %d, listed %v; want %d, %d, %v", i, n, l.Len(), listed(), s.applied, s.len, s.listed)
		}
	}
	// Logged changes are applied once, in ID order.
	c := change(add, "", block, "h", "evil.test/")
	c.ID = 7
	if n := l.Apply([]storage.URLListChange{c}); n != 1 || l.LastChange() != 7 {
		t.Fatalf("Apply of change 7 = %d, LastChange %d", n, l.LastChange())
	}
	c.Op, c.ID = remove, 5
	if n := l.Apply([]storage.URLListChange{c}); n != 0 || !listed() || l.LastChange() != 7 {
		t.Errorf("an old change was applied: %d, LastChange %d", n, l.LastChange())
	}
}

// TestURLListModel checks the list against a plain map through many
// random changes, enough to fold them into the sorted index many times.
func TestURLListModel(t *testing.T) {
	const hosts = 3000
	r := rand.New(rand.NewPCG(1, 2))
	l := phishing.NewURLList()
	model := map[[2]int]bool{} // host, source (0 "a", 1 "b")
	urls := make([]phishing.URL, hosts)
	for i := range urls {
		urls[i] = mustParse(t, fmt.Sprintf("https://www.host%d.evil.test/x/y.html", i))
	}
	check := func(step int) {
		t.Helper()
		n := 0
		for h := range hosts {
			want := ""
			switch {
			case model[[2]int{h, 0}]:
				want = "a"
			case model[[2]int{h, 1}]:
				want = "b"
			}
			for s := range 2 {
				if model[[2]int{h, s}] {
					n++
				}
			}
			m, ok := l.Lookup("t1", urls[h])
			if ok != (want != "") || (ok && m.Source != want) {
				t.Fatalf("step %d host %d: Lookup = %+v, %v; want source %q", step, h, m, ok, want)
			}
		}
		if l.Len() != n {
			t.Fatalf("step %d: Len = %d, want %d", step, l.Len(), n)
		}
	}
	for step := range 40 {
		var batch []storage.URLListChange
		want := 0
		for range 1 + r.IntN(3000) {
			h, s := r.IntN(hosts), r.IntN(2)
			k := [2]int{h, s}
			op := add
			if r.IntN(3) == 0 {
				op = remove
			}
			if (op == add) != model[k] {
				want++
			}
			model[k] = op == add
			batch = append(batch, change(op, "", block, string(rune('a'+s)), fmt.Sprintf("host%d.evil.test/", h)))
		}
		if n := l.Apply(batch); n != want {
			t.Fatalf("step %d: Apply = %d, want %d", step, n, want)
		}
		check(step)
	}
}

func TestURLListSync(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	var first []storage.URLListChange
	for i := range 40_000 {
		first = append(first, change(add, "", block, "feed", fmt.Sprintf("h%d.evil.test/", i)))
	}
	if _, err := st.AddURLListChanges(ctx, first); err != nil {
		t.Fatal(err)
	}
	l := phishing.NewURLList()
	// Lookups go on while the list loads.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		u := mustParse(t, "http://h5.evil.test/")
		for {
			select {
			case <-stop:
				return
			default:
				l.Lookup("t1", u)
			}
		}
	})
	n, err := l.Sync(ctx, st)
	close(stop)
	wg.Wait()
	if err != nil || n != 40_000 || l.Len() != 40_000 || l.LastChange() != 40_000 {
		t.Fatalf("Sync = %d, %v; Len %d, LastChange %d", n, err, l.Len(), l.LastChange())
	}
	if _, err := st.AddURLListChanges(ctx, []storage.URLListChange{change(remove, "", block, "feed", "h5.evil.test/"),
		change(add, "t1", allow, "operator", "h6.evil.test/")}); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Sync(ctx, st); err != nil || n != 2 || l.LastChange() != 40_002 {
		t.Fatalf("second Sync = %d, %v, LastChange %d", n, err, l.LastChange())
	}
	if n, err := l.Sync(ctx, st); err != nil || n != 0 {
		t.Fatalf("Sync with nothing new = %d, %v", n, err)
	}
	if m, ok := l.Lookup("t1", mustParse(t, "http://h5.evil.test/")); ok {
		t.Errorf("a removed entry still matches: %+v", m)
	}
	if m, ok := l.Lookup("t1", mustParse(t, "http://www.h6.evil.test/")); !ok || m.Effect != allow {
		t.Errorf("t1's allow entry: %+v, %v", m, ok)
	}
	if m, ok := l.Lookup("t2", mustParse(t, "http://www.h6.evil.test/")); !ok || m.Effect != block {
		t.Errorf("t2 has no allow entry: %+v, %v", m, ok)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := phishing.NewURLList().Sync(cancelled, st); err == nil {
		t.Error("Sync with a cancelled context succeeded")
	}
}

// heapAlloc returns the live heap after a collection.
func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// bigList returns a list of n entries for every tenant, with the URLs
// they list (the first of every 10 entries lists a whole host), and how
// long applying the changes took (as Sync applies them).
func bigList(tb testing.TB, n int) (*phishing.URLList, []string, time.Duration) {
	tb.Helper()
	changes := make([]storage.URLListChange, 0, n)
	urls := make([]string, 0, n)
	for i := range n {
		expr := fmt.Sprintf("h%d.evil%d.test/payload/%d.bin", i/10, i%1000, i)
		if i%10 == 0 {
			expr = fmt.Sprintf("h%d.evil%d.test/", i/10, i%1000)
		}
		urls = append(urls, "http://"+expr)
		c := change(add, "", block, []string{"urlhaus", "openphish", "phishtank"}[i%3], expr)
		c.ID = int64(i + 1)
		changes = append(changes, c)
	}
	l := phishing.NewURLList()
	start := time.Now()
	if _, err := l.Sync(context.Background(), changeLog(changes)); err != nil {
		tb.Fatal(err)
	}
	took := time.Since(start)
	if l.Len() != n {
		tb.Fatalf("Len = %d, want %d", l.Len(), n)
	}
	return l, urls, took
}

// changeLog is a change log in memory, without a storage backend's copying.
type changeLog []storage.URLListChange

func (c changeLog) URLListChangesAfter(_ context.Context, id int64, fn func(*storage.URLListChange) error) error {
	for i := range c {
		if c[i].ID > id {
			if err := fn(&c[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestURLListMemory holds the list to its budget of 64 bytes an entry.
func TestURLListMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a list of 200 000 entries")
	}
	before := heapAlloc()
	l, _, _ := bigList(t, 200_000)
	per := float64(heapAlloc()-before) / float64(l.Len())
	runtime.KeepAlive(l)
	if per > 64 {
		t.Errorf("%.1f bytes an entry, want at most 64", per)
	}
}

// BenchmarkURLListMemory builds a list of 1 000 000 entries from logged
// changes and reports how long applying them took (what a server's first
// Sync spends besides reading the log) and the list's heap size per entry.
func BenchmarkURLListMemory(b *testing.B) {
	for b.Loop() {
		before := heapAlloc()
		l, _, took := bigList(b, 1_000_000)
		b.ReportMetric(float64(took.Milliseconds()), "ms-to-apply")
		b.ReportMetric(float64(heapAlloc()-before)/float64(l.Len()), "heap-bytes/entry")
		runtime.KeepAlive(l)
	}
}

// BenchmarkURLListLookup looks URLs up in a list of 1 000 000 entries:
// half are listed (by their host or their exact URL), half are not.
func BenchmarkURLListLookup(b *testing.B) {
	l, listed, _ := bigList(b, 1_000_000)
	var urls []phishing.URL
	for i := range 1000 {
		raw := listed[i*997%len(listed)] + "?utm_source=mail"
		if i%2 == 1 {
			raw = fmt.Sprintf("https://www.shop%d.example/account/orders/%d?page=2", i, i)
		}
		urls = append(urls, mustParse(b, raw))
	}
	hits := 0
	i := 0
	for b.Loop() {
		if _, ok := l.Lookup("t1", urls[i%len(urls)]); ok {
			hits++
		}
		i++
	}
	if i >= len(urls) && hits != i/2 && hits != (i+1)/2 {
		b.Fatalf("%d hits of %d lookups, want half", hits, i)
	}
}
