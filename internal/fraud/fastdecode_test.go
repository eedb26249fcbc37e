package fraud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// stdDecode decodes data the way the API does (internal/api decodeBytes):
// a json.Decoder with DisallowUnknownFields, then nothing but white space.
func stdDecode(data []byte) (Transaction, error) {
	var t Transaction
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Transaction{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Transaction{}, fmt.Errorf("data after the object (Token: %v)", err)
	}
	return t, nil
}

// checkDecodeFast enforces the contract of DecodeFast on data and reports
// whether it took the fast path.
func checkDecodeFast(t *testing.T, data []byte) bool {
	t.Helper()
	orig := bytes.Clone(data)
	fast := Transaction{ID: "stale", Items: []Item{{SKU: "stale"}}, exponent: 3} // must be overwritten
	ok := fast.DecodeFast(data)
	if !bytes.Equal(orig, data) {
		t.Fatalf("DecodeFast modified its input %q", orig)
	}
	if !ok {
		if !reflect.DeepEqual(fast, Transaction{}) {
			t.Fatalf("DecodeFast(%q) = false but left %+v", data, fast)
		}
		return false
	}
	std, err := stdDecode(data)
	if err != nil {
		t.Fatalf("DecodeFast(%q) = true but encoding/json fails: %v", data, err)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("DecodeFast(%q) differs from encoding/json:\nfast %s\nstd  %s", data, dump(fast), dump(std))
	}
	return true
}

// dump shows a transaction with its pointers followed.
func dump(t Transaction) string {
	s := fmt.Sprintf("%+v", t)
	if t.AmountMinor != nil {
		s += fmt.Sprintf(" amount=%d", *t.AmountMinor)
	}
	for name, p := range map[string]any{"user": t.User, "payment": t.Payment, "billing": t.BillingAddress, "shipping": t.ShippingAddress} {
		if !reflect.ValueOf(p).IsNil() {
			s += fmt.Sprintf(" %s=%+v", name, p)
		}
	}
	return s + fmt.Sprintf(" items(nil=%v)=%+v", t.Items == nil, t.Items)
}

// marshalPlain encodes v as a client would, but without HTML escaping, so
// that only quotes, backslashes, control characters and invalid UTF-8
// produce escapes.
func marshalPlain(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func readFull(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/full.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeFastAccepts(t *testing.T) {
	many := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"sku":"S-%d","name":"n%d","price_minor":%d,"quantity":%d}`, i, i, 100*i, i+1)
		}
		return `{"items":[` + strings.Join(parts, ",") + `]}`
	}
	tests := []struct {
		name, body string
	}{
		{"full.json", string(readFull(t))},
		{"empty object", `{}`},
		{"white space everywhere", " \t\r\n{ \n\"id\" :\t\"a\" ,\r\n \"items\" : [ { \"quantity\" : 1 } , { } ] } \n\t\r "},
		{"empty nested objects", `{"user":{},"payment":{},"billing_address":{},"shipping_address":{}}`},
		{"empty items is a non-nil empty slice", `{"items":[]}`},
		{"empty items with space", `{"items":[ ]}`},
		{"empty strings", `{"id":"","currency":"","user":{"email":""}}`},
		{"zero and negatives", `{"amount_minor":0,"items":[{"price_minor":-5,"quantity":-0}]}`},
		{"int64 extremes", `{"amount_minor":9223372036854775807,"items":[{"price_minor":-9223372036854775808,"quantity":1000000000000000000}]}`},
		{"every field", `{"id":"o1","created_at":"2026-03-01T12:00:00Z","amount_minor":4999,"currency":"EUR",` +
			`"user":{"id":"u","email":"a@b.c","created_at":"2025-01-01T00:00:00Z"},"ip":"2001:db8::1","device_id":"d",` +
			`"user_agent":"UA/1.0 (X; Y)","payment":{"method":"card","card_fingerprint":"fp","bin":"424242","last4":"4242","card_country":"DE"},` +
			`"billing_address":{"line1":"l1","line2":"l2","city":"c","region":"r","postal_code":"p","country":"DE"},` +
			`"shipping_address":{"line1":"L1","line2":"L2","city":"C","region":"R","postal_code":"P","country":"FR"},` +
			`"items":[{"sku":"s","name":"n","price_minor":1,"quantity":2}],"merchant_id":"m"}`},
		{"keys in another order", `{"merchant_id":"m","items":[{"quantity":2,"price_minor":1,"name":"n","sku":"s"}],"currency":"EUR","id":"x"}`},
		{"non-ASCII text", `{"id":"Zoë","user_agent":"東京 Ωμέγα 👕","billing_address":{"line1":"Hauptstraße 1","city":"Kraków"}}`},
		{"DEL and other printable bytes", "{\"id\":\"a\x7f~!#$%&'()*+,-./:;<=>?@[]^_`{|}\"}"},
		{"U+2028 and U+FFFD spelled directly", "{\"id\":\"\u2028\u2029\ufffd\"}"},
		{"four items fill the arena", many(4)},
		{"five items need their own slice", many(5)},
		{"seventeen items overflow the stack buffer", many(17)},
		{"a thousand items", many(1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !checkDecodeFast(t, []byte(tt.body)) {
				_, err := stdDecode([]byte(tt.body))
				t.Fatalf("DecodeFast(%q) = false, want true (encoding/json: %v)", tt.body, err)
			}
		})
	}
}

