package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// funcs are the template helpers.
var funcs = template.FuncMap{
	// backedUp reads a passkey's backup-state flag (synced to the user's
	// other devices).
	"backedUp": func(flags byte) bool { return flags&0x10 != 0 },
	"money":    formatMoney,
	"ago":      ago,
	"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"reasons":  sortedReasons,
	"pct":      func(f *float64) string { return pct(f) },
	"actClass": func(a risk.Action) string { return "act-" + string(a) },
	"topReason": func(a risk.Assessment) string {
		if len(a.Reasons) == 0 {
			return ""
		}
		return a.Reasons[0].Message
	},
	"labels": func(ls []storage.Label) string {
		var out []string
		for _, l := range ls {
			out = append(out, string(l.Label))
		}
		return strings.Join(out, ", ")
	},
	"pretty": func(raw []byte) string {
		var b bytes.Buffer
		if json.Indent(&b, raw, "", "  ") != nil {
			return string(raw)
		}
		return b.String()
	},
	"query": func(kv ...string) template.URL {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				v.Set(kv[i], kv[i+1])
			}
		}
		return template.URL(v.Encode())
	},
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// formatMoney formats minor units of a currency, assuming two decimals
// (the dashboard's summary view; exact exponents live in the engine).
func formatMoney(minor int64, currency string) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := strconv.FormatInt(minor/100, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := fmt.Sprintf("%s.%02d %s", b.String(), minor%100, currency)
	if neg {
		return "-" + out
	}
	return strings.TrimSpace(out)
}

func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func pct(f *float64) string {
	if f == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", *f*100)
}

// entity is one entity an event involves.
type entity struct {
	Kind  string // user, email, ip, device, card, address
	Value string
}

// entityPaths are where event inputs name their entities.
var entityPaths = []struct{ kind, path string }{
	{"user", "user.id"}, {"email", "user.email"}, {"ip", "ip"}, {"device", "device_id"},
	{"card", "payment.card_fingerprint"},
}

// entitiesOf returns the entities named in an event's input.
func entitiesOf(payload []byte) []entity {
	var m map[string]any
	if json.Unmarshal(payload, &m) != nil {
		return nil
	}
	var out []entity
	for _, p := range entityPaths {
		var cur any = m
		for _, part := range strings.Split(p.path, ".") {
			obj, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = obj[part]
		}
		if s, ok := cur.(string); ok && s != "" {
			out = append(out, entity{Kind: p.kind, Value: s})
		}
	}
	return out
}

// needle is the search text that finds an entity's events: the value as a
// JSON string.
func needle(value string) string {
	b, _ := json.Marshal(value)
	return string(b)
}
