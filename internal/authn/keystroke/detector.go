package keystroke

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Limits of an enrolment set, and so of a Template.
const (
	// MinEnrolment is the fewest enrolment samples a detector trains on.
	MinEnrolment = 2
	// MaxEnrolment is the most enrolment samples a detector trains on.
	MaxEnrolment = 500
	// MaxFeatures is the most features of one sample.
	MaxFeatures = 512
	// MinScale is the smallest per-feature scale of any template, in the
	// features' unit: a guard against dividing by zero when every
	// enrolment sample has the same value, not a modelling choice.
	MinScale = 1e-6
	// madConsistency turns a median absolute deviation into an estimate of
	// the standard deviation of normally distributed values.
	madConsistency = 1.4826
)

// Errors of training and scoring, wrapped with the detail.
var (
	// ErrEnrolment: the enrolment samples cannot train a template (too few
	// or too many, of different lengths, or holding a value that is not
	// finite).
	ErrEnrolment = errors.New("keystroke: invalid enrolment samples")
	// ErrSample: a sample to score does not fit the template (another
	// length) or holds a value that is not finite.
	ErrSample = errors.New("keystroke: invalid sample")
	// ErrConfig: a detector's settings are out of range.
	ErrConfig = errors.New("keystroke: invalid detector settings")
)

// Detector learns one user's Template from their enrolment samples: feature
// vectors of equal length, such as Vector.Features, from
// MinEnrolment..MaxEnrolment entries of the password. Train never keeps
// a reference to the samples. Errors wrap ErrEnrolment or ErrConfig.
type Detector interface {
	Train(enrolment [][]float64) (*Template, error)
}

// Compile-time checks that the detectors implement Detector.
var (
	_ Detector = ScaledManhattan{}
	_ Detector = RobustManhattan{}
	_ Detector = NearestNeighbour{}
)

// ScaledManhattan is the scaled Manhattan detector of Killourhy and Maxion
// (DSN 2009), their best of fourteen on desktop typing: the template is
// each feature's mean and mean absolute deviation over the enrolment
// samples, and a sample's score is the sum over features of
// |x_i - mean_i| / deviation_i. Deviations below MinScale are raised to
// it. It has no settings; it is the baseline the others are measured by.
type ScaledManhattan struct{}

// Train implements Detector.
func (ScaledManhattan) Train(enrolment [][]float64) (*Template, error) {
	return RobustManhattan{}.Train(enrolment)
}

// RobustManhattan is scaled Manhattan made robust to outliers on both
// sides: in the enrolment samples (a hesitation while enrolling widens
// the scale) and in the sample scored (one slow key of a genuine entry
// outweighs all the others). The zero value is ScaledManhattan;
// DefaultRobustManhattan gives the settings chosen by cross-validation.
type RobustManhattan struct {
	// OutlierMADs drops, per feature, the enrolment values farther from
	// the feature's median than this many median absolute deviations
	// (scaled by 1.4826, so that 3 is about 3 standard deviations of
	// normal data) before the centre and scale are computed. 0 keeps every
	// value; so does a feature whose median absolute deviation is 0.
	OutlierMADs float64
	// Median makes the centre the median of the kept values and the scale
	// their median absolute deviation from it; otherwise they are the mean
	// and the mean absolute deviation from the mean.
	Median bool
	// ScaleFloor raises each feature's scale to at least ScaleFloor times
	// the absolute value of its centre, so that a feature that happened
	// to barely vary while enrolling cannot dominate the score. 0: only
	// MinScale applies.
	ScaleFloor float64
	// Cap is the most one feature adds to the score, in scale units: a
	// feature contributes min(|x_i - centre_i| / scale_i, Cap). 0: no cap.
	Cap float64
}

// DefaultRobustManhattan returns the settings of RobustManhattan chosen by
// cross-validation on the enrolment repetitions of the 56-subject mobile
// data set (docs/keystroke-eval.md): drop enrolment values beyond 3 MADs,
// mean and mean absolute deviation of the rest, scale floor 5% of the
// centre, each feature capped at 4.
func DefaultRobustManhattan() RobustManhattan {
	return RobustManhattan{OutlierMADs: 3, ScaleFloor: 0.05, Cap: 4}
}

// Train implements Detector: the template is of kind KindManhattan.
func (d RobustManhattan) Train(enrolment [][]float64) (*Template, error) {
	if err := checkSettings(d.OutlierMADs, d.ScaleFloor, d.Cap); err != nil {
		return nil, err
	}
	dims, err := checkEnrolment(enrolment)
	if err != nil {
		return nil, err
	}
	t := &Template{Version: TemplateVersion, Kind: KindManhattan, Centre: make([]float64, dims),
		Scale: make([]float64, dims), Cap: d.Cap}
	col := make([]float64, len(enrolment))
	for j := range dims {
		for i, s := range enrolment {
			col[i] = s[j]
		}
		t.Centre[j], t.Scale[j] = d.fit(col)
	}
	if err := t.checkValues(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEnrolment, err)
	}
	return t, nil
}

// fit returns the centre and scale of one feature's enrolment values; it
// reorders col.
func (d RobustManhattan) fit(col []float64) (centre, scale float64) {
	kept := col
	if d.OutlierMADs > 0 {
		med := median(col)
		limit := d.OutlierMADs * madConsistency * medianDeviation(col, med)
		kept = slices.DeleteFunc(col, func(v float64) bool { return math.Abs(v-med) > limit && limit > 0 })
	}
	if d.Median {
		centre = median(kept)
		scale = medianDeviation(kept, centre)
	} else {
		centre = mean(kept)
		for _, v := range kept {
			scale += math.Abs(v - centre)
		}
		scale /= float64(len(kept))
	}
	return centre, floorScale(scale, centre, d.ScaleFloor)
}

