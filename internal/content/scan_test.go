package content

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// readLines reads the lines of a testdata file, skipping empty ones.
func readLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/scan/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// span is a finding as the text it covers, for comparing.
type span struct{ code, text string }

func spans(text string, fs []Finding) []span {
	out := make([]span, len(fs))
	for i, f := range fs {
		out[i] = span{f.Code, text[f.Start:f.End]}
	}
	return out
}

func TestScanGenuine(t *testing.T) {
	lines := readLines(t, "genuine.txt")
	if len(lines) < 40 {
		t.Fatalf("%d genuine reviews, want at least 40", len(lines))
	}
	for _, line := range lines {
		if fs := Scan(line, nil); len(fs) > 0 {
			t.Errorf("Scan(%q) = %v, want nothing", line, spans(line, fs))
		}
	}
}

func TestScanBad(t *testing.T) {
	lines := readLines(t, "bad.txt")
	if len(lines) < 40 {
		t.Fatalf("%d bad posts, want at least 40", len(lines))
	}
	for _, line := range lines {
		code, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		fs := Scan(text, nil)
		if !slices.ContainsFunc(fs, func(f Finding) bool { return f.Code == code }) {
			t.Errorf("Scan(%q) = %v, want %s", text, spans(text, fs), code)
		}
		checkFindings(t, text, fs)
	}
}

// checkFindings checks what every finding must be: in order, in range,
// on character boundaries, with a detail, and covering what it flags.
func checkFindings(t *testing.T, text string, fs []Finding) {
	t.Helper()
	for i, f := range fs {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
			t.Errorf("%q: finding %+v out of range", text, f)
			continue
		}
		if i > 0 && fs[i-1].Start > f.Start {
			t.Errorf("%q: findings out of order: %+v before %+v", text, fs[i-1], f)
		}
		if f.Detail == "" || f.Code == "" {
			t.Errorf("%q: finding %+v without code or detail", text, f)
		}
		if !utf8.ValidString(text) {
			continue
		}
		if !utf8.RuneStart(text[f.Start]) || f.End < len(text) && !utf8.RuneStart(text[f.End]) {
			t.Errorf("%q: finding %+v splits a character", text, f)
		}
		if msg := flags(f, text[f.Start:f.End]); msg != "" {
			t.Errorf("%q: finding %+v covers %q: %s", text, f, text[f.Start:f.End], msg)
		}
	}
}

// flags says what is wrong with the text s a finding f covers, or "".
func flags(f Finding, s string) string {
	n := Normalize(s).Text
	switch f.Code {
	case CodeContactPhone:
		digits := 0
		for _, c := range n {
			if '0' <= c && c <= '9' {
				digits++
			}
		}
		for _, w := range strings.FieldsFunc(n, func(r rune) bool { return !unicode.IsLetter(r) }) {
			if strings.Contains(" zero oh o one two three four five six seven eight nine double triple l ", " "+w+" ") {
				digits++
			}
		}
		if digits < 7 {
			return "fewer than 7 digits"
		}
	case CodeContactEmail:
		if !strings.Contains(n, "@") && !strings.Contains(n, "at") {
			return "no @ or at"
		}
	case CodeHiddenZeroWidth, CodeHiddenBidi:
		want := hiddenZW
		if f.Code == CodeHiddenBidi {
			want = hiddenBidi
		}
		for _, r := range s {
			if hiddenKind(r) != want {
				return "not only hidden characters"
			}
		}
	case CodeMixedScript:
		latin, other := false, false
		for _, r := range s {
			latin = latin || unicode.Is(unicode.Latin, r)
			other = other || unicode.In(r, unicode.Cyrillic, unicode.Greek, unicode.Armenian)
		}
		if !latin || !other {
			return "not mixed"
		}
	case CodeShouting:
		if strings.TrimSpace(s) != s {
			return "white space at an end"
		}
	default:
		if !strings.ContainsFunc(n, unicode.IsLetter) {
			return "no letters"
		}
	}
	return ""
}

