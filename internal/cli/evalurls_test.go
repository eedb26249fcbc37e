package cli

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestReadLabelledURLs(t *testing.T) {
	urls, labels, err := readLabelledURLsFile("testdata/urls/labelled.csv")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://www.crestonwood.com/router.php", "http://shadetreetechnology.com/V4/validation/a111aedc8ae390eabcfa130e041a10a4",
		"https://example.org/a,b", "https://secure-login.example-bank.test/verify"}; !slices.Equal(urls, want) {
		t.Errorf("urls %q, want %q", urls, want)
	}
	if want := []bool{false, true, false, true}; !slices.Equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	for _, tc := range []struct{ name, in, wantErr string }{
		{"no header", "", "header"},
		{"no label column", "url,score\nhttp://a.test,1\n", "label"},
		{"bad label", "url,status\nhttp://a.test,maybe\n", `line 2: label "maybe"`},
		{"empty url", "label,url\n1,\n", "line 2: empty url"},
		{"short record", "url,label\nhttp://a.test\n", "line 2: 1 fields"},
		{"no rows", "url,label\n", "no links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readLabelledURLs(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzReadLabelledURLs(f *testing.F) {
	seed, err := os.ReadFile("testdata/urls/labelled.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("type,url\nbad,\"x\"\"y\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		urls, labels, err := readLabelledURLs(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		if len(urls) == 0 || len(urls) != len(labels) {
			t.Fatalf("%d urls, %d labels", len(urls), len(labels))
		}
		for _, u := range urls {
			if strings.TrimSpace(u) != u || u == "" {
				t.Fatalf("url %q not trimmed or empty", u)
			}
		}
	})
}
