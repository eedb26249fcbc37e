package content

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in         string
		want       string
		zw, bidi   int
		wantInOrig string // if set, Span of the whole Text must be this
	}{
		{in: "Hello  World", want: "hello world"},
		{in: "  tabs\t\tand\nnewlines\r\n", want: " tabs and newlines "},
		{in: "ＦＵＬＬＷＩＤＴＨ ０７９", want: "fullwidth 079"},
		{in: "ﬁne ligature", want: "fine ligature"},
		{in: "𝐛𝐨𝐥𝐝 ⓒⓘⓡⓒⓛⓔⓓ", want: "bold circled"},
		{in: "café naïve Ångström", want: "cafe naive angstrom"},
		{in: "cafe\u0301", want: "cafe"},
		{in: "pаypаl", want: "paypal"}, // Cyrillic а
		{in: "ΡΑΥΡΑL", want: "paypal"}, // Greek capitals
		{in: "ѕһор", want: "shop"},     // Cyrillic
		{in: "it’s “quoted” – dash", want: "it's \"quoted\" - dash"},
		{in: "zero\u200bwidth\u200c", want: "zerowidth", zw: 2},
		{in: "soft\u00adhyphen", want: "softhyphen", zw: 1},
		{in: "\ufeffbom at start", want: "bom at start"},
		{in: "in\ufeffside", want: "inside", zw: 1},
		{in: "tag\U000E0041\U000E007F", want: "tag", zw: 2},
		{in: "👨\u200d👩\u200d👧", want: "👨👩👧"},
		{in: "❤\ufe0f", want: "❤"},
		{in: "abc\u202edef\u202c", want: "abcdef", bidi: 2},
		{in: "x\u2066y\u2069", want: "xy", bidi: 2},
		{in: "price\u200e20", want: "price20", bidi: 1},
		{in: "שלום\u200fעולם", want: "שלוםעולם"},
		{in: "a \u200b b", want: "a b", zw: 1},
		{in: "bad\xffbyte", want: "bad\ufffdbyte"},
		{in: "Straße İstanbul", want: "straße istanbul"},
		{in: "\u00a0nbsp\u3000ideographic", want: " nbsp ideographic"},
		{in: "１２３。ｃｏｍ", want: "123.com"},
		{in: "", want: ""},
	}
	for _, tt := range tests {
		n := Normalize(tt.in)
		if n.Text != tt.want || n.ZeroWidth != tt.zw || n.Bidi != tt.bidi {
			t.Errorf("Normalize(%q) = %q zw=%d bidi=%d, want %q zw=%d bidi=%d", tt.in, n.Text, n.ZeroWidth, n.Bidi, tt.want, tt.zw, tt.bidi)
		}
		checkNormalized(t, tt.in, n)
	}
}

