package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/config"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// trainContentData is the fixtures' directory.
var trainContentData = filepath.Join("testdata", "traincontent")

// TestTrainContentLoaders reads every input format of train content and
// checks the counts, the first example and the errors' file and line.
func TestTrainContentLoaders(t *testing.T) {
	for _, tc := range []struct {
		name       string
		task       content.Task
		file       string
		n, pos     int
		first      string
		firstLabel bool
		wantErr    string // "" for none
	}{
		{name: "spam tsv: header, blank line and CRLF skipped", task: content.TaskSpam, file: "spam.tsv", n: 24, pos: 12,
			first: "WIN a FREE iPhone!!! Click http://free-prizes.example/claim now to claim your reward", firstLabel: true},
		{name: "abuse tsv", task: content.TaskAbuse, file: "abuse.tsv", n: 30, pos: 15,
			first: "You are a complete idiot, nobody cares about your stupid opinion", firstLabel: true},
		{name: "fake review tsv, labels in any case", task: content.TaskFakeReview, file: "fake.tsv", n: 6, pos: 3,
			first: "My husband and I stayed here for our anniversary and it was the best hotel experience ever, we will definitely return!", firstLabel: true},
		{name: "jigsaw csv, a quoted comment over two lines", task: content.TaskAbuse, file: "toxic.csv", n: 4, pos: 2,
			first: "Thanks for the fix, the article reads much better now.", firstLabel: false},
		{name: "csv with text and target, 0.5 abusive", task: content.TaskAbuse, file: "civil.csv", n: 3, pos: 2,
			first: "I think the council got this one right.", firstLabel: false},
		{name: "op_spam root", task: content.TaskFakeReview, file: "op_spam", n: 10, pos: 5},
		{name: "op_spam polarity directory", task: content.TaskFakeReview, file: "op_spam/positive_polarity", n: 10, pos: 5},

		{name: "unknown label", task: content.TaskSpam, file: "bad_label.tsv", wantErr: "bad_label.tsv:3: label \"maybe\""},
		{name: "label of another task", task: content.TaskSpam, file: "abuse.tsv", wantErr: "abuse.tsv:1: label \"abuse\" is not one of --task spam's"},
		{name: "no tab", task: content.TaskSpam, file: "no_tab.tsv", wantErr: "no_tab.tsv:2: no tab"},
		{name: "no text", task: content.TaskSpam, file: "empty_text.tsv", wantErr: "empty_text.tsv:4: no text"},
		{name: "csv value not a number, after a two-line record", task: content.TaskAbuse, file: "bad_toxic.csv", wantErr: "bad_toxic.csv:5: toxic is \"yes\""},
		{name: "csv without the columns", task: content.TaskAbuse, file: "no_columns.csv", wantErr: "no_columns.csv:1: the header names no comment_text"},
		{name: "csv syntax", task: content.TaskAbuse, file: "bad_quote.csv", wantErr: "bad_quote.csv:3:"},
		{name: "csv for spam", task: content.TaskSpam, file: "toxic.csv", wantErr: "only --task abuse reads one"},
		{name: "directory for abuse", task: content.TaskAbuse, file: "op_spam", wantErr: "only --task fake_review reads one"},
		{name: "directory not in the op_spam layout", task: content.TaskFakeReview, file: "op_spam/positive_polarity/deceptive_from_MTurk", wantErr: "op_spam/positive_polarity/deceptive_from_MTurk"},
		{name: "missing file", task: content.TaskSpam, file: "nothing.tsv", wantErr: "nothing.tsv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			texts, labels, err := loadContentInput(tc.task, filepath.Join(trainContentData, tc.file))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v; want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ex := contentExamples{texts: texts, labels: labels}
			if len(texts) != tc.n || len(labels) != tc.n || ex.positives() != tc.pos {
				t.Fatalf("%d texts, %d labels, %d positive; want %d, %d positive", len(texts), len(labels), ex.positives(), tc.n, tc.pos)
			}
			if tc.first != "" && (texts[0] != tc.first || labels[0] != tc.firstLabel) {
				t.Errorf("first example %q (%v); want %q (%v)", texts[0], labels[0], tc.first, tc.firstLabel)
			}
			for i, s := range texts {
				if strings.ContainsAny(s, "\r") || strings.TrimSpace(s) == "" {
					t.Errorf("text %d is %q", i, s)
				}
			}
		})
	}
}

