package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// forbiddenFields are names that suggest secrets shopguard must never receive.
var forbiddenFields = map[string]string{
	"card_number": "card numbers", "pan": "card numbers", "number": "card numbers",
	"cvv": "card security codes", "cvc": "card security codes", "cvv2": "card security codes",
	"password": "passwords", "pin": "PINs",
}

// decodeJSON reads the request body (at most limit bytes) into v, which
// must be a pointer to a struct. It rejects wrong content types, bodies
// over the limit, malformed JSON, values of the wrong type, unknown fields
// (naming the field's full path) and trailing data, each as a 4xx
// *statusError naming the field where there is one.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := readJSONBody(w, r, limit)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// fastDecoder is a request type with a decoder for its usual, well-formed
// bodies; for any other body it reports false and leaves itself empty.
type fastDecoder interface {
	DecodeFast(body []byte) bool
}

// decodeJSONFast is decodeJSON for a type with its own fast decoder: the
// body goes through encoding/json only when the fast decoder declines it,
// so every error is the same as decodeJSON's.
func decodeJSONFast(w http.ResponseWriter, r *http.Request, limit int64, v fastDecoder) error {
	body, err := readJSONBody(w, r, limit)
	if err != nil {
		return err
	}
	if v.DecodeFast(body) {
		return nil
	}
	return decodeBytes(body, v)
}

// readJSONBody checks the content type and reads the body, at most limit
// bytes, in one allocation when the client sent its length.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, newStatusError(http.StatusUnsupportedMediaType, "unsupported_media_type", "",
				fmt.Sprintf("content type %q is not JSON: send Content-Type: application/json", ct))
		}
	}
	tooLarge := func() error {
		return newStatusError(http.StatusRequestEntityTooLarge, "body_too_large", "",
			fmt.Sprintf("request body is larger than %d bytes", limit))
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	var body []byte
	var err error
	if n := r.ContentLength; n >= 0 {
		// net/http stops the body at Content-Length, so one read of that
		// many bytes and a check for EOF read all of it.
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
		if errors.Is(err, io.EOF) && n > 0 {
			err = io.ErrUnexpectedEOF
		}
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge()
	}
	if err != nil {
		return nil, newStatusError(http.StatusBadRequest, "invalid_body", "", "could not read the request body: "+err.Error())
	}
	return body, nil
}

// decodeBytes is decodeJSON after the body has been read.
func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return newStatusError(http.StatusBadRequest, "invalid_json", "", "request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return newStatusError(http.StatusBadRequest, "invalid_json", "", "unexpected data after the JSON object")
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return newStatusError(http.StatusBadRequest, "invalid_json", "",
			fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return newStatusError(http.StatusBadRequest, "invalid_json", "", "malformed JSON: the body ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		if p := typePath(body, typ.Offset); p != "" {
			field = p
		}
		if field == "" {
			return newStatusError(http.StatusBadRequest, "invalid_json", "", "the body must be a JSON object")
		}
		return newStatusError(http.StatusBadRequest, "invalid_field", field,
			fmt.Sprintf("%s must be %s, not a JSON %s", field, jsonKind(typ.Type), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		path := unknownPath(body, reflect.TypeOf(v))
		if path == "" {
			path = name
		}
		leaf := path[strings.LastIndexAny(path, ".]")+1:]
		if what, bad := forbiddenFields[strings.ToLower(leaf)]; bad {
			return newStatusError(http.StatusBadRequest, "unknown_field", path,
				fmt.Sprintf("unknown field %s: shopguard never accepts %s; send the processor's token or fingerprint", path, what))
		}
		return newStatusError(http.StatusBadRequest, "unknown_field", path, fmt.Sprintf("unknown field %s", path))
	}
	return newStatusError(http.StatusBadRequest, "invalid_json", "", "malformed JSON: "+err.Error())
}

// jsonKind names what a Go type looks like in JSON.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a different type"
}

// fieldsOf maps the JSON names of struct type t to their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]reflect.Type{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			for k, v := range fieldsOf(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// unknownPath finds the full path ("items[2].colour") of the first field in
// body that struct type t does not have. It is used only after decoding
// failed, so its cost is off the hot path.
func unknownPath(body []byte, t reflect.Type) string {
	var doc any
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	return walkUnknown(doc, t, "")
}

func walkUnknown(doc any, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch d := doc.(type) {
	case map[string]any:
		if t.Kind() == reflect.Map {
			for _, k := range sortedKeys(d) {
				if p := walkUnknown(d[k], t.Elem(), path+"."+k); p != "" {
					return p
				}
			}
			return ""
		}
		fields := fieldsOf(t)
		for _, k := range sortedKeys(d) {
			ft, ok := fields[k]
			if !ok {
				// encoding/json matches names case-insensitively as a fallback.
				for name, typ := range fields {
					if strings.EqualFold(name, k) {
						ft, ok = typ, true
						break
					}
				}
			}
			sub := strings.TrimPrefix(path+"."+k, ".")
			if !ok {
				return sub
			}
			if p := walkUnknown(d[k], ft, sub); p != "" {
				return p
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i, x := range d {
				if p := walkUnknown(x, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// typePath finds the full path of the value that starts at byte offset off
// (an UnmarshalTypeError's offset points just past it), so that errors name
// "items[1].quantity" rather than "items.quantity".
func typePath(body []byte, off int64) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []string // path elements
	type frame struct {
		array bool
		index int
		key   bool // next string token in an object is a key
	}
	var frames []frame
	path := func() string {
		var b strings.Builder
		for _, p := range stack {
			if strings.HasPrefix(p, "[") {
				b.WriteString(p)
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(p)
			}
		}
		return b.String()
	}
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		var top *frame
		if len(frames) > 0 {
			top = &frames[len(frames)-1]
		}
		if top != nil && !top.array && top.key {
			if k, ok := tok.(string); ok {
				stack = append(stack, k)
				top.key = false
				continue
			}
		}
		if top != nil && top.array {
			stack = append(stack, fmt.Sprintf("[%d]", top.index))
			top.index++
		}
		switch tok {
		case json.Delim('{'):
			frames = append(frames, frame{key: true})
			continue
		case json.Delim('['):
			frames = append(frames, frame{array: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			frames = frames[:len(frames)-1]
			if top != nil && top.array {
				stack = stack[:len(stack)-1] // the speculative index pushed above
			}
		default:
			if dec.InputOffset() >= off && before < off {
				return path()
			}
		}
		// A value (scalar or closed container) ends an element.
		if len(stack) > 0 {
			stack = stack[:len(stack)-1]
		}
		if len(frames) > 0 && !frames[len(frames)-1].array {
			frames[len(frames)-1].key = true
		}
	}
}
