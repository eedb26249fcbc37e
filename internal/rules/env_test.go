package rules

import (
	"testing"

	"github.com/shopguard/shopguard/internal/risk"
)

// testEnv is the environment of the test event kind "transaction".
type testEnv struct {
	AmountMinor int64        `expr:"amount_minor"`
	Currency    string       `expr:"currency"`
	Ratio       float64      `expr:"ratio"`
	IP          string       `expr:"ip"`
	Country     string       `expr:"country"`
	BIN         int          `expr:"bin"`
	Features    testFeatures `expr:"features"`
	User        testUser     `expr:"user"`
	Tags        []string     `expr:"tags"`
	Extra       any          `expr:"extra"`
}

type testFeatures struct {
	Card testCardFeatures `expr:"card"`
}

type testCardFeatures struct {
	Count1h   int64   `expr:"count_1h"`
	Devices24 int64   `expr:"devices_24h"`
	AvgAmount float64 `expr:"avg_amount"`
}

type testUser struct {
	Email      string `expr:"email"`
	AgeDays    int64  `expr:"age_days"`
	Verified   bool   `expr:"verified"`
	FailedLast int    `expr:"failed_logins_1h"`
}

// testLoginEnv is the environment of the test event kind "login".
type testLoginEnv struct {
	Failures int64  `expr:"failures"`
	IP       string `expr:"ip"`
}

func testSchemas() Schemas {
	return Schemas{
		risk.EventTransaction: (*testEnv)(nil),
		risk.EventLogin:       (*testLoginEnv)(nil),
	}
}

func testLists(t testing.TB) *Lists {
	t.Helper()
	l, err := NewLists([]ListEntries{
		{List: List{Name: "blocked-ips", Kind: ListIP, Effect: EffectBlock}, Entries: []string{"203.0.113.0/24", "198.51.100.7", "2001:db8::/32"}},
		{List: List{Name: "vip-emails", Kind: ListEmail, Effect: EffectAllow}, Entries: []string{"Alice@Example.COM"}},
		{List: List{Name: "risky-countries", Kind: ListCountry, Effect: EffectNone}, Entries: []string{"kp", "IR"}},
		{List: List{Name: "bad-bins", Kind: ListBIN, Effect: EffectReview}, Entries: []string{"411111", "550000"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
