package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/phishing"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// The moderation queue shows posts (events of kind content) to
// moderators: the text with what the content checks found in it
// highlighted, the four scores, and one-click verdicts that become the
// labels the text models are trained on (`shopguard train content
// --labels`). Findings are not stored with an event; they are
// deterministic, so they are computed again here from the stored text.

// moderationRoutes registers the moderation pages.
func (s *Server) moderationRoutes() {
	s.mux.HandleFunc("GET "+Prefix+"/moderation", s.page(anyone, s.moderation))
	s.mux.HandleFunc("GET "+Prefix+"/moderation/{id}", s.page(anyone, s.moderationItem))
	s.mux.HandleFunc("POST "+Prefix+"/moderation/{id}/verdict", s.page(anyone, s.moderationVerdict))
}

// moderationFuncs are the template helpers of the moderation partial
// (_moderation.html), for pages that show a stored post.
func moderationFuncs() template.FuncMap {
	return template.FuncMap{
		// contentPost returns a content event as a moderation item (nil
		// for other kinds): {{with contentPost .Event}}{{template "modpost" .}}{{end}}.
		"contentPost": func(ev storage.Event) *modItem {
			if ev.Kind != risk.EventContent {
				return nil
			}
			it := newModItem(ev)
			return &it
		},
	}
}

// modTab is one tab of the queue: the actions of the posts it shows.
type modTab struct {
	Name, Text string
	Actions    []risk.Action
}

// modTabs are the queue's tabs; the first is the default.
var modTabs = []modTab{
	{"held", "All held", []risk.Action{risk.ActionReview, risk.ActionChallenge}},
	{"rejected", "Rejected", []risk.Action{risk.ActionBlock}},
	{"published", "Published", []risk.Action{risk.ActionAllow}},
}

// modFilter is the queue's filter: a tab and a kind of post.
type modFilter struct {
	Tab, Kind string
}

// moderationView is the moderation queue.
type moderationView struct {
	Filter modFilter
	Tabs   []modTab
	Kinds  []string
	Items  []modItem
	Older  int64 // BeforeSeq for the next page, 0 if none
	Scan   int64
}

// modItem is one post as a moderator sees it.
type modItem struct {
	Event storage.Event
	Post  content.Post
	// Broken is set when the stored payload is not a post.
	Broken bool
	// Title and Text are the post's, HTML-escaped, with the findings in
	// <mark> elements.
	Title, Text template.HTML
	// Findings counts the highlighted findings of title and text.
	Findings int
	Scores   []modScore
	// Campaign is how many accounts posted near-copies in 24 h (0 or 1:
	// none).
	Campaign int64
	Verdicts []modVerdict
}

// modScore is one of a post's four scores with the text models behind it.
type modScore struct {
	Name  string
	Value float64
	// Text says a text model can contribute to the score.
	Text bool
	// Model and Shadow are the live and the shadow text model's
	// probabilities (nil: no such model, or no model for the score).
	Model, Shadow *modModel
}

// modModel is one text model's probability (0-100) and version.
type modModel struct {
	Value   float64
	Version string
}

// modVerdict is one verdict button.
type modVerdict struct {
	Name, Text, Class string
	Label             risk.Label
}

// modVerdicts returns the verdicts for a post decided with action:
// approving a rejected post says the rejection was a false positive.
func modVerdicts(action risk.Action) []modVerdict {
	approve := modVerdict{"approve", "Approve", "good", risk.LabelLegit}
	if action == risk.ActionBlock {
		approve = modVerdict{"approve", "Approve (false positive)", "good", risk.LabelFalsePositive}
	}
	return []modVerdict{approve,
		{"spam", "Spam", "danger", risk.LabelSpam},
		{"abuse", "Abuse", "danger", risk.LabelAbuse},
		{"fraud", "Fake review / fraud", "danger", risk.LabelFraud},
	}
}

