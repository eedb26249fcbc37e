package fraud

import "unicode/utf8"

// This file holds a hand-written decoder for the common shape of a
// POST /v1/transactions body. It reads a strict subset of JSON and gives up
// (returns false) on anything outside it, so that the caller decodes with
// encoding/json and every error message stays exactly as encoding/json and
// the API make it. Inside the subset its result is identical (reflect.DeepEqual)
// to json.Decoder with DisallowUnknownFields; FuzzDecodeFast enforces that.

// DecodeFast decodes data, a JSON object, into t when it is in the subset the
// fast path reads, and reports whether it did. The subset is: one object
// with optional JSON white space around it; keys spelled exactly as the json
// tags of Transaction, User, Payment, Address and Item (no other keys, no key
// twice in one object); strings without backslash escapes, without control
// characters and in valid UTF-8; amount_minor, price_minor and quantity as
// JSON integers that fit an int64 (no fraction or exponent); objects for
// user, payment, billing_address and shipping_address; an array of objects
// for items; no null anywhere.
//
// On true, t holds exactly what json.NewDecoder(bytes.NewReader(data)) with
// DisallowUnknownFields would decode into a zero Transaction, and nothing but
// white space follows the object. DecodeFast overwrites all of t (unlike
// encoding/json, which merges into what t already holds), so unexported
// fields are zero until Validate fills them. On false, t is left as the zero
// Transaction and the caller should decode data with encoding/json, which
// either succeeds or produces the exact error; false never means data is
// invalid. DecodeFast never panics.
//
// The strings in t share one copy of data: the whole body stays in memory
// for as long as any of those strings (or t) is reachable. Transactions are
// short-lived, so that is cheaper than one allocation per string; callers
// that keep a single field for long should strings.Clone it. The pointers in
// t (AmountMinor, User, Payment, the addresses and, for up to
// fastArenaItems items, the Items array) likewise share one allocation.
func (t *Transaction) DecodeFast(data []byte) bool {
	*t = Transaction{}
	if len(data) == 0 {
		return false
	}
	d := fastDecoder{s: string(data)} // the one copy every string in t slices
	if !d.transaction(t) {
		*t = Transaction{}
		return false
	}
	return true
}

// fastArenaItems is how many items fit in the arena without a second allocation.
const fastArenaItems = 4

// fastArena holds every value a decoded Transaction points to, so that one
// allocation serves them all.
type fastArena struct {
	amount   int64
	user     User
	payment  Payment
	billing  Address
	shipping Address
	items    [fastArenaItems]Item
}

// fastDecoder reads s from offset i.
type fastDecoder struct {
	s     string
	i     int
	arena *fastArena // allocated on first use
}

// plainString marks the bytes a string may hold without a closer look:
// printable ASCII other than '"' and '\\'.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (d *fastDecoder) alloc() *fastArena {
	if d.arena == nil {
		d.arena = new(fastArena)
	}
	return d.arena
}

