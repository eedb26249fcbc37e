package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopguard/shopguard/internal/storage"
)

// phishing holds phishing profiles and reports; Store's mutex guards it.
type phishing struct {
	profiles map[string]storage.PhishingProfile // by tenant
	reports  map[tenantID]storage.PhishingReport
}

func newPhishing() *phishing {
	return &phishing{profiles: map[string]storage.PhishingProfile{}, reports: map[tenantID]storage.PhishingReport{}}
}

// micro is t in UTC at microsecond precision, as sqlite stores times.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// cloneStrings copies ss; empty lists come back nil, as from sqlite.
func cloneStrings(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return slices.Clone(ss)
}

func copyPhishingProfile(p storage.PhishingProfile) storage.PhishingProfile {
	p.ProtectedDomains, p.SenderNames, p.SendingDomains = cloneStrings(p.ProtectedDomains), cloneStrings(p.SenderNames), cloneStrings(p.SendingDomains)
	return p
}

// PhishingProfile implements storage.PhishingProfileStore.
func (s *Store) PhishingProfile(_ context.Context, tenant string) (storage.PhishingProfile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.PhishingProfile{}, err
	}
	p, ok := s.phishing.profiles[tenant]
	if !ok {
		return storage.PhishingProfile{Tenant: tenant}, nil
	}
	return copyPhishingProfile(p), nil
}

// PutPhishingProfile implements storage.PhishingProfileStore.
func (s *Store) PutPhishingProfile(_ context.Context, p storage.PhishingProfile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	p = copyPhishingProfile(p)
	p.UpdatedAt = micro(p.UpdatedAt)
	s.phishing.profiles[p.Tenant] = p
	return nil
}

// CreatePhishingReport implements storage.PhishingReportStore.
func (s *Store) CreatePhishingReport(_ context.Context, r storage.PhishingReport) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return err
	}
	k := tenantID{r.Tenant, r.ID}
	if _, ok := s.phishing.reports[k]; ok {
		return fmt.Errorf("%w: phishing report %s exists", storage.ErrConflict, r.ID)
	}
	r.CreatedAt = micro(r.CreatedAt)
	s.phishing.reports[k] = r
	return nil
}

// PhishingReport implements storage.PhishingReportStore.
func (s *Store) PhishingReport(_ context.Context, tenant, id string) (storage.PhishingReport, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return storage.PhishingReport{}, err
	}
	r, ok := s.phishing.reports[tenantID{tenant, id}]
	if !ok {
		return storage.PhishingReport{}, fmt.Errorf("%w: phishing report %q", storage.ErrNotFound, id)
	}
	return r, nil
}

func reportPosition(r *storage.PhishingReport) storage.ReportPosition {
	return storage.ReportPosition{CreatedAt: r.CreatedAt, ID: r.ID}
}

// PhishingReports implements storage.PhishingReportStore.
func (s *Store) PhishingReports(_ context.Context, q storage.PhishingReportQuery) ([]storage.PhishingReport, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	after := storage.ReportPosition{CreatedAt: micro(q.After.CreatedAt), ID: q.After.ID}
	var out []storage.PhishingReport
	for k, r := range s.phishing.reports {
		if k.tenant != q.Tenant || (q.Status != "" && r.Status != q.Status) ||
			(!after.IsZero() && !after.Before(reportPosition(&r))) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b storage.PhishingReport) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// ReviewPhishingReport implements storage.PhishingReportStore.
func (s *Store) ReviewPhishingReport(_ context.Context, v storage.PhishingReview) (storage.PhishingReport, error) {
	if err := v.Validate(); err != nil {
		return storage.PhishingReport{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(); err != nil {
		return storage.PhishingReport{}, err
	}
	k := tenantID{v.Tenant, v.ID}
	r, ok := s.phishing.reports[k]
	if !ok {
		return storage.PhishingReport{}, fmt.Errorf("%w: phishing report %q", storage.ErrNotFound, v.ID)
	}
	if r.Status != storage.ReportPending {
		return storage.PhishingReport{}, fmt.Errorf("%w: phishing report %s was reviewed already (%s)", storage.ErrConflict, v.ID, r.Status)
	}
	r.Status, r.ReviewedAt, r.ReviewedBy = v.Status, micro(v.At), v.By
	s.phishing.reports[k] = r
	return r, nil
}

// ReviewedPhishingReports implements storage.PhishingReportStore. It
// copies the matching reports under the lock and calls fn without it.
func (s *Store) ReviewedPhishingReports(ctx context.Context, tenant string, fn func(*storage.PhishingReport) error) error {
	s.mu.RLock()
	if err := s.check(); err != nil {
		s.mu.RUnlock()
		return err
	}
	var out []storage.PhishingReport
	for k, r := range s.phishing.reports {
		if r.Status != storage.ReportPending && (tenant == "" || k.tenant == tenant) {
			out = append(out, r)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b storage.PhishingReport) int {
		return cmp.Or(a.ReviewedAt.Compare(b.ReviewedAt), cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.ID, b.ID))
	})
	for i := range out {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(&out[i]); err != nil {
			return err
		}
	}
	return nil
}
