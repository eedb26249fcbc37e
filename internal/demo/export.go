package demo

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopguard/shopguard/client"
)

// ExportedTransaction is one line of transactions.jsonl: a transaction as
// the shop sent it to shopguard, shopguard's verdict, what the shop did,
// and the ground truth only the simulator knows.
type ExportedTransaction struct {
	Transaction client.Transaction `json:"transaction"`
	// History is set for past orders imported before the run.
	History bool  `json:"history,omitempty"`
	Truth   Truth `json:"truth"`
	// Label is the ground truth as a feedback label: fraud or legit.
	Label      string          `json:"label"`
	Status     string          `json:"status,omitempty"`
	Disputed   bool            `json:"disputed,omitempty"`
	DecisionID string          `json:"decision_id,omitempty"`
	Action     string          `json:"action,omitempty"`
	Score      int             `json:"score"`
	Reasons    []client.Reason `json:"reasons,omitempty"`
	// Fallback is set when shopguard did not answer and the shop's failure policy decided.
	Fallback bool `json:"fallback,omitempty"`
}

// exportRows joins orders with the simulator's ground truth. Orders the
// simulator did not place (someone using the shop in a browser during the
// demo) have the scenario "unknown".
func exportRows(history []Order, orders []Order, checkouts []CheckoutRecord) []ExportedTransaction {
	truth := make(map[string]CheckoutRecord, len(checkouts))
	for _, c := range checkouts {
		truth[c.OrderID] = c
	}
	rows := make([]ExportedTransaction, 0, len(history)+len(orders))
	for _, o := range history {
		rows = append(rows, ExportedTransaction{Transaction: o.Sent, History: true,
			Truth: Truth{Actor: o.AccountID, Scenario: "shoppers"}, Label: "legit", Status: StatusPaid})
	}
	for _, o := range orders {
		c, ok := truth[o.ID]
		t := c.Truth
		if !ok {
			t = Truth{Actor: "browser", Scenario: "unknown"}
		}
		label := "legit"
		if t.Fraud {
			label = "fraud"
		}
		rows = append(rows, ExportedTransaction{Transaction: o.Sent, Truth: t, Label: label, Status: o.Status,
			Disputed: c.Disputed, DecisionID: o.Verdict.DecisionID, Action: string(o.Verdict.Action),
			Score: o.Verdict.Score, Reasons: o.Verdict.Reasons, Fallback: o.Verdict.Fallback})
	}
	return rows
}

// Export writes the run's labelled data to dir (created if needed):
// transactions.jsonl and transactions.csv (every transaction with its
// ground truth and verdict) and requests.csv (every simulated request).
func Export(dir string, rows []ExportedTransaction, reqs []RequestRecord) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("demo: export: %w", err)
	}
	return errors.Join(
		writeFile(filepath.Join(dir, "transactions.jsonl"), func(w *bufio.Writer) error {
			enc := json.NewEncoder(w)
			for _, r := range rows {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
			return nil
		}),
		writeFile(filepath.Join(dir, "transactions.csv"), func(w *bufio.Writer) error {
			cw := csv.NewWriter(w)
			_ = cw.Write([]string{"id", "created_at", "history", "scenario", "actor", "label", "amount_minor", "currency",
				"user_id", "email", "ip", "device_id", "card_fingerprint", "card_bin", "card_country", "billing_country",
				"shipping_country", "items", "action", "score", "reasons", "status", "disputed", "fallback"})
			for _, r := range rows {
				t := r.Transaction
				var user, email, fp, bin, cardCountry, bill, ship string
				if t.User != nil {
					user, email = t.User.ID, t.User.Email
				}
				if t.Payment != nil {
					fp, bin, cardCountry = t.Payment.CardFingerprint, t.Payment.BIN, t.Payment.CardCountry
				}
				if t.BillingAddress != nil {
					bill = t.BillingAddress.Country
				}
				if t.ShippingAddress != nil {
					ship = t.ShippingAddress.Country
				}
				codes := make([]string, len(r.Reasons))
				for i, rs := range r.Reasons {
					codes[i] = rs.Code
				}
				_ = cw.Write([]string{t.ID, t.CreatedAt.UTC().Format(time.RFC3339Nano), strconv.FormatBool(r.History),
					r.Truth.Scenario, r.Truth.Actor, r.Label, strconv.FormatInt(t.AmountMinor, 10), t.Currency,
					user, email, t.IP, t.DeviceID, fp, bin, cardCountry, bill, ship, strconv.Itoa(len(t.Items)),
					r.Action, strconv.Itoa(r.Score), strings.Join(codes, " "), r.Status,
					strconv.FormatBool(r.Disputed), strconv.FormatBool(r.Fallback)})
			}
			cw.Flush()
			return cw.Error()
		}),
		writeFile(filepath.Join(dir, "requests.csv"), func(w *bufio.Writer) error {
			cw := csv.NewWriter(w)
			_ = cw.Write([]string{"at", "scenario", "actor", "label", "method", "path", "client_ip", "status", "latency_ms", "account", "login"})
			for _, q := range reqs {
				label := "legit"
				if q.Truth.Fraud {
					label = "fraud"
				}
				_ = cw.Write([]string{q.At.UTC().Format(time.RFC3339Nano), q.Truth.Scenario, q.Truth.Actor, label,
					q.Method, q.Path, q.ClientIP, strconv.Itoa(q.Status), strconv.FormatFloat(q.Latency.Seconds()*1000, 'f', 3, 64),
					q.Account, q.Login})
			}
			cw.Flush()
			return cw.Error()
		}),
	)
}

// writeFile writes path through fill, atomically (a temp file renamed).
func writeFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("demo: export: %w", err)
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	if err := errors.Join(fill(w), w.Flush(), f.Close()); err != nil {
		return fmt.Errorf("demo: export %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("demo: export: %w", err)
	}
	return nil
}
