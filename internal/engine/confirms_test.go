package engine

import (
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/storage"
)

// TestConfirms checks when a label newly marks an event legitimate.
func TestConfirms(t *testing.T) {
	lab := func(id int64, l risk.Label) storage.Label { return storage.Label{ID: id, Label: l} }
	tests := []struct {
		name  string
		prior []storage.Label
		l     storage.Label
		want  bool
	}{
		{"first legit", nil, lab(1, risk.LabelLegit), true},
		{"false positive after fraud", []storage.Label{lab(1, risk.LabelFraud)}, lab(2, risk.LabelFalsePositive), true},
		{"legit again", []storage.Label{lab(1, risk.LabelLegit)}, lab(2, risk.LabelFalsePositive), false},
		{"legit after legit then fraud", []storage.Label{lab(1, risk.LabelLegit), lab(2, risk.LabelAccountTakeover)}, lab(3, risk.LabelLegit), true},
		{"fraud", nil, lab(1, risk.LabelFraud), false},
		{"spam says nothing", nil, lab(1, risk.LabelSpam), false},
		{"later labels do not count (replay)", []storage.Label{lab(1, risk.LabelLegit), lab(2, risk.LabelLegit)}, lab(1, risk.LabelLegit), true},
	}
	for _, tc := range tests {
		if got := confirms(tc.prior, tc.l); got != tc.want {
			t.Errorf("%s: confirms = %v, want %v", tc.name, got, tc.want)
		}
	}
}
