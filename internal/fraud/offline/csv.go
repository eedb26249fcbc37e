// Package offline trains and evaluates shopguard's fraud model on labelled
// history: it reads transactions from CSV files, replays them in event-time
// order through the streaming feature store with labels revealed only
// after a delay (as in production), and measures the model as the Fraud
// Detection Handbook does.
package offline

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tx is a labelled transaction as the offline tools use it.
type Tx struct {
	ID       string
	At       time.Time
	Customer string
	Merchant string
	Amount   float64
	Fraud    bool
	// Given holds the values of ColumnMap.Given columns (precomputed
	// features a data set ships, for comparisons).
	Given []float64
}

// ColumnMap names the CSV columns that hold each field.
type ColumnMap struct {
	ID, Time, User, Merchant, Amount, Label string
	// Given lists extra numeric columns to read into Tx.Given.
	Given []string
}

// HandbookFeatures are the 15 features the handbook's files ship
// (precomputed over the whole 183-day history), for comparisons.
var HandbookFeatures = []string{"TX_AMOUNT", "TX_DURING_WEEKEND", "TX_DURING_NIGHT",
	"CUSTOMER_ID_NB_TX_1DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_1DAY_WINDOW", "CUSTOMER_ID_NB_TX_7DAY_WINDOW",
	"CUSTOMER_ID_AVG_AMOUNT_7DAY_WINDOW", "CUSTOMER_ID_NB_TX_30DAY_WINDOW", "CUSTOMER_ID_AVG_AMOUNT_30DAY_WINDOW",
	"TERMINAL_ID_NB_TX_1DAY_WINDOW", "TERMINAL_ID_RISK_1DAY_WINDOW", "TERMINAL_ID_NB_TX_7DAY_WINDOW",
	"TERMINAL_ID_RISK_7DAY_WINDOW", "TERMINAL_ID_NB_TX_30DAY_WINDOW", "TERMINAL_ID_RISK_30DAY_WINDOW"}

// HandbookColumns is the mapping of the Fraud Detection Handbook's files.
var HandbookColumns = ColumnMap{ID: "TRANSACTION_ID", Time: "TX_DATETIME", User: "CUSTOMER_ID", Merchant: "TERMINAL_ID",
	Amount: "TX_AMOUNT", Label: "TX_FRAUD"}

// ParseColumnMap reads "id=COL,time=COL,user=COL,merchant=COL,amount=COL,label=COL";
// fields left out keep the handbook's names.
func ParseColumnMap(s string) (ColumnMap, error) {
	m := HandbookColumns
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return m, fmt.Errorf("offline: column map entry %q: want field=COLUMN", part)
		}
		switch k {
		case "id":
			m.ID = v
		case "time":
			m.Time = v
		case "user":
			m.User = v
		case "merchant":
			m.Merchant = v
		case "amount":
			m.Amount = v
		case "label":
			m.Label = v
		default:
			return m, fmt.Errorf("offline: column map field %q: use id, time, user, merchant, amount or label", k)
		}
	}
	return m, nil
}

var timeLayouts = []string{"2006-01-02 15:04:05", time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"}

// LoadCSV reads transactions from CSV files (gzip-compressed when the name
// ends in .gz), oldest first. A malformed value is an error naming the
// file, line and column.
func LoadCSV(paths []string, cols ColumnMap) ([]Tx, error) {
	var out []Tx
	for _, p := range paths {
		txs, err := loadFile(p, cols)
		if err != nil {
			return nil, err
		}
		out = append(out, txs...)
	}
	if len(out) == 0 {
		return nil, errors.New("offline: no transactions in the input")
	}
	slices.SortStableFunc(out, func(a, b Tx) int { return a.At.Compare(b.At) })
	return out, nil
}

func loadFile(path string, cols ColumnMap) ([]Tx, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("offline: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("offline: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	return parse(r, path, cols)
}

// parse reads one CSV stream; name is used in errors.
func parse(r io.Reader, name string, cols ColumnMap) ([]Tx, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("offline: %s: reading the header: %w", name, err)
	}
	index := map[string]int{}
	for i, h := range head {
		index[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	want := []struct{ field, col string }{{"id", cols.ID}, {"time", cols.Time}, {"user", cols.User},
		{"merchant", cols.Merchant}, {"amount", cols.Amount}, {"label", cols.Label}}
	at := map[string]int{}
	var missing []string
	for _, w := range want {
		i, ok := index[w.col]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (for %s)", w.col, w.field))
		}
		at[w.field] = i
	}
	given := make([]int, len(cols.Given))
	for i, g := range cols.Given {
		j, ok := index[g]
		if !ok {
			missing = append(missing, g)
		}
		given[i] = j
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("offline: %s: header lacks column %s; map the columns with --map", name, strings.Join(missing, ", "))
	}
	var out []Tx
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("offline: %s: %w", name, err)
		}
		bad := func(field, msg string) error {
			return fmt.Errorf("offline: %s line %d column %d (%s): %s", name, line, at[field]+1, field, msg)
		}
		get := func(field string) string { return strings.TrimSpace(rec[at[field]]) }
		tx := Tx{ID: get("id"), Customer: get("user"), Merchant: get("merchant")}
		if tx.ID == "" {
			return nil, bad("id", "empty")
		}
		ts := get("time")
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, ts); err == nil {
				tx.At = t.UTC()
				break
			}
		}
		if tx.At.IsZero() {
			return nil, bad("time", fmt.Sprintf("%q is not a time such as 2018-07-25 00:00:29", ts))
		}
		if tx.Customer == "" {
			return nil, bad("user", "empty")
		}
		amt, err := strconv.ParseFloat(get("amount"), 64)
		if err != nil || amt < 0 || amt > 1e12 {
			return nil, bad("amount", fmt.Sprintf("%q is not an amount", get("amount")))
		}
		tx.Amount = amt
		switch get("label") {
		case "1", "true", "fraud", "1.0":
			tx.Fraud = true
		case "0", "false", "legit", "0.0":
		default:
			return nil, bad("label", fmt.Sprintf("%q is not 0 or 1", get("label")))
		}
		for i, j := range given {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[j]), 64)
			if err != nil {
				return nil, fmt.Errorf("offline: %s line %d column %d (%s): %q is not a number", name, line, j+1, cols.Given[i], rec[j])
			}
			tx.Given = append(tx.Given, v)
		}
		out = append(out, tx)
	}
	return out, nil
}