// NearestNeighbour scores a sample by its distance to the nearest of the
// user's enrolment samples rather than to their average, so that a user
// who types the password in two or three rhythms is not penalised for
// each: the distance is scaled Manhattan (per-feature mean absolute
// deviations of the enrolment samples, optionally capped per feature), and
// the score is the mean distance to the K nearest. The template keeps the
// enrolment samples. DefaultNearestNeighbour gives the settings chosen by
// cross-validation.
type NearestNeighbour struct {
	// K is how many nearest enrolment samples are averaged, at least 1 (at
	// most the number of enrolment samples: fewer samples use them all).
	K int
	// ScaleFloor and Cap act as in RobustManhattan.
	ScaleFloor, Cap float64
}

// DefaultNearestNeighbour returns the settings of NearestNeighbour chosen
// by cross-validation on the enrolment repetitions of the mobile data set
// (docs/keystroke-eval.md): the 8 nearest, scale floor 5%, each feature
// capped at 3.
func DefaultNearestNeighbour() NearestNeighbour {
	return NearestNeighbour{K: 8, ScaleFloor: 0.05, Cap: 3}
}

// Train implements Detector: the template is of kind KindNearestNeighbour.
func (d NearestNeighbour) Train(enrolment [][]float64) (*Template, error) {
	if d.K < 1 || d.K > MaxEnrolment {
		return nil, fmt.Errorf("%w: K %d, want 1..%d", ErrConfig, d.K, MaxEnrolment)
	}
	if err := checkSettings(0, d.ScaleFloor, d.Cap); err != nil {
		return nil, err
	}
	base, err := RobustManhattan{ScaleFloor: d.ScaleFloor}.Train(enrolment)
	if err != nil {
		return nil, err
	}
	t := &Template{Version: TemplateVersion, Kind: KindNearestNeighbour, Scale: base.Scale, Cap: d.Cap,
		K: min(d.K, len(enrolment)), Samples: make([][]float64, len(enrolment))}
	for i, s := range enrolment {
		t.Samples[i] = slices.Clone(s)
	}
	return t, nil
}

// checkSettings validates settings shared by the detectors.
func checkSettings(outlierMADs, scaleFloor, limit float64) error {
	for _, s := range []struct {
		name string
		v    float64
	}{{"OutlierMADs", outlierMADs}, {"ScaleFloor", scaleFloor}, {"Cap", limit}} {
		if !(s.v >= 0) || math.IsInf(s.v, 0) {
			return fmt.Errorf("%w: %s is %g, want a finite value >= 0", ErrConfig, s.name, s.v)
		}
	}
	return nil
}

// checkEnrolment validates an enrolment set and returns its feature count.
func checkEnrolment(enrolment [][]float64) (int, error) {
	if n := len(enrolment); n < MinEnrolment || n > MaxEnrolment {
		return 0, fmt.Errorf("%w: %d samples, want %d..%d", ErrEnrolment, n, MinEnrolment, MaxEnrolment)
	}
	dims := len(enrolment[0])
	if dims < 1 || dims > MaxFeatures {
		return 0, fmt.Errorf("%w: %d features, want 1..%d", ErrEnrolment, dims, MaxFeatures)
	}
	for i, s := range enrolment {
		if len(s) != dims {
			return 0, fmt.Errorf("%w: sample %d has %d features, sample 0 has %d", ErrEnrolment, i, len(s), dims)
		}
		if j := notFinite(s); j >= 0 {
			return 0, fmt.Errorf("%w: sample %d feature %d is %g", ErrEnrolment, i, j, s[j])
		}
	}
	return dims, nil
}

// floorScale raises scale to relative*|centre| and to MinScale.
func floorScale(scale, centre, relative float64) float64 {
	return max(scale, relative*math.Abs(centre), MinScale)
}

// notFinite returns the index of the first NaN or infinite value of v, or -1.
func notFinite(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}

// mean returns the mean of v (not empty), computed so that it stays finite
// for finite values.
func mean(v []float64) float64 {
	var m float64
	for i, x := range v {
		m += (x - m) / float64(i+1)
	}
	return m
}

// median returns the median of v (not empty); it reorders v.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return v[n/2-1]/2 + v[n/2]/2
}

// medianDeviation returns the median of |v_i - centre| (v not empty).
func medianDeviation(v []float64, centre float64) float64 {
	dev := make([]float64, len(v))
	for i, x := range v {
		dev[i] = math.Abs(x - centre)
	}
	return median(dev)
}

// String returns "scaled-manhattan".
func (ScaledManhattan) String() string { return "scaled-manhattan" }

// String names the detector and its settings, as in
// "robust-manhattan(outliers 3 MADs, mean, floor 0.05, cap 4)".
func (d RobustManhattan) String() string {
	centre := "mean"
	if d.Median {
		centre = "median"
	}
	return fmt.Sprintf("robust-manhattan(outliers %g MADs, %s, floor %g, cap %g)", d.OutlierMADs, centre, d.ScaleFloor, d.Cap)
}

// String names the detector and its settings, as in
// "nearest-neighbour(k 8, floor 0.05, cap 3)".
func (d NearestNeighbour) String() string {
	return fmt.Sprintf("nearest-neighbour(k %d, floor %g, cap %g)", d.K, d.ScaleFloor, d.Cap)
}
