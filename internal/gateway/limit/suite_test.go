package limit_test

import (
	"testing"

	"github.com/shopguard/shopguard/internal/gateway/limit"
	"github.com/shopguard/shopguard/internal/gateway/limit/limittest"
)

// TestSuite: the in-memory limiter passes the suite every home of the
// buckets must pass.
func TestSuite(t *testing.T) {
	limittest.Run(t, func(t *testing.T) limittest.Limits {
		l, err := limit.New(limit.Config{Rules: limittest.Rules, MaxKeys: 1024})
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}
