package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/shopguard/shopguard/internal/ml/gbdt"
)

// treeProgress shows training as a progress bar over the most trees, with
// the validation loss and the best tree count so far; early stopping ends
// the bar where it stopped.
func treeProgress(w io.Writer, maxTrees int) (func(gbdt.Progress), func()) {
	bar := progressbar.NewOptions(maxTrees,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("training"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
	update := func(p gbdt.Progress) {
		bar.Describe(fmt.Sprintf("training (validation loss %.5f, best %d trees)", p.ValidLoss, p.Best))
		_ = bar.Set(p.Tree)
	}
	done := func() {
		_ = bar.Exit()
		fmt.Fprintln(w)
	}
	return update, done
}
