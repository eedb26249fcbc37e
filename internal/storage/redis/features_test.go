package redis

import (
	"testing"

	"github.com/shopguard/shopguard/internal/features"
	"github.com/shopguard/shopguard/internal/features/featurestest"
)

// openFeatures is the suite's Opener: a Features store under a prefix of
// its own.
func openFeatures(t *testing.T, cfg features.MemoryConfig) features.Store {
	return testState(t).Features(cfg, nil)
}

func TestFeaturesSuite(t *testing.T) { featurestest.Run(t, openFeatures) }

func TestFeaturesMatchMemory(t *testing.T) { featurestest.Differential(t, openFeatures) }