// parseModFilter reads the queue's filter and search from the query,
// returning field errors.
func (s *Server) parseModFilter(r *http.Request) (modFilter, storage.EventSearch, map[string]string) {
	q := r.URL.Query()
	f := modFilter{Tab: q.Get("tab"), Kind: q.Get("kind")}
	if f.Tab == "" {
		f.Tab = modTabs[0].Name
	}
	search := storage.EventSearch{Kind: risk.EventContent, Unlabelled: true, Limit: pageSize, ScanLimit: s.cfg.ScanLimit}
	errs := map[string]string{}
	if i := slices.IndexFunc(modTabs, func(t modTab) bool { return t.Name == f.Tab }); i >= 0 {
		search.Actions = modTabs[i].Actions
	} else {
		errs["tab"] = "unknown tab"
	}
	if f.Kind != "" {
		if !slices.Contains(content.Kinds, f.Kind) {
			errs["kind"] = "unknown kind"
		}
		// Stored payloads are compact JSON, and a quote inside a string
		// value is escaped: only the post's own kind matches. Decoded
		// posts are checked again.
		search.Contains = `"kind":` + needle(f.Kind)
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			errs["before"] = "a page cursor"
		}
		search.BeforeSeq = n
	}
	return f, search, errs
}

func (s *Server) moderation(w http.ResponseWriter, r *http.Request, sess *session) {
	f, search, errs := s.parseModFilter(r)
	v := moderationView{Filter: f, Tabs: modTabs, Kinds: content.Kinds, Scan: s.cfg.ScanLimit}
	status := http.StatusOK
	if len(errs) == 0 {
		search.Tenant = sess.user.Tenant
		evs, err := s.store.SearchEvents(r.Context(), search)
		if err != nil {
			s.log.Error("dashboard: moderation queue", "error", err)
			s.fail(w, r, sess, http.StatusServiceUnavailable, "The moderation queue could not be loaded.")
			return
		}
		for _, ev := range evs {
			it := newModItem(ev)
			if f.Kind != "" && it.Post.PostKind != f.Kind {
				continue
			}
			v.Items = append(v.Items, it)
		}
		if len(evs) == pageSize {
			v.Older = evs[len(evs)-1].Seq
		}
	} else {
		status = http.StatusBadRequest
	}
	s.render(w, status, "moderation", view{Title: "Moderation", Nav: "moderation", User: &sess.user, CSRF: sess.csrf,
		Flash: r.URL.Query().Get("done"), Data: v, Errors: errs})
}

// contentEvent loads the tenant's content event named in the path,
// failing the request when there is none.
func (s *Server) contentEvent(w http.ResponseWriter, r *http.Request, sess *session) (storage.Event, bool) {
	ev, err := s.eng.Event(r.Context(), sess.user.Tenant, r.PathValue("id"))
	if errors.Is(err, storage.ErrNotFound) || err == nil && ev.Kind != risk.EventContent {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such post.")
		return storage.Event{}, false
	}
	if err != nil {
		s.log.Error("dashboard: post", "error", err)
		s.fail(w, r, sess, http.StatusServiceUnavailable, "The post could not be loaded.")
		return storage.Event{}, false
	}
	return ev, true
}

// modItemView is one post on its own page.
type modItemView struct {
	Event    storage.Event
	Verdicts []modVerdict
}

func (s *Server) moderationItem(w http.ResponseWriter, r *http.Request, sess *session) {
	ev, ok := s.contentEvent(w, r, sess)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "post", view{Title: "Post " + ev.ExternalID, Nav: "moderation", User: &sess.user, CSRF: sess.csrf,
		Flash: r.URL.Query().Get("done"), Data: modItemView{Event: ev, Verdicts: modVerdicts(ev.Assessment.Action)}})
}

