package content

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/phishing"
)

// Task is what a text model of posts predicts.
type Task int

// Tasks of the text models.
const (
	TaskSpam Task = iota
	TaskFakeReview
	TaskAbuse
	// NumTasks is the number of tasks.
	NumTasks
)

// Tasks lists every task, in the order of their names.
var Tasks = []Task{TaskSpam, TaskFakeReview, TaskAbuse}

var taskNames = [NumTasks]string{TaskSpam: "spam", TaskFakeReview: "fake_review", TaskAbuse: "abuse"}

// String returns the task's name: spam, fake_review or abuse.
func (t Task) String() string {
	if t >= 0 && t < NumTasks {
		return taskNames[t]
	}
	return fmt.Sprintf("Task(%d)", int(t))
}

// ParseTask returns the task named s.
func ParseTask(s string) (Task, error) {
	for t, n := range taskNames {
		if n == s {
			return Task(t), nil
		}
	}
	return 0, fmt.Errorf("content: unknown task %q (spam, fake_review or abuse)", s)
}

// TaskModel is a trained text model of a task — one logistic regression
// or the weighted mean of several over different n-grams — and its
// version.
type TaskModel struct {
	Model   *text.Ensemble
	Version string
}

// URLChecker judges a link for a tenant (a *phishing.Checker).
type URLChecker interface {
	CheckURL(tenant string, u phishing.URL, protected phishing.Protected) phishing.Result
}

// MaxLinks is how many links of a post are checked; the rest count only.
const MaxLinks = 20

// Analyzer computes what a post's text says: findings, links and their
// phishing verdicts, the text models' scores and the near-duplicate bands.
// It is safe for concurrent use; models can be swapped while it serves.
type Analyzer struct {
	urls   URLChecker
	models [NumTasks]atomic.Pointer[TaskModel]
	shadow [NumTasks]atomic.Pointer[TaskModel]
}

// NewAnalyzer returns an analyzer that checks links with urls (nil:
// phishing.NewChecker(nil), the rules without lists or model).
func NewAnalyzer(urls URLChecker) *Analyzer {
	if urls == nil {
		urls = phishing.NewChecker(nil)
	}
	return &Analyzer{urls: urls}
}

// SetModel makes m the task's model (nil: none). A shadow model is scored
// and recorded with every post but decides nothing, so that a new model
// can be compared with the one in use on live traffic before it is
// promoted.
func (a *Analyzer) SetModel(t Task, m *TaskModel, shadow bool) {
	if t < 0 || t >= NumTasks {
		return
	}
	if shadow {
		a.shadow[t].Store(m)
	} else {
		a.models[t].Store(m)
	}
}

// Model returns the task's model (or shadow model), nil when none.
func (a *Analyzer) Model(t Task, shadow bool) *TaskModel {
	if t < 0 || t >= NumTasks {
		return nil
	}
	if shadow {
		return a.shadow[t].Load()
	}
	return a.models[t].Load()
}

// Analysis is what the text of a post says.
type Analysis struct {
	// Findings are in the title, then the text, each in Start order.
	Findings []Finding
	// Links are the links found, at most MaxLinks checked; LinksFound
	// counts all.
	Links      []LinkVerdict
	LinksFound int
	// Bands are the near-duplicate band keys of the title and text.
	Bands []uint64
	// Model and Shadow hold each task's model probability (0..1) and
	// version ("" without a model).
	Model, Shadow [NumTasks]ModelScore
	// Words is the number of words of title and text.
	Words int
}

// ModelScore is one text model's probability for a post.
type ModelScore struct {
	Probability float64
	Version     string
}

// LinkVerdict is the phishing check of one link of a post.
type LinkVerdict struct {
	Field            string `json:"field"`
	Start            int    `json:"start"`
	End              int    `json:"end"`
	URL              string `json:"url"`
	RegisteredDomain string `json:"registered_domain,omitempty"`
	Score            int    `json:"score"`
	Verdict          string `json:"verdict"`
	// Reason is the weightiest reason of the check.
	Reason string `json:"reason,omitempty"`
}

