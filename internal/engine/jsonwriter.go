package engine

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// JSONWriter appends one JSON object to B field by field, writing exactly
// the bytes encoding/json's Marshal writes for the same values (string
// escaping with HTML characters escaped, ES6 number formatting), without
// reflection. Environments use it to implement JSONAppender.
//
// The zero value writes at the end of a nil B; set B to append to an
// existing buffer. A caller writes an object with Open, its fields in order
// and Close, and a nested object with Object, its fields and Close. Keys are
// written as given, unescaped: they must be plain JSON names (no quote,
// backslash, control or HTML character), as struct json tags are. A value
// the writer has no method for can be appended to B directly after Key.
type JSONWriter struct {
	// B is the output so far.
	B []byte
	// first is true while the open object has no field yet.
	first bool
}

// Open starts an object (appends '{').
func (w *JSONWriter) Open() { w.B = append(w.B, '{'); w.first = true }

// Close ends the innermost open object (appends '}').
func (w *JSONWriter) Close() { w.B = append(w.B, '}'); w.first = false }

// Key starts a field named k of the open object: the separating comma
// unless it is the first field, then "k":. The field's value must follow.
func (w *JSONWriter) Key(k string) {
	b := w.B
	if !w.first {
		b = append(b, ',')
	}
	w.first = false
	b = append(b, '"')
	b = append(b, k...)
	w.B = append(b, '"', ':')
}

// Object starts a field k whose value is an object; Close ends it.
func (w *JSONWriter) Object(k string) {
	w.Key(k)
	w.Open()
}

// Null writes the field k with the value null (what encoding/json writes
// for a nil pointer without omitempty).
func (w *JSONWriter) Null(k string) {
	w.Key(k)
	w.B = append(w.B, "null"...)
}

// Str writes the string field k, escaped as encoding/json does; with
// omitEmpty it writes nothing for "" (the json tag option omitempty).
func (w *JSONWriter) Str(k, v string, omitEmpty bool) {
	if omitEmpty && v == "" {
		return
	}
	w.Key(k)
	w.B = AppendJSONString(w.B, v)
}

// Int writes the integer field k; with omitEmpty it writes nothing for 0.
func (w *JSONWriter) Int(k string, v int64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	w.Key(k)
	if 0 <= v && v < 10 { // most counts: one digit without a call
		w.B = append(w.B, byte('0'+v))
		return
	}
	w.B = strconv.AppendInt(w.B, v, 10)
}

// Bool writes the boolean field k; with omitEmpty it writes nothing for
// false.
func (w *JSONWriter) Bool(k string, v, omitEmpty bool) {
	if omitEmpty && !v {
		return
	}
	w.Key(k)
	w.B = strconv.AppendBool(w.B, v)
}

// Float writes the number field k formatted as AppendJSONFloat does; with
// omitEmpty it writes nothing for 0 (and -0, as encoding/json).
func (w *JSONWriter) Float(k string, v float64, omitEmpty bool) {
	if omitEmpty && v == 0 {
		return
	}
	w.Key(k)
	w.B = AppendJSONFloat(w.B, v)
}

// AppendJSONFloat appends v formatted exactly as encoding/json formats a
// float64 (the shortest decimal that reads back as v, in exponent form
// below 1e-6 and from 1e21 on in magnitude). A non-finite value, which
// encoding/json refuses to encode, is written as 0.
func AppendJSONFloat(b []byte, v float64) []byte {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return append(b, '0')
	}
	if v == 0 {
		if math.Signbit(v) {
			return append(b, '-', '0')
		}
		return append(b, '0')
	}
	// Fast path: environments' quantities are mostly integers or rounded
	// to at most four decimals, and for such a value (below 1e11, so four
	// decimals are far apart compared with the float spacing) the shortest
	// decimal that reads back as v is its fixed-point form with trailing
	// zeros trimmed, which integer formatting writes far faster than the
	// general shortest-float search.
	if k := math.Round(v * 1e4); k/1e4 == v && math.Abs(k) < 1e15 && math.Abs(v) >= 1e-6 {
		n := int64(k)
		if n < 0 {
			b = append(b, '-')
			n = -n
		}
		b = strconv.AppendInt(b, n/10000, 10)
		if frac := n % 10000; frac != 0 {
			var d [5]byte
			d[0] = '.'
			for i := 4; i >= 1; i-- {
				d[i] = byte('0' + frac%10)
				frac /= 10
			}
			end := 5
			for d[end-1] == '0' {
				end--
			}
			b = append(b, d[:end]...)
		}
		return b
	}
	format := byte('f')
	if abs := math.Abs(v); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// Like encoding/json: e-07 becomes e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// jsonSafe tells which ASCII bytes AppendJSONString copies unescaped: all
// but control characters, quote, backslash and the HTML characters <, >
// and &. Read-only.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := range safe {
		safe[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()

// AppendJSONString appends s as a JSON string escaped exactly as
// encoding/json escapes it by default: quote and backslash; \b, \f, \n, \r
// and \t by their short escapes; other control characters, <, > and & as
// \u00XX; U+2028 and U+2029 as \u2028 and \u2029; each byte of invalid
// UTF-8 as \ufffd.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
