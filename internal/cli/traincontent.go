package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/ml/text"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// Limits of train content.
const (
	// minContentExamples is the fewest examples a content model trains on.
	minContentExamples = 20
	// contentCVFolds is the number of folds of the cross-validation
	// printed after training.
	contentCVFolds = 5
	// maxContentLine bounds one line of a tab-separated input.
	maxContentLine = 1 << 20
)

// contentBlend is the model task t trains: for spam, characters 2-5
// and words 1-2 as 'eval content --task spam' measures them
// (contentSpamFeatures); for fake reviews the mean of the word 1-2 and the
// character 3-6 model, as 'eval content' measures it (reviewBlend); for
// abuse the spam model's n-grams, characters 2-5 and words 1-2 (insults
// are words; the characters catch their misspellings and obfuscations;
// the same n-grams let a post be hashed once for both models), chosen
// before measuring (no abusive-language corpus here), 10 epochs, rate
// 0.2, L2 1e-6.
func contentBlend(t content.Task, seed uint64) text.Blend {
	switch t {
	case content.TaskFakeReview:
		return reviewBlend(seed, reviewL2)
	case content.TaskAbuse:
		return text.Blend{Views: []text.View{{Features: contentSpamFeatures,
			Config: text.TrainConfig{Epochs: 10, Rate: 0.2, L2: 1e-6, Seed: seed}}}, Weights: []float64{1}}
	default:
		return text.Blend{Views: []text.View{{Features: contentSpamFeatures, Config: contentSpamTrainConfig(seed)}}, Weights: []float64{1}}
	}
}

// contentPositive names each task's positive class in the report.
var contentPositive = [content.NumTasks]string{content.TaskSpam: "spam", content.TaskFakeReview: "fake", content.TaskAbuse: "abusive"}

// contentInputLabels are the labels a tab-separated input may give, per
// task: true for the positive class.
var contentInputLabels = [content.NumTasks]map[string]bool{
	content.TaskSpam:       {"spam": true, "1": true, "ham": false, "0": false},
	content.TaskFakeReview: {"fake": true, "deceptive": true, "1": true, "genuine": false, "truthful": false, "0": false},
	content.TaskAbuse:      {"abuse": true, "toxic": true, "1": true, "ok": false, "clean": false, "0": false},
}

// contentLabelHelp lists the labels of contentInputLabels for errors.
var contentLabelHelp = [content.NumTasks]string{
	content.TaskSpam:       "spam or 1 against ham or 0",
	content.TaskFakeReview: "fake, deceptive or 1 against genuine, truthful or 0",
	content.TaskAbuse:      "abuse, toxic or 1 against ok, clean or 0",
}

