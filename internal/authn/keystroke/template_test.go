package keystroke

import (
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestTemplateRoundTrip: every detector's template survives Encode and
// DecodeTemplate unchanged and scores the same.
func TestTemplateRoundTrip(t *testing.T) {
	enrolment, genuine, impostor := loadUser(t)
	for _, d := range detectors() {
		tpl, err := d.d.Train(enrolment)
		if err != nil {
			t.Fatal(err)
		}
		data, err := tpl.Encode()
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		back, err := DecodeTemplate(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", d.name, err, data)
		}
		if !reflect.DeepEqual(tpl, back) {
			t.Errorf("%s: decoded %+v, want %+v", d.name, back, tpl)
		}
		for _, x := range append(genuine, impostor...) {
			if a, b := mustScore(t, tpl, x), mustScore(t, back, x); a != b {
				t.Errorf("%s: score %v after the round trip, %v before", d.name, b, a)
			}
		}
	}
}

// TestTemplateGolden: a version-1 template stored earlier still decodes
// and scores as it did (the storage format must not drift silently).
func TestTemplateGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/template-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := DecodeTemplate(data)
	if err != nil {
		t.Fatal(err)
	}
	// |100-90|/5 + min(|40-50|/2, 4) + |0-(-20)|/10 = 2 + 4 + 2.
	if s := mustScore(t, tpl, []float64{100, 40, 0}); s != 8 {
		t.Errorf("score %v, want 8", s)
	}
}

func TestDecodeTemplateRejects(t *testing.T) {
	const good = `{"version":1,"kind":"manhattan","centre":[1,2],"scale":[1,1]}`
	if _, err := DecodeTemplate([]byte(good)); err != nil {
		t.Fatalf("good template: %v", err)
	}
	nn := `{"version":1,"kind":"nearest-neighbour","scale":[1,1],"k":1,"samples":[[1,2]]}`
	if _, err := DecodeTemplate([]byte(nn)); err != nil {
		t.Fatalf("good nearest-neighbour template: %v", err)
	}
	tests := []struct {
		name, json string
		want       error
	}{
		{"version 2", strings.Replace(good, `"version":1`, `"version":2`, 1), ErrTemplateVersion},
		{"no version", strings.Replace(good, `"version":1,`, ``, 1), ErrTemplateVersion},
		{"empty", ``, ErrTemplate},
		{"not JSON", `version 1`, ErrTemplate},
		{"null", `null`, ErrTemplateVersion},
		{"array", `[]`, ErrTemplate},
		{"unknown field", strings.Replace(good, `"scale"`, `"extra":1,"scale"`, 1), ErrTemplate},
		{"trailing data", good + `{}`, ErrTemplate},
		{"trailing garbage", good + ` x`, ErrTemplate},
		{"unknown kind", strings.Replace(good, `manhattan`, `euclid`, 1), ErrTemplate},
		{"no scale", `{"version":1,"kind":"manhattan","centre":[1]}`, ErrTemplate},
		{"centres and scales differ", strings.Replace(good, `[1,2]`, `[1]`, 1), ErrTemplate},
		{"zero scale", strings.Replace(good, `"scale":[1,1]`, `"scale":[1,0]`, 1), ErrTemplate},
		{"negative scale", strings.Replace(good, `"scale":[1,1]`, `"scale":[1,-1]`, 1), ErrTemplate},
		{"negative cap", strings.Replace(good, `}`, `,"cap":-1}`, 1), ErrTemplate},
		{"huge number", strings.Replace(good, `[1,2]`, `[1,1e999]`, 1), ErrTemplate},
		{"string number", strings.Replace(good, `[1,2]`, `[1,"2"]`, 1), ErrTemplate},
		{"manhattan with samples", strings.Replace(good, `}`, `,"k":1,"samples":[[1,2]]}`, 1), ErrTemplate},
		{"neighbour with centre", strings.Replace(nn, `"k"`, `"centre":[1,2],"k"`, 1), ErrTemplate},
		{"k 0", strings.Replace(nn, `"k":1`, `"k":0`, 1), ErrTemplate},
		{"k above samples", strings.Replace(nn, `"k":1`, `"k":2`, 1), ErrTemplate},
		{"no samples", `{"version":1,"kind":"nearest-neighbour","scale":[1,1],"k":1}`, ErrTemplate},
		{"short sample", strings.Replace(nn, `[[1,2]]`, `[[1]]`, 1), ErrTemplate},
	}
	for _, tc := range tests {
		if _, err := DecodeTemplate([]byte(tc.json)); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := (&Template{Version: 1, Kind: KindManhattan, Centre: []float64{math.NaN()}, Scale: []float64{1}}).Encode(); !errors.Is(err, ErrTemplate) {
		t.Errorf("Encode of a NaN centre: %v, want ErrTemplate", err)
	}
}

// FuzzDecodeTemplate: no input makes DecodeTemplate panic; what it accepts
// scores finite values, and encodes to a template that decodes equal.
func FuzzDecodeTemplate(f *testing.F) {
	f.Add([]byte(`{"version":1,"kind":"manhattan","centre":[1,2],"scale":[1,1],"cap":4}`))
	f.Add([]byte(`{"version":1,"kind":"nearest-neighbour","scale":[1e-6,3],"k":2,"samples":[[1,2],[-1e300,4]],"cap":3}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"kind":"manhattan","centre":[1e308],"scale":[1e-6]}`))
	if data, err := os.ReadFile("testdata/template-v1.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := DecodeTemplate(data)
		if err != nil {
			if !errors.Is(err, ErrTemplate) && !errors.Is(err, ErrTemplateVersion) {
				t.Fatalf("error %v wraps neither ErrTemplate nor ErrTemplateVersion", err)
			}
			return
		}
		for _, v := range []float64{0, 1, -1e308, 1e308} {
			x := make([]float64, tpl.Dims())
			for i := range x {
				x[i] = v
			}
			s, err := tpl.Score(x)
			if err != nil || math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
				t.Fatalf("Score(%g...) = %v, %v", v, s, err)
			}
		}
		again, err := tpl.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeTemplate(again)
		if err != nil {
			t.Fatalf("re-encoded template does not decode: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(tpl, back) {
			t.Fatalf("re-decoded %+v, want %+v", back, tpl)
		}
	})
}