func TestDecodeFastRejects(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		// Outside the subset although encoding/json accepts them.
		{"escaped quote", `{"id":"a\"b"}`},
		{"unicode escape", `{"id":"\u00e9"}`},
		{"escaped key", `{"\u0069d":"a"}`},
		{"HTML-escaped ampersand (json.Marshal default)", `{"items":[{"name":"Salt \u0026 pepper"}]}`},
		{"null string", `{"id":null}`},
		{"null amount", `{"amount_minor":null}`},
		{"null user", `{"user":null}`},
		{"null in user", `{"user":{"email":null}}`},
		{"null items", `{"items":null}`},
		{"null item", `{"items":[null]}`},
		{"null price", `{"items":[{"price_minor":null}]}`},
		{"top-level null", `null`},
		{"upper-case key", `{"ID":"a"}`},
		{"mixed-case key", `{"Amount_Minor":1}`},
		{"case-changed nested key", `{"payment":{"Method":"card"}}`},
		{"case-changed item key", `{"items":[{"SKU":"a"}]}`},
		{"Kelvin sign folds to k in encoding/json", "{\"items\":[{\"s\u212au\":\"a\"}]}"},
		{"long s folds to s in encoding/json", "{\"items\":[{\"\u017fku\":\"a\"}]}"},
		{"duplicate top-level key", `{"id":"a","id":"b"}`},
		{"duplicate amount", `{"amount_minor":1,"amount_minor":2}`},
		{"duplicate object", `{"user":{"id":"a"},"user":{"email":"b"}}`},
		{"duplicate items", `{"items":[],"items":[{}]}`},
		{"duplicate user key", `{"user":{"id":"a","id":"b"}}`},
		{"duplicate payment key", `{"payment":{"bin":"1","bin":"2"}}`},
		{"duplicate address key", `{"shipping_address":{"city":"a","city":"b"}}`},
		{"duplicate item key", `{"items":[{"quantity":1,"quantity":2}]}`},
		{"fraction", `{"amount_minor":1.0}`},
		{"exponent", `{"amount_minor":1e3}`},
		{"upper-case exponent", `{"amount_minor":1E3}`},
		{"negative zero fraction", `{"amount_minor":-0.0}`},
		{"leading plus", `{"amount_minor":+1}`}, // also a syntax error
		// Errors for encoding/json too.
		{"leading zero", `{"amount_minor":01}`},
		{"leading zeros", `{"amount_minor":-007}`},
		{"lone minus", `{"amount_minor":-}`},
		{"overflow", `{"amount_minor":9223372036854775808}`},
		{"negative overflow", `{"amount_minor":-9223372036854775809}`},
		{"twenty digits", `{"amount_minor":10000000000000000000}`},
		{"many digits", `{"amount_minor":` + strings.Repeat("9", 400) + `}`},
		{"item overflow", `{"items":[{"quantity":99999999999999999999}]}`},
		{"string for number", `{"amount_minor":"1"}`},
		{"number for string", `{"id":1}`},
		{"bool", `{"id":true}`},
		{"array for object", `{"user":[]}`},
		{"object for array", `{"items":{}}`},
		{"string for object", `{"payment":"card"}`},
		{"string item", `{"items":["a"]}`},
		{"unknown key", `{"colour":"red"}`},
		{"forbidden key", `{"payment":{"card_number":"4242424242424242"}}`},
		{"unexported field name", `{"at":"x"}`},
		{"empty key", `{"":"x"}`},
		{"trailing garbage", `{"id":"a"} x`},
		{"two objects", `{}{}`},
		{"two objects with space", `{} {}`},
		{"trailing bracket", `{}]`},
		{"trailing NUL", "{}\x00"},
		{"byte order mark", "\xef\xbb\xbf{}"},
		{"non-JSON white space", "\v{}"},
		{"empty", ``},
		{"white space only", " \n\t"},
		{"array", `[]`},
		{"string", `"x"`},
		{"number", `1`},
		{"invalid UTF-8", "{\"id\":\"\xff\"}"},
		{"truncated UTF-8", "{\"id\":\"\xc3\"}"},
		{"UTF-8 surrogate", "{\"id\":\"\xed\xa0\x80\"}"},
		{"overlong UTF-8", "{\"id\":\"\xc0\xaf\"}"},
		{"invalid UTF-8 in key", "{\"\xff\":\"a\"}"},
		{"control character", "{\"id\":\"a\nb\"}"},
		{"tab in string", "{\"id\":\"a\tb\"}"},
		{"NUL in string", "{\"id\":\"\x00\"}"},
		{"unterminated string", `{"id":"abc`},
		{"unterminated object", `{"id":"abc"`},
		{"unterminated array", `{"items":[{}`},
		{"missing colon", `{"id" "a"}`},
		{"missing comma", `{"id":"a" "currency":"b"}`},
		{"trailing comma", `{"id":"a",}`},
		{"leading comma", `{,"id":"a"}`},
		{"trailing comma in array", `{"items":[{},]}`},
		{"missing element", `{"items":[,{}]}`},
		{"single quotes", `{'id':'a'}`},
		{"unquoted key", `{id:"a"}`},
		{"wrong closer", `{"items":[{}}}`},
		{"array closer for object", `{"id":"a"]`},
		{"comment", `{/* */}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if checkDecodeFast(t, []byte(tt.body)) {
				t.Fatalf("DecodeFast(%q) = true, want false", tt.body)
			}
		})
	}
}

// TestDecodeFastRejectsPrefixes feeds every proper prefix of realistic
// bodies: none is a JSON value, so DecodeFast must give up on each.
func TestDecodeFastRejectsPrefixes(t *testing.T) {
	bodies := [][]byte{readFull(t), realisticBody(rand.New(rand.NewPCG(1, 2)), 7)}
	for _, body := range bodies {
		body = bytes.TrimSpace(body)
		for n := range len(body) {
			if checkDecodeFast(t, body[:n]) {
				t.Fatalf("DecodeFast accepted the prefix %q", body[:n])
			}
		}
		if !checkDecodeFast(t, body) {
			t.Fatalf("DecodeFast rejected %q", body)
		}
	}
}

// TestDecodeFastCopiesInput checks that the decoded strings do not alias
// the caller's buffer, which the HTTP server may reuse.
func TestDecodeFastCopiesInput(t *testing.T) {
	data := []byte(`{"id":"ord_1","user":{"email":"a@example.com"},"items":[{"name":"Book"}]}`)
	var tx Transaction
	if !tx.DecodeFast(data) {
		t.Fatal("DecodeFast = false")
	}
	for i := range data {
		data[i] = 'X'
	}
	if tx.ID != "ord_1" || tx.User.Email != "a@example.com" || tx.Items[0].Name != "Book" {
		t.Errorf("decoded strings changed with the input: %+v %+v %+v", tx, tx.User, tx.Items)
	}
}

// TestDecodeFastThenValidate checks that the fast result goes through
// Validate exactly like the encoding/json one (same normalised values,
// same unexported fields).
func TestDecodeFastThenValidate(t *testing.T) {
	data := readFull(t)
	var fast Transaction
	if !fast.DecodeFast(data) {
		t.Fatal("DecodeFast = false")
	}
	std, err := stdDecode(data)
	if err != nil {
		t.Fatal(err)
	}
	errFast, errStd := fast.Validate(now), std.Validate(now)
	if fmt.Sprint(errFast) != fmt.Sprint(errStd) {
		t.Fatalf("Validate: fast %v, std %v", errFast, errStd)
	}
	if !reflect.DeepEqual(fast, std) {
		t.Fatalf("after Validate:\nfast %s\nstd  %s", dump(fast), dump(std))
	}
}

// Realistic traffic, shaped like bench/cmd/loadtx/gen.go (that module is
// separate, so the shape is repeated here) with more varied text: non-ASCII
// names, cities and products, IPv6 addresses, optional line2 and region.
var (
	rtCountries = []string{"DE", "FR", "US", "GB", "NL", "ES", "IT", "PL", "SE", "CH", "JP", "GR", "IS", "BR"}
	rtCurrency  = map[string]string{"DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "IT": "EUR", "GR": "EUR",
		"US": "USD", "GB": "GBP", "PL": "PLN", "SE": "SEK", "CH": "CHF", "JP": "JPY", "IS": "ISK", "BR": "BRL"}
	rtCities = []string{"Berlin", "München", "Köln", "Paris", "Besançon", "New York", "London", "Kraków", "Łódź",
		"Malmö", "Zürich", "東京", "大阪", "Αθήνα", "Reykjavík", "São Paulo", "Málaga", "Amsterdam"}
	rtStreets = []string{"Oak Street", "Hauptstraße", "Rue de l'Église", "ul. Świętokrzyska", "Calle Mayor",
		"Via dell'Indipendenza", "Åsgatan", "Οδός Ερμού", "銀座四丁目", "Main Street"}
	rtNames = []string{"T-shirt", "Sneakers", "Headphones", "Kaffeebohnen 1 kg – dunkel", "Crème brûlée set",
		"Phone case", "Backpack", "Smartwatch ⌚", "Book: Der Zauberberg", "Gift card 🎁", "Desk lamp",
		"Laptop 14 inch", "Socks 3-pack", "Ручка", "抹茶 100g", "Ελαιόλαδο"}
	rtUserAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"ShopApp/4.2 (Android 13; SM-S911B)",
		"ShopApp/4.2 (iOS 17.5; iPhone15,2) Ärger-frei",
	}
	rtMethods = []string{"card", "card", "card", "card", "paypal", "wallet", "bnpl", "gift_card", "bank_transfer"}
	rtDomains = []string{"gmail.com", "outlook.com", "gmx.de", "web.de", "proton.me", "mailinator.com", "example-corp.com"}
	rtBins    = []string{"453201", "492980", "411773", "516732", "542418", "601100", "47612345"}
)

func rtPick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

func rtIP(r *rand.Rand) string {
	switch u := r.Float64(); {
	case u < 0.15:
		return fmt.Sprintf("2a02:%x:%x:%x::%x", 0x1000+r.IntN(0xe000), r.IntN(0x10000), r.IntN(0x10000), 1+r.IntN(0xfffe))
	case u < 0.2:
		return fmt.Sprintf("2001:db8:%x:%x:%x:%x:%x:%x", r.IntN(0x10000), r.IntN(0x10000), r.IntN(0x10000),
			r.IntN(0x10000), r.IntN(0x10000), r.IntN(0x10000))
	case u < 0.22:
		return fmt.Sprintf("::ffff:%d.%d.%d.%d", 2+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	return fmt.Sprintf("%d.%d.%d.%d", 2+r.IntN(222), r.IntN(256), r.IntN(256), 1+r.IntN(254))
}

func rtAddress(r *rand.Rand, country string) *Address {
	a := &Address{Line1: fmt.Sprintf("%d %s", 1+r.IntN(250), rtPick(r, rtStreets)), City: rtPick(r, rtCities),
		PostalCode: fmt.Sprintf("%05d", r.IntN(100000)), Country: country}
	if r.Float64() < 0.2 {
		a.Line2 = fmt.Sprintf("Apt %d", 1+r.IntN(40))
	}
	if r.Float64() < 0.2 {
		a.Region = rtPick(r, []string{"Bayern", "Île-de-France", "California", "Małopolska", "Ticino"})
	}
	return a
}

// realisticBody returns the JSON body of transaction seq, encoded with
// json.Marshal as the load generator and the Go client do.
func realisticBody(r *rand.Rand, seq int) []byte {
	country := rtPick(r, rtCountries)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
	amount := int64(50 + r.IntN(200000))
	tx := Transaction{ID: fmt.Sprintf("run%04x-%d", r.IntN(0x10000), seq), CreatedAt: at.Format(time.RFC3339Nano),
		AmountMinor: &amount, Currency: rtCurrency[country], IP: rtIP(r),
		DeviceID: fmt.Sprintf("dev_%016x", r.Uint64()), UserAgent: rtPick(r, rtUserAgents)}
	switch u := r.Float64(); {
	case u < 0.85: // a customer
		tx.User = &User{ID: fmt.Sprintf("cus_%07d", r.IntN(1_000_000)), Email: fmt.Sprintf("shopper%07d@%s", r.IntN(1_000_000), rtPick(r, rtDomains)),
			CreatedAt: at.Add(-time.Duration(r.IntN(1000)) * time.Hour).Format(time.RFC3339)}
	case u < 0.92: // a guest with an e-mail address
		tx.User = &User{Email: fmt.Sprintf("guest%016x@%s", r.Uint64(), rtPick(r, rtDomains))}
	}
	bill := rtAddress(r, country)
	ship := bill
	if r.Float64() < 0.1 {
		ship = rtAddress(r, rtPick(r, rtCountries))
	}
	if r.Float64() < 0.95 {
		tx.BillingAddress, tx.ShippingAddress = bill, ship
	}
	tx.Payment = &Payment{Method: rtPick(r, rtMethods)}
	if tx.Payment.Method == "card" {
		tx.Payment.CardFingerprint = fmt.Sprintf("fp_%016x", r.Uint64())
		tx.Payment.BIN, tx.Payment.Last4, tx.Payment.CardCountry = rtPick(r, rtBins), fmt.Sprintf("%04d", r.IntN(10000)), country
	}
	n := 1 + r.IntN(5)
	if r.Float64() < 0.02 {
		n = 6 + r.IntN(40) // a bulk order
	}
	for range n {
		tx.Items = append(tx.Items, Item{SKU: fmt.Sprintf("SKU-%05d", r.IntN(20000)), Name: rtPick(r, rtNames),
			PriceMinor: 1 + r.Int64N(amount), Quantity: 1 + r.Int64N(3)})
	}
	if r.Float64() < 0.3 {
		tx.MerchantID = fmt.Sprintf("mer_%03d", r.IntN(200))
	}
	b, err := json.Marshal(tx)
	if err != nil {
		panic(err)
	}
	return b
}

// TestDecodeFastTakesRealTraffic checks that bodies shaped like real
// traffic (bench/cmd/loadtx) take the fast path, and match encoding/json.
func TestDecodeFastTakesRealTraffic(t *testing.T) {
	r := rand.New(rand.NewPCG(20260301, 7))
	var nonASCII, ipv6 int
	for seq := range 3000 {
		body := realisticBody(r, seq)
		if bytes.IndexByte(body, '\\') >= 0 {
			t.Fatalf("generator produced an escape, which real traffic does not have: %s", body)
		}
		if !checkDecodeFast(t, body) {
			_, err := stdDecode(body)
			t.Fatalf("DecodeFast = false for a realistic body (encoding/json: %v):\n%s", err, body)
		}
		if bytes.ContainsFunc(body, func(r rune) bool { return r >= 0x80 }) {
			nonASCII++
		}
		if bytes.Contains(body, []byte(`::`)) || bytes.Contains(body, []byte(`"2001:db8:`)) {
			ipv6++
		}
		// The same body pretty-printed takes the fast path too.
		var indented bytes.Buffer
		if err := json.Indent(&indented, body, "", "  "); err != nil {
			t.Fatal(err)
		}
		if !checkDecodeFast(t, indented.Bytes()) {
			t.Fatalf("DecodeFast = false for an indented realistic body:\n%s", indented.Bytes())
		}
	}
	if nonASCII < 1000 || ipv6 < 300 {
		t.Fatalf("generator too tame: %d bodies with non-ASCII text, %d with IPv6", nonASCII, ipv6)
	}
}

