package account_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/account"
)

// fillFields calls leaf on every field of the struct v points to, following
// (and allocating) pointers to structs; path names the field. It fails t on
// a field of a kind neither AppendJSON nor these tests handle, so a new kind
// of field is noticed rather than silently skipped.
func fillFields(t testing.TB, v reflect.Value, path string, leaf func(path string, v reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillFields(t, v.Elem(), path, leaf)
	case reflect.Struct:
		for i := range v.NumField() {
			fillFields(t, v.Field(i), path+"."+v.Type().Field(i).Name, leaf)
		}
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		leaf(path, v)
	default:
		t.Fatalf("%s: a field of kind %s: teach AppendJSON and this test to write it", path, v.Kind())
	}
}

// randomFloats are the values where float formatting differs most: signed
// zeros, subnormals, the thresholds where encoding/json switches to exponent
// form (1e-6, 1e21), integers and values that are not short decimals.
var randomFloats = [...]float64{
	0, math.Copysign(0, -1), 5e-324, 1e-300, 1e-7, 9.99e-7, 1e-6, -3.5e-9, 0.001, 0.1, 0.333, 2.675, -1, 1, 42,
	1 << 53, 99999999999.9999, 123456789012.5, 1e20, 1e21, 999999999999999999999, -1e21, 1.5e21, 1e300,
	math.MaxFloat64, -math.MaxFloat64,
}

// randomStrings are strings every escape rule of encoding/json applies to.
var randomStrings = [...]string{
	"", "lg_01JABCDEF", "198.51.100.7", "Ünïcode ✓ 日本語 😀", `quo"te\back`, "<script>alert(1)&</script>",
	"\b\f\n\r\t\v", "\x00\x01\x1f\x7f", "\u2028\u2029", "\xff\xfe", "a\xc3", "\xed\xa0\x80", "country FR, device",
}

// setRandom sets v (a string, bool, int or float field) to a random value,
// zero about a quarter of the time so omitempty is exercised.
func setRandom(rng *rand.Rand, v reflect.Value) {
	if rng.IntN(4) == 0 {
		v.SetZero()
		return
	}
	switch v.Kind() {
	case reflect.String:
		if rng.IntN(2) == 0 {
			v.SetString(randomStrings[rng.IntN(len(randomStrings))])
			return
		}
		var b []byte
		for range rng.IntN(20) {
			switch rng.IntN(4) {
			case 0, 1:
				b = append(b, byte(rng.IntN(utf8.RuneSelf))) // control and HTML characters too
			case 2:
				b = utf8.AppendRune(b, rune(0x80+rng.IntN(utf8.MaxRune-0x80)))
			default:
				b = append(b, byte(0x80+rng.IntN(0x80))) // invalid UTF-8
			}
		}
		v.SetString(string(b))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		switch rng.IntN(4) {
		case 0:
			v.SetInt([...]int64{-1, 1, math.MinInt64, math.MaxInt64}[rng.IntN(4)])
		case 1:
			v.SetInt(int64(rng.Uint64()))
		default:
			v.SetInt(rng.Int64N(2000) - 1000)
		}
	case reflect.Float64:
		switch rng.IntN(5) {
		case 0, 1:
			v.SetFloat(randomFloats[rng.IntN(len(randomFloats))])
		case 2:
			v.SetFloat(math.Round(rng.Float64()*1000) / 1000) // a rate
		case 3:
			v.SetFloat(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20)))
		default:
			if f := math.Float64frombits(rng.Uint64()); !math.IsInf(f, 0) && !math.IsNaN(f) {
				v.SetFloat(f)
			}
		}
	}
}

// typicalEnv is a filled login environment as BuildEnv makes one.
func typicalEnv() *account.Env {
	env := account.NewEnv()
	f, s := env.Features, env.Signals
	*env = account.Env{ID: "lg_01JD5Q2W8ZK3M7N9P4R6T0V2XY", Outcome: account.OutcomeBadPassword, UserID: "u4711", KnownUser: true,
		IP: "198.51.100.23", IPPrefix: "198.51.100.0/24", IPCountry: "DE", IPCity: "Köln \"Nord\"", IPASN: 3320, DeviceID: "d-8f14e45fceea167a",
		HourUTC: 14, PasswordSet: true, ClientOS: "Windows", ClientBrowser: "Chrome 131", Features: f, Signals: s}
	env.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	for i, e := range []*account.Entity{f.Account, f.IP, f.IPPrefix, f.Device, f.AccountIP, f.Password, f.UserAgent, f.ASN, f.Shop} {
		n := int64(i + 1)
		*e = account.Entity{Present: true, New: i%4 == 3, Attempts1m: n % 3, Attempts1h: 2 * n, Attempts24h: 9 * n,
			Failures1h: n / 2, Failures24h: n, Accounts1h: n % 4, Accounts24h: n, IPs1h: 1, IPs24h: n % 5,
			Devices1h: 1, Devices24h: 2, Networks24h: n % 3, Countries24h: 1}
	}
	f.Shop.Attempts24h = 48211
	*s = account.Signals{NewIPForUser: true, NewNetworkForUser: true, UnknownAccountsIP1h: 2, FailureRateIP1h: 0.25,
		ShopFailureRate1h: 0.072, ShopFailureRate24h: 0.061, ShopFailureRateHourOfWeek: 0.058, ShopUnknownAccounts1m: 3,
		ShopUnknownAccountsPerMinute24h: 1.734, TravelKM: 878, TravelHours: 2.25, TravelSpeedKMH: 390, TravelFrom: "Berlin, DE", DormantDays: 212.5, TypingDistance: 2.417, DeviceRemembered: true,
		LoginRisk: 0.8237, Unfamiliar: "network, ip"}
	return env
}

