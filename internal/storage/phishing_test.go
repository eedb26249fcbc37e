package storage_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// clashing refuses its first n creations as conflicts, then creates.
type clashing struct {
	storage.ReportCreator
	n   int
	ids []string
}

func (c *clashing) CreatePhishingReport(ctx context.Context, r storage.PhishingReport) error {
	c.ids = append(c.ids, r.ID)
	if len(c.ids) <= c.n {
		return storage.ErrConflict
	}
	return c.ReportCreator.CreatePhishingReport(ctx, r)
}

func TestFileReport(t *testing.T) {
	ctx := context.Background()
	rep := storage.PhishingReport{Tenant: "shop", Kind: storage.ReportKindMessage, Message: "Your parcel is held: pay 1.99 at http://parcel-fee.example",
		Reporter: storage.ReporterCustomer, CreatedAt: time.Now().UTC().Truncate(time.Microsecond), Status: storage.ReportPending}
	idFormat := regexp.MustCompile(`^rep_[0-9a-f]{16}$`)
	for _, tc := range []struct {
		name    string
		clashes int
		wantErr bool
	}{{"first id", 0, false}, {"two clashes", 2, false}, {"three clashes", 3, true}} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			c := &clashing{ReportCreator: st, n: tc.clashes}
			got, err := storage.FileReport(ctx, c, rep)
			if tc.wantErr {
				if !errors.Is(err, storage.ErrConflict) {
					t.Fatalf("FileReport after %d clashes = %v, want ErrConflict", tc.clashes, err)
				}
				return
			}
			if err != nil || !idFormat.MatchString(got.ID) || got.ID != c.ids[len(c.ids)-1] {
				t.Fatalf("FileReport = %+v, %v (ids tried %v)", got, err, c.ids)
			}
			if len(c.ids) != tc.clashes+1 || (len(c.ids) > 1 && c.ids[0] == c.ids[1]) {
				t.Errorf("ids tried %v: want %d, each new", c.ids, tc.clashes+1)
			}
			stored, err := st.PhishingReport(ctx, "shop", got.ID)
			if err != nil || stored.Message != rep.Message {
				t.Errorf("stored report = %+v, %v", stored, err)
			}
		})
	}
}
