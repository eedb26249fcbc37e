package engine_test

import (
	"errors"
	"sync/atomic"

	"github.com/shopguard/shopguard/internal/features"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add() int64 { return c.n.Add(1) }

func newFeatures() *features.Memory { return features.NewMemory(features.MemoryConfig{}) }
