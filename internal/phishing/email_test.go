package phishing_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/phishing"
)

func readEmail(t testing.TB, name string) *phishing.Email {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "email", name))
	if err != nil {
		t.Fatal(err)
	}
	e, err := phishing.ParseEmail(raw)
	if err != nil {
		t.Fatalf("ParseEmail(%s): %v", name, err)
	}
	return e
}

func TestParseEmail(t *testing.T) {
	tests := []struct {
		file                      string
		from, replyTo, returnPath string // from as Address.String
		subject, messageID        string
		date                      string // RFC 3339, "" for none
		received                  int
		text                      []string // in Text, in order
		notText                   []string
		links                     []string // "kind href"
		attachments               []string // "name|type"
		attached                  int
		defects                   []string // each a part of one defect
	}{
		{file: "genuine_order.eml", from: `"Northwind Shop" <orders@northwind.shop>`, returnPath: "bounce+8a1f2c@mail.northwind.shop",
			subject: "Your order #10452 has shipped", messageID: "<20250304171402.10452@northwind.shop>", date: "2025-03-04T17:14:02Z", received: 3,
			text: []string{"Hello Anna,\n\nGood news", "Track it here: https://northwind.shop/orders/10452/track."},
			links: []string{"text https://northwind.shop/orders/10452/track", "text https://northwind.shop/help",
				"anchor https://northwind.shop/orders/10452/track?utm_source=mail&utm_campaign=shipped", "anchor https://northwind.shop/help"}},
		{file: "phish_display_name.eml", from: `"Northwind Shop" <no-reply@mailer-72.top>`, replyTo: "<northwind.help@gmail.com>",
			returnPath: "bounce@mailer-72.top", subject: "⚠ Your Northwind account is suspended", messageID: "<a81f2e9c0b3d4@mailer-72.top>",
			date: "2025-03-05T02:41:18Z", received: 2, text: []string{"Confirm your\ndetails within 24 hours: n0rthwind.shop/account/verify?id=8812."},
			links: []string{"text n0rthwind.shop/account/verify?id=8812", "anchor https://n0rthwind.shop/account/verify?id=8812",
				"anchor https://n0rthwind.shop/account/verify?id=8812"}},
		{file: "base64_html.eml", from: `"Northwind Delivery" <info@parcel-fee.click>`, returnPath: "info@parcel-fee.click",
			subject: "Your parcel is waiting", date: "2025-03-06T08:00:00+01:00",
			text:    []string{"Your parcel is waiting\n\nWe tried to deliver your parcel NW-88213 today.\nA customs fee of 1,99 € is due.", "Parcel NW-88213\nStatus On hold"},
			notText: []string{"genuine trusted newsletter", "tracking", "Votre colis", "<"},
			links: []string{"anchor http://parcel-fee.click/pay?ref=NW-88213", "form https://parcel-fee.click/card",
				"html_text https://parcel-fee.click/pay?ref=NW-88213&lang=en"}},
		{file: "qp_latin1.eml", from: `"Équipe Nordvent" <commandes@northwind.shop>`, subject: "Votre commande a été expédiée",
			messageID: "<20931.1741339351@northwind.shop>", date: "2025-03-07T10:22:31+01:00",
			text:  []string{"Votre commande n° 20931 a été expédiée.", "code « MERCI10 »", "L'équipe Nordvent"},
			links: []string{"text www.northwind.shop/suivi?n=20931"}},
		{file: "nested_attachment.eml", from: `"Northwind Shop" <rechnung@northwind.shop>`, subject: "Ihre Rechnung 4711",
			date: "2025-03-08T12:00:00+01:00", text: []string{"anbei Ihre Rechnung für Bestellung 4711 – Summe 49,90 €."},
			notText: []string{"multi-part message", "PayPal"},
			links:   []string{"text https://northwind.shop/konto/rechnungen", "anchor https://northwind.shop/konto/rechnungen"},
			attachments: []string{"Rechnung_4711.pdf|application/pdf", "Résumé März.zip|application/zip", "logo nordwind.png|image/png",
				"forwarded.eml|message/rfc822"}, attached: 1},
		{file: "malformed_mime.eml", from: `"Northwind, Rewards" <rewards@northwind-gift.com>`, returnPath: "x9@bulk-sender.ru",
			subject: "You won a gift card", text: []string{"Your Northwind gift card of 500 EUR is ready: https://northwind-gift.com/claim?c=77"},
			links: []string{"text https://northwind-gift.com/claim?c=77", "anchor https://northwind-gift.com/claim?c=77"},
			defects: []string{"bare LF", "mbox From line", "From \"Northwind, Rewards", "unknown charset \"x-unknown-8\"", "Date \"sometime yesterday\"",
				"Content-Type without MIME-Version", "not closed by its final boundary", "base64 with characters outside its alphabet",
				"unknown charset \"utf-8x\"", "unknown charset \"klingon\""}},
		{file: "malformed_header.eml", from: `"Northwind Support" <support@northwind.shop.verify-id.net>`, subject: "Passwort ändern",
			date: "2025-03-10T09:00:00+01:00", text: []string{"Bitte ändern Sie Ihr Passwort: http://northwind.shop.verify-id.net/login (heute)."},
			links:   []string{"text http://northwind.shop.verify-id.net/login"},
			defects: []string{"bare LF", "the header ends without an empty line", "8-bit text, read as windows-1252", "From \"Northwind Support support@"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e := readEmail(t, tt.file)
			got := func(a *phishing.Address) string {
				if a == nil {
					return ""
				}
				return a.String()
			}
			var replyTo []string
			for _, a := range e.ReplyTo {
				replyTo = append(replyTo, a.String())
			}
			if got(e.From) != tt.from || strings.Join(replyTo, ", ") != tt.replyTo || e.ReturnPath != tt.returnPath {
				t.Errorf("From %s, Reply-To %s, Return-Path %q; want %s, %s, %q", got(e.From), replyTo, e.ReturnPath, tt.from, tt.replyTo, tt.returnPath)
			}
			if e.Subject != tt.subject || e.MessageID != tt.messageID || e.Received != tt.received {
				t.Errorf("Subject %q, Message-ID %q, %d received; want %q, %q, %d", e.Subject, e.MessageID, e.Received, tt.subject, tt.messageID, tt.received)
			}
			if want := tt.date; want == "" && !e.Date.IsZero() || want != "" && e.Date.Format(time.RFC3339) != want {
				t.Errorf("Date %v, want %q", e.Date, want)
			}
			rest := e.Text
			for _, s := range tt.text {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Errorf("Text lacks %q (in order) in:\n%s", s, e.Text)
					break
				}
				rest = rest[i+len(s):]
			}
			for _, s := range tt.notText {
				if strings.Contains(e.Text, s) {
					t.Errorf("Text holds %q:\n%s", s, e.Text)
				}
			}
			var links []string
			for _, l := range e.Links {
				links = append(links, l.Kind+" "+l.Href)
				src := e.HTML
				if l.Kind == phishing.LinkText {
					src = e.Text
				}
				if l.Start < 0 || l.End > len(src) || l.Start >= l.End {
					t.Errorf("link %+v outside its text", l)
				}
			}
			if !slices.Equal(links, tt.links) {
				t.Errorf("Links\n%s\nwant\n%s", strings.Join(links, "\n"), strings.Join(tt.links, "\n"))
			}
			var atts []string
			for _, a := range e.Attachments {
				atts = append(atts, a.Name+"|"+a.ContentType)
			}
			if !slices.Equal(atts, tt.attachments) || len(e.Attached) != tt.attached {
				t.Errorf("Attachments %q and %d messages, want %q and %d", atts, len(e.Attached), tt.attachments, tt.attached)
			}
			for _, d := range tt.defects {
				if !slices.ContainsFunc(e.Defects, func(s string) bool { return strings.Contains(s, d) }) {
					t.Errorf("no defect says %q: %q", d, e.Defects)
				}
			}
			if len(tt.defects) == 0 && len(e.Defects) > 0 {
				t.Errorf("defects %q in a well-formed message", e.Defects)
			}
			if e.Truncated {
				t.Error("Truncated")
			}
		})
	}
}