// checkMatchesMarshal fails t unless env.AppendJSON writes what
// json.Marshal writes, also after bytes already in the buffer.
func checkMatchesMarshal(t *testing.T, env *account.Env) {
	t.Helper()
	want, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if got := env.AppendJSON(nil); string(got) != string(want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Fatalf("AppendJSON differs from encoding/json at byte %d:\n got  …%s\n want …%s\nwhole: %s",
			i, got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)], want)
	}
	if got := env.AppendJSON([]byte("prefix")); string(got) != "prefix"+string(want) {
		t.Fatalf("AppendJSON does not append to its buffer: %s", got)
	}
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  func() *account.Env
	}{
		{"new", account.NewEnv},
		{"zero (nil features and signals)", func() *account.Env { return &account.Env{} }},
		{"nil entities", func() *account.Env { return &account.Env{Features: &account.Features{}, Signals: &account.Signals{}} }},
		{"typical", typicalEnv},
		{"escaped strings", func() *account.Env {
			env := typicalEnv()
			env.ID, env.UserID, env.UserAgent = `"<>&\`, "\b\f\n\r\t\x00\x1f", "\u2028\u2029\xff日本"
			env.Signals.Unfamiliar = "country <FR> & device"
			return env
		}},
		{"negative and extreme numbers", func() *account.Env {
			env := typicalEnv()
			env.IPASN, env.HourUTC = math.MinInt64, -1
			env.Features.IP.Attempts1h, env.Features.Shop.Compromised30d = math.MaxInt64, -5
			s := env.Signals
			s.FailureRateIP1h, s.ShopFailureRate1h, s.ShopFailureRate24h = 1e21, 1e-7, -1e-7
			s.ShopFailureRateHourOfWeek, s.ShopUnknownAccountsPerMinute24h, s.LoginRisk = 5e-324, math.MaxFloat64, math.Copysign(0, -1)
			return env
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkMatchesMarshal(t, tc.env()) })
	}
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 13))
		for range 5000 {
			env := account.NewEnv()
			fillFields(t, reflect.ValueOf(env), "Env", func(_ string, v reflect.Value) { setRandom(rng, v) })
			switch rng.IntN(20) { // now and then a nil part, which encoding/json writes as null
			case 0:
				env.Features = nil
			case 1:
				env.Signals = nil
			case 2:
				env.Features.Session = nil
			}
			checkMatchesMarshal(t, env)
		}
	})
}

func TestAppendJSONCoversEveryField(t *testing.T) {
	// A field added to Env, Features, Entity or Signals but not to
	// AppendJSON would be lost from stored decisions: with every field set
	// to a value of its own, the JSON must decode back whole.
	env := account.NewEnv()
	n := 0
	fillFields(t, reflect.ValueOf(env), "Env", func(_ string, v reflect.Value) {
		n++
		switch v.Kind() {
		case reflect.String:
			v.SetString("v" + strconv.Itoa(n))
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(n))
		case reflect.Float64:
			v.SetFloat(float64(n) + 0.5)
		}
	})
	stored := env.AppendJSON(nil)
	back := account.NewEnv()
	if err := json.Unmarshal(stored, back); err != nil {
		t.Fatalf("stored form does not decode: %v\n%s", err, stored)
	}
	if !reflect.DeepEqual(back, env) {
		fillFields(t, reflect.ValueOf(env), "Env", func(path string, v reflect.Value) {
			if w := reflect.ValueOf(back); !v.Equal(lookup(w, path)) {
				t.Errorf("%s is not written by AppendJSON (or under another field's name)", path)
			}
		})
		t.Fatal("fields lost in AppendJSON")
	}
}

// lookup returns the field of root (a *Env) that path ("Env.A.B") names.
func lookup(root reflect.Value, path string) reflect.Value {
	v := root
	start := len("Env.")
	for i := start; i <= len(path); i++ {
		if i == len(path) || path[i] == '.' {
			v = reflect.Indirect(v).FieldByName(path[start:i])
			start = i + 1
		}
	}
	return v
}

// BenchmarkEnvJSON compares AppendJSON with encoding/json on a typical
// login environment, side by side in one run.
func BenchmarkEnvJSON(b *testing.B) {
	env := typicalEnv()
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := json.Marshal(env); err != nil {
				b.Fatal(err)
			}
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