// fastSeeds are the fuzz seeds: valid bodies and mutations of them at the
// edges of the subset.
func fastSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{readFull(t)}
	r := rand.New(rand.NewPCG(3, 4))
	for seq := range 8 {
		seeds = append(seeds, realisticBody(r, seq))
	}
	for _, s := range []string{
		`{}`, ` {} `, `{"items":[]}`, `{"items":[{}]}`, `{"user":{},"payment":{},"billing_address":{},"shipping_address":{}}`,
		`{"id":"a\"b"}`, `{"id":"\u00e9"}`, `{"id":"\/"}`, `{"\u0069d":"a"}`,
		`{"id":null}`, `{"amount_minor":null}`, `{"user":null}`, `{"items":[null]}`, `{"items":null}`, `null`,
		`{"ID":"a"}`, `{"Currency":"EUR"}`, `{"payment":{"METHOD":"card"}}`, `{"items":[{"Quantity":1}]}`,
		"{\"items\":[{\"s\u212au\":\"a\"}]}", "{\"\u017fku\":\"a\"}",
		`{"id":"a","id":"b"}`, `{"user":{"id":"a"},"user":{}}`, `{"user":{"id":"a","id":"b"}}`,
		`{"items":[{"quantity":1,"quantity":2}]}`, `{"billing_address":{"city":"a","city":"b"}}`,
		`{"amount_minor":9223372036854775807}`, `{"amount_minor":9223372036854775808}`,
		`{"amount_minor":-9223372036854775808}`, `{"amount_minor":-9223372036854775809}`,
		`{"amount_minor":18446744073709551616}`, `{"amount_minor":1e2}`, `{"amount_minor":1.5}`,
		`{"amount_minor":-0}`, `{"amount_minor":01}`, `{"amount_minor":-}`, `{"amount_minor":"1"}`,
		`{"id":"a"} x`, `{}{}`, `{} {}`, `{}]`, "{}\x00", `[]`, `"x"`, ``,
		"{\"id\":\"\xff\"}", "{\"id\":\"a\nb\"}", "{\"id\":\"\xed\xa0\x80\"}", "{\"id\":\"Zoë 東京 👕\"}",
		`{"colour":"red"}`, `{"payment":{"card_number":"4242"}}`, `{"id":"a",}`, `{"items":[{},]}`,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzDecodeFast enforces the contract of DecodeFast: when it accepts an
// input, encoding/json (as the API runs it) accepts it too with the same
// result; when it rejects one, it leaves the zero Transaction; it never
// panics. It also checks that the fast path is not too narrow: whatever
// encoding/json accepts, re-encoded without escapes or nulls, is accepted.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range fastSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeFast(t, data)
		std, err := stdDecode(data)
		if err != nil {
			return
		}
		canon := marshalPlain(std)
		if bytes.IndexByte(canon, '\\') >= 0 || bytes.Contains(canon, []byte("null")) {
			return
		}
		if !checkDecodeFast(t, canon) {
			t.Fatalf("DecodeFast rejects %q, the plain encoding of %q", canon, data)
		}
	})
}

