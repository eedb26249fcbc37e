package keystroke

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestNewVector(t *testing.T) {
	tests := []struct {
		name         string
		hold, flight []float64
		ok           bool
	}{
		{"two keys", []float64{80, 90}, []float64{120}, true},
		{"negative flight (overlapping keys)", []float64{80, 90, 70}, []float64{-30, 0}, true},
		{"one key", []float64{80}, nil, false},
		{"no keys", nil, nil, false},
		{"too many keys", make([]float64, MaxKeys+1), make([]float64, MaxKeys), false},
		{"as many flights as holds", []float64{80, 90}, []float64{120, 130}, false},
		{"too few flights", []float64{80, 90, 100}, []float64{120}, false},
		{"negative hold", []float64{80, -1}, []float64{120}, false},
		{"NaN hold", []float64{math.NaN(), 90}, []float64{120}, false},
		{"infinite hold", []float64{math.Inf(1), 90}, []float64{120}, false},
		{"NaN flight", []float64{80, 90}, []float64{math.NaN()}, false},
		{"infinite flight", []float64{80, 90}, []float64{math.Inf(-1)}, false},
	}
	for _, tc := range tests {
		v, err := NewVector(tc.hold, tc.flight)
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.ok && !errors.Is(err, ErrVector):
			t.Errorf("%s: error %v, want ErrVector", tc.name, err)
		case tc.ok && v.Keys() != len(tc.hold):
			t.Errorf("%s: %d keys, want %d", tc.name, v.Keys(), len(tc.hold))
		}
	}
}

func TestFeatures(t *testing.T) {
	hold := []float64{80, 90, 70}
	flight := []float64{120, -30}
	v, err := NewVector(hold, flight)
	if err != nil {
		t.Fatal(err)
	}
	hold[0], flight[0] = 0, 0 // NewVector copied them
	// Holds, then down-down (hold + flight), then up-down (the flights).
	want := []float64{80, 90, 70, 200, 60, 120, -30}
	if got := v.Features(); !slices.Equal(got, want) {
		t.Errorf("Features = %v, want %v", got, want)
	}
	names := FeatureNames(3)
	if want := []string{"H0", "H1", "H2", "DD0-1", "DD1-2", "UD0-1", "UD1-2"}; !slices.Equal(names, want) {
		t.Errorf("FeatureNames(3) = %v, want %v", names, want)
	}
	if (Vector{}).Features() != nil || FeatureNames(0) != nil {
		t.Error("the zero Vector or 0 keys should have no features")
	}
}
