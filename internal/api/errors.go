package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/assistant"
	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/engine"
	"github.com/shopguard/shopguard/internal/notify"
	"github.com/shopguard/shopguard/internal/risk"
	"github.com/shopguard/shopguard/internal/rules"
	"github.com/shopguard/shopguard/internal/storage"
)

// errorBody is the JSON error shape of every 4xx and 5xx answer.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Code      string   `json:"code"`
	Message   string   `json:"message"`
	Field     string   `json:"field,omitempty"`
	Details   []detail `json:"details,omitempty"`
	RequestID string   `json:"request_id,omitempty"`
}

// detail is one of several problems (every invalid field, every rule that
// does not compile).
type detail struct {
	Field   string `json:"field,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Rule    string `json:"rule,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// statusError is an error that carries its HTTP status and code (decoding
// problems, auth failures, routing).
type statusError struct {
	status int
	code   string
	field  string
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func newStatusError(status int, code, field, msg string) *statusError {
	return &statusError{status: status, code: code, field: field, msg: msg}
}

// writeError maps err to a status and the JSON error shape. It is the one
// place where errors become HTTP statuses; anything it does not recognise
// is a 500 and is logged, because a 5xx is a bug.
// WriteError answers a request with err as the API does: a status and a
// JSON error naming the field (for other handlers of shopguard's, such as
// the hosted pages).
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeError(w, r, err)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.classify(err)
	body.Error.RequestID = requestID(r.Context())
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", body.Error.RequestID, "error", err)
	} else {
		s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="shopguard"`)
	}
	var rl *authn.RateLimitedError
	if errors.As(err, &rl) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(time.Until(rl.RetryAt).Seconds()+0.999))))
	}
	writeJSON(w, status, body)
}

func (s *Server) classify(err error) (int, errorBody) {
	var se *statusError
	var ce rules.CompileErrors
	var rl *authn.RateLimitedError
	var pr *authn.RejectedError
	switch {
	case errors.As(err, &se):
		return se.status, errorBody{apiError{Code: se.code, Message: se.msg, Field: se.field}}
	case errors.As(err, &ce) && len(ce) > 0:
		b := errorBody{apiError{Code: "invalid_rule", Message: ce[0].Error(), Field: ce[0].Field}}
		for _, c := range ce {
			b.Error.Details = append(b.Error.Details, detail{Field: c.Field, Code: "invalid_rule", Message: c.Message, Rule: c.Rule, Line: c.Line, Column: c.Column})
		}
		return http.StatusBadRequest, b
	case len(risk.FieldErrors(err)) > 0:
		return http.StatusBadRequest, fieldErrors(err)
	case errors.Is(err, risk.ErrInvalid):
		return http.StatusBadRequest, errorBody{apiError{Code: "invalid_field", Message: err.Error()}}
	case errors.Is(err, apikey.ErrMissing), errors.Is(err, apikey.ErrInvalid):
		return http.StatusUnauthorized, errorBody{apiError{Code: "unauthenticated", Message: err.Error()}}
	case errors.Is(err, storage.ErrNotFound):
		return http.StatusNotFound, errorBody{apiError{Code: "not_found", Message: err.Error()}}
	case errors.Is(err, engine.ErrDuplicate), errors.Is(err, storage.ErrConflict), errors.Is(err, engine.ErrListInUse):
		return http.StatusConflict, errorBody{apiError{Code: "conflict", Message: err.Error()}}
	case errors.As(err, &rl):
		return http.StatusTooManyRequests, errorBody{apiError{Code: "rate_limited", Message: err.Error()}}
	case errors.Is(err, authn.ErrEnrolled), errors.Is(err, authn.ErrNotEnrolled):
		return http.StatusConflict, errorBody{apiError{Code: "conflict", Message: err.Error()}}
	case errors.Is(err, authn.ErrNoFactor):
		return http.StatusConflict, errorBody{apiError{Code: "no_factor", Message: err.Error()}}
	case errors.As(err, &pr):
		return http.StatusBadRequest, errorBody{apiError{Code: "passkey_rejected", Field: "credential", Message: err.Error()}}
	case errors.Is(err, authn.ErrCeremony):
		return http.StatusConflict, errorBody{apiError{Code: "ceremony_unusable", Field: "ceremony_id", Message: err.Error()}}
	case errors.Is(err, authn.ErrNoRelyingParty):
		return http.StatusConflict, errorBody{apiError{Code: "not_configured", Message: err.Error()}}
	case errors.Is(err, authn.ErrTooManyPasskeys):
		return http.StatusConflict, errorBody{apiError{Code: "limit_reached", Message: err.Error()}}
	case errors.Is(err, authn.ErrChallengeClosed):
		return http.StatusConflict, errorBody{apiError{Code: "challenge_closed", Message: err.Error()}}
	case errors.Is(err, authn.ErrChallengeExpired):
		return http.StatusGone, errorBody{apiError{Code: "expired", Message: err.Error()}}
	case errors.Is(err, assistant.ErrTooFast):
		return http.StatusTooManyRequests, errorBody{apiError{Code: "rate_limited", Message: err.Error()}}
	case errors.Is(err, assistant.ErrConversationOver):
		return http.StatusConflict, errorBody{apiError{Code: "conversation_over", Message: err.Error()}}
	case errors.Is(err, notify.ErrTooMany):
		return http.StatusConflict, errorBody{apiError{Code: "limit_reached", Message: err.Error()}}
	case errors.Is(err, engine.ErrBuiltinList):
		return http.StatusForbidden, errorBody{apiError{Code: "forbidden", Message: err.Error()}}
	case errors.Is(err, context.Canceled):
		return 499, errorBody{apiError{Code: "cancelled", Message: "the client closed the request"}}
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, errorBody{apiError{Code: "timeout", Message: "the request took too long; try again"}}
	case errors.Is(err, storage.ErrUnavailable):
		return http.StatusServiceUnavailable, errorBody{apiError{Code: "unavailable", Message: "shared state is unreachable right now; try again shortly"}}
	case errors.Is(err, storage.ErrClosed):
		return http.StatusServiceUnavailable, errorBody{apiError{Code: "unavailable", Message: "shopguard is shutting down; try again"}}
	}
	return http.StatusInternalServerError, errorBody{apiError{Code: "internal", Message: "internal error; the request id is in shopguard's log"}}
}

// fieldErrors turns every field error in err into one body: the first is
// the headline, all of them are in details.
func fieldErrors(err error) errorBody {
	var ds []detail
	for _, fe := range risk.FieldErrors(err) {
		ds = append(ds, detail{Field: fe.Field, Code: fe.Code, Message: fe.Message})
	}
	if len(ds) == 0 {
		return errorBody{apiError{Code: "invalid_field", Message: err.Error()}}
	}
	msg := ds[0].Field + " " + ds[0].Message
	if len(ds) > 1 {
		msg += " (and " + strconv.Itoa(len(ds)-1) + " more problem" + plural(len(ds)-1) + " in details)"
	}
	return errorBody{apiError{Code: ds[0].Code, Message: msg, Field: ds[0].Field, Details: ds}}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// writeJSON writes v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // rule expressions use < and &&
	_ = enc.Encode(v)        // an error means the client went away
}