// moderationVerdict labels a post through the same feedback path as the
// API and the events' verdicts, and goes back to where it came from.
func (s *Server) moderationVerdict(w http.ResponseWriter, r *http.Request, sess *session) {
	ev, ok := s.contentEvent(w, r, sess)
	if !ok {
		return
	}
	name := r.PostForm.Get("verdict")
	i := slices.IndexFunc(modVerdicts(ev.Assessment.Action), func(v modVerdict) bool { return v.Name == name })
	if i < 0 {
		s.fail(w, r, sess, http.StatusBadRequest, "Choose a verdict.")
		return
	}
	label := modVerdicts(ev.Assessment.Action)[i].Label
	l, err := s.eng.AddFeedback(r.Context(), sess.user.Tenant, engine.Feedback{EventID: ev.ID, Label: string(label),
		Source: "analyst:" + sess.user.Name})
	if errors.Is(err, storage.ErrNotFound) {
		s.fail(w, r, sess, http.StatusNotFound, "There is no such post.")
		return
	}
	if err != nil {
		s.log.Error("dashboard: moderation verdict", "error", err)
		s.fail(w, r, sess, http.StatusBadRequest, "The verdict was not saved: "+err.Error())
		return
	}
	s.audit(r.Context(), sess, "verdict", ev.ID, fmt.Sprintf("label %s (label id %d): moderation %s", label, l.ID, name))
	done := fmt.Sprintf("Verdict saved: %s %s.", ev.ExternalID, label)
	if r.PostForm.Get("next") == "item" {
		http.Redirect(w, r, Prefix+"/moderation/"+ev.ID+"?done="+urlQueryEscape(done), http.StatusSeeOther)
		return
	}
	// Back to the same tab and kind (only known values, never a path).
	f := modFilter{Tab: r.PostForm.Get("tab"), Kind: r.PostForm.Get("kind")}
	if !slices.ContainsFunc(modTabs, func(t modTab) bool { return t.Name == f.Tab }) {
		f.Tab = ""
	}
	if !slices.Contains(content.Kinds, f.Kind) {
		f.Kind = ""
	}
	q := "?"
	if f.Tab != "" {
		q += "tab=" + urlQueryEscape(f.Tab) + "&"
	}
	if f.Kind != "" {
		q += "kind=" + urlQueryEscape(f.Kind) + "&"
	}
	http.Redirect(w, r, Prefix+"/moderation"+q+"done="+urlQueryEscape(done), http.StatusSeeOther)
}

// newModItem decodes a stored post and its environment and highlights
// the findings in its title and text.
func newModItem(ev storage.Event) modItem {
	it := modItem{Event: ev, Verdicts: modVerdicts(ev.Assessment.Action)}
	if err := json.Unmarshal(ev.Payload, &it.Post); err != nil {
		it.Broken = true
	}
	var n int
	it.Title, n = highlightFindings(it.Post.Title)
	it.Findings += n
	it.Text, n = highlightFindings(it.Post.Text)
	it.Findings += n

	env := content.NewEnv()
	if json.Unmarshal(ev.Env, env) != nil {
		env = content.NewEnv()
	}
	if env.Scores == nil {
		env.Scores = &content.Scores{}
	}
	tm := env.TextModels
	if tm == nil {
		tm = &content.TextModels{}
	}
	model := func(m *content.TextModels, task content.Task) *modModel {
		if m == nil {
			return nil
		}
		switch task {
		case content.TaskSpam:
			if m.SpamVersion != "" {
				return &modModel{m.Spam, m.SpamVersion}
			}
		case content.TaskFakeReview:
			if m.FakeVersion != "" {
				return &modModel{m.FakeReview, m.FakeVersion}
			}
		case content.TaskAbuse:
			if m.AbuseVer != "" {
				return &modModel{m.Abuse, m.AbuseVer}
			}
		}
		return nil
	}
	it.Scores = []modScore{
		{Name: "Spam", Text: true, Value: env.Scores.Spam, Model: model(tm, content.TaskSpam), Shadow: model(env.Shadow, content.TaskSpam)},
		{Name: "Links", Value: env.Scores.Links},
		{Name: "Fake review", Text: true, Value: env.Scores.FakeReview, Model: model(tm, content.TaskFakeReview), Shadow: model(env.Shadow, content.TaskFakeReview)},
		{Name: "Abuse", Text: true, Value: env.Scores.Abuse, Model: model(tm, content.TaskAbuse), Shadow: model(env.Shadow, content.TaskAbuse)},
	}
	if env.Features != nil && env.Features.Campaign != nil {
		it.Campaign = env.Features.Campaign.Authors24h
	}
	return it
}

