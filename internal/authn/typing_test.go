package authn_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopguard/shopguard/internal/authn"
	"github.com/shopguard/shopguard/internal/storage/memory"
)

// typist types a 10-key password with their own rhythm and some noise.
type typist struct {
	hold, flight []float64
	rng          *rand.Rand
}

func newTypist(seed uint64, holdMS, flightMS float64) *typist {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := &typist{rng: rng}
	for i := range 10 {
		t.hold = append(t.hold, holdMS*(0.7+0.6*rng.Float64()))
		if i > 0 {
			t.flight = append(t.flight, flightMS*(0.5+rng.Float64()))
		}
	}
	return t
}

func (t *typist) entry() (hold, flight []float64) {
	for _, h := range t.hold {
		hold = append(hold, h*(1+0.12*t.rng.NormFloat64()))
	}
	for _, f := range t.flight {
		flight = append(flight, f*(1+0.15*t.rng.NormFloat64()))
	}
	return hold, flight
}

func TestTypingProfiles(t *testing.T) {
	ctx := context.Background()
	ty := authn.NewTyping(authn.TypingConfig{}, memory.New())
	ana, mallory := newTypist(1, 95, 180), newTypist(2, 120, 260)
	h, f := ana.entry()
	if _, ok, err := ty.Distance(ctx, "shop", "u1", h, f); ok || err != nil {
		t.Fatalf("Distance without a profile = %v, %v; want no opinion", ok, err)
	}
	for i := range 10 {
		h, f := ana.entry()
		if err := ty.Learn(ctx, "shop", "u1", fmt.Sprintf("ev_%d", i), h, f); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := ty.Distance(ctx, "shop", "u1", h, f); ok != (i == 9) {
			t.Errorf("after %d samples the template exists: %v", i+1, ok)
		}
	}
	var own, other float64
	for range 20 {
		h, f := ana.entry()
		d, ok, err := ty.Distance(ctx, "shop", "u1", h, f)
		if err != nil || !ok {
			t.Fatal(err)
		}
		own += d / 20
		h, f = mallory.entry()
		d, _, _ = ty.Distance(ctx, "shop", "u1", h, f)
		other += d / 20
	}
	if !(own < 1.6 && other > 2.1) { // 2.1: where the default rule typing_rhythm_unfamiliar starts
		t.Errorf("mean distance: the customer's own typing %.2f, someone else typing the password %.2f", own, other)
	}
	// A new password (another number of keys): no opinion, and learning starts over.
	short := []float64{90, 100, 110}
	if _, ok, _ := ty.Distance(ctx, "shop", "u1", short, []float64{150, 160}); ok {
		t.Error("a rhythm of another length got a distance")
	}
	if err := ty.Learn(ctx, "shop", "u1", "ev_new", short, []float64{150, 160}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := ty.Distance(ctx, "shop", "u1", h, f); ok {
		t.Error("the old password's template survived a new password")
	}
	if _, _, err := ty.Distance(ctx, "shop", "u1", []float64{1}, nil); err == nil {
		t.Error("a one-key rhythm was accepted")
	}
}

// TestTypingForgetsATakeover: a takeover's sign-in that taught the
// profile the attacker's rhythm is unlearnt when it is labelled, and the
// customer's own rhythm is what the template measures again.
func TestTypingForgetsATakeover(t *testing.T) {
	ctx := context.Background()
	ty := authn.NewTyping(authn.TypingConfig{Enrol: 5, Keep: 8}, memory.New())
	ana, mallory := newTypist(1, 95, 180), newTypist(2, 120, 260)
	for i := range 5 {
		h, f := ana.entry()
		if err := ty.Learn(ctx, "shop", "u1", fmt.Sprintf("ev_ana_%d", i), h, f); err != nil {
			t.Fatal(err)
		}
	}
	mean := func(who *typist) float64 {
		var sum float64
		for range 30 {
			h, f := who.entry()
			d, ok, err := ty.Distance(ctx, "shop", "u1", h, f)
			if err != nil || !ok {
				t.Fatalf("Distance = %v, %v", ok, err)
			}
			sum += d / 30
		}
		return sum
	}
	before := mean(mallory)
	// The attacker gets in three times (the password was stolen; nothing
	// stopped the sign-ins) and the profile learns their rhythm.
	for i := range 3 {
		h, f := mallory.entry()
		if err := ty.Learn(ctx, "shop", "u1", fmt.Sprintf("ev_mallory_%d", i), h, f); err != nil {
			t.Fatal(err)
		}
	}
	taught := mean(mallory)
	if !(taught < before) {
		t.Fatalf("the attacker's sign-ins did not teach the profile: distance %.2f before, %.2f after", before, taught)
	}
	for i := range 3 {
		if ok, err := ty.Forget(ctx, "shop", "u1", fmt.Sprintf("ev_mallory_%d", i)); err != nil || !ok {
			t.Fatalf("Forget = %v, %v", ok, err)
		}
	}
	if after := mean(mallory); after < before-0.05 || after > before+0.05 {
		t.Errorf("after forgetting the takeovers the attacker's distance is %.2f, was %.2f before them", after, before)
	}
	if ok, err := ty.Forget(ctx, "shop", "u1", "ev_mallory_0"); err != nil || ok {
		t.Errorf("forgetting twice = %v, %v", ok, err)
	}
	if ok, err := ty.Forget(ctx, "shop", "nobody", "ev_1"); err != nil || ok {
		t.Errorf("forgetting for a customer without a profile = %v, %v", ok, err)
	}
	// Fewer samples than make a template: the template goes.
	for i := range 2 {
		if _, err := ty.Forget(ctx, "shop", "u1", fmt.Sprintf("ev_ana_%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	h, f := ana.entry()
	if _, ok, _ := ty.Distance(ctx, "shop", "u1", h, f); ok {
		t.Error("a template trained on 3 samples")
	}
}
