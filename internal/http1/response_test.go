package http1

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// responseCase is one entry of testdata/responses.json.
type responseCase struct {
	Name     string            `json:"name"`
	Method   string            `json:"method"` // GET when empty
	In       string            `json:"in"`
	Max      int               `json:"max"` // 4096 when 0
	Err      string            `json:"err"` // ReadResponse's error contains this
	Status   int               `json:"status"`
	Length   int64             `json:"length"`
	Close    bool              `json:"close"`
	Header   map[string]string `json:"header"` // values joined by "|"
	NoHeader []string          `json:"noheader"`
	Body     string            `json:"body"`
	BodyErr  string            `json:"bodyerr"` // reading the body fails with this
	Rest     string            `json:"rest"`    // what is left on the connection after the body
}

func TestReadResponse(t *testing.T) {
	raw, err := os.ReadFile("testdata/responses.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []responseCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			method, max := tc.Method, tc.Max
			if method == "" {
				method = http.MethodGet
			}
			if max == 0 {
				max = 4096
			}
			br := bufio.NewReaderSize(strings.NewReader(tc.In), 16) // small: heads span several reads
			var resp Response
			_, err := ReadResponse(br, nil, method, max, &resp)
			if tc.Err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.Err) {
					t.Fatalf("error %v; want one with %q", err, tc.Err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.Status || resp.ContentLength != tc.Length || resp.Close != tc.Close {
				t.Fatalf("status %d, length %d, close %v; want %d, %d, %v", resp.StatusCode, resp.ContentLength, resp.Close, tc.Status, tc.Length, tc.Close)
			}
			for name, want := range tc.Header {
				if got := strings.Join(resp.Header[name], "|"); got != want {
					t.Errorf("header %s = %q; want %q", name, got, want)
				}
			}
			for _, name := range tc.NoHeader {
				if v, ok := resp.Header[name]; ok {
					t.Errorf("header %s = %q; want none", name, v)
				}
			}
			body, err := io.ReadAll(resp.Body)
			if tc.BodyErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.BodyErr) {
					t.Fatalf("body error %v; want one with %q", err, tc.BodyErr)
				}
				return
			}
			if err != nil || string(body) != tc.Body {
				t.Fatalf("body %q, %v; want %q", body, err, tc.Body)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tc.Rest {
				t.Fatalf("left on the connection %q; want %q", rest, tc.Rest)
			}
		})
	}
}

// A malformed answer's error says so, for the caller to tell it from a
// connection error.
func TestReadResponseMalformedIs(t *testing.T) {
	_, err := ReadResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 OK\r\n\r\n")), nil, "GET", 4096, &Response{})
	if !errors.Is(err, ErrMalformedResponse) {
		t.Fatalf("error %v; want ErrMalformedResponse", err)
	}
}

// FuzzReadResponse: any bytes give an answer whose fields are well formed
// and whose body ends, or an error; never a panic.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.0 404 Not Found\r\n\r\ngone",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"\nHTTP/1.1 304\nETag: x\n\n",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		var resp Response
		_, err := ReadResponse(bufio.NewReaderSize(strings.NewReader(s), 16), nil, method, 4096, &resp)
		if err != nil {
			return
		}
		if resp.StatusCode < 100 || resp.StatusCode > 999 || resp.Body == nil {
			t.Fatalf("status %d, body %v", resp.StatusCode, resp.Body)
		}
		for name, values := range resp.Header {
			if name != http.CanonicalHeaderKey(name) || !httpguts.ValidHeaderFieldName(name) {
				t.Fatalf("header name %q", name)
			}
			for _, v := range values {
				if !httpguts.ValidHeaderFieldValue(v) {
					t.Fatalf("header %s value %q", name, v)
				}
			}
		}
		if _, ok := resp.Header["Transfer-Encoding"]; ok && resp.Body != http.NoBody {
			t.Fatal("Transfer-Encoding kept on a de-chunked body")
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err == nil && resp.ContentLength >= 0 && resp.Body != http.NoBody && n != resp.ContentLength {
			t.Fatalf("body of %d bytes; declared %d", n, resp.ContentLength)
		}
		if n > int64(len(s)) {
			t.Fatalf("body of %d bytes from %d of input", n, len(s))
		}
	})
}

// TestReadResponseReusesTheMap: answers read one after another into one
// Response share its header map but none of each other's fields, and
// the values an earlier answer gave out stay as they were.
func TestReadResponseReusesTheMap(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-First: one\r\nSet-Cookie: a=1\r\n\r\nok" +
		"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nSet-Cookie: b=2\r\n\r\n"))
	var resp Response
	if _, err := ReadResponse(br, nil, http.MethodGet, 4096, &resp); err != nil {
		t.Fatal(err)
	}
	kept := resp.Header["Set-Cookie"] // as the gateway copies values into its answer
	io.Copy(io.Discard, resp.Body)
	first := reflect.ValueOf(resp.Header).UnsafePointer()
	if _, err := ReadResponse(br, nil, http.MethodGet, 4096, &resp); err != nil {
		t.Fatal(err)
	}
	if got := reflect.ValueOf(resp.Header).UnsafePointer(); got != first {
		t.Error("the second answer got a new map")
	}
	want := http.Header{"Content-Length": {"0"}, "Set-Cookie": {"b=2"}}
	if resp.StatusCode != 404 || !reflect.DeepEqual(resp.Header, want) {
		t.Errorf("second answer: %d %v; want 404 %v", resp.StatusCode, resp.Header, want)
	}
	if len(kept) != 1 || kept[0] != "a=1" {
		t.Errorf("the first answer's Set-Cookie became %q", kept)
	}
}
