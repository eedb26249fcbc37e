package fraud

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/shopguard/shopguard/internal/engine"
)

// randomize fills every field of v (a pointer to struct) with random values,
// zero about a third of the time so omitempty is exercised.
func randomize(rng *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		randomize(rng, v.Elem())
		return
	case reflect.Struct:
		for i := range v.NumField() {
			randomize(rng, v.Field(i))
		}
	case reflect.String:
		if rng.IntN(3) > 0 {
			pool := []string{"a", "Ünïcode", `quo"te\`, "<script>&", "tab\tnew\nline", "\u2028", "\x01", "ev_01J"} // valid UTF-8: inputs are validated
			v.SetString(pool[rng.IntN(len(pool))])
		}
	case reflect.Int, reflect.Int64:
		if rng.IntN(3) > 0 {
			v.SetInt(rng.Int64N(1<<40) - 1<<39)
		}
	case reflect.Float64:
		if rng.IntN(3) > 0 {
			pool := []float64{rng.Float64() * 1000, -1, 1e-7, 1e21, 123456789.125, 0.1, -3.5e-9}
			v.SetFloat(pool[rng.IntN(len(pool))])
		}
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	}
}

func TestAppendJSONRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for i := range 2000 {
		env := NewEnv()
		if i > 0 {
			randomize(rng, reflect.ValueOf(env))
		}
		stored := env.AppendJSON(nil)
		if !json.Valid(stored) {
			t.Fatalf("AppendJSON wrote invalid JSON: %s", stored)
		}
		back := NewEnv()
		if err := json.Unmarshal(stored, back); err != nil {
			t.Fatalf("stored form does not decode: %v\n%s", err, stored)
		}
		if !reflect.DeepEqual(back, env) {
			t.Fatalf("stored form loses values:\n got  %+v\n want %+v\n%s", back.Features.User, env.Features.User, stored)
		}
		// The readable form (what the API shows) decodes to the same.
		readable, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		back = NewEnv()
		if err := json.Unmarshal(readable, back); err != nil || !reflect.DeepEqual(back, env) {
			t.Fatalf("readable form does not round-trip: %v", err)
		}
	}
}

func TestStoredEntityForm(t *testing.T) {
	e := Entity{Present: true, FirstSeenDays: 2.5, SecondsSinceLast: -1, Count1h: 3, Cards1h: 2}
	got := string(e.appendArray(nil))
	want := "[1,0,2.5,-1,0,3,0,0,0,0,0,0,0,0,2]"
	if got != want {
		t.Errorf("stored entity = %s, want %s", got, want)
	}
	if string((&Entity{}).appendArray(nil)) != "[]" {
		t.Error("an absent entity is not stored as []")
	}
	// An array from an older version (fewer fields) leaves the rest zero;
	// one from a newer version (more fields) is read as far as known.
	var old Entity
	if err := json.Unmarshal([]byte("[1,1,0,5]"), &old); err != nil || !old.Present || !old.New || old.SecondsSinceLast != 5 || old.Count1m != 0 {
		t.Errorf("short array = %+v, %v", old, err)
	}
	long := strings.Repeat("1,", len(entityFields)+3) + "1"
	if err := json.Unmarshal([]byte("["+long+"]"), &old); err != nil || old.Addresses30d != 1 {
		t.Errorf("long array = %+v, %v", old, err)
	}
	if err := json.Unmarshal([]byte(`["x"]`), &old); err == nil {
		t.Error("a malformed array was accepted")
	}
}

func TestStoredFormIsSmall(t *testing.T) {
	// A realistic environment: every entity present with small counts.
	env := NewEnv()
	for _, e := range env.Features.entities() {
		for i, f := range entityFields {
			f.set(e, float64(1+i%3))
		}
	}
	readable, _ := json.Marshal(env)
	if stored := env.AppendJSON(nil); len(stored)*2 > len(readable) {
		t.Errorf("stored form is %d bytes, readable %d: expected less than half", len(stored), len(readable))
	}
}

func TestAppendJSONCoversEveryField(t *testing.T) {
	// A field added to Env but not to AppendJSON would be lost from stored
	// decisions: with every field non-zero, the JSON must decode back whole.
	env := NewEnv()
	var setAll func(reflect.Value)
	setAll = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			setAll(v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				setAll(v.Field(i))
			}
		case reflect.String:
			v.SetString("x")
		case reflect.Int, reflect.Int64:
			v.SetInt(7)
		case reflect.Float64:
			v.SetFloat(1.5)
		case reflect.Bool:
			v.SetBool(true)
		}
	}
	setAll(reflect.ValueOf(env))
	back := NewEnv()
	if err := json.Unmarshal(env.AppendJSON(nil), back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, env) {
		t.Errorf("fields lost in AppendJSON:\n got  %+v\n want %+v", back, env)
	}
}

func BenchmarkEnvJSON(b *testing.B) {
	env := NewEnv()
	randomize(rand.New(rand.NewPCG(1, 1)), reflect.ValueOf(env))
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			_, _ = json.Marshal(env)
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 4096)
		for range b.N {
			buf = env.AppendJSON(buf[:0])
		}
	})
}

func TestAppendFloatMatchesShortest(t *testing.T) {
	// engine.AppendJSONFloat's fixed-point fast path must write exactly what the
	// general shortest formatting (encoding/json) writes.
	rng := rand.New(rand.NewPCG(5, 5))
	check := func(v float64) {
		want, _ := json.Marshal(v)
		if got := engine.AppendJSONFloat(nil, v); string(got) != string(want) {
			t.Fatalf("AppendJSONFloat(%v) = %s, want %s", v, got, want)
		}
	}
	for _, v := range []float64{0, 1, -1, 0.5, 49.99, 149.97, 0.0001, -0.0001, 1e-6, 123456789012.5, 1e15, 1e21, 1e-7, 0.1, 0.3, 2.675} {
		check(v)
	}
	for range 200_000 {
		x := (rng.Float64() - 0.3) * math.Pow(10, float64(rng.IntN(14)))
		check(x)
		check(round4(x))
		check(round3(x))
		check(math.Round(x))
	}
}
