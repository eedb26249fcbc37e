package features_test

import (
	"testing"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/features/featurestest"
)

func TestMemorySuite(t *testing.T) {
	featurestest.Run(t, func(t *testing.T, cfg features.MemoryConfig) features.Store { return features.NewMemory(cfg) })
}

// TestMemoryStreams runs the differential streams through a one-shard
// Memory against a default one: the answers must not depend on sharding,
// and the long random streams (idle cycles, many kinds, sketches) must run
// without error.
func TestMemoryStreams(t *testing.T) {
	featurestest.Differential(t, func(t *testing.T, cfg features.MemoryConfig) features.Store {
		cfg.Shards = 1
		return features.NewMemory(cfg)
	})
}