func TestFastSeedsCoverBothPaths(t *testing.T) {
	var fast, slow int
	for _, s := range fastSeeds(t) {
		if checkDecodeFast(t, s) {
			fast++
		} else {
			slow++
		}
	}
	if fast < 10 || slow < 40 {
		t.Errorf("seeds: %d take the fast path, %d the slow one", fast, slow)
	}
}

// benchBody is a realistic body: a customer's card payment of 3 items.
func benchBody(b *testing.B) []byte {
	r := rand.New(rand.NewPCG(11, 12))
	for seq := 0; ; seq++ {
		body := realisticBody(r, seq)
		var tx Transaction
		if tx.DecodeFast(body) && tx.User != nil && tx.User.ID != "" && tx.Payment.Method == "card" &&
			tx.BillingAddress != nil && len(tx.Items) == 3 {
			return body
		}
	}
}

func BenchmarkDecodeFast(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var tx Transaction
		if !tx.DecodeFast(body) {
			b.Fatal("DecodeFast = false")
		}
	}
}

func BenchmarkDecodeStdlib(b *testing.B) {
	body := benchBody(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdDecode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStdDecodeMatchesAPI guards the reference the tests compare against:
// it must fail on trailing data as the API does.
func TestStdDecodeMatchesAPI(t *testing.T) {
	if _, err := stdDecode([]byte(`{} {}`)); err == nil {
		t.Error("stdDecode accepted trailing data")
	}
	if _, err := stdDecode([]byte(`{"colour":1}`)); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("stdDecode unknown field: %v", err)
	}
	var syn *json.SyntaxError
	if _, err := stdDecode([]byte(`{"id":"a",}`)); !errors.As(err, &syn) {
		t.Errorf("stdDecode trailing comma: %v", err)
	}
}
