package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shopguard/shopguard/internal/storage"
)

// stringList encodes a list for a JSON-array column.
func stringList(ss []string) (string, error) {
	if ss == nil {
		ss = []string{}
	}
	b, err := json.Marshal(ss)
	return string(b), err
}

// readStringList decodes a JSON-array column; an empty list is nil.
func readStringList(v string) ([]string, error) {
	var ss []string
	if err := json.Unmarshal([]byte(v), &ss); err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, nil
	}
	return ss, nil
}

// PhishingProfile implements storage.PhishingProfileStore.
func (s *Store) PhishingProfile(ctx context.Context, tenant string) (storage.PhishingProfile, error) {
	if err := s.isClosed(); err != nil {
		return storage.PhishingProfile{}, err
	}
	p := storage.PhishingProfile{Tenant: tenant}
	var protected, names, sending string
	var updated int64
	err := s.read.QueryRowContext(ctx, `SELECT protected_domains, sender_names, sending_domains, updated_at
		FROM phishing_profiles WHERE tenant = ?`, tenant).Scan(&protected, &names, &sending, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return storage.PhishingProfile{}, fmt.Errorf("sqlite: read phishing profile: %w", err)
	}
	for _, c := range []struct {
		dst *[]string
		v   string
	}{{&p.ProtectedDomains, protected}, {&p.SenderNames, names}, {&p.SendingDomains, sending}} {
		if *c.dst, err = readStringList(c.v); err != nil {
			return storage.PhishingProfile{}, fmt.Errorf("sqlite: read phishing profile: %w", err)
		}
	}
	p.UpdatedAt = fromMicros(updated)
	return p, nil
}

// PutPhishingProfile implements storage.PhishingProfileStore.
func (s *Store) PutPhishingProfile(ctx context.Context, p storage.PhishingProfile) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var cols [3]string
	for i, l := range [][]string{p.ProtectedDomains, p.SenderNames, p.SendingDomains} {
		var err error
		if cols[i], err = stringList(l); err != nil {
			return fmt.Errorf("sqlite: store phishing profile: %w", err)
		}
	}
	return s.exec(ctx, "store phishing profile", nil,
		`INSERT INTO phishing_profiles (tenant, protected_domains, sender_names, sending_domains, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET protected_domains = excluded.protected_domains,
		sender_names = excluded.sender_names, sending_domains = excluded.sending_domains, updated_at = excluded.updated_at`,
		p.Tenant, cols[0], cols[1], cols[2], micros(p.UpdatedAt))
}

const reportColumns = `tenant, id, kind, url, message, channel, sender, reporter, reporter_id, note, created_at,
	status, reviewed_at, reviewed_by`

func scanReport(sc scanner, r *storage.PhishingReport) error {
	var created, reviewed int64
	if err := sc.Scan(&r.Tenant, &r.ID, &r.Kind, &r.URL, &r.Message, &r.Channel, &r.Sender, &r.Reporter, &r.ReporterID,
		&r.Note, &created, &r.Status, &reviewed, &r.ReviewedBy); err != nil {
		return err
	}
	r.CreatedAt, r.ReviewedAt = fromMicros(created), fromOptMicros(reviewed)
	return nil
}

// CreatePhishingReport implements storage.PhishingReportStore.
func (s *Store) CreatePhishingReport(ctx context.Context, r storage.PhishingReport) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.exec(ctx, "create phishing report", isConflict("phishing report "+r.ID),
		`INSERT INTO phishing_reports (`+reportColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Tenant, r.ID, r.Kind, r.URL, r.Message, r.Channel, r.Sender, r.Reporter, r.ReporterID, r.Note,
		micros(r.CreatedAt), r.Status, optMicros(r.ReviewedAt), r.ReviewedBy)
}

// PhishingReport implements storage.PhishingReportStore.
func (s *Store) PhishingReport(ctx context.Context, tenant, id string) (storage.PhishingReport, error) {
	if err := s.isClosed(); err != nil {
		return storage.PhishingReport{}, err
	}
	var r storage.PhishingReport
	err := scanReport(s.read.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM phishing_reports WHERE tenant = ? AND id = ?`,
		tenant, id), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.PhishingReport{}, fmt.Errorf("%w: phishing report %q", storage.ErrNotFound, id)
	}
	if err != nil {
		return storage.PhishingReport{}, fmt.Errorf("sqlite: read phishing report: %w", err)
	}
	return r, nil
}

// PhishingReports implements storage.PhishingReportStore.
func (s *Store) PhishingReports(ctx context.Context, q storage.PhishingReportQuery) ([]storage.PhishingReport, error) {
	if err := s.isClosed(); err != nil {
		return nil, err
	}
	query := `SELECT ` + reportColumns + ` FROM phishing_reports WHERE tenant = ?`
	args := []any{q.Tenant}
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, q.Status)
	}
	if !q.After.IsZero() {
		query += ` AND (created_at, id) < (?, ?)`
		args = append(args, micros(q.After.CreatedAt), q.After.ID)
	}
	query += ` ORDER BY created_at DESC, id DESC`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read phishing reports: %w", err)
	}
	defer rows.Close()
	var out []storage.PhishingReport
	for rows.Next() {
		var r storage.PhishingReport
		if err := scanReport(rows, &r); err != nil {
			return nil, fmt.Errorf("sqlite: read phishing reports: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read phishing reports: %w", err)
	}
	return out, nil
}

// ReviewPhishingReport implements storage.PhishingReportStore. One
// UPDATE of the pending report both checks and sets the status, so of
// two concurrent reviews only one finds it pending.
func (s *Store) ReviewPhishingReport(ctx context.Context, v storage.PhishingReview) (storage.PhishingReport, error) {
	if err := v.Validate(); err != nil {
		return storage.PhishingReport{}, err
	}
	if err := s.isClosed(); err != nil {
		return storage.PhishingReport{}, err
	}
	var r storage.PhishingReport
	err := scanReport(s.write.QueryRowContext(ctx, `UPDATE phishing_reports SET status = ?, reviewed_at = ?, reviewed_by = ?
		WHERE tenant = ? AND id = ? AND status = ? RETURNING `+reportColumns,
		v.Status, micros(v.At), v.By, v.Tenant, v.ID, storage.ReportPending), &r)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return storage.PhishingReport{}, fmt.Errorf("sqlite: review phishing report: %w", err)
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
	// The literal 'pending' lets SQLite use the partial index.
	query := `SELECT ` + reportColumns + ` FROM phishing_reports WHERE status <> 'pending'`
	var args []any
	if tenant != "" {
		query += ` AND tenant = ?`
		args = append(args, tenant)
	}
	rows, err := s.read.QueryContext(ctx, query+` ORDER BY reviewed_at, tenant, id`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: scan reviewed phishing reports: %w", err)
	}
	defer rows.Close()
	var r storage.PhishingReport
	for rows.Next() {
		r = storage.PhishingReport{}
		if err := scanReport(rows, &r); err != nil {
			return fmt.Errorf("sqlite: scan reviewed phishing reports: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: scan reviewed phishing reports: %w", err)
	}
	return nil
}