func TestParseEmailAttached(t *testing.T) {
	e := readEmail(t, "nested_attachment.eml")
	if len(e.Attached) != 1 {
		t.Fatalf("%d attached messages", len(e.Attached))
	}
	in := e.Attached[0]
	if in.From == nil || in.From.Address != "service@paypa1-secure.com" || in.Subject != "Action required" || in.Text != "Please log in to PayPal." {
		t.Errorf("attached message %+v", in)
	}
	if len(in.Links) != 1 || in.Links[0].Href != "https://paypa1-secure.com/signin" || in.Links[0].Text != "log in to PayPal" {
		t.Errorf("attached message's links %+v", in.Links)
	}
}

func TestParseEmailHTMLText(t *testing.T) {
	tests := []struct{ name, html, text string }{
		{"blocks and inline", "<h1>Hi</h1><p>Your <b>N</b>orthwind order<br>ships today.</p><ul><li>one</li><li>two</li></ul>", "Hi\n\nYour Northwind order\nships today.\n\none\ntwo"},
		{"hidden text", `<p>Pay <span style="display:none">trusted genuine</span>now</p><div hidden><div>x</div>y</div><p style="FONT-SIZE: 0px">salad</p><p style="font-size:0.9em">z</p>`, "Pay now\n\nz"},
		{"scripts, styles, titles, self-closed script", "<title>T</title><style>p{}</style><script>a()</script><script/>b()</script><p>shown</p>", "shown"},
		{"entities and white space", "<p>1,99&nbsp;&euro;\n\n\t&lt;ok&gt;</p>", "1,99 € <ok>"},
		{"table cells", "<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr></table>", "A B\nC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := phishing.ParseEmail([]byte("From: a@b.example\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n" + tt.html))
			if err != nil {
				t.Fatal(err)
			}
			if e.Text != tt.text || e.HTML != tt.html {
				t.Errorf("Text %q, want %q", e.Text, tt.text)
			}
		})
	}
}

