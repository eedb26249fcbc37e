package api

import (
	"net/http"
	"strconv"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
)

// maxValues caps the values in one list-entries request.
const maxValues = 10_000

func (s *Server) getLists(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	ls, err := s.eng.Lists(r.Context(), key.Tenant)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string][]engine.ListInfo{"lists": ls})
	return nil
}

// listBody is the request of POST /v1/lists.
type listBody struct {
	rules.List
	Values []string `json:"values,omitempty"`
}

// listResponse is a list with its entries.
type listResponse struct {
	engine.ListInfo
	Values []string `json:"values"`
}

func (s *Server) postList(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var body listBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	if len(body.Values) > maxValues {
		return risk.Invalid("values", "has %d values; send at most %d per request", len(body.Values), maxValues)
	}
	// Check the values before creating anything, so a bad value leaves no empty list behind.
	if body.Kind.Valid() {
		for i, v := range body.Values {
			if _, err := rules.NormalizeEntry(body.Kind, v); err != nil {
				return risk.Invalid("values["+strconv.Itoa(i)+"]", "%s", err.Error())
			}
		}
	}
	if err := s.eng.CreateList(r.Context(), key.Tenant, body.List); err != nil {
		return err
	}
	if len(body.Values) > 0 {
		if _, err := s.eng.EditEntries(r.Context(), key.Tenant, body.Name, body.Values, false); err != nil {
			return err
		}
	}
	return s.writeList(w, r, key, body.Name, http.StatusCreated)
}

func (s *Server) writeList(w http.ResponseWriter, r *http.Request, key apikey.Key, name string, status int) error {
	info, values, err := s.eng.List(r.Context(), key.Tenant, name)
	if err != nil {
		return err
	}
	if values == nil {
		values = []string{}
	}
	writeJSON(w, status, listResponse{ListInfo: info, Values: values})
	return nil
}

func (s *Server) getList(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	return s.writeList(w, r, key, r.PathValue("name"), http.StatusOK)
}

// listPatch is the request of PATCH /v1/lists/{name}; absent fields keep their value.
type listPatch struct {
	Effect      *rules.Effect `json:"effect"`
	Description *string       `json:"description"`
}

func (s *Server) patchList(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	var p listPatch
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &p); err != nil {
		return err
	}
	name := r.PathValue("name")
	info, _, err := s.eng.List(r.Context(), key.Tenant, name)
	if err != nil {
		return err
	}
	l := info.List
	if p.Effect != nil {
		l.Effect = *p.Effect
	}
	if p.Description != nil {
		l.Description = *p.Description
	}
	if err := s.eng.UpdateList(r.Context(), key.Tenant, l); err != nil {
		return err
	}
	return s.writeList(w, r, key, name, http.StatusOK)
}

func (s *Server) deleteList(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	if err := s.eng.DeleteList(r.Context(), key.Tenant, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// valuesBody carries list values to add or remove.
type valuesBody struct {
	Values []string `json:"values"`
}

func (s *Server) editEntries(w http.ResponseWriter, r *http.Request, key apikey.Key, remove bool) error {
	var body valuesBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	switch {
	case len(body.Values) == 0:
		return risk.Missing("values")
	case len(body.Values) > maxValues:
		return risk.Invalid("values", "has %d values; send at most %d per request", len(body.Values), maxValues)
	}
	n, err := s.eng.EditEntries(r.Context(), key.Tenant, r.PathValue("name"), body.Values, remove)
	if err != nil {
		return err
	}
	field := "added"
	if remove {
		field = "removed"
	}
	writeJSON(w, http.StatusOK, map[string]int{field: n})
	return nil
}

func (s *Server) addEntries(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	return s.editEntries(w, r, key, false)
}

func (s *Server) removeEntries(w http.ResponseWriter, r *http.Request, key apikey.Key) error {
	return s.editEntries(w, r, key, true)
}