// Analyze analyses p's title and text for tenant, checking links against
// the protected domains, and keeps the analysis with p for its
// environment (engine.Decide). p must be valid.
func (a *Analyzer) Analyze(tenant string, p *Post, protected phishing.Protected) *Analysis {
	an := &Analysis{}
	for _, f := range [...]struct{ name, text string }{{"title", p.Title}, {"text", p.Text}} {
		if f.text == "" {
			continue
		}
		start := len(an.Findings)
		an.Findings = Scan(f.text, an.Findings)
		for i := start; i < len(an.Findings); i++ {
			an.Findings[i].Field = f.name
		}
		a.links(tenant, f.name, f.text, protected, an)
		slices.SortStableFunc(an.Findings[start:], func(x, y Finding) int { return x.Start - y.Start })
	}
	whole := p.Text
	if p.Title != "" {
		whole = p.Title + "\n" + p.Text
	}
	norm := Normalize(whole)
	an.Words = countWords(norm.Text)
	an.Bands = Bands(norm.Text, nil)
	a.score(p.PostKind, norm.Text, an)
	p.analysis = an
	return an
}

// score runs the text models that apply to a post of kind on its
// normalised text, all at once (text.ScoreModels hashes the text once and
// counts it once for models with the same n-grams).
func (a *Analyzer) score(kind, normalized string, an *Analysis) {
	type run struct {
		m   *TaskModel
		out *ModelScore
	}
	var room [2 * NumTasks]run
	runs := room[:0]
	var mroom [8]*text.Model
	models := mroom[:0]
	for t := range NumTasks {
		if t == TaskFakeReview && kind != KindReview {
			continue // only a review can be a fake review (scoreEnv reads it for reviews only)
		}
		for _, r := range [...]run{{a.models[t].Load(), &an.Model[t]}, {a.shadow[t].Load(), &an.Shadow[t]}} {
			if r.m != nil && r.m.Model != nil {
				runs = append(runs, r)
				models = append(models, r.m.Model.Models...)
			}
		}
	}
	if len(runs) == 0 {
		return
	}
	var proom [8]float64
	probs := append(proom[:0], make([]float64, len(models))...)
	text.ScoreModels(normalized, models, probs)
	for _, r := range runs {
		var prob float64
		for k := range r.m.Model.Models {
			prob += r.m.Model.Weights[k] * probs[0]
			probs = probs[1:]
		}
		*r.out = ModelScore{Probability: min(max(prob, 0), 1), Version: r.m.Version}
	}
}

// links checks the links of one field.
func (a *Analyzer) links(tenant, field, s string, protected phishing.Protected, an *Analysis) {
	for _, l := range phishing.ExtractLinks(s) {
		u, web := l.ParseWeb()
		if !web {
			continue
		}
		an.LinksFound++
		an.Findings = append(an.Findings, Finding{Code: CodeLink, Field: field, Start: l.Start, End: l.End, Detail: "link to " + l.Href})
		if len(an.Links) >= MaxLinks {
			continue
		}
		res := a.urls.CheckURL(tenant, u, protected)
		v := LinkVerdict{Field: field, Start: l.Start, End: l.End, URL: l.Href, RegisteredDomain: res.RegisteredDomain,
			Score: res.Score, Verdict: res.Verdict}
		best := 0
		for _, r := range res.Reasons {
			if r.Weight > best {
				best, v.Reason = r.Weight, r.Message
			}
		}
		an.Links = append(an.Links, v)
		code := ""
		switch res.Verdict {
		case phishing.VerdictPhishing:
			code = CodeLinkPhishing
		case phishing.VerdictSuspicious:
			code = CodeLinkSuspicious
		}
		if code != "" {
			detail := fmt.Sprintf("link to %s judged %s (%d/100)", l.Href, res.Verdict, res.Score)
			if v.Reason != "" {
				detail += ": " + v.Reason
			}
			an.Findings = append(an.Findings, Finding{Code: code, Field: field, Start: l.Start, End: l.End, Detail: detail})
		}
	}
}

// countWords counts the runs of letters and digits of a normalised text.
func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		w := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 0x80 && r != 0xa0
		if w && !in {
			n++
		}
		in = w
	}
	return n
}
