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

func (d *fastDecoder) transaction(t *Transaction) bool {
	empty, ok := d.open()
	if !ok {
		return false
	}
	var mask, bit uint32 // keys seen so far, and the one just read
	for more := !empty; more; {
		k, ok := d.key()
		if !ok {
			return false
		}
		switch k {
		case "id":
			bit = 1 << 0
			t.ID, ok = d.str()
		case "created_at":
			bit = 1 << 1
			t.CreatedAt, ok = d.str()
		case "amount_minor":
			bit = 1 << 2
			var v int64
			if v, ok = d.int(); ok {
				a := d.alloc()
				a.amount = v
				t.AmountMinor = &a.amount
			}
		case "currency":
			bit = 1 << 3
			t.Currency, ok = d.str()
		case "user":
			bit = 1 << 4
			a := d.alloc()
			ok = d.user(&a.user)
			t.User = &a.user
		case "ip":
			bit = 1 << 5
			t.IP, ok = d.str()
		case "device_id":
			bit = 1 << 6
			t.DeviceID, ok = d.str()
		case "user_agent":
			bit = 1 << 7
			t.UserAgent, ok = d.str()
		case "payment":
			bit = 1 << 8
			a := d.alloc()
			ok = d.payment(&a.payment)
			t.Payment = &a.payment
		case "billing_address":
			bit = 1 << 9
			a := d.alloc()
			ok = d.address(&a.billing)
			t.BillingAddress = &a.billing
		case "shipping_address":
			bit = 1 << 10
			a := d.alloc()
			ok = d.address(&a.shipping)
			t.ShippingAddress = &a.shipping
		case "items":
			bit = 1 << 11
			t.Items, ok = d.items()
		case "merchant_id":
			bit = 1 << 12
			t.MerchantID, ok = d.str()
		default:
			return false
		}
		if !ok || mask&bit != 0 {
			return false
		}
		mask |= bit
		if more, ok = d.next('}'); !ok {
			return false
		}
	}
	d.ws()
	return d.i == len(d.s)
}

func (d *fastDecoder) user(u *User) bool {
	empty, ok := d.open()
	if !ok {
		return false
	}
	var mask, bit uint32
	for more := !empty; more; {
		k, ok := d.key()
		if !ok {
			return false
		}
		switch k {
		case "id":
			bit = 1 << 0
			u.ID, ok = d.str()
		case "email":
			bit = 1 << 1
			u.Email, ok = d.str()
		case "created_at":
			bit = 1 << 2
			u.CreatedAt, ok = d.str()
		default:
			return false
		}
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

func (d *fastDecoder) payment(p *Payment) bool {
	empty, ok := d.open()
	if !ok {
		return false
	}
	var mask, bit uint32
	for more := !empty; more; {
		k, ok := d.key()
		if !ok {
			return false
		}
		switch k {
		case "method":
			bit = 1 << 0
			p.Method, ok = d.str()
		case "card_fingerprint":
			bit = 1 << 1
			p.CardFingerprint, ok = d.str()
		case "bin":
			bit = 1 << 2
			p.BIN, ok = d.str()
		case "last4":
			bit = 1 << 3
			p.Last4, ok = d.str()
		case "card_country":
			bit = 1 << 4
			p.CardCountry, ok = d.str()
		default:
			return false
		}
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

func (d *fastDecoder) address(a *Address) bool {
	empty, ok := d.open()
	if !ok {
		return false
	}
	var mask, bit uint32
	for more := !empty; more; {
		k, ok := d.key()
		if !ok {
			return false
		}
		switch k {
		case "line1":
			bit = 1 << 0
			a.Line1, ok = d.str()
		case "line2":
			bit = 1 << 1
			a.Line2, ok = d.str()
		case "city":
			bit = 1 << 2
			a.City, ok = d.str()
		case "region":
			bit = 1 << 3
			a.Region, ok = d.str()
		case "postal_code":
			bit = 1 << 4
			a.PostalCode, ok = d.str()
		case "country":
			bit = 1 << 5
			a.Country, ok = d.str()
		default:
			return false
		}
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

func (d *fastDecoder) item(it *Item) bool {
	empty, ok := d.open()
	if !ok {
		return false
	}
	var mask, bit uint32
	for more := !empty; more; {
		k, ok := d.key()
		if !ok {
			return false
		}
		switch k {
		case "sku":
			bit = 1 << 0
			it.SKU, ok = d.str()
		case "name":
			bit = 1 << 1
			it.Name, ok = d.str()
		case "price_minor":
			bit = 1 << 2
			it.PriceMinor, ok = d.int()
		case "quantity":
			bit = 1 << 3
			it.Quantity, ok = d.int()
		default:
			return false
		}
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
