package reference

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestTables(t *testing.T) {
	for code, want := range map[string]int{"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3, "CLF": 4} {
		if got, ok := CurrencyExponent(code); !ok || got != want {
			t.Errorf("CurrencyExponent(%s) = %d, %v; want %d", code, got, ok, want)
		}
	}
	for _, bad := range []string{"XAU", "eur", "EURO", ""} {
		if _, ok := CurrencyExponent(bad); ok {
			t.Errorf("CurrencyExponent(%q) known", bad)
		}
	}
	for _, code := range []string{"DE", "US", "XK", "AX"} {
		if _, ok := CountryName(code); !ok {
			t.Errorf("country %s unknown", code)
		}
	}
	if len(countryNames) != 249 {
		t.Errorf("%d ISO 3166-1 codes, want 249", len(countryNames))
	}
	if _, ok := CountryName("XX"); ok {
		t.Error("XX known")
	}
}

func TestDisposableDomains(t *testing.T) {
	d := DisposableEmailDomains()
	if len(d) < 8000 || !slices.Contains(d, "mailinator.com") {
		t.Errorf("shipped list has %d domains", len(d))
	}
}

func TestCommonPasswords(t *testing.T) {
	p := CommonPasswords()
	if len(p) != 49233 || p[0] != "123456" || !slices.Contains(p, "password") {
		t.Errorf("shipped list has %d passwords, first %q", len(p), p[0])
	}
}

func TestLoadDomainList(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "a.json")
	txt := filepath.Join(dir, "a.txt")
	os.WriteFile(js, []byte(`["a.example", "b.example"]`), 0o600)
	os.WriteFile(txt, []byte("# comment\nA.example\n\n b.example \n"), 0o600)
	for _, p := range []string{js, txt} {
		got, err := LoadDomainList(p)
		if err != nil || !slices.Equal(got, []string{"a.example", "b.example"}) {
			t.Errorf("LoadDomainList(%s) = %v, %v", filepath.Base(p), got, err)
		}
	}
	os.WriteFile(js, []byte(`[1, 2]`), 0o600)
	if _, err := LoadDomainList(js); err == nil {
		t.Error("a JSON array of numbers was accepted")
	}
	if _, err := LoadDomainList(filepath.Join(dir, "none")); err == nil {
		t.Error("a missing file was accepted")
	}
}