// ws skips JSON white space.
func (d *fastDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume consumes c, after white space, and reports whether it was there.
func (d *fastDecoder) consume(c byte) bool {
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str reads a string at d.i (after white space) without its quotes. It
// fails on escapes, control characters and invalid UTF-8.
func (d *fastDecoder) str() (string, bool) {
	d.ws()
	s, i := d.s, d.i
	if i >= len(s) || s[i] != '"' {
		return "", false
	}
	i++
	start := i
	high := false
	for {
		for i < len(s) && plainString[s[i]] {
			i++
		}
		if i >= len(s) {
			return "", false
		}
		c := s[i]
		if c == '"' {
			break
		}
		if c < 0x80 { // backslash or control character
			return "", false
		}
		high = true
		i++
	}
	v := s[start:i]
	if high && !utf8.ValidString(v) {
		return "", false
	}
	d.i = i + 1
	return v, true
}

// key reads an object key and the colon after it.
func (d *fastDecoder) key() (string, bool) {
	k, ok := d.str()
	if !ok || !d.consume(':') {
		return "", false
	}
	return k, true
}

// int reads a JSON integer that fits an int64: an optional minus, then "0"
// or digits without a leading zero, not followed by a fraction or exponent.
func (d *fastDecoder) int() (int64, bool) {
	d.ws()
	s, i := d.s, d.i
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	start := i
	var n uint64
	for i < len(s) && s[i]-'0' <= 9 && i-start < 20 {
		n = n*10 + uint64(s[i]-'0')
		i++
	}
	digits := i - start
	switch {
	case digits == 0 || digits > 19: // 19 digits cannot overflow a uint64
		return 0, false
	case digits > 1 && s[start] == '0':
		return 0, false
	case i < len(s) && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'):
		return 0, false
	case neg && n > 1<<63, !neg && n > 1<<63-1:
		return 0, false
	}
	d.i = i
	if neg {
		return int64(-n), true
	}
	return int64(n), true
}

// open consumes the '{' of an object and reports whether the object is
// empty (then its '}' is consumed too).
func (d *fastDecoder) open() (empty, ok bool) {
	if !d.consume('{') {
		return false, false
	}
	if d.consume('}') {
		return true, true
	}
	return false, true
}

// next consumes what follows a member of an object or an element of an
// array: ',' (more is true) or closer.
func (d *fastDecoder) next(closer byte) (more, ok bool) {
	d.ws()
	if d.i < len(d.s) {
		switch d.s[d.i] {
		case ',':
			d.i++
			return true, true
		case closer:
			d.i++
			return false, true
		}
	}
	return false, false
}

// object reads an object, each member through member, which decodes the
// value of key and returns the key's bit, or false for a key it does not
// know or a value it cannot read. A key seen twice fails the object.
func (d *fastDecoder) object(member func(key string) (bit uint32, ok bool)) bool {
	empty, ok := d.open()
	if !ok {
		return false
	}
	var mask uint32 // the keys seen so far
	for more := !empty; more; {
		k, ok := d.key()
		if !ok {
			return false
		}
		bit, ok := member(k)
		if !ok || mask&bit != 0 {
			return false
		}
		mask |= bit
		if more, ok = d.next('}'); !ok {
			return false
		}
	}
	return true
}

// text reads a string member into dst and returns its bit.
func (d *fastDecoder) text(dst *string, bit uint32) (uint32, bool) {
	var ok bool
	*dst, ok = d.str()
	return bit, ok
}

// integer reads an integer member into dst and returns its bit.
func (d *fastDecoder) integer(dst *int64, bit uint32) (uint32, bool) {
	var ok bool
	*dst, ok = d.int()
	return bit, ok
}

func (d *fastDecoder) transaction(t *Transaction) bool {
	ok := d.object(func(k string) (uint32, bool) {
		switch k {
		case "id":
			return d.text(&t.ID, 1<<0)
		case "created_at":
			return d.text(&t.CreatedAt, 1<<1)
		case "amount_minor":
			a := d.alloc()
			t.AmountMinor = &a.amount
			return d.integer(&a.amount, 1<<2)
		case "currency":
			return d.text(&t.Currency, 1<<3)
		case "user":
			a := d.alloc()
			t.User = &a.user
			return 1 << 4, d.user(&a.user)
		case "ip":
			return d.text(&t.IP, 1<<5)
		case "device_id":
			return d.text(&t.DeviceID, 1<<6)
		case "user_agent":
			return d.text(&t.UserAgent, 1<<7)
		case "payment":
			a := d.alloc()
			t.Payment = &a.payment
			return 1 << 8, d.payment(&a.payment)
		case "billing_address":
			a := d.alloc()
			t.BillingAddress = &a.billing
			return 1 << 9, d.address(&a.billing)
		case "shipping_address":
			a := d.alloc()
			t.ShippingAddress = &a.shipping
			return 1 << 10, d.address(&a.shipping)
		case "items":
			var ok bool
			t.Items, ok = d.items()
			return 1 << 11, ok
		case "merchant_id":
			return d.text(&t.MerchantID, 1<<12)
		}
		return 0, false
	})
	d.ws()
	return ok && d.i == len(d.s)
}

func (d *fastDecoder) user(u *User) bool {
	return d.object(func(k string) (uint32, bool) {
		switch k {
		case "id":
			return d.text(&u.ID, 1<<0)
		case "email":
			return d.text(&u.Email, 1<<1)
		case "created_at":
			return d.text(&u.CreatedAt, 1<<2)
		}
		return 0, false
	})
}

func (d *fastDecoder) payment(p *Payment) bool {
	return d.object(func(k string) (uint32, bool) {
		switch k {
		case "method":
			return d.text(&p.Method, 1<<0)
		case "card_fingerprint":
			return d.text(&p.CardFingerprint, 1<<1)
		case "bin":
			return d.text(&p.BIN, 1<<2)
		case "last4":
			return d.text(&p.Last4, 1<<3)
		case "card_country":
			return d.text(&p.CardCountry, 1<<4)
		}
		return 0, false
	})
}

func (d *fastDecoder) address(a *Address) bool {
	return d.object(func(k string) (uint32, bool) {
		switch k {
		case "line1":
			return d.text(&a.Line1, 1<<0)
		case "line2":
			return d.text(&a.Line2, 1<<1)
		case "city":
			return d.text(&a.City, 1<<2)
		case "region":
			return d.text(&a.Region, 1<<3)
		case "postal_code":
			return d.text(&a.PostalCode, 1<<4)
		case "country":
			return d.text(&a.Country, 1<<5)
		}
		return 0, false
	})
}

func (d *fastDecoder) item(it *Item) bool {
	return d.object(func(k string) (uint32, bool) {
		switch k {
		case "sku":
			return d.text(&it.SKU, 1<<0)
		case "name":
			return d.text(&it.Name, 1<<1)
		case "price_minor":
			return d.integer(&it.PriceMinor, 1<<2)
		case "quantity":
			return d.integer(&it.Quantity, 1<<3)
		}
		return 0, false
	})
}

// items reads the items array. Like encoding/json it returns a non-nil
// empty slice for []. Up to fastArenaItems items live in the arena; more
// are parsed into a buffer on the stack and copied to one exactly sized
// slice.
func (d *fastDecoder) items() ([]Item, bool) {
	if !d.consume('[') {
		return nil, false
	}
	if d.consume(']') {
		return []Item{}, true
	}
	var buf [16]Item
	list := buf[:0]
	for more := true; more; {
		list = append(list, Item{})
		if !d.item(&list[len(list)-1]) {
			return nil, false
		}
		var ok bool
		if more, ok = d.next(']'); !ok {
			return nil, false
		}
	}
	var out []Item
	if len(list) <= fastArenaItems {
		out = d.alloc().items[:len(list):len(list)]
	} else {
		out = make([]Item, len(list))
	}
	copy(out, list)
	return out, true
}
