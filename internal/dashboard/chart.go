package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/shopguard/shopguard/internal/risk"
)

// actionOrder stacks bars from the bottom: allow, review, challenge, block.
var actionOrder = []risk.Action{risk.ActionAllow, risk.ActionReview, risk.ActionChallenge, risk.ActionBlock}

// minuteBar is one minute's decisions by action.
type minuteBar struct {
	Minute time.Time
	Counts map[risk.Action]int64
}

func (b minuteBar) total() int64 {
	var t int64
	for _, n := range b.Counts {
		t += n
	}
	return t
}

// stackedBars draws decisions per minute, stacked by action, as SVG. The
// chart is made on the server from numbers and escaped text only; the
// page's CSS colours it (classes act-allow, ...), so it needs no script or
// inline style. Each bar has a <title> for a hover tooltip.
func stackedBars(bars []minuteBar, title string) template.HTML {
	const w, h, left, right, bottom, top = 720, 200, 44, 18, 24, 10
	var peak int64 = 1
	for _, b := range bars {
		peak = max(peak, b.total())
	}
	peak = niceCeil(peak)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, h, html.EscapeString(title))
	plotH := float64(h - bottom - top)
	for i := 0; i <= 4; i++ { // grid lines and y labels
		y := float64(top) + plotH*float64(i)/4
		fmt.Fprintf(&sb, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, left, y, w-right, y)
		fmt.Fprintf(&sb, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%d</text>`, left-6, y+4, peak*int64(4-i)/4)
	}
	if len(bars) > 0 {
		slot := float64(w-left-right) / float64(len(bars))
		bw := max(1, slot*0.8)
		for i, b := range bars {
			x := float64(left) + slot*float64(i) + (slot-bw)/2
			y := float64(top) + plotH
			var tip []string
			for _, a := range actionOrder {
				n := b.Counts[a]
				if n == 0 {
					continue
				}
				bh := plotH * float64(n) / float64(peak)
				y -= bh
				fmt.Fprintf(&sb, `<rect class="act-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, a, x, y, bw, bh)
				tip = append(tip, fmt.Sprintf("%d %s", n, a))
			}
			if len(tip) > 0 {
				fmt.Fprintf(&sb, `<rect class="hit" x="%.1f" y="%d" width="%.1f" height="%.1f"><title>%s UTC: %s</title></rect>`,
					x, top, bw, plotH, b.Minute.UTC().Format("15:04"), html.EscapeString(strings.Join(tip, ", ")))
			}
			if i%10 == 0 {
				fmt.Fprintf(&sb, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x+bw/2, h-6, b.Minute.UTC().Format("15:04"))
			}
		}
	}
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) // built above from numbers and html.EscapeString'd text only
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 4).
func niceCeil(n int64) int64 {
	n = max(n, 4)
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
