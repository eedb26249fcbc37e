package keystroke

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// TemplateVersion is the version of the Template format written by Train
// and Encode; DecodeTemplate accepts only this version.
const TemplateVersion = 1

// Kind names how a Template scores.
type Kind string

// The kinds of Template.
const (
	// KindManhattan scores the sum over features of
	// min(|x_i - Centre_i| / Scale_i, Cap) (no cap when Cap is 0); made by
	// ScaledManhattan and RobustManhattan.
	KindManhattan Kind = "manhattan"
	// KindNearestNeighbour scores the mean, over the K nearest Samples, of
	// the distance sum over features of min(|x_i - s_i| / Scale_i, Cap);
	// made by NearestNeighbour.
	KindNearestNeighbour Kind = "nearest-neighbour"
)

// Errors of templates.
var (
	// ErrTemplate: a template is malformed or inconsistent.
	ErrTemplate = errors.New("keystroke: invalid template")
	// ErrTemplateVersion: a stored template has a version this code does
	// not read; retrain it from enrolment samples.
	ErrTemplateVersion = errors.New("keystroke: unsupported template version")
)

// Template is one user's typing rhythm as a Detector learnt it, ready to
// score samples and to be stored as JSON (Encode, DecodeTemplate). Build
// one with a Detector or DecodeTemplate; Score checks any other.
type Template struct {
	// Version is TemplateVersion.
	Version int `json:"version"`
	// Kind says how Score uses the fields below.
	Kind Kind `json:"kind"`
	// Centre is each feature's centre (KindManhattan only).
	Centre []float64 `json:"centre,omitempty"`
	// Scale is each feature's scale, >= MinScale.
	Scale []float64 `json:"scale"`
	// Cap is the most one feature adds to a score or distance; 0: no cap.
	Cap float64 `json:"cap,omitempty"`
	// K is how many nearest samples are averaged (KindNearestNeighbour
	// only; 1..len(Samples)).
	K int `json:"k,omitempty"`
	// Samples are the enrolment samples (KindNearestNeighbour only).
	Samples [][]float64 `json:"samples,omitempty"`
}

// Dims returns the number of features the template scores.
func (t *Template) Dims() int { return len(t.Scale) }

// Score returns the anomaly score of sample x: >= 0, finite, higher for a
// sample less like the enrolment samples (0 for the centre itself). It
// fails, with an error wrapping ErrSample, if x does not have Dims
// features or holds a NaN or infinity, and with ErrTemplate or
// ErrTemplateVersion if t is not valid.
func (t *Template) Score(x []float64) (float64, error) {
	if err := t.Validate(); err != nil {
		return 0, err
	}
	if len(x) != t.Dims() {
		return 0, fmt.Errorf("%w: %d features, the template has %d", ErrSample, len(x), t.Dims())
	}
	if j := notFinite(x); j >= 0 {
		return 0, fmt.Errorf("%w: feature %d is %g", ErrSample, j, x[j])
	}
	var score float64
	switch t.Kind {
	case KindManhattan:
		score = t.distance(x, t.Centre)
	case KindNearestNeighbour:
		score = t.nearest(x)
	}
	return min(score, math.MaxFloat64), nil
}

// distance returns the capped scaled Manhattan distance from x to y.
func (t *Template) distance(x, y []float64) float64 {
	var d float64
	for i, s := range t.Scale {
		z := math.Abs(x[i]-y[i]) / s
		if t.Cap > 0 {
			z = min(z, t.Cap)
		}
		d += z
	}
	return d
}

// nearest returns the mean distance from x to its K nearest samples.
func (t *Template) nearest(x []float64) float64 {
	best := make([]float64, 0, t.K) // the K smallest distances, ascending
	for _, s := range t.Samples {
		d := t.distance(x, s)
		if len(best) == t.K && d >= best[t.K-1] {
			continue
		}
		if len(best) < t.K {
			best = append(best, d)
		}
		i := len(best) - 1
		for ; i > 0 && best[i-1] > d; i-- {
			best[i] = best[i-1]
		}
		best[i] = d
	}
	var sum float64
	for _, d := range best {
		sum += d / float64(len(best))
	}
	return sum
}

// Validate reports whether t can score: the supported version, a known
// kind, 1..MaxFeatures finite scales >= MinScale, a finite Cap >= 0, and
// the fields of its kind (and no other) of matching lengths with finite
// values. Errors wrap ErrTemplateVersion or ErrTemplate.
func (t *Template) Validate() error {
	if t == nil {
		return fmt.Errorf("%w: nil", ErrTemplate)
	}
	if t.Version != TemplateVersion {
		return fmt.Errorf("%w: version %d, this code reads %d", ErrTemplateVersion, t.Version, TemplateVersion)
	}
	if d := t.Dims(); d < 1 || d > MaxFeatures {
		return fmt.Errorf("%w: %d features, want 1..%d", ErrTemplate, d, MaxFeatures)
	}
	switch t.Kind {
	case KindManhattan:
		if len(t.Centre) != t.Dims() {
			return fmt.Errorf("%w: %d centres for %d scales", ErrTemplate, len(t.Centre), t.Dims())
		}
		if t.K != 0 || t.Samples != nil {
			return fmt.Errorf("%w: kind %s has no k or samples", ErrTemplate, t.Kind)
		}
	case KindNearestNeighbour:
		if n := len(t.Samples); n < 1 || n > MaxEnrolment {
			return fmt.Errorf("%w: %d samples, want 1..%d", ErrTemplate, n, MaxEnrolment)
		}
		if t.K < 1 || t.K > len(t.Samples) {
			return fmt.Errorf("%w: k %d, want 1..%d (the samples)", ErrTemplate, t.K, len(t.Samples))
		}
		if t.Centre != nil {
			return fmt.Errorf("%w: kind %s has no centre", ErrTemplate, t.Kind)
		}
		for i, s := range t.Samples {
			if len(s) != t.Dims() {
				return fmt.Errorf("%w: sample %d has %d features for %d scales", ErrTemplate, i, len(s), t.Dims())
			}
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrTemplate, t.Kind)
	}
	return t.checkValues()
}

// checkValues checks that every number of t is finite, scales >= MinScale
// and Cap >= 0 (the lengths already checked).
func (t *Template) checkValues() error {
	if !(t.Cap >= 0) || math.IsInf(t.Cap, 0) {
		return fmt.Errorf("%w: cap %g, want a finite value >= 0", ErrTemplate, t.Cap)
	}
	for i, s := range t.Scale {
		if !(s >= MinScale) || math.IsInf(s, 0) {
			return fmt.Errorf("%w: scale %d is %g, want a finite value >= %g", ErrTemplate, i, s, MinScale)
		}
	}
	if j := notFinite(t.Centre); j >= 0 {
		return fmt.Errorf("%w: centre %d is %g", ErrTemplate, j, t.Centre[j])
	}
	for i, s := range t.Samples {
		if j := notFinite(s); j >= 0 {
			return fmt.Errorf("%w: sample %d feature %d is %g", ErrTemplate, i, j, s[j])
		}
	}
	return nil
}

// Encode returns t as JSON, for storage; DecodeTemplate reads it back. It
// fails as Validate does.
func (t *Template) Encode() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	return b, nil
}

// DecodeTemplate parses one JSON template as Encode writes it: unknown
// fields and trailing data are rejected, and the result is validated. A
// template of another version fails with ErrTemplateVersion (retrain it);
// anything else wrong, with ErrTemplate.
func DecodeTemplate(data []byte) (*Template, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, fmt.Errorf("%w: data after the template", ErrTemplate)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}