func newTrainContent(env *Env, g *globals) *cobra.Command {
	var (
		taskName string
		inputs   []string
		labels   bool
		shadow   bool
		seed     uint64
	)
	cmd := &cobra.Command{
		Use:   "content --task spam|fake_review|abuse [--input FILE|DIR ...] [--labels] [--shadow] [--seed N]",
		Short: "Train a text model of the content filter (spam, fake reviews or abuse) on labelled posts",
		Long: `train content trains one of the content filter's text models (logistic
regression on hashed n-grams of the post's title and text, folded as the
filter folds them before scoring) and saves it under the data directory
(--data DIR; models/content/TASK.model, or TASK.shadow.model with --shadow),
where a running shopguard picks it up within 15 seconds. A shadow model is
scored and recorded with every post but decides nothing: compare it with the
model in use before training without --shadow.

--task spam reads character 2-5-grams and word 1-2-grams (the settings 'eval
content --task spam' measures; spam weighted 3, L2 1e-6, 20 epochs).
--task fake_review is the mean of two models, on word 1-2-grams and on
character 3-6-grams (the fake-review model 'eval content' measures).
--task abuse reads character 2-5-grams and word 1-2-grams, as the spam model
does, so that a post is hashed once for both (L2 1e-6, 10 epochs).

--input (repeatable) is labelled text:
  a tab-separated file of a label, a tab and the text, one example per line
  (an optional first line "label<TAB>text" is a header). Labels:
    spam:        spam or 1; ham or 0
    fake_review: fake, deceptive or 1; genuine, truthful or 0
    abuse:       abuse, toxic or 1; ok, clean or 0
  --task abuse: a CSV file (name ending in .csv) with a header, Jigsaw's
    layout: the text in comment_text (or text), the label in toxic (or label,
    or target); a value of 0.5 or more is abusive.
  --task fake_review: a directory in the layout of Ott et al.'s deceptive
    opinion spam corpus (op_spam_v1.4: positive_polarity and
    negative_polarity, or one of them, each with deceptive_* and truthful_*
    directories of fold1..fold5 of text files).

--labels also learns from the moderators' verdicts on posts stored in the data
directory (every tenant's content events; an event's latest label counts):
spam for --task spam, abuse for --task abuse, fraud (a fake review or a
fraudulent listing) for --task fake_review are positive; legit and
false_positive are negative; posts with other labels are left out.

It refuses fewer than 20 examples or examples of one class only, and prints
the counts, the training time and a 5-fold cross-validation on the training
data (stratified; accuracy and MCC, with spam, fake or abusive as the
positive class).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			task, err := content.ParseTask(taskName)
			if err != nil {
				return usageError{fmt.Errorf("--task: %w", err)}
			}
			if len(inputs) == 0 && !labels {
				return usageError{errors.New("--input FILE or --labels is required: labelled posts, label<TAB>text per line, or the moderators' labels in the data directory")}
			}
			cfg, err := g.load(env, cmd)
			if err != nil {
				return err
			}
			if cfg.Storage.DataDir == "" {
				return usageError{errors.New("no data directory to save the model in (--data DIR or storage.data_dir)")}
			}
			var ex contentExamples
			var sources []string
			for _, path := range inputs {
				texts, ls, err := loadContentInput(task, path)
				if err != nil {
					return err
				}
				for i, t := range texts {
					ex.add(contentModelText("", t), ls[i])
				}
				sources = append(sources, fmt.Sprintf("%s (%d)", path, len(texts)))
			}
			if labels {
				var (
					posts       contentExamples
					undecodable int
				)
				err := withStorage(env, g, cmd, func(ctx context.Context, st contentLabelStore) error {
					var err error
					posts, undecodable, err = labelledPosts(ctx, st, task)
					return err
				})
				if err != nil {
					return err
				}
				ex.texts, ex.labels = append(ex.texts, posts.texts...), append(ex.labels, posts.labels...)
				s := fmt.Sprintf("moderators' labels (%d posts", len(posts.texts))
				if undecodable > 0 {
					s += fmt.Sprintf("; %d undecodable skipped", undecodable)
				}
				sources = append(sources, s+")")
			}
			pos := ex.positives()
			switch {
			case len(ex.texts) < minContentExamples:
				return fmt.Errorf("only %d labelled examples (%d %s); at least %d are needed to train", len(ex.texts), pos, contentPositive[task], minContentExamples)
			case pos == 0 || pos == len(ex.texts):
				return fmt.Errorf("all %d examples are of one class (%d %s): training needs both classes", len(ex.texts), pos, contentPositive[task])
			}
			blend := contentBlend(task, seed)
			start := time.Now()
			m, err := text.TrainBlend(blend, ex.texts, ex.labels)
			if err != nil {
				return err
			}
			took := time.Since(start)
			path := app.ContentModelPath(cfg.Storage.DataDir, task, shadow)
			if err := app.SaveModelFile(path, m); err != nil {
				return err
			}
			cv := "skipped: fewer than 5 examples of a class"
			if min(pos, len(ex.texts)-pos) >= contentCVFolds {
				folded, err := text.NewFolded(ex.texts, ex.labels, text.Folds(ex.labels, contentCVFolds, seed), runtime.GOMAXPROCS(0))
				if err != nil {
					return err
				}
				res, err := folded.CrossValidate(blend)
				if err != nil {
					return err
				}
				cv = fmt.Sprintf("accuracy %.2f %%, MCC %.4f (%d folds on the training data)", 100*res.Pooled.Accuracy(), res.Pooled.MCC(), contentCVFolds)
			}
			role := "decides from now on"
			if shadow {
				role = "is scored in shadow (recorded, decides nothing)"
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "task\t%s\nfile\t%s\nexamples\t%d (%d %s, %d not)\nsources\t%s\nmodel\t%s\ntraining time\t%s\ncross-validation\t%s\n",
				task, path, len(ex.texts), pos, contentPositive[task], len(ex.texts)-pos, strings.Join(sources, ", "),
				contentModelName(blend), took.Round(time.Millisecond), cv)
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(env.Stdout, "A running shopguard loads it within 15 seconds; it %s.\n", role)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&taskName, "task", "", "what the model predicts: spam, fake_review or abuse (required)")
	fl.StringArrayVar(&inputs, "input", nil, "labelled texts: label<TAB>text per line, a Jigsaw CSV (abuse) or the op_spam directory (fake_review) (repeatable)")
	fl.BoolVar(&labels, "labels", false, "also learn from the moderators' labels on posts stored in the data directory")
	fl.BoolVar(&shadow, "shadow", false, "save as the task's shadow model: scored and recorded on live posts, deciding nothing")
	fl.Uint64Var(&seed, "seed", 1, "seed of training's example order and of the cross-validation's folds")
	_ = cmd.MarkFlagRequired("task")
	return cmd
}

// contentNgrams names the n-grams of f: "characters 2-5 and words 1-2".
func contentNgrams(f text.Features) string {
	var parts []string
	if f.CharMax > 0 {
		parts = append(parts, fmt.Sprintf("characters %d-%d", max(1, f.CharMin), f.CharMax))
	}
	if f.WordMax > 0 {
		parts = append(parts, fmt.Sprintf("words %d-%d", max(1, f.WordMin), f.WordMax))
	}
	return strings.Join(parts, " and ") + fmt.Sprintf(" hashed into 2^%d", f.Bits)
}

// contentModelName describes a blend: "logistic regression on characters
// 2-5 and words 1-2 hashed into 2^20", or the mean of such models.
func contentModelName(b text.Blend) string {
	if len(b.Views) == 1 {
		return "logistic regression on " + contentNgrams(b.Views[0].Features)
	}
	parts := make([]string, len(b.Views))
	for i, v := range b.Views {
		parts[i] = contentNgrams(v.Features)
	}
	return "mean of logistic regressions on " + strings.Join(parts, "; ")
}

// contentExamples are labelled texts, folded as the model reads them.
type contentExamples struct {
	texts  []string
	labels []bool
}

func (e *contentExamples) add(t string, positive bool) {
	e.texts, e.labels = append(e.texts, t), append(e.labels, positive)
}

// positives counts the positive examples.
func (e *contentExamples) positives() int {
	n := 0
	for _, l := range e.labels {
		if l {
			n++
		}
	}
	return n
}

// contentModelText is what the content analyzer scores of a post:
// content.Normalize of the title, a line feed and the text (the text
// alone without a title).
func contentModelText(title, body string) string {
	if title != "" {
		body = title + "\n" + body
	}
	return content.Normalize(body).Text
}

// loadContentInput reads one --input for task t: an op_spam directory
// (fake_review), a Jigsaw CSV (abuse, a name ending in .csv) or a
// tab-separated file. Errors name the path.
func loadContentInput(t content.Task, path string) ([]string, []bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--input: %w", err)
	}
	switch {
	case st.IsDir() && t != content.TaskFakeReview:
		return nil, nil, usageError{fmt.Errorf("--input %s is a directory: only --task fake_review reads one (the op_spam layout)", path)}
	case st.IsDir():
		return loadOpSpam(path)
	case strings.EqualFold(filepath.Ext(path), ".csv") && t != content.TaskAbuse:
		return nil, nil, usageError{fmt.Errorf("--input %s is a CSV file: only --task abuse reads one (Jigsaw's layout); give label<TAB>text per line", path)}
	case strings.EqualFold(filepath.Ext(path), ".csv"):
		return loadJigsawCSV(path)
	}
	return loadContentTSV(t, path)
}

// loadContentTSV reads label<TAB>text lines (blank lines skipped, an
// optional "label<TAB>text" header) with task t's labels.
func loadContentTSV(t content.Task, path string) ([]string, []bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--input: %w", err)
	}
	defer fh.Close()
	var texts []string
	var labels []bool
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), maxContentLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		label, msg, ok := strings.Cut(line, "\t")
		label = strings.ToLower(strings.TrimSpace(label))
		if n == 1 && ok && label == "label" && strings.EqualFold(strings.TrimSpace(msg), "text") {
			continue
		}
		if !ok {
			return nil, nil, fmt.Errorf("%s:%d: no tab: want a label (%s), a tab and the text", path, n, contentLabelHelp[t])
		}
		positive, known := contentInputLabels[t][label]
		if !known {
			return nil, nil, fmt.Errorf("%s:%d: label %q is not one of --task %s's: %s", path, n, content.Clip(label), t, contentLabelHelp[t])
		}
		if strings.TrimSpace(msg) == "" {
			return nil, nil, fmt.Errorf("%s:%d: no text after the label", path, n)
		}
		texts, labels = append(texts, msg), append(labels, positive)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, nil, fmt.Errorf("%s:%d: line longer than %d bytes", path, n+1, maxContentLine)
		}
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return texts, labels, nil
}

// loadJigsawCSV reads a CSV with a header naming the text column
// (comment_text or text) and the label column (toxic, label or target: a
// number, 0.5 or more abusive), as Jigsaw's toxic comment data sets do.
func loadJigsawCSV(path string) ([]string, []bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--input: %w", err)
	}
	defer fh.Close()
	r := csv.NewReader(bufio.NewReader(fh))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: the header: %w", path, err)
	}
	header = slices.Clone(header) // the reader reuses its record
	col := func(names ...string) int {
		for _, name := range names {
			for i, h := range header {
				if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), name) {
					return i
				}
			}
		}
		return -1
	}
	textCol, labelCol := col("comment_text", "text"), col("toxic", "label", "target")
	if textCol < 0 || labelCol < 0 {
		return nil, nil, fmt.Errorf("%s:1: the header names no comment_text (or text) column and toxic (or label, target) column: %q", path, header)
	}
	var texts []string
	var labels []bool
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("%s:%d: %w", path, pe.Line, pe.Err)
			}
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(labelCol)
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[labelCol]), 64)
		if err != nil || v < 0 || v > 1 {
			return nil, nil, fmt.Errorf("%s:%d: %s is %q: want a number from 0 to 1 (0.5 or more is abusive)", path, line, header[labelCol], content.Clip(rec[labelCol]))
		}
		if strings.TrimSpace(rec[textCol]) == "" {
			line, _ := r.FieldPos(textCol)
			return nil, nil, fmt.Errorf("%s:%d: %s is empty", path, line, header[textCol])
		}
		texts, labels = append(texts, rec[textCol]), append(labels, v >= 0.5)
	}
	return texts, labels, nil
}

// loadOpSpam reads a deceptive opinion spam directory: the corpus's root
// (its positive_polarity and negative_polarity directories, either or
// both) or one polarity's directory; deceptive is the positive class.
func loadOpSpam(dir string) ([]string, []bool, error) {
	var dirs []string
	for _, pol := range []string{"positive_polarity", "negative_polarity"} {
		if st, err := os.Stat(filepath.Join(dir, pol)); err == nil && st.IsDir() {
			dirs = append(dirs, filepath.Join(dir, pol))
		}
	}
	if len(dirs) == 0 {
		dirs = []string{dir}
	}
	var texts []string
	var labels []bool
	for _, d := range dirs {
		rs, err := loadReviews(d)
		if err != nil {
			return nil, nil, fmt.Errorf("--input %s: %w", dir, err)
		}
		for _, r := range rs {
			texts, labels = append(texts, r.text), append(labels, r.deceptive)
		}
	}
	return texts, labels, nil
}

// contentLabelStore is what --labels reads: every stored event and every
// label (a storage backend).
type contentLabelStore interface {
	storage.EventScanner
	storage.LabelStore
}

// contentTaskLabel says what a moderator's label means for task t:
// positive, negative, or nothing (ok false).
func contentTaskLabel(t content.Task, l risk.Label) (positive, ok bool) {
	switch l {
	case risk.LabelLegit, risk.LabelFalsePositive:
		return false, true
	case risk.LabelSpam:
		return true, t == content.TaskSpam
	case risk.LabelAbuse:
		return true, t == content.TaskAbuse
	case risk.LabelFraud:
		return true, t == content.TaskFakeReview
	}
	return false, false
}

// labelledPosts returns the stored posts of every tenant whose latest
// label counts for task t, as the model reads them, and how many such
// posts' payloads could not be decoded (skipped).
func labelledPosts(ctx context.Context, st contentLabelStore, t content.Task) (contentExamples, int, error) {
	type eventKey struct{ tenant, id string }
	latest := map[eventKey]risk.Label{}
	err := st.LabelsAfter(ctx, 0, func(l *storage.Label) error {
		latest[eventKey{l.Tenant, l.EventID}] = l.Label // in the order added: the last wins
		return nil
	})
	if err != nil {
		return contentExamples{}, 0, fmt.Errorf("--labels: %w", err)
	}
	var ex contentExamples
	var undecodable int
	err = st.EventsAfter(ctx, 0, func(e *storage.Event) error {
		if e.Kind != risk.EventContent {
			return nil
		}
		l, labelled := latest[eventKey{e.Tenant, e.ID}]
		if !labelled {
			return nil
		}
		positive, ok := contentTaskLabel(t, l)
		if !ok {
			return nil
		}
		in, err := content.Kind{}.Decode(e.Payload)
		p, isPost := in.(*content.Post)
		if err != nil || !isPost {
			undecodable++
			return nil
		}
		ex.add(contentModelText(p.Title, p.Text), positive)
		return nil
	})
	if err != nil {
		return contentExamples{}, 0, fmt.Errorf("--labels: %w", err)
	}
	return ex, undecodable, nil
}
