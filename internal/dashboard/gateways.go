package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// gatewayStatus is what the Gateway page shows of one gateway: its admin
// endpoint's GET /status (the fields shown; the dashboard does not import
// the gateway, it reads its JSON like any operator's tool).
type gatewayStatus struct {
	Healthy bool `json:"healthy"`
	Attack  struct {
		On       bool      `json:"under_attack"`
		Mode     string    `json:"mode"`
		Reason   string    `json:"reason"`
		Since    time.Time `json:"since"`
		Baseline float64   `json:"baseline_rps"`
	} `json:"attack"`
	Stats struct {
		Requests, Proxied, TooLarge, TooSlow, UpstreamDown, UpstreamErrors, ConnsDropped, RateLimited, Shed int64
	} `json:"stats"`
	Admission *struct {
		Limit    int `json:"limit"`
		InFlight int `json:"in_flight"`
		Waiting  int `json:"waiting"`
	} `json:"admission"`
	LimitKeys  int `json:"limit_keys"`
	BotClients int `json:"bot_clients"`
	TopClients []struct {
		Client   string         `json:"client"`
		Count    int            `json:"count"`
		Reasons  map[string]int `json:"reasons"`
		Last     time.Time      `json:"last"`
		BotScore *int           `json:"bot_score"`
		Mismatch string         `json:"mismatch"`
	} `json:"top_clients"`
}

// gatewayView is one gateway on the page: its address and status, or why
// it could not be read.
type gatewayView struct {
	URL    string
	Status *gatewayStatus
	Error  string
}

// reasonCount is one reason of a client, for the page (sorted by count).
type reasonCount struct {
	Reason string
	Count  int
}

// sortedReasons orders a client's reasons, most frequent first.
func sortedReasons(m map[string]int) []reasonCount {
	out := make([]reasonCount, 0, len(m))
	for k, v := range m {
		out = append(out, reasonCount{k, v})
	}
	slices.SortFunc(out, func(a, b reasonCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Reason < b.Reason {
			return -1
		}
		return 1
	})
	return out
}

// gatewayTimeout bounds reading one gateway's status.
const gatewayTimeout = 3 * time.Second

// maxStatusBytes bounds a gateway's status answer.
const maxStatusBytes = 1 << 20

// fetchStatus reads a gateway's status.
func (s *Server) fetchStatus(ctx context.Context, base string) (*gatewayStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, gatewayTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.gatewayClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /status answered %s", resp.Status)
	}
	var st gatewayStatus
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxStatusBytes)).Decode(&st); err != nil {
		return nil, fmt.Errorf("GET /status: %w", err)
	}
	return &st, nil
}

// gatewaysPage shows every configured gateway's status, read at once.
func (s *Server) gatewaysPage(w http.ResponseWriter, r *http.Request, sess *session) {
	views := make([]gatewayView, len(s.cfg.Gateways))
	var wg sync.WaitGroup
	for i, base := range s.cfg.Gateways {
		views[i].URL = base
		wg.Go(func() {
			st, err := s.fetchStatus(r.Context(), base)
			if err != nil {
				views[i].Error = err.Error()
				return
			}
			views[i].Status = st
		})
	}
	wg.Wait()
	s.render(w, http.StatusOK, "gateways", view{Title: "Gateways", Nav: "gateways", User: &sess.user, CSRF: sess.csrf, Data: views})
}

// gatewayMode sets a gateway's under-attack mode (admins only): on, off or
// auto, as an operator would on its admin address.
func (s *Server) gatewayMode(w http.ResponseWriter, r *http.Request, sess *session) {
	i, err := strconv.Atoi(r.PostForm.Get("gateway"))
	mode := r.PostForm.Get("mode")
	if err != nil || i < 0 || i >= len(s.cfg.Gateways) || (mode != "on" && mode != "off" && mode != "auto") {
		s.fail(w, r, sess, http.StatusBadRequest, "Choose a gateway and a mode: on, off or auto.")
		return
	}
	base := s.cfg.Gateways[i]
	ctx, cancel := context.WithTimeout(r.Context(), gatewayTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/under-attack", nil)
	if err == nil {
		req.URL.RawQuery = url.Values{"mode": {mode}}.Encode()
		var resp *http.Response
		if resp, err = s.gatewayClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxStatusBytes))
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
	}
	if err != nil {
		s.log.Warn("dashboard: setting a gateway's mode failed", "gateway", base, "error", err)
		s.fail(w, r, sess, http.StatusBadGateway, "The gateway did not take the change: "+err.Error())
		return
	}
	s.audit(r.Context(), sess, "gateway.mode", base, mode)
	http.Redirect(w, r, Prefix+"/gateways", http.StatusSeeOther)
}