func TestParseEmailCharsets(t *testing.T) {
	tests := []struct{ header, body, subject, text string }{
		{"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nContent-Type: text/plain; charset=utf-8", "Grüße", "Grüße", "Grüße"},
		{"Subject: =?windows-1252?Q?=80_50_=96_Rabatt?=\nContent-Type: text/plain; charset=windows-1252", "\x80 50", "€ 50 – Rabatt", "€ 50"},
		{"Subject: =?ISO-8859-1?B?" + "w4k=" + "?=\nContent-Type: text/plain; charset=iso-8859-1", "caf\xe9", "Ã\u0089", "café"},
		{"Subject: =?us-ascii?q?plain?= =?koi8-r?b?8NLJ18XU?=\nContent-Type: text/plain; charset=koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "plainПривет", "Привет"},
		{"Subject: =?shift_jis?b?g26DjYFb?=\nContent-Type: text/plain; charset=Shift_JIS", "\x83\x6e\x83\x8d\x81\x5b", "ハロー", "ハロー"},
		{"Subject: caf\xe9 (raw 8-bit)\nContent-Type: text/plain", "na\xefve", "café (raw 8-bit)", "naïve"},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			e, err := phishing.ParseEmail([]byte("From: a@b.example\nMIME-Version: 1.0\n" + tt.header + "\n\n" + tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != tt.subject || e.Text != tt.text {
				t.Errorf("Subject %q, Text %q; want %q, %q (defects %q)", e.Subject, e.Text, tt.subject, tt.text, e.Defects)
			}
		})
	}
}

func TestParseEmailRefuses(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		err  error
	}{
		{"empty", nil, phishing.ErrNotEmail},
		{"a body without header", []byte("Hello, your parcel is waiting: https://evil.test/x\n"), phishing.ErrNotEmail},
		{"too large", append([]byte("From: a@b.example\n\n"), make([]byte, phishing.MaxEmailSize)...), phishing.ErrEmailLimit},
		{"too many fields", []byte(strings.Repeat("X-Junk: 1\n", phishing.MaxHeaderFields+1) + "\nbody"), phishing.ErrEmailLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := phishing.ParseEmail(tt.raw)
			if !errors.Is(err, tt.err) || e != nil {
				t.Errorf("ParseEmail = %v, %v; want %v", e, err, tt.err)
			}
		})
	}
}

