package offline

import (
	"strings"
	"testing"
	"time"
)

const head = "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_FRAUD\n"

func TestParseReportsLineAndColumn(t *testing.T) {
	tests := []struct {
		name, csv, want string
	}{
		{"missing column", "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TX_AMOUNT,TX_FRAUD\n1,2018-07-25 00:00:29,5,1.0,0\n", "header lacks column TERMINAL_ID (for merchant)"},
		{"bad time", head + "1,2018-07-25 00:00:29,5,9,1.5,0\n2,yesterday,5,9,1.5,0\n", "line 3 column 2 (time)"},
		{"bad amount", head + "1,2018-07-25 00:00:29,5,9,lots,0\n", "line 2 column 5 (amount)"},
		{"negative amount", head + "1,2018-07-25 00:00:29,5,9,-3,0\n", "line 2 column 5 (amount)"},
		{"bad label", head + "1,2018-07-25 00:00:29,5,9,3,maybe\n", "line 2 column 6 (label)"},
		{"empty customer", head + "1,2018-07-25 00:00:29,,9,3,1\n", "line 2 column 3 (user)"},
		{"ragged row", head + "1,2018-07-25 00:00:29,5\n", "wrong number of fields"},
	}
	for _, tc := range tests {
		_, err := parse(strings.NewReader(tc.csv), "t.csv", HandbookColumns)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	txs, err := parse(strings.NewReader(head+"7,2018-07-25 10:11:12,5,9,12.5,1\n"), "t.csv", HandbookColumns)
	if err != nil || len(txs) != 1 {
		t.Fatal(err)
	}
	want := Tx{ID: "7", At: time.Date(2018, 7, 25, 10, 11, 12, 0, time.UTC), Customer: "5", Merchant: "9", Amount: 12.5, Fraud: true}
	if got := txs[0]; got.ID != want.ID || !got.At.Equal(want.At) || got.Customer != want.Customer || got.Amount != want.Amount || !got.Fraud {
		t.Errorf("parsed %+v", got)
	}
}

func TestParseColumnMap(t *testing.T) {
	m, err := ParseColumnMap("id=order,time=ts,user=customer,merchant=shop,amount=total,label=is_fraud")
	if err != nil || m.ID != "order" || m.Label != "is_fraud" || m.Merchant != "shop" {
		t.Errorf("%+v, %v", m, err)
	}
	for _, bad := range []string{"id", "colour=red", "id="} {
		if _, err := ParseColumnMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzParse: no CSV makes the loader panic; what it accepts is well formed.
func FuzzParse(f *testing.F) {
	f.Add(head + "1,2018-07-25 00:00:29,5,9,1.5,0\n")
	f.Add(head + "1,2018-07-25T00:00:29Z,5,9,1e3,1\n2,\"2018-07-26\",\"x\",9,0,true\n")
	f.Add("a,b\n1,2\n")
	f.Fuzz(func(t *testing.T, data string) {
		txs, err := parse(strings.NewReader(data), "fuzz.csv", HandbookColumns)
		if err != nil {
			return
		}
		for _, tx := range txs {
			if tx.ID == "" || tx.Customer == "" || tx.At.IsZero() || tx.Amount < 0 {
				t.Fatalf("accepted a malformed row: %+v", tx)
			}
		}
	})
}
