package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/risk"
)

// ModelAdmin manages a tenant's trained models.
type ModelAdmin interface {
	// PromoteModel makes a trained model version the champion that scores
	// the tenant's events of kind; an unknown version wraps
	// storage.ErrNotFound, one that does not load storage.ErrConflict.
	PromoteModel(ctx context.Context, tenant string, kind risk.EventKind, version string) error
}

// Promotion asks for a model version to become the champion.
type Promotion struct {
	Version string `json:"version"`
}

// Champion is the answer to a promotion.
type Champion struct {
	Kind    risk.EventKind `json:"kind"`
	Version string         `json:"version"`
}

func (s *Server) promoteModel(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	kind, err := risk.ParseEventKind(r.PathValue("kind"))
	if err != nil {
		return newStatusError(http.StatusNotFound, "not_found", "kind", err.Error())
	}
	var p Promotion
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &p); err != nil {
		return err
	}
	p.Version = strings.TrimSpace(p.Version)
	if p.Version == "" || len(p.Version) > 64 {
		return newStatusError(http.StatusBadRequest, "invalid_field", "version", "version: name a trained model version (1-64 characters)")
	}
	if s.models == nil {
		return newStatusError(http.StatusConflict, "conflict", "", "this shopguard keeps no trained models (it has no data directory)")
	}
	if err := s.models.PromoteModel(r.Context(), key.Tenant, kind, p.Version); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Champion{Kind: kind, Version: p.Version})
	return nil
}