// TestScanCases checks exactly what Scan finds, including that it finds
// nothing in hard negatives.
func TestScanCases(t *testing.T) {
	tests := []struct {
		text string
		want []span
	}{
		// Phones.
		{"call +44 7911 123456 now", []span{{CodeContactPhone, "+44 7911 123456"}}},
		{"(555) 123-4567", []span{{CodeContactPhone, "(555) 123-4567"}}},
		{"0 7 9 1 1 1 2 3 4 5 6", []span{{CodeContactPhone, "0 7 9 1 1 1 2 3 4 5 6"}}},
		{"seven seven one, two three four, five six", []span{{CodeContactPhone, "seven seven one, two three four, five six"}}},
		{"it's O7911 l23456", []span{{CodeContactPhone, "O7911 l23456"}}},
		{"０７９１１１２３４５６", []span{{CodeContactPhone, "０７９１１１２３４５６"}}},
		{"$19.99 each, €1,299 total, £1 299 000 for the lot", nil},
		{"ordered 12/03/2024, arrived 2024-03-20 10:30", nil},
		{"from 2019 2020 2021 2022", nil},
		{"order #12345678 and order number 87654321", nil},
		{"iPhone 15, 250 ml, 1000-2000 rpm, sizes 36 38 40 42", nil},
		{"barcode 5901234123457 and 5901234123457 alone", nil},
		{"one two three four five six seven", nil},
		{"rated by 1234567 users, call 5551234 or 07911123", []span{{CodeContactPhone, "5551234"}, {CodeContactPhone, "07911123"}}},
		{"runs 10.0.19045 on 192.168.1.254", nil},
		{"call 555.123.4567", []span{{CodeContactPhone, "555.123.4567"}}},
		{"I bought one for my son and two for my daughter", nil},
		// E-mail.
		{"mail jane.doe@example.co.uk", []span{{CodeContactEmail, "jane.doe@example.co.uk"}}},
		{"jane at gmail dot com", []span{{CodeContactEmail, "jane at gmail dot com"}}},
		{"jane(at)example(dot)com", []span{{CodeContactEmail, "jane(at)example(dot)com"}}},
		{"jane [at] example", []span{{CodeContactEmail, "jane [at] example"}}},
		{"bob at gmail", []span{{CodeContactEmail, "bob at gmail"}}},
		{"found it cheaper at walmart.com", nil},
		{"we met at noon dot on time", nil},
		// Messengers.
		{"WhatsApp me", []span{{CodeContactMessenger, "WhatsApp"}}},
		{"whatsapp: +44 7911 123456", []span{{CodeContactMessenger, "whatsapp"}, {CodeContactPhone, "+44 7911 123456"}}},
		{"tg @cheap_deals", []span{{CodeContactMessenger, "tg"}, {CodeContactMessenger, "@cheap_deals"}}},
		{"https://t.me/cheapdeals", []span{{CodeContactMessenger, "t.me/cheapdeals"}}},
		{"chat.whatsapp.com/AbC123", []span{{CodeContactMessenger, "chat.whatsapp.com/AbC123"}}},
		{"DM me on insta", []span{{CodeContactMessenger, "insta"}}},
		{"my snap is kylie_22", []span{{CodeContactMessenger, "snap"}}},
		{"hit me up on snap", []span{{CodeContactMessenger, "snap"}}},
		{"my signal is weak", nil},
		{"add me on snap", []span{{CodeContactMessenger, "snap"}}},
		{"Line ID: shop_88", []span{{CodeContactMessenger, "Line"}}},
		{"contact me outside the app", []span{{CodeContactMessenger, "contact me outside"}}},
		{"deal outside the platform", []span{{CodeContactMessenger, "deal outside the platform"}, {CodeOffPlatformPayment, "outside the platform"}}},
		{"great for WhatsApp calls, Skype and Discord work too", nil},
		{"wifi signal is weak, the line is long, snap-on lid", nil},
		{"thanks @maria for the reply", nil},
		{"my whatsapp calls are clear", nil},
		{"bat.me/x is not telegram", nil},
		// Payment.
		{"bank transfer only", []span{{CodeOffPlatformPayment, "bank transfer"}}},
		{"pay in bitcoin or usdt", []span{{CodeOffPlatformPayment, "bitcoin"}, {CodeOffPlatformPayment, "usdt"}}},
		{"I accept Google Play gift cards", []span{{CodeOffPlatformPayment, "Google Play gift cards"}}},
		{"F & F please", []span{{CodeOffPlatformPayment, "F & F"}}},
		{"send as friends and family on paypal", []span{{CodeOffPlatformPayment, "friends and family"}}},
		{"Cash App $deals4u", []span{{CodeOffPlatformPayment, "Cash App"}, {CodeOffPlatformPayment, "$deals4u"}}},
		{"to avoid the fees", []span{{CodeOffPlatformPayment, "avoid the fees"}}},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", []span{{CodeOffPlatformPayment, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}}},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", nil},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", nil},
		{"it stores my bitcoin offline", nil},
		{"a gift card for my niece, the family and friends loved it", nil},
		{"save on shipping fees, avoid customs fees", nil},
		{"I got $20 off", nil},
		// Abuse.
		{"you idiot", []span{{CodeAbuseInsult, "idiot"}}},
		{"you're so stupid", []span{{CodeAbuseInsult, "stupid"}}},
		{"the seller is a moron", []span{{CodeAbuseInsult, "moron"}}},
		{"what a l0ser", []span{{CodeAbuseInsult, "l0ser"}}},
		{"you ass", []span{{CodeAbuseInsult, "ass"}}},
		{"f*ck, sh!t, a$$hole, b1tch", []span{{CodeAbuseProfanity, "f*ck"}, {CodeAbuseProfanity, "sh!t"}, {CodeAbuseProfanity, "a$$hole"}, {CodeAbuseProfanity, "b1tch"}}},
		{"f**k", []span{{CodeAbuseProfanity, "f**k"}}},
		{"asssssholeeee shiiiiit", []span{{CodeAbuseProfanity, "asssssholeeee"}, {CodeShouting, "sssss"}, {CodeAbuseProfanity, "shiiiiit"}, {CodeShouting, "iiiii"}}},
		{"fuuuuuck", []span{{CodeAbuseProfanity, "fuuuuuck"}, {CodeShouting, "uuuuu"}}},
		{"fuck you", []span{{CodeAbuseInsult, "fuck you"}, {CodeAbuseProfanity, "fuck"}}},
		{"f.u.c.k and s h i t", []span{{CodeAbuseProfanity, "f.u.c.k"}, {CodeAbuseProfanity, "s h i t"}}},
		{"u s a, a b c d", nil},
		{"ѕhit", []span{{CodeAbuseProfanity, "ѕhit"}, {CodeMixedScript, "ѕhit"}}},
		{"sh\u200bit", []span{{CodeAbuseProfanity, "sh\u200bit"}, {CodeHiddenZeroWidth, "\u200b"}}},
		{"Scunthorpe, assess, class, cl@ss, shiitake, shitake, cocktail, Essex, bass, passion, Dickens", nil},
		{"killer deal, this drill kills it, to die for, sick bass, dead battery", nil},
		{"stupid simple, idiot-proof, idiot proof, fool-proof, stupid me, what a stupid lid", nil},
		{"Galaxy A55 and S23", nil},
		{"I will kill you", []span{{CodeAbuseThreat, "I will kill you"}}},
		{"im gonna find you and kill you", []span{{CodeAbuseThreat, "im gonna find you and kill you"}}},
		{"I'll burn your store down", []span{{CodeAbuseThreat, "I'll burn your store down"}}},
		{"I know where you live", []span{{CodeAbuseThreat, "know where you live"}}},
		{"refund now or you'll regret it", []span{{CodeAbuseThreat, "you'll regret it"}}},
		{"watch your back", []span{{CodeAbuseThreat, "watch your back"}}},
		{"go kill yourself", []span{{CodeAbuseThreat, "kill yourself"}}},
		{"this candle could burn your house down", nil},
		{"you will regret not buying it; you will regret it if you skip this", nil},
		{"these heels will kill you, I'll find you a bigger size", nil},
		{"we will beat your price", nil},
		{"drop dead gorgeous dress", nil},
		// Hidden characters and scripts.
		{"a\u200b\u200cb", []span{{CodeHiddenZeroWidth, "\u200b\u200c"}}},
		{"\ufeffhello", nil},
		{"👨\u200d👩\u200d👧 family", nil},
		{"❤\ufe0f 1\ufe0f\u20e3", nil},
		{"می\u200cخواهم", nil},
		{"abc\u202edef", []span{{CodeHiddenBidi, "\u202e"}}},
		{"price\u200e 20", []span{{CodeHiddenBidi, "\u200e"}}},
		{"שלום\u200f עולם", nil},
		{"tag\U000E0041\U000E0042", []span{{CodeHiddenZeroWidth, "\U000E0041\U000E0042"}}},
		{"pаypal", []span{{CodeMixedScript, "pаypal"}}},
		{"Москва and Αθήνα", nil},
		{"10μF capacitor, 5Ω", nil},
		// Shouting.
		{"THIS IS THE WORST PRODUCT EVER MADE", []span{{CodeShouting, "THIS IS THE WORST PRODUCT EVER MADE"}}},
		{"  WHY DOES NOBODY ANSWER MY EMAILS  ", []span{{CodeShouting, "WHY DOES NOBODY ANSWER MY EMAILS"}}},
		{"USB-C and HDMI work with my LG TV", nil},
		{"what??? no!!! yes...", nil},
		{"why????", []span{{CodeShouting, "????"}}},
		{"brrrrr cold", []span{{CodeShouting, "rrrrr"}}},
		// Spam.
		{"earn $300 a day", []span{{CodeSpamPhrase, "earn $300 a day"}}},
		{"make 500 dollars per week", []span{{CodeSpamPhrase, "make 500 dollars per week"}}},
		{"work from home and earn", []span{{CodeSpamPhrase, "work from home and earn"}}},
		{"limited time offer", []span{{CodeSpamPhrase, "limited time offer"}}},
		{"100% free", []span{{CodeSpamPhrase, "100% free"}}},
		{"100% free of BPA, 100% cotton", nil},
		{"buy instagram followers", []span{{CodeSpamPhrase, "buy instagram followers"}}},
		{"cheap replicas", []span{{CodeSpamPhrase, "cheap replicas"}}},
		{"online casino", []span{{CodeSpamPhrase, "casino"}}},
		{"use promo code SAVE10", []span{{CodeSpamPhrase, "use promo code"}}},
		{"subscribe to my channel", []span{{CodeSpamPhrase, "subscribe to my channel"}}},
		{"I make 2 cups a day", nil},
		{"I used the promo code from the newsletter", nil},
		{"follow the instructions", nil},
	}
	for _, tt := range tests {
		fs := Scan(tt.text, nil)
		checkFindings(t, tt.text, fs)
		got := spans(tt.text, fs)
		if !slices.Equal(got, tt.want) {
			t.Errorf("Scan(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// TestScanAppends checks that Scan keeps what dst holds and sorts only
// what it adds.
func TestScanAppends(t *testing.T) {
	old := Finding{Code: CodeLink, Start: 50, End: 60, Detail: "link"}
	fs := Scan("you idiot", []Finding{old})
	if len(fs) != 2 || fs[0] != old || fs[1].Code != CodeAbuseInsult {
		t.Fatalf("Scan with dst = %+v", fs)
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{"", "you idiot", "call +44 7911 123456", "jane at gmail dot com", "\xff\xfe@\u200b",
		"0 7 9 1 1 1 2 3 4 5 6", "t.me/x", "f*ck", "pаypal", "HELLO WORLD HELLO WORLD!!!!", "a\u202e\u0301b"} {
		f.Add(s)
	}
	for _, line := range readLines(f, "bad.txt") {
		_, text, _ := strings.Cut(line, "\t")
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fs := Scan(text, nil)
		for i, fd := range fs {
			if fd.Start < 0 || fd.End > len(text) || fd.Start >= fd.End {
				t.Fatalf("finding %+v out of range of %d bytes", fd, len(text))
			}
			if i > 0 && fs[i-1].Start > fd.Start {
				t.Fatalf("findings out of order: %+v", fs)
			}
			if fd.Code == "" || fd.Detail == "" {
				t.Fatalf("finding %+v without code or detail", fd)
			}
			if utf8.ValidString(text) && (!utf8.RuneStart(text[fd.Start]) || fd.End < len(text) && !utf8.RuneStart(text[fd.End])) {
				t.Fatalf("finding %+v splits a character of %q", fd, text)
			}
		}
	})
}

// TestScanLongInputs runs Scan on long inputs built to make it slow or
// make it fail (a sentence repeating a phrase whose condition reads the
// sentence, long chains of single letters, of digits, of handles). The
// time bound is generous: it catches quadratic time, not slowness.
func TestScanLongInputs(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("you will regret it ", 20000),
		strings.Repeat("friends and family ", 20000),
		strings.Repeat("a.", 50000) + " at gmail dot com",
		strings.Repeat("a.a.a at b.c ", 10000),
		strings.Repeat("1 ", 100000),
		strings.Repeat("oh ", 100000),
		strings.Repeat("@aaa telegram ", 20000),
		"x" + strings.Repeat("\u0301", 100000),
		strings.Repeat("f u c k ", 20000),
		strings.Repeat("bitcoin whatsapp ", 20000),
		strings.Repeat("t.me/", 50000),
		strings.Repeat("\u200b", 100000),
		strings.Repeat("i will ", 20000) + "kill you",
		strings.Repeat("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa ", 5000),
		strings.Repeat("!", 100000),
		strings.Repeat("f*ck 1*1*1 ", 20000),
		strings.Repeat("ﷺ", 30000),
	} {
		start := time.Now()
		fs := Scan(s, nil)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Scan(%q...) of %d bytes took %v", s[:20], len(s), d)
		}
		checkFindings(t, s[:min(len(s), 300)], Scan(s[:min(len(s), 300)], nil))
		for i, f := range fs {
			if f.Start < 0 || f.End > len(s) || f.Start >= f.End || i > 0 && fs[i-1].Start > f.Start {
				t.Fatalf("Scan(%q...): bad finding %+v", s[:20], f)
			}
		}
	}
}

func TestScanHuge(t *testing.T) {
	text := strings.Repeat("call me on 07911 123456 you idiot \u200b\xff ", 20000)
	fs := Scan(text, nil)
	if len(fs) != 3*20000 {
		t.Errorf("%d findings, want %d", len(fs), 3*20000)
	}
	checkFindings(t, text[:200], Scan(text[:200], nil))
}

// benchGenuine is a genuine review of about 600 bytes.
const benchGenuine = `Bought the WH-1000XM5 for $349.99 on 2024-03-15 and it arrived 03/18/2024, two days early. ` +
	`Noise cancelling is excellent on flights and the 30 hour battery claim holds up: I charged it on Monday and ` +
	`it was at 40% on Thursday after about 18 hours of use. The ear cups are comfortable for my size 7 1/4 head, ` +
	`though they get warm after 2 hours. Pairing with my Pixel 8 and MacBook Air was simple, switching between them ` +
	`takes a few seconds. The app has a 10 band EQ which helps, I set the bass to +3. Case is sturdy, 22 x 18 cm. ` +
	`Would buy again, 4 out of 5 stars because the touch controls are a bit too sensitive in the rain.`

// benchSpam is a spammy listing of about 600 bytes.
const benchSpam = `🔥🔥 LIMITED TIME OFFER!!!! Cheap replicas of all brands, 100% free shipping. Contact me directly on ` +
	`WhatsApp +44 7911 123456 or Telegram @cheapdeals24 (t.me/cheapdeals24) to avoid the fees. I accept bank ` +
	`transfer, Western Union, Steam gift cards and bitcoin: 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa. PayPal F&F only. ` +
	`Earn $500 per day working from home, click here and visit my profile. Email jane at gmail dot com or ` +
	`sales(at)cheapwatches(dot)net. Don't be an idiot, you will regret it if you miss this. ` +
	`Zero seven nine one one, one two three, four five six. pаypal accepted. Follow me for more!!!`

func BenchmarkScan(b *testing.B) {
	for _, bc := range []struct{ name, text string }{{"genuine", benchGenuine}, {"spam", benchSpam}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.text)))
			dst := make([]Finding, 0, 64)
			for b.Loop() {
				dst = Scan(bc.text, dst[:0])
			}
		})
	}
}
