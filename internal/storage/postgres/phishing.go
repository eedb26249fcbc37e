package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/shopguard/shopguard/internal/storage"
)

// textArrayParam returns a list for a NOT NULL TEXT[] column: pgx sends a
// nil slice as NULL, so nil becomes the empty array.
func textArrayParam(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// textArrayResult returns a TEXT[] column's list; an empty list is nil,
// as the other backends give it.
func textArrayResult(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	return ss
}

// PhishingProfile implements storage.PhishingProfileStore.
func (s *Store) PhishingProfile(ctx context.Context, tenant string) (storage.PhishingProfile, error) {
	if err := s.isClosed(); err != nil {
		return storage.PhishingProfile{}, err
	}
	p := storage.PhishingProfile{Tenant: tenant}
	var updated int64
	err := s.pool.QueryRow(ctx, `SELECT protected_domains, sender_names, sending_domains, updated_at
		FROM phishing_profiles WHERE tenant = $1`, tenant).Scan(&p.ProtectedDomains, &p.SenderNames, &p.SendingDomains, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return storage.PhishingProfile{}, wrap("read phishing profile", err)
	}
	p.ProtectedDomains = textArrayResult(p.ProtectedDomains)
	p.SenderNames = textArrayResult(p.SenderNames)
	p.SendingDomains = textArrayResult(p.SendingDomains)
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// PutPhishingProfile implements storage.PhishingProfileStore.
func (s *Store) PutPhishingProfile(ctx context.Context, p storage.PhishingProfile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.exec(ctx, "store phishing profile", nil,
		`INSERT INTO phishing_profiles (tenant, protected_domains, sender_names, sending_domains, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant) DO UPDATE SET protected_domains = excluded.protected_domains,
		sender_names = excluded.sender_names, sending_domains = excluded.sending_domains, updated_at = excluded.updated_at`,
		p.Tenant, textArrayParam(p.ProtectedDomains), textArrayParam(p.SenderNames), textArrayParam(p.SendingDomains),
		micros(p.UpdatedAt))
}

const reportColumns = `tenant, id, kind, url, message, channel, sender, reporter, reporter_id, note, created_at,
	status, reviewed_at, reviewed_by`

func scanReport(sc scanner, r *storage.PhishingReport) error {
	var created, reviewed int64
	if err := sc.Scan(&r.Tenant, &r.ID, &r.Kind, &r.URL, &r.Message, &r.Channel, &r.Sender, &r.Reporter, &r.ReporterID,
		&r.Note, &created, &r.Status, &reviewed, &r.ReviewedBy); err != nil {
		return err
	}
	r.CreatedAt, r.ReviewedAt = fromMicros(created), fromMicros(reviewed)
	return nil
}

// CreatePhishingReport implements storage.PhishingReportStore.
func (s *Store) CreatePhishingReport(ctx context.Context, r storage.PhishingReport) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.exec(ctx, "create phishing report", isConflict("phishing report "+r.ID),
		`INSERT INTO phishing_reports (`+reportColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.Tenant, r.ID, r.Kind, r.URL, r.Message, r.Channel, r.Sender, r.Reporter, r.ReporterID, r.Note,
		micros(r.CreatedAt), r.Status, micros(r.ReviewedAt), r.ReviewedBy)
}

// PhishingReport implements storage.PhishingReportStore.
func (s *Store) PhishingReport(ctx context.Context, tenant, id string) (storage.PhishingReport, error) {
	if err := s.isClosed(); err != nil {
		return storage.PhishingReport{}, err
	}
	var r storage.PhishingReport
	err := scanReport(s.pool.QueryRow(ctx, `SELECT `+reportColumns+` FROM phishing_reports WHERE tenant = $1 AND id = $2`,
		tenant, id), &r)
	if err != nil {
		return storage.PhishingReport{}, notFound(err, fmt.Sprintf("phishing report %q", id))
	}
	return r, nil
}

// PhishingReports implements storage.PhishingReportStore. The listing
// index (or the status index, with a status) is read backwards from the
// position After.
func (s *Store) PhishingReports(ctx context.Context, q storage.PhishingReportQuery) ([]storage.PhishingReport, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	args := []any{q.Tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	query := `SELECT ` + reportColumns + ` FROM phishing_reports WHERE tenant = $1`
	if q.Status != "" {
		query += ` AND status = ` + arg(q.Status)
	}
	if !q.After.IsZero() {
		query += ` AND (created_at, id) < (` + arg(micros(q.After.CreatedAt)) + `, ` + arg(q.After.ID) + `)`
	}
	query += ` ORDER BY created_at DESC, id DESC`
	if q.Limit > 0 {
		query += ` LIMIT ` + arg(int64(q.Limit))
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap("read phishing reports", err)
	}
	defer rows.Close()
	var out []storage.PhishingReport
	for rows.Next() {
		var r storage.PhishingReport
		if err := scanReport(rows, &r); err != nil {
			return nil, wrap("read phishing reports", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read phishing reports", err)
	}
	return out, nil
}

// ReviewPhishingReport implements storage.PhishingReportStore. One
// UPDATE of the pending report both checks and sets the status: of two
// concurrent reviews, from any instances, the second waits for the
// first's row lock, then finds the report no longer pending and updates
// nothing.
func (s *Store) ReviewPhishingReport(ctx context.Context, v storage.PhishingReview) (storage.PhishingReport, error) {
	if err := v.Validate(); err != nil {
		return storage.PhishingReport{}, err
	}
	if err := s.isClosed(); err != nil {
		return storage.PhishingReport{}, err
	}
	var r storage.PhishingReport
	err := scanReport(s.pool.QueryRow(ctx, `UPDATE phishing_reports SET status = $1, reviewed_at = $2, reviewed_by = $3
		WHERE tenant = $4 AND id = $5 AND status = $6 RETURNING `+reportColumns,
		v.Status, micros(v.At), v.By, v.Tenant, v.ID, storage.ReportPending), &r)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return storage.PhishingReport{}, wrap("review phishing report", err)
	}
	// Reports are never deleted nor reopened: one that exists now was
	// reviewed already.
	had, err := s.PhishingReport(ctx, v.Tenant, v.ID)
	if err != nil {
		return storage.PhishingReport{}, err
	}
	return storage.PhishingReport{}, fmt.Errorf("%w: phishing report %s was reviewed already (%s)", storage.ErrConflict, v.ID, had.Status)
}

// ReviewedPhishingReports implements storage.PhishingReportStore.
func (s *Store) ReviewedPhishingReports(ctx context.Context, tenant string, fn func(*storage.PhishingReport) error) error {
	if err := s.isClosed(); err != nil {
		return err
	}
	// The literal 'pending' lets PostgreSQL use the partial index.
	query := `SELECT ` + reportColumns + ` FROM phishing_reports WHERE status <> 'pending'`
	var args []any
	if tenant != "" {
		query += ` AND tenant = $1`
		args = append(args, tenant)
	}
	rows, err := s.pool.Query(ctx, query+` ORDER BY reviewed_at, tenant, id`, args...)
	if err != nil {
		return wrap("scan reviewed phishing reports", err)
	}
	defer rows.Close()
	var r storage.PhishingReport
	for rows.Next() {
		r = storage.PhishingReport{}
		if err := scanReport(rows, &r); err != nil {
			return wrap("scan reviewed phishing reports", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("scan reviewed phishing reports", err)
	}
	return nil
}