// TestTrainContentCSVMultiline checks that a quoted comment keeps its
// line feed: encoding/csv reads it, not a line splitter.
func TestTrainContentCSVMultiline(t *testing.T) {
	texts, labels, err := loadContentInput(content.TaskAbuse, filepath.Join(trainContentData, "toxic.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Thanks for the fix, the article reads much better now.", "You are an idiot and\nyour edits are garbage.",
		`Please cite a source, "as discussed" on the talk page.`, "Shut up, moron."}
	for i, w := range want {
		if texts[i] != w || labels[i] != (i%2 == 1) {
			t.Errorf("record %d: %q (%v); want %q (%v)", i+1, texts[i], labels[i], w, i%2 == 1)
		}
	}
}

// storedPost is a post saved as a content event with its labels.
type storedPost struct {
	tenant, id, title, text string
	kind                    risk.EventKind // "" for content
	labels                  []risk.Label
	payload                 string // "" to encode the post
}

// storePosts saves posts as events of the data directory's sqlite store,
// with their labels in the order given.
func storePosts(t *testing.T, dir string, posts []storedPost) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.Storage.DataDir = dir
	st, err := app.OpenStorage(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, sp := range posts {
		kind := sp.kind
		if kind == "" {
			kind = risk.EventContent
		}
		payload := []byte(sp.payload)
		if sp.payload == "" {
			payload, err = json.Marshal(content.Post{ID: sp.id, CreatedAt: at.Format(time.RFC3339), PostKind: content.KindComment,
				Title: sp.title, Text: sp.text, Author: content.Author{UserID: "u" + sp.id}})
			if err != nil {
				t.Fatal(err)
			}
		}
		occurred := at.Add(time.Duration(i) * time.Minute)
		e := &storage.Event{Tenant: sp.tenant, ID: "ev-" + sp.id, Kind: kind, ExternalID: sp.id, OccurredAt: occurred, ReceivedAt: occurred,
			Payload: payload, Env: json.RawMessage(`{}`), Assessment: risk.Assessment{Action: risk.ActionAllow}}
		if err := st.SaveEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		for _, l := range sp.labels {
			lab := &storage.Label{Tenant: sp.tenant, EventID: e.ID, Label: l, Source: "analyst:mo", OccurredAt: occurred, CreatedAt: occurred}
			if err := st.AddLabel(ctx, lab); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTrainContentStoreLabels turns moderators' labels on stored posts
// into each task's examples: the latest label counts, other kinds of
// event and other labels are left out, title and text are folded as the
// analyzer folds them.
func TestTrainContentStoreLabels(t *testing.T) {
	dir := t.TempDir()
	posts := []storedPost{
		{tenant: "shop", id: "1", title: "FREE Ｐｒｉｚｅ", text: "Click   now!!", labels: []risk.Label{risk.LabelSpam}},
		{tenant: "shop", id: "2", text: "Nice shoes, true to size.", labels: []risk.Label{risk.LabelLegit}},
		{tenant: "shop", id: "3", text: "You stupid idiot.", labels: []risk.Label{risk.LabelAbuse}},
		{tenant: "shop", id: "4", text: "Best hotel ever, perfect!", labels: []risk.Label{risk.LabelFraud}},
		{tenant: "shop", id: "5", text: "Flagged by mistake.", labels: []risk.Label{risk.LabelSpam, risk.LabelFalsePositive}},
		{tenant: "shop", id: "6", text: "First legit, then spam.", labels: []risk.Label{risk.LabelLegit, risk.LabelSpam}},
		{tenant: "shop", id: "7", text: "Spam, then a chargeback.", labels: []risk.Label{risk.LabelSpam, risk.LabelChargeback}},
		{tenant: "shop", id: "8", text: "Never labelled."},
		{tenant: "other", id: "1", text: "Another tenant's spam.", labels: []risk.Label{risk.LabelSpam}},
		{tenant: "shop", id: "9", kind: risk.EventMessage, payload: `{"id":"9","text":"a message, not a post"}`, labels: []risk.Label{risk.LabelSpam}},
		{tenant: "shop", id: "10", payload: `{"id":"10"}`, labels: []risk.Label{risk.LabelSpam}}, // fails Decode
	}
	storePosts(t, dir, posts)
	cfg := config.Default()
	cfg.Storage.DataDir = dir
	st, err := app.OpenStorage(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fold := func(title, text string) string {
		if title != "" {
			text = title + "\n" + text
		}
		return content.Normalize(text).Text
	}
	for _, tc := range []struct {
		task        content.Task
		want        map[string]bool // folded text: positive
		undecodable int
	}{
		{content.TaskSpam, map[string]bool{
			fold("FREE Ｐｒｉｚｅ", "Click   now!!"): true, fold("", "Nice shoes, true to size."): false,
			fold("", "Flagged by mistake."): false, fold("", "First legit, then spam."): true, fold("", "Another tenant's spam."): true,
		}, 1},
		{content.TaskAbuse, map[string]bool{
			fold("", "You stupid idiot."): true, fold("", "Nice shoes, true to size."): false, fold("", "Flagged by mistake."): false,
		}, 0},
		{content.TaskFakeReview, map[string]bool{
			fold("", "Best hotel ever, perfect!"): true, fold("", "Nice shoes, true to size."): false, fold("", "Flagged by mistake."): false,
		}, 0},
	} {
		t.Run(tc.task.String(), func(t *testing.T) {
			ex, undecodable, err := labelledPosts(context.Background(), st, tc.task)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for i, s := range ex.texts {
				got[s] = ex.labels[i]
			}
			if len(got) != len(ex.texts) || len(got) != len(tc.want) || undecodable != tc.undecodable {
				t.Fatalf("got %v (%d undecodable); want %v (%d)", got, undecodable, tc.want, tc.undecodable)
			}
			for s, l := range tc.want {
				if gl, ok := got[s]; !ok || gl != l {
					t.Errorf("%q: got %v (present %v); want %v", s, gl, ok, l)
				}
			}
		})
	}
	if fold("FREE Ｐｒｉｚｅ", "Click   now!!") != "free prize click now!!" {
		t.Errorf("the analyzer's folding changed: %q", fold("FREE Ｐｒｉｚｅ", "Click   now!!"))
	}
}

// TestTrainContentEndToEnd trains models with the command into a data
// directory, where a running shopguard would load them, and checks that
// the saved model tells a positive text from a negative one.
func TestTrainContentEndToEnd(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		task               content.Task
		args               []string
		shadow             bool
		want               []string
		positive, negative string
	}{
		{task: content.TaskAbuse, args: []string{"--input", filepath.Join(trainContentData, "abuse.tsv")},
			want:     []string{"30 (15 abusive, 15 not)", "characters 2-5 and words 1-2", "cross-validation  accuracy", "MCC", "decides from now on"},
			positive: "you stupid moron, shut up", negative: "the delivery was quick and the size fits"},
		{task: content.TaskSpam, args: []string{"--input", filepath.Join(trainContentData, "spam.tsv"), "--shadow", "--seed", "7"}, shadow: true,
			want:     []string{"24 (12 spam, 12 not)", "characters 2-5 and words 1-2", "spam.shadow.model", "scored in shadow"},
			positive: "WIN a FREE prize, click here to claim now", negative: "the jacket fits well and the fabric is soft"},
	} {
		t.Run(tc.task.String(), func(t *testing.T) {
			code, out := runShopguard(append([]string{"train", "content", "--data", dir, "--task", tc.task.String()}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			path := app.ContentModelPath(dir, tc.task, tc.shadow)
			for _, w := range append(tc.want, path, "training time") {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := text.DecodeEnsemble(b)
			if err != nil {
				t.Fatal(err)
			}
			blend := contentBlend(tc.task, 1)
			if len(m.Models) != len(blend.Views) {
				t.Fatalf("%d models; want %d", len(m.Models), len(blend.Views))
			}
			for i, v := range blend.Views {
				if m.Models[i].Features != v.Features {
					t.Errorf("model %d features %+v; want %+v", i, m.Models[i].Features, v.Features)
				}
			}
			pos, neg := m.Score(contentModelText("", tc.positive)), m.Score(contentModelText("", tc.negative))
			if pos <= neg || pos < 0.5 || neg >= 0.5 {
				t.Errorf("score of %q %.3f, of %q %.3f; want the first above 0.5 and the second below", tc.positive, pos, tc.negative, neg)
			}
		})
	}
	if _, err := os.Stat(app.ContentModelPath(dir, content.TaskSpam, false)); !os.IsNotExist(err) {
		t.Errorf("--shadow also wrote the model in use: %v", err)
	}
}

// TestTrainContentFromLabels trains the spam model on moderators' labels
// alone.
func TestTrainContentFromLabels(t *testing.T) {
	dir := t.TempDir()
	var posts []storedPost
	for i := range 12 {
		posts = append(posts,
			storedPost{tenant: "shop", id: fmt.Sprintf("s%d", i), title: "FREE GIFT", text: fmt.Sprintf("claim your prize %d at http://win-%d.example now", i, i),
				labels: []risk.Label{risk.LabelSpam}},
			storedPost{tenant: "shop", id: fmt.Sprintf("h%d", i), text: fmt.Sprintf("the shoes fit well, size %d, comfortable for walking", 36+i),
				labels: []risk.Label{risk.LabelLegit}})
	}
	storePosts(t, dir, posts)
	code, out := runShopguard("train", "content", "--data", dir, "--task", "spam", "--labels")
	if code != 0 || !strings.Contains(out, "24 (12 spam, 12 not)") || !strings.Contains(out, "moderators' labels (24 posts)") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	b, err := os.ReadFile(app.ContentModelPath(dir, content.TaskSpam, false))
	if err != nil {
		t.Fatal(err)
	}
	m, err := text.DecodeEnsemble(b)
	if err != nil {
		t.Fatal(err)
	}
	if pos, neg := m.Score(contentModelText("FREE GIFT", "claim your prize at http://win.example")), m.Score(contentModelText("", "comfortable shoes, fit well")); pos <= neg {
		t.Errorf("spam scores %.3f, a review %.3f", pos, neg)
	}
	// The abuse task finds no abuse labels: one class only.
	if code, out := runShopguard("train", "content", "--data", dir, "--task", "abuse", "--labels"); code == 0 || !strings.Contains(out, "only 12 labelled examples") {
		t.Errorf("abuse from spam labels: exit %d, %s", code, out)
	}
}

// TestTrainContentRefuses checks the command's refusals.
func TestTrainContentRefuses(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(trainContentData, name) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--task", "spam"}, "--input FILE or --labels is required"},
		{[]string{"--input", in("spam.tsv")}, `required flag(s) "task" not set`},
		{[]string{"--task", "reviews", "--input", in("spam.tsv")}, `unknown task "reviews"`},
		{[]string{"--task", "fake_review", "--input", in("op_spam")}, "only 10 labelled examples (5 fake); at least 20"},
		{[]string{"--task", "fake_review", "--input", in("op_spam"), "--input", in("fake.tsv")}, "only 16 labelled examples"},
		{[]string{"--task", "spam", "--input", in("one_class.tsv")}, "all 22 examples are of one class (0 spam)"},
		{[]string{"--task", "spam", "--input", in("bad_label.tsv")}, "bad_label.tsv:3:"},
		{[]string{"--task", "abuse", "--input", in("spam.tsv")}, "spam.tsv:2: label \"spam\""},
		{[]string{"--task", "spam", "--labels"}, "only 0 labelled examples"}, // an empty store
	} {
		code, out := runShopguard(append([]string{"train", "content", "--data", dir}, tc.args...)...)
		if code == 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, output %q; want a failure saying %q", tc.args, code, out, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "models")); !os.IsNotExist(err) {
		t.Errorf("a refused run wrote models: %v", err)
	}
}
