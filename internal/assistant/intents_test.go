package assistant

import (
	"os"
	"strings"
	"testing"
)

// heldOut reads the intent test set, which training never sees.
func heldOut(t testing.TB) []Example {
	t.Helper()
	f, err := os.Open("testdata/intents_test.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ex, err := ReadExamples(f)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// trained returns the built-in classifier (trained once per process).
func trained(t testing.TB) *Classifier {
	t.Helper()
	c, err := builtinClassifier()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIntentAccuracy measures the classifier on the held-out set and
// holds it above a floor; `go test -run IntentAccuracy -v` prints the
// figures (accuracy, and accuracy and coverage of the answers given
// without a clarifying question).
func TestIntentAccuracy(t *testing.T) {
	c := trained(t)
	test := heldOut(t)
	train, _ := TrainingExamples()
	seen := map[string]bool{}
	for _, e := range train {
		seen[normalise(e.Text)] = true
	}
	var right, confident, confidentRight int
	confusions := map[string]int{}
	for _, e := range test {
		if seen[normalise(e.Text)] {
			t.Fatalf("test utterance %q is in the training set", e.Text)
		}
		got := c.Classify(e.Text)
		if got[0].Intent == e.Intent {
			right++
		} else {
			confusions[e.Intent+" -> "+got[0].Intent]++
		}
		if sure(got) {
			confident++
			if got[0].Intent == e.Intent {
				confidentRight++
			}
		}
	}
	acc := float64(right) / float64(len(test))
	t.Logf("held-out intents: %d utterances, top-1 accuracy %.1f %%", len(test), 100*acc)
	t.Logf("answered without a clarifying question: %.1f %% of utterances, %.1f %% of them right",
		100*float64(confident)/float64(len(test)), 100*float64(confidentRight)/float64(max(confident, 1)))
	for k, n := range confusions {
		t.Logf("  %s: %d", k, n)
	}
	if acc < 0.85 {
		t.Errorf("top-1 accuracy %.3f is under the floor of 0.85", acc)
	}
}

func normalise(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r > 127)
	}), " ")
}
