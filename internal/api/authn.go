package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/authn"
)

// Authenticators enrols and verifies customers' second factors (an
// *authn.Authenticators).
type Authenticators interface {
	Enrol(ctx context.Context, tenant, userID string, in authn.EnrolInput) (authn.Enrolment, error)
	Confirm(ctx context.Context, tenant, userID, code string) ([]string, error)
	Verify(ctx context.Context, tenant, userID, code string) error
	Remove(ctx context.Context, tenant, userID string) error
	NewRecoveryCodes(ctx context.Context, tenant, userID string) ([]string, error)
	UseRecoveryCode(ctx context.Context, tenant, userID, code string) error
	Factors(ctx context.Context, tenant, userID string) (authn.Factors, error)
}

// Typing keeps customers' typing rhythms (an *authn.Typing).
type Typing interface {
	Distance(ctx context.Context, tenant, userID string, hold, flight []float64) (float64, bool, error)
	Learn(ctx context.Context, tenant, userID, eventID string, hold, flight []float64) error
}

// RememberedDevices checks and forgets the tokens of devices customers
// passed a step-up on (an *authn.Devices).
type RememberedDevices interface {
	Check(ctx context.Context, tenant, userID, deviceID, token string) (bool, string, error)
	Forget(ctx context.Context, tenant, userID string) error
}

// SetDevices lets logins present remembered-device tokens and serves
// DELETE /v1/users/{user}/remembered-devices (without it, tokens count
// for nothing and that route answers 404).
func (s *Server) SetDevices(d RememberedDevices) { s.devices = d }

// errNoDevices answers the route of a server without remembered devices.
var errNoDevices = newStatusError(http.StatusNotFound, "not_found", "", "remembered devices are not available in this shopguard")

func (s *Server) deleteRememberedDevices(w http.ResponseWriter, r *http.Request, key apikey.Key, d RememberedDevices) error {
	if err := d.Forget(r.Context(), key.Tenant, r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// SetTyping lets logins with keystrokes be scored against, and teach,
// the customer's typing rhythm (without it, keystrokes are only stored).
func (s *Server) SetTyping(t Typing) { s.typing = t }

// SetAuthenticators serves /v1/users/{user}/... (without it, those routes
// answer 404).
func (s *Server) SetAuthenticators(a Authenticators) { s.factors = a }

// errNoAuthn answers the factor routes of a server without authenticators.
var errNoAuthn = newStatusError(http.StatusNotFound, "not_found", "", "second factors are not available in this shopguard")

// enrolmentJSON is a new authenticator app's secret as the API shows it.
type enrolmentJSON struct {
	UserID string `json:"user_id"`
	Secret string `json:"secret"`
	URL    string `json:"otpauth_url"`
	// QRCode is the PNG, base64-encoded (JSON encodes []byte so).
	QRCode []byte `json:"qr_code_png"`
}

// codeBody carries a code the customer typed.
type codeBody struct {
	Code string `json:"code"`
}

// verifiedJSON is the answer to a code check.
type verifiedJSON struct {
	Verified bool `json:"verified"`
}

// recoveryJSON carries a new set of recovery codes.
type recoveryJSON struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (s *Server) getFactors(w http.ResponseWriter, r *http.Request, key apikey.Key, a Authenticators) error {
	f, err := a.Factors(r.Context(), key.Tenant, r.PathValue("user"))
	if err != nil {
		return err
	}
	if s.passkeys != nil {
		if f.Passkeys, err = s.passkeys.Count(r.Context(), key.Tenant, r.PathValue("user")); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) postTOTP(w http.ResponseWriter, r *http.Request, key apikey.Key, a Authenticators) error {
	var in authn.EnrolInput
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		return err
	}
	user := r.PathValue("user")
	e, err := a.Enrol(r.Context(), key.Tenant, user, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, enrolmentJSON{UserID: user, Secret: e.Secret, URL: e.URL, QRCode: e.QRCode})
	return nil
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, key apikey.Key, a Authenticators) error {
	var body codeBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	codes, err := a.Confirm(r.Context(), key.Tenant, r.PathValue("user"), body.Code)
	if errors.Is(err, authn.ErrWrongCode) {
		return newStatusError(http.StatusBadRequest, "wrong_code", "code", "the code is wrong or expired: ask for the code the app shows now")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, recoveryJSON{RecoveryCodes: codes})
	return nil
}

// verified answers a code check: a wrong code is an answer, not an error.
func verified(w http.ResponseWriter, err error) error {
	if errors.Is(err, authn.ErrWrongCode) {
		writeJSON(w, http.StatusOK, verifiedJSON{Verified: false})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, verifiedJSON{Verified: true})
	return nil
}

func (s *Server) verifyTOTP(w http.ResponseWriter, r *http.Request, key apikey.Key, a Authenticators) error {
	var body codeBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	return verified(w, a.Verify(r.Context(), key.Tenant, r.PathValue("user"), body.Code))
}

func (s *Server) deleteTOTP(w http.ResponseWriter, r *http.Request, key apikey.Key, a Authenticators) error {
	if err := a.Remove(r.Context(), key.Tenant, r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) postRecoveryCodes(w http.ResponseWriter, r *http.Request, key apikey.Key, a Authenticators) error {
	codes, err := a.NewRecoveryCodes(r.Context(), key.Tenant, r.PathValue("user"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, recoveryJSON{RecoveryCodes: codes})
	return nil
}

func (s *Server) verifyRecoveryCode(w http.ResponseWriter, r *http.Request, key apikey.Key, a Authenticators) error {
	var body codeBody
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &body); err != nil {
		return err
	}
	return verified(w, a.UseRecoveryCode(r.Context(), key.Tenant, r.PathValue("user"), body.Code))
}
