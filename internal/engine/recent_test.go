package engine

import (
	"fmt"
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
)

func TestRecentIDs(t *testing.T) {
	r := newRecentIDs(3)
	tx := risk.EventTransaction
	for i := range 3 {
		r.add("shop", tx, fmt.Sprint(i))
	}
	r.add("shop", tx, "1") // already there: no eviction
	for i := range 3 {
		if !r.seen("shop", tx, fmt.Sprint(i)) {
			t.Errorf("%d forgotten too early", i)
		}
	}
	if r.seen("other", tx, "0") || r.seen("shop", risk.EventLogin, "0") {
		t.Error("ids leak across tenants or kinds")
	}
	r.add("shop", tx, "3")
	if r.seen("shop", tx, "0") || !r.seen("shop", tx, "3") {
		t.Error("the oldest id was not evicted")
	}
}
