package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopguard/shopguard/client"
	"github.com/shopguard/shopguard/internal/app"
	"github.com/shopguard/shopguard/internal/app/apptest"
	"github.com/shopguard/shopguard/internal/content"
	"github.com/shopguard/shopguard/internal/ml/text"
)

// TestCompareContentShadow runs posts through a shopguard with a live
// spam model and a shadow model that learnt the opposite, labels them as
// a moderator would, and checks that compare-content reads the recorded
// probabilities: the live model is right on every post, the shadow wrong.
func TestCompareContentShadow(t *testing.T) {
	dir := t.TempDir()
	spam := []string{"call me now cheap deal", "text me for a discount", "cheap deal call now", "discount call me"}
	ham := []string{"lovely lamp works well", "nice fabric good fit", "works well lovely", "good fit nice"}
	for _, shadow := range []bool{false, true} {
		labels := []bool{true, true, true, true, false, false, false, false}
		if shadow {
			for i := range labels {
				labels[i] = !labels[i]
			}
		}
		m, err := text.Train(text.Features{WordMin: 1, WordMax: 2, Bits: 16}, append(append([]string{}, spam...), ham...), labels, text.TrainConfig{Epochs: 30, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := app.SaveModelFile(app.ContentModelPath(dir, content.TaskSpam, shadow), m); err != nil {
			t.Fatal(err)
		}
	}
	a, srv := apptest.Start(t, dir)
	c, err := client.New(srv.URL, apptest.Key(t, a, "shop"), client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC()
	for i, s := range append(append([]string{}, spam...), ham...) {
		d, err := c.AssessContent(ctx, client.Post{ID: fmt.Sprint("p", i), CreatedAt: now.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339),
			Kind: "comment", Text: s, Author: client.PostAuthor{UserID: fmt.Sprint("u", i)}})
		if err != nil {
			t.Fatal(err)
		}
		label := "legit"
		if i < len(spam) {
			label = "spam"
		}
		if _, err := c.SendFeedback(ctx, client.Feedback{EventID: d.ID, Label: label}); err != nil {
			t.Fatal(err)
		}
	}
	// The stored posts are read while that shopguard runs, as an operator would.
	code, out := runShopguard("models", "compare-content", "--data", dir, "--task", "spam")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := strings.Split(out, "\n")
	if len(lines) < 4 || !strings.Contains(out, "on 8 labelled posts both scored (4 positive for spam)") {
		t.Fatalf("output:\n%s", out)
	}
	live, shadow := strings.Fields(lines[1]), strings.Fields(lines[2])
	if live[0] != "live" || live[2] != "1.000" || live[4] != "100.00" || shadow[0] != "shadow" || shadow[2] != "0.000" || shadow[4] != "0.00" {
		t.Errorf("live %v, shadow %v; want the live model right on every post and the shadow wrong", live, shadow)
	}
	if code, out := runShopguard("models", "compare-content", "--data", dir, "--task", "abuse"); code == 0 || !strings.Contains(out, "no labelled abuse posts") {
		t.Errorf("abuse (no models): exit %d:\n%s", code, out)
	}
	if code, _ := runShopguard("models", "compare-content", "--data", dir, "--task", "nonsense"); code != 2 {
		t.Errorf("unknown task: exit %d, want 2 (usage)", code)
	}
}
