package engine_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/engine"
)

func TestJSONWriter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start string // B before writing
		write func(w *engine.JSONWriter)
		want  string
	}{
		{"empty object", "", func(w *engine.JSONWriter) { w.Open(); w.Close() }, `{}`},
		{"zero values kept without omitempty", "", func(w *engine.JSONWriter) {
			w.Open()
			w.Str("s", "", false)
			w.Int("i", 0, false)
			w.Float("f", 0, false)
			w.Bool("b", false, false)
			w.Close()
		}, `{"s":"","i":0,"f":0,"b":false}`},
		{"zero values left out with omitempty", "", func(w *engine.JSONWriter) {
			w.Open()
			w.Str("s", "", true)
			w.Int("i", 0, true)
			w.Float("f", 0, true)
			w.Float("negzero", math.Copysign(0, -1), true)
			w.Bool("b", false, true)
			w.Str("last", "x", true)
			w.Close()
		}, `{"last":"x"}`},
		{"non-zero values with omitempty", "", func(w *engine.JSONWriter) {
			w.Open()
			w.Str("s", "<a&b>", true)
			w.Int("i", -7, true)
			w.Float("f", 2.5, true)
			w.Bool("b", true, true)
			w.Close()
		}, `{"s":"\u003ca\u0026b\u003e","i":-7,"f":2.5,"b":true}`},
		{"nested objects and null", "", func(w *engine.JSONWriter) {
			w.Open()
			w.Object("a")
			w.Object("empty")
			w.Close()
			w.Int("n", 1, false)
			w.Close()
			w.Null("p")
			w.Object("c")
			w.Bool("t", true, false)
			w.Close()
			w.Close()
		}, `{"a":{"empty":{},"n":1},"p":null,"c":{"t":true}}`},
		{"raw value after Key", "", func(w *engine.JSONWriter) {
			w.Open()
			w.Int("n", 1, false)
			w.Key("arr")
			w.B = append(w.B, "[1,2]"...)
			w.Close()
		}, `{"n":1,"arr":[1,2]}`},
		{"appends to B", `[`, func(w *engine.JSONWriter) { w.Open(); w.Int("n", 1, false); w.Close() }, `[{"n":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := engine.JSONWriter{B: []byte(tc.start)}
			tc.write(&w)
			if string(w.B) != tc.want {
				t.Errorf("wrote %s, want %s", w.B, tc.want)
			}
		})
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := engine.AppendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
	for _, s := range []string{
		"", "plain", `quo"te\back`, "<script>&amp;</script>", "\b\f\n\r\t\v", "\x00\x01\x1f\x7f",
		"Ünïcode ✓ 日本語 😀", "\u2028\u2029", "line\u2028sep", "\xff", "a\xc3", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"ok\xe2\x82", "\ufffd", "ends with <",
	} {
		check(s)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50_000 {
		check(randomString(rng))
	}
}

// randomString returns up to 24 random pieces: ASCII bytes (control and
// HTML characters included), runes of any plane, U+2028/U+2029 and stray
// bytes that make the string invalid UTF-8.
func randomString(rng *rand.Rand) string {
	var b []byte
	for range rng.IntN(25) {
		switch rng.IntN(5) {
		case 0, 1:
			b = append(b, byte(rng.IntN(utf8.RuneSelf)))
		case 2:
			b = utf8.AppendRune(b, rune(0x80+rng.IntN(utf8.MaxRune-0x80)))
		case 3:
			b = utf8.AppendRune(b, '\u2028'+rune(rng.IntN(2)))
		default:
			b = append(b, byte(0x80+rng.IntN(0x80)))
		}
	}
	return string(b)
}

func TestAppendJSONFloatMatchesEncodingJSON(t *testing.T) {
	check := func(v float64) {
		t.Helper()
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := engine.AppendJSONFloat(nil, v); string(got) != string(want) {
			t.Fatalf("AppendJSONFloat(%v) = %s, want %s", v, got, want)
		}
	}
	for _, v := range []float64{
		0, math.Copysign(0, -1), 1, -1, 0.5, 49.99, 0.0001, -0.0001, 0.00015, 1e-6, 9.99e-7, 1e-7, -3.5e-9,
		5e-324, math.SmallestNonzeroFloat64, 1e-300, 1e20, 1e21, -1e21, 999999999999999999999, 1.5e21, 1e300,
		math.MaxFloat64, -math.MaxFloat64, 123456789012.5, 99999999999.9999, 1e11, 1e15, 0.1, 0.3, 2.675, 1 << 53, 1<<53 + 2,
	} {
		check(v)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200_000 {
		x := (rng.Float64() - 0.3) * math.Pow(10, float64(rng.IntN(30)-12))
		check(x)
		check(math.Round(x*1e4) / 1e4)
		check(math.Round(x*1e3) / 1e3)
		check(math.Round(x))
		if bits := math.Float64frombits(rng.Uint64()); !math.IsInf(bits, 0) && !math.IsNaN(bits) {
			check(bits)
		}
	}
	for _, v := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		if got := engine.AppendJSONFloat(nil, v); string(got) != "0" {
			t.Errorf("AppendJSONFloat(%v) = %s, want 0", v, got)
		}
	}
}
