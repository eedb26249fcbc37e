package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/account"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
)

// TestTakeoverLabelCountsWhateverTheHour checks, at fixed times, that a
// takeover label takes the attacker's device out of the account's history
// for every sign-in after the label arrived, whatever the time of day:
// also when the taken-over sign-in, the label and the next sign-in lie on
// either side of a boundary of the feature store's 6-hour buckets (00, 06,
// 12 and 18 UTC) or of a day. (A label counts from when it arrives, so a
// sign-in dated before the label's arrival is not what this is about.)
func TestTakeoverLabelCountsWhateverTheHour(t *testing.T) {
	day := func(h, m, s int) time.Time { return time.Date(2026, 12, 3, h, m, s, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		// signIn is when the attacker's sign-in succeeded, label when the
		// label arrived; the next sign-in comes 5 s after the label.
		signIn, label time.Time
	}{
		{"all in one bucket", day(13, 0, 0), day(13, 5, 0)},
		{"the label an hour later, across 18:00", day(17, 50, 0), day(18, 50, 0)},
		{"the label just after 18:00", day(17, 59, 30), day(18, 0, 0)},
		{"the next sign-in just after 06:00", day(5, 50, 0), day(5, 59, 57)},
		{"across midnight", day(23, 59, 30), day(24, 0, 10)},
		{"the label four days later", day(22, 0, 0), day(4*24+1, 30, 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.now = tc.signIn.Add(-time.Hour)
			for range 3 {
				h.login("ana", "", "198.51.100.7", "ana-phone", account.OutcomeSuccess, "")
			}
			h.now = tc.signIn.Add(-5 * time.Second)
			in := h.login("ana", "", "203.0.113.66", "evil", account.OutcomeSuccess, "")
			h.now = tc.label
			if _, err := h.eng.AddFeedback(context.Background(), "shop", engine.Feedback{EventID: in.ID, Label: string(risk.LabelAccountTakeover)}); err != nil {
				t.Fatal(err)
			}
			d := h.login("ana", "", "203.0.113.66", "evil", account.OutcomeAttempt, "")
			if d.Action != risk.ActionChallenge || !has(d, "new_device_and_network") {
				t.Errorf("the attacker's device %s after the label: %s %v", h.now.Format(time.TimeOnly), d.Action, d.Reasons)
			}
			if d := h.login("ana", "", "198.51.100.7", "ana-phone", account.OutcomeAttempt, ""); d.Action != risk.ActionAllow {
				t.Errorf("the customer's own phone: %s %v", d.Action, d.Reasons)
			}
		})
	}
}