// postFindings returns what the content checks find in one field of a
// post: Scan's findings and the web links, as the assessment found them
// (the links' phishing verdicts are not stored: they show as links).
func postFindings(text string) []content.Finding {
	if text == "" {
		return nil
	}
	fs := content.Scan(text, nil)
	for _, l := range phishing.ExtractLinks(text) {
		if l.Web() {
			fs = append(fs, content.Finding{Code: content.CodeLink, Start: l.Start, End: l.End, Detail: "link to " + l.Href})
		}
	}
	return fs
}

// highlightFindings returns text as HTML with its findings highlighted,
// and how many findings it shows.
func highlightFindings(text string) (template.HTML, int) {
	fs := postFindings(text)
	return highlight(text, fs), len(fs)
}

// highlight returns text as HTML: every character escaped, line breaks
// as <br>, invisible characters made visible, and each stretch covered
// by findings in a <mark> whose title gives the findings' details.
// Overlapping findings split the text into stretches covered by the same
// findings; findings whose offsets do not fall on character boundaries of
// text are left out.
func highlight(text string, fs []content.Finding) template.HTML {
	valid := fs[:0:0]
	cuts := []int{0, len(text)}
	for _, f := range fs {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End || !boundary(text, f.Start) || !boundary(text, f.End) {
			continue
		}
		valid = append(valid, f)
		cuts = append(cuts, f.Start, f.End)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var b strings.Builder
	b.Grow(len(text) + len(text)/8)
	var prev []int // the findings covering the open <mark>, nil when none is open
	for i := 0; i+1 < len(cuts); i++ {
		lo, hi := cuts[i], cuts[i+1]
		var cover []int
		for j, f := range valid {
			if f.Start <= lo && hi <= f.End {
				cover = append(cover, j)
			}
		}
		if prev != nil && !slices.Equal(prev, cover) {
			b.WriteString("</mark>")
			prev = nil
		}
		if cover != nil && prev == nil {
			var details, codes []string
			for _, j := range cover {
				if d := valid[j].Detail; d != "" && !slices.Contains(details, d) {
					details = append(details, d)
				}
				if c := valid[j].Code; !slices.Contains(codes, c) {
					codes = append(codes, c)
				}
			}
			b.WriteString(`<mark title="`)
			b.WriteString(template.HTMLEscapeString(visible(strings.Join(details, "; "))))
			b.WriteString(`" data-codes="`)
			b.WriteString(template.HTMLEscapeString(strings.Join(codes, " ")))
			b.WriteString(`">`)
			prev = cover
		}
		writeEscaped(&b, text[lo:hi])
	}
	if prev != nil {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}

// boundary reports whether offset i of s starts a character (or ends s).
func boundary(s string, i int) bool {
	return i == len(s) || utf8.RuneStart(s[i])
}

// writeEscaped writes s as HTML text: the special characters escaped,
// invalid UTF-8 as U+FFFD, line feeds as <br>, and invisible formatting
// characters (zero-width, direction overrides) as their code points in
// <code>, so that they can neither hide nor reorder what the moderator
// reads.
func writeEscaped(b *strings.Builder, s string) {
	for i, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&#34;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == 0:
			b.WriteString("\uFFFD")
		case r == '\n':
			b.WriteString("<br>\n")
		case r == '\r':
			if i+1 >= len(s) || s[i+1] != '\n' {
				b.WriteString("<br>\n")
			}
		case unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(b, `<code class="invisible">U+%04X</code>`, r)
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes
		}
	}
}

// visible spells out invisible formatting characters as code points (for
// attribute values, which hold no markup).
func visible(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			fmt.Fprintf(&b, "U+%04X", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