// nestedMultipart writes a message with multiparts nested n deep, a text part at
// each level.
func nestedMultipart(n int) []byte {
	var b strings.Builder
	b.WriteString("From: a@b.example\nMIME-Version: 1.0\n")
	for i := range n {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\nContent-Type: text/plain\n\nlevel %d\n--b%d\n", i, i, i+1, i)
	}
	b.WriteString("Content-Type: text/plain\n\ninnermost\n")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return []byte(b.String())
}

func TestParseEmailLimits(t *testing.T) {
	many := func(n int, part string) []byte {
		return []byte("From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n" +
			strings.Repeat("--x\n"+part+"\n", n) + "--x--\n")
	}
	tests := []struct {
		name      string
		raw       []byte
		truncated bool
		defect    string
		check     func(e *phishing.Email) string
	}{
		{"nesting at the limit", nestedMultipart(phishing.MaxMIMEDepth - 1), false, "", func(e *phishing.Email) string {
			if !strings.Contains(e.Text, "innermost") {
				return "the innermost part is missing"
			}
			return ""
		}},
		{"nesting past the limit", nestedMultipart(phishing.MaxMIMEDepth + 3), true, "nested deeper than 8", func(e *phishing.Email) string {
			if strings.Contains(e.Text, "innermost") || !strings.Contains(e.Text, "level 8") || strings.Contains(e.Text, "level 9") {
				return "the parts within the limit should be read, no others"
			}
			return ""
		}},
		{"parts past the limit", many(phishing.MaxMIMEParts+50, "Content-Type: image/png; name=a.png\n\nx"), true, "more than 200 MIME parts",
			func(e *phishing.Email) string {
				if len(e.Attachments) != phishing.MaxMIMEParts-1 { // the multipart itself is a part
					return fmt.Sprintf("%d attachments", len(e.Attachments))
				}
				return ""
			}},
		{"part header past the limit", many(1, strings.Repeat("X-A: 1\n", 101)+"\ntext"), true, "more than 100 header fields", nil},
		{"links past the limit", []byte("From: a@b.example\n\n" + strings.Repeat("https://evil.test/x\n", phishing.MaxLinks+1)), true, "",
			func(e *phishing.Email) string {
				if len(e.Links) != phishing.MaxLinks {
					return fmt.Sprintf("%d links", len(e.Links))
				}
				return ""
			}},
		{"defects past the limit", []byte("From: a@b.example\n" + strings.Repeat("Bad\x01Name: x\n", 80) + "\nbody"), false, "more defects not listed",
			func(e *phishing.Email) string {
				if len(e.Defects) != 51 {
					return fmt.Sprintf("%d defects", len(e.Defects))
				}
				return ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := phishing.ParseEmail(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if e.Truncated != tt.truncated {
				t.Errorf("Truncated %v, want %v (defects %q)", e.Truncated, tt.truncated, e.Defects)
			}
			if tt.defect != "" && !slices.ContainsFunc(e.Defects, func(s string) bool { return strings.Contains(s, tt.defect) }) {
				t.Errorf("no defect says %q: %q", tt.defect, e.Defects)
			}
			if tt.check != nil {
				if msg := tt.check(e); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

func TestParseEmailLenient(t *testing.T) {
	tests := []struct {
		name, raw string
		from      string
		text      string
		defect    string
	}{
		{"CRLF and LF mixed in multipart", "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=q\r\nMIME-Version: 1.0\r\n\r\n" +
			"--q\nContent-Type: text/plain\n\none\r\n--q\r\nContent-Type: text/plain\r\n\r\ntwo\n--q--\n", "<a@b.example>", "one\n\ntwo", "bare LF"},
		{"folded fields", "From: \"Northwind\n Shop\" <a@b.example>\nSubject: one\n\ttwo\n\nx", `"Northwind Shop" <a@b.example>`, "x", "bare LF"},
		{"base64 joined chunks and missing padding", "From: a@b.example\nContent-Transfer-Encoding: base64\n\naGVsbG8=IHdvcmxk\nIQ", "<a@b.example>", "hello world!", "bare LF"},
		{"a dangling base64 character", "From: a@b.example\nContent-Transfer-Encoding: BASE64\n\naGVsbG8gd", "<a@b.example>", "hello ", "dangling"},
		{"quoted-printable with a bad escape", "From: a@b.example\nContent-Transfer-Encoding: quoted-printable\n\n50=ZZ off=\n today =E2=82=AC", "<a@b.example>", "50=ZZ off today €", "bare LF"},
		{"unknown transfer encoding", "From: a@b.example\nContent-Transfer-Encoding: x-uuencode\n\nbody", "<a@b.example>", "body", "x-uuencode"},
		{"multipart without boundary", "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\nsee https://evil.test/x", "<a@b.example>", "see https://evil.test/x", "without a boundary"},
		{"multipart whose boundary never comes", "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz\n\njust text", "<a@b.example>", "just text", "no part with boundary"},
		{"duplicate boundary parameter", "From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"a\"; boundary=\"b\"\n\n--a\n\nfirst\n--a--\n", "<a@b.example>", "first", "duplicate parameter"},
		{"not a media type", "From: a@b.example\nMIME-Version: 1.0\nContent-Type: text\n\nplain", "<a@b.example>", "plain", "not a media type"},
		{"address without angle brackets", "From: Northwind Support help@evil.test\n\nx", `"Northwind Support" <help@evil.test>`, "x", "read leniently"},
		{"a whitespace line ends the header", "From: a@b.example\n \nbody", "<a@b.example>", "body", "bare LF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := phishing.ParseEmail([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			from := ""
			if e.From != nil {
				from = e.From.String()
			}
			if from != tt.from || e.Text != tt.text {
				t.Errorf("From %s, Text %q; want %s, %q", from, e.Text, tt.from, tt.text)
			}
			if !slices.ContainsFunc(e.Defects, func(s string) bool { return strings.Contains(s, tt.defect) }) {
				t.Errorf("no defect says %q: %q", tt.defect, e.Defects)
			}
		})
	}
}

func TestParseAuthResults(t *testing.T) {
	tests := []struct {
		name, value string
		want        phishing.AuthResults
	}{
		{"gmail", `mx.google.com;
       dkim=pass header.i=@northwind.shop header.s=s1 header.b=Xb9Qp2Lw;
       spf=pass (google.com: domain of bounce@mail.northwind.shop designates 203.0.113.5 as permitted sender) smtp.mailfrom="bounce@mail.northwind.shop";
       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=northwind.shop`,
			phishing.AuthResults{AuthServID: "mx.google.com", Results: []phishing.AuthResult{
				{Method: "dkim", Result: "pass", Props: map[string]string{"header.i": "@northwind.shop", "header.s": "s1", "header.b": "Xb9Qp2Lw"}},
				{Method: "spf", Result: "pass", Props: map[string]string{"smtp.mailfrom": "bounce@mail.northwind.shop"}},
				{Method: "dmarc", Result: "pass", Props: map[string]string{"header.from": "northwind.shop"}}}}},
		{"microsoft, without authserv-id", `spf=fail (sender IP is 198.51.100.7) smtp.mailfrom=northwind.shop; dkim=none (message not signed)
 header.d=none;dmarc=fail action=quarantine header.from=northwind.shop;compauth=fail reason=001`,
			phishing.AuthResults{Results: []phishing.AuthResult{
				{Method: "spf", Result: "fail", Props: map[string]string{"smtp.mailfrom": "northwind.shop"}},
				{Method: "dkim", Result: "none", Props: map[string]string{"header.d": "none"}},
				{Method: "dmarc", Result: "fail", Props: map[string]string{"action": "quarantine", "header.from": "northwind.shop"}},
				{Method: "compauth", Result: "fail", Reason: "001"}}}},
		{"version, quoting, spacing, nested comments", `MX.Example.ORG 1; dkim/1 = FAIL reason="signature (bad) \"did not\" verify" header.d=x.example (a (nested) comment) header.i="@x.example"; spf = softfail smtp.mailfrom = a@x.example; arc=pass (i=2 spf=pass) smtp.remote-ip=192.0.2.1`,
			phishing.AuthResults{AuthServID: "mx.example.org", Results: []phishing.AuthResult{
				{Method: "dkim", Result: "fail", Reason: `signature (bad) "did not" verify`, Props: map[string]string{"header.d": "x.example", "header.i": "@x.example"}},
				{Method: "spf", Result: "softfail", Props: map[string]string{"smtp.mailfrom": "a@x.example"}},
				{Method: "arc", Result: "pass", Props: map[string]string{"smtp.remote-ip": "192.0.2.1"}}}}},
		{"no result", "example.org 1; none", phishing.AuthResults{AuthServID: "example.org", Results: []phishing.AuthResult{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := phishing.ParseAuthResults(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseAuthResults =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "  (only a comment)  ", "mx.example.org"} {
		if got, err := phishing.ParseAuthResults(bad); !errors.Is(err, phishing.ErrNotAuthResults) {
			t.Errorf("ParseAuthResults(%q) = %+v, %v; want ErrNotAuthResults", bad, got, err)
		}
	}
}

var testShop = phishing.Sender{Names: []string{"Northwind", "Northwind Shop"}, Domains: []string{"northwind.shop"}}

func TestImpersonation(t *testing.T) {
	tests := []struct {
		name, file, raw string
		want            []string // "code weight"
	}{
		{name: "genuine, authenticated", file: "genuine_order.eml", want: []string{"authenticated_shop_sender -40"}},
		{name: "display name, reply-to, no DKIM; forged results below ignored", file: "phish_display_name.eml",
			want: []string{"display_name_impersonation 60", "reply_to_elsewhere 25", "dmarc_none 10", "dkim_none 5"}},
		{name: "delivery scam naming the shop", file: "base64_html.eml", want: []string{"display_name_impersonation 60"}},
		{name: "lookalike From, bounces elsewhere", file: "malformed_mime.eml",
			want: []string{"display_name_impersonation 60", "from_lookalike 75", "return_path_elsewhere 10"}},
		{name: "shop name on another site's subdomain", file: "malformed_header.eml", want: []string{"display_name_impersonation 60", "from_lookalike 75"}},
		{name: "the shop itself", raw: "From: Northwind Shop <orders@northwind.shop>", want: nil},
		{name: "a subdomain of the shop", raw: "From: Northwind Shop <orders@mail.northwind.shop>\nReply-To: help@northwind.shop\nReturn-Path: <b@bounce.northwind.shop>", want: nil},
		{name: "lookalike characters", raw: "From: N0rthw1nd Shop <x@evil.test>", want: []string{"display_name_lookalike 70"}},
		{name: "spacing and case", raw: "From: NORTH WIND <x@evil.test>", want: []string{"display_name_impersonation 60"}},
		{name: "the shop's domain as name", raw: `From: "northwind.shop support" <x@evil.test>`, want: []string{"display_name_impersonation 60"}},
		{name: "another address as name", raw: `From: "service@paypal.com" <x@evil.test>`, want: []string{"display_name_address 50"}},
		{name: "another domain as name", raw: `From: "paypal.com" <x@evil.test>`, want: []string{"display_name_address 50"}},
		{name: "its own address as name", raw: `From: "x@evil.test" <x@evil.test>`, want: nil},
		{name: "lookalike domain", raw: "From: Support <help@n0rthwind.shop>", want: []string{"from_lookalike 75"}},
		{name: "replies to a lookalike", raw: "From: Northwind <orders@northwind.shop>\nReply-To: <refunds@northwind-refunds.com>",
			want: []string{"reply_to_lookalike 60"}},
		{name: "replies within the sender's site", raw: "From: x <a@evil.test>\nReply-To: b@mail.evil.test", want: nil},
		{name: "words that merely spell the name across", raw: "From: North Windows Ltd <a@evil.test>", want: nil},
		{name: "the name run into another word", raw: "From: NorthwindSupport <a@evil.test>", want: []string{"display_name_impersonation 60"}},
		{name: "capitals run together", raw: "From: NORTHWINDINFO <a@evil.test>", want: []string{"display_name_impersonation 60"}},
		{name: "spoofed shop domain failing authentication", raw: "From: Northwind <orders@northwind.shop>\nAuthentication-Results: mx.example.net; " +
			"spf=fail smtp.mailfrom=orders@northwind.shop; dkim=fail header.d=northwind.shop; dmarc=fail header.from=northwind.shop",
			want: []string{"spf_fail 40", "dmarc_fail 70", "dkim_fail 35"}},
		{name: "other site failing authentication", raw: "From: x <a@evil.test>\nAuthentication-Results: mx.example.net; spf=softfail smtp.mailfrom=a@evil.test; dmarc=fail header.from=evil.test",
			want: []string{"spf_softfail 15", "dmarc_fail 40"}},
		{name: "results for other domains do not count", raw: "From: Northwind <orders@northwind.shop>\nAuthentication-Results: mx.example.net; " +
			"spf=fail smtp.mailfrom=bounce@esp.example; dkim=fail header.d=esp.example; dkim=pass header.d=northwind.shop; dmarc=pass header.from=northwind.shop",
			want: []string{"authenticated_shop_sender -40"}},
		{name: "no sender", raw: "Subject: hi", want: []string{"from_missing 20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *phishing.Email
			if tt.file != "" {
				e = readEmail(t, tt.file)
			} else {
				var err error
				if e, err = phishing.ParseEmail([]byte(tt.raw + "\n\nbody")); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, r := range e.Impersonation(testShop) {
				got = append(got, fmt.Sprintf("%s %d", r.Code, r.Weight))
				if r.Message == "" {
					t.Errorf("%s without a message", r.Code)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Impersonation = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestImpersonationMessages(t *testing.T) {
	e := readEmail(t, "phish_display_name.eml")
	r := e.Impersonation(testShop)
	if len(r) == 0 || r[0].Message != `the sender's name "Northwind Shop" names "Northwind" but the address no-reply@mailer-72.top is not the shop's` {
		t.Errorf("reasons %+v", r)
	}
}

func TestNameImpersonation(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"Northwind", nil},
		{"NorthwindShop", nil},
		{"N0rthw1nd", []string{"sender_name_lookalike 60"}},
		{"NORTHWlND", []string{"sender_name_lookalike 60"}},
		{"+4915112345678", nil},
		{"Info northwind.shop", nil},
		{"northwind-shop.com", []string{"sender_name_lookalike_domain 70"}},
		{"paypal.com", []string{"sender_name_domain 25"}},
		{"Amazon", nil},
		{"N0RTHWINDINFO", []string{"sender_name_lookalike 60"}},
		{"Nordwind", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range phishing.NameImpersonation(tt.name, testShop) {
				got = append(got, fmt.Sprintf("%s %d", r.Code, r.Weight))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("NameImpersonation = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzParseEmail(f *testing.F) {
	files, err := filepath.Glob("testdata/email/*.eml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed e-mails: %v", err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add(nestedMultipart(phishing.MaxMIMEDepth + 1))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := phishing.ParseEmail(raw)
		if err != nil {
			if e != nil || !errors.Is(err, phishing.ErrNotEmail) && !errors.Is(err, phishing.ErrEmailLimit) {
				t.Fatalf("ParseEmail: %v, %v", e, err)
			}
			return
		}
		var check func(e *phishing.Email, depth int)
		check = func(e *phishing.Email, depth int) {
			if depth > phishing.MaxMIMEDepth+1 {
				t.Fatalf("attached messages nested %d deep", depth)
			}
			if len(e.Links) > phishing.MaxLinks || len(e.Defects) > 51 || len(e.Text) > 1<<20 || len(e.HTML) > 1<<20 {
				t.Fatalf("past a limit: %d links, %d defects, %d bytes of text, %d of HTML", len(e.Links), len(e.Defects), len(e.Text), len(e.HTML))
			}
			for _, l := range e.Links {
				src := e.HTML
				if l.Kind == phishing.LinkText {
					src = e.Text
				}
				if l.Start < 0 || l.End > len(src) || l.End < l.Start {
					t.Fatalf("link %+v outside its %d bytes", l, len(src))
				}
				_, _, _ = l.Mismatch()
			}
			_ = e.Impersonation(testShop)
			for _, in := range e.Attached {
				check(in, depth+1)
			}
		}
		check(e, 0)
	})
}

func BenchmarkParseEmail(b *testing.B) {
	files, err := filepath.Glob("testdata/email/*.eml")
	if err != nil || len(files) == 0 {
		b.Fatalf("no e-mails: %v", err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(file), ".eml"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				if _, err := phishing.ParseEmail(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