// TestSpan checks that spans of the folded text map back to exactly the
// original text that produced them.
func TestSpan(t *testing.T) {
	tests := []struct {
		in, find, want string
	}{
		{"Call ME now", "me", "ME"},
		{"ＦＵＬＬ width", "full", "ＦＵＬＬ"},
		{"ＦＵＬＬ width", "ul", "ＵＬ"},
		{"zero\u200bwidth", "zerowidth", "zero\u200bwidth"},
		{"zero\u200bwidth", "width", "width"},
		{"ab\u202ecd", "bc", "b\u202ec"},
		{"cafe\u0301 au lait", "cafe", "cafe\u0301"},
		{"cafe\u0301 au lait", "caf", "caf"},
		{"ﬁne", "f", "ﬁ"},
		{"ﬁne", "i", "ﬁ"},
		{"ﬁne", "ine", "ﬁne"},
		{"a   lot   of   space", "a lot", "a   lot"},
		{"a   lot   of   space", "lot of", "lot   of"},
		{"pаypal", "paypal", "pаypal"},
		{"𝐛𝐨𝐥𝐝!", "old", "𝐨𝐥𝐝"},
		{"x\xffy", "y", "y"},
		{"naïve", "naive", "naïve"},
		{"na\u0308ive", "na", "na\u0308"},
	}
	for _, tt := range tests {
		n := Normalize(tt.in)
		i := strings.Index(n.Text, tt.find)
		if i < 0 {
			t.Errorf("Normalize(%q).Text = %q has no %q", tt.in, n.Text, tt.find)
			continue
		}
		s, e := n.Span(i, i+len(tt.find))
		if got := tt.in[s:e]; got != tt.want {
			t.Errorf("Normalize(%q).Span(%q) = %q, want %q", tt.in, tt.find, got, tt.want)
		}
	}
	// Out of range and empty spans are clamped, and a Normalized built by
	// hand (no original) still maps.
	n := Normalize("abc")
	if s, e := n.Span(-5, 99); s != 0 || e != 3 {
		t.Errorf("Span(-5, 99) = %d, %d", s, e)
	}
	if s, e := n.Span(2, 1); s != 2 || e != 2 {
		t.Errorf("Span(2, 1) = %d, %d", s, e)
	}
	bare := Normalized{Text: n.Text, Orig: n.Orig}
	if s, e := bare.Span(1, 2); s != 1 || e != 2 {
		t.Errorf("Span without original = %d, %d", s, e)
	}
	if s, e := (Normalized{}).Span(0, 1); s != 0 || e != 0 {
		t.Errorf("Span of zero Normalized = %d, %d", s, e)
	}
}

// checkNormalized checks the invariants of Normalize(in).
func checkNormalized(t *testing.T, in string, n Normalized) {
	t.Helper()
	if len(n.Orig) != len(n.Text)+1 {
		t.Fatalf("Normalize(%q): %d offsets for %d bytes", in, len(n.Orig), len(n.Text))
	}
	if int(n.Orig[len(n.Text)]) != len(in) {
		t.Fatalf("Normalize(%q): Orig ends at %d, want %d", in, n.Orig[len(n.Text)], len(in))
	}
	for i, o := range n.Orig {
		if o < 0 || int(o) > len(in) || i > 0 && o < n.Orig[i-1] {
			t.Fatalf("Normalize(%q): Orig[%d] = %d out of order or range (%v)", in, i, o, n.Orig)
		}
	}
	if !utf8.ValidString(n.Text) {
		t.Fatalf("Normalize(%q).Text = %q is not valid UTF-8", in, n.Text)
	}
	if strings.Contains(n.Text, "  ") {
		t.Fatalf("Normalize(%q).Text = %q has two spaces in a row", in, n.Text)
	}
	if again := Normalize(n.Text).Text; again != n.Text {
		t.Fatalf("Normalize(%q) = %q, but Normalize of that = %q", in, n.Text, again)
	}
	valid := utf8.ValidString(in)
	for i := 0; i <= len(n.Text); i++ {
		for _, j := range [...]int{i, i + 1, i + 3, len(n.Text)} {
			if j > len(n.Text) {
				continue
			}
			s, e := n.Span(i, j)
			if s < 0 || e > len(in) || s > e {
				t.Fatalf("Normalize(%q).Span(%d, %d) = %d, %d out of range", in, i, j, s, e)
			}
			if valid && (s < len(in) && !utf8.RuneStart(in[s]) || e < len(in) && !utf8.RuneStart(in[e])) {
				t.Fatalf("Normalize(%q).Span(%d, %d) = %d, %d splits a character", in, i, j, s, e)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "Hello", "ＦＵＬＬ", "ﬁ", "cafe\u0301", "a\u200b\u202eb", "\xff\xfe", "pаypal",
		"İ", "ǅ", "ᾈ", "ﷺ", "\u0345\u0300", "㍿", "\ufeff\ufeff", "a \u200b b", "ς", "K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkNormalized(t, in, Normalize(in))
	})
}

func BenchmarkNormalize(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchGenuine)))
	for b.Loop() {
		Normalize(benchGenuine)
	}
}
