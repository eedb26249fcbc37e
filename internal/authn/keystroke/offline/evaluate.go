package offline

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/shopguard/shopguard/internal/authn/keystroke"
	"github.com/shopguard/shopguard/internal/ml/metrics"
)

// ErrProtocol is returned (wrapped) when a protocol does not fit the data.
var ErrProtocol = errors.New("keystroke evaluation: protocol")

// FeatureSet selects the features of a Repetition that detectors see.
type FeatureSet int

// The feature sets.
const (
	// Timing is the Killourhy–Maxion timing vector (hold, down-down and
	// up-down times): what a web page can measure.
	Timing FeatureSet = iota
	// AllFeatures is the data set's 71 columns, with the touch screen's
	// pressure and finger area: a reference a web page cannot reach.
	AllFeatures
)

// String returns "timing" or "all".
func (s FeatureSet) String() string {
	if s == AllFeatures {
		return "all"
	}
	return "timing"
}

// Of returns the features of r that s selects.
func (s FeatureSet) Of(r Repetition) []float64 {
	if s == AllFeatures {
		return r.All
	}
	return r.Timing.Features()
}

// Protocol says which repetitions of each subject enrol and test. Every
// subject in turn is the genuine user; repetitions count from 0.
type Protocol struct {
	// Train is how many of the subject's first repetitions enrol.
	Train int
	// Genuine is how many of the subject's following repetitions are
	// tested as genuine; 0: all the rest.
	Genuine int
	// ImpostorFrom and Impostors: repetitions ImpostorFrom ..
	// ImpostorFrom+Impostors-1 of every other subject are tested as
	// impostors.
	ImpostorFrom, Impostors int
}

// KillourhyMaxion returns the protocol of Killourhy and Maxion (DSN 2009):
// enrol on the first train repetitions, test the rest as genuine and the
// first 5 repetitions of every other subject as impostors.
func KillourhyMaxion(train int) Protocol {
	return Protocol{Train: train, Impostors: 5}
}

// Validation returns the protocol for choosing detectors' settings without
// touching p's test repetitions: it uses only the first p.Train
// repetitions of each subject, enrols on the first 3/5 of them, tests the
// other 2/5 as genuine, and as impostors the repetitions of the other
// subjects that follow p's impostor repetitions (for the mobile set with
// 25 enrolment repetitions: enrol on 0-14, genuine 15-24, impostors 5-9).
// It fails if p.Train is too small to split so.
func (p Protocol) Validation() (Protocol, error) {
	v := Protocol{Train: p.Train * 3 / 5, ImpostorFrom: p.ImpostorFrom + p.Impostors, Impostors: p.Impostors}
	v.Genuine = p.Train - v.Train
	if v.Train < keystroke.MinEnrolment || v.Genuine < 1 || v.ImpostorFrom+v.Impostors > p.Train {
		return Protocol{}, fmt.Errorf("%w: %d enrolment repetitions are too few to validate on (want at least %d)",
			ErrProtocol, p.Train, max(p.ImpostorFrom+2*p.Impostors, 4))
	}
	return v, nil
}

// check reports whether p fits subjects.
func (p Protocol) check(subjects []Subject) error {
	switch {
	case len(subjects) < 2:
		return fmt.Errorf("%w: %d subjects, want at least 2", ErrProtocol, len(subjects))
	case p.Train < keystroke.MinEnrolment || p.Train > keystroke.MaxEnrolment:
		return fmt.Errorf("%w: %d enrolment repetitions, want %d..%d", ErrProtocol, p.Train, keystroke.MinEnrolment, keystroke.MaxEnrolment)
	case p.Genuine < 0 || p.ImpostorFrom < 0 || p.Impostors < 1:
		return fmt.Errorf("%w: %+v", ErrProtocol, p)
	}
	for _, s := range subjects {
		n := len(s.Repetitions)
		if need := p.Train + max(p.Genuine, 1); n < need {
			return fmt.Errorf("%w: subject %s has %d repetitions, %d enrol and at least %d more are tested", ErrProtocol, s.Name, n, p.Train, need-p.Train)
		}
		if need := p.ImpostorFrom + p.Impostors; n < need {
			return fmt.Errorf("%w: subject %s has %d repetitions, %d needed as impostor tests", ErrProtocol, s.Name, n, need)
		}
	}
	return nil
}

// Result is one detector's evaluation on one feature set.
type Result struct {
	// EER is each subject's equal-error rate, in subject order.
	EER []float64
	// Mean and SD are the mean and the sample standard deviation of EER.
	Mean, SD float64
	// Pooled is the EER of all subjects' scores pooled, as one threshold
	// for every user would see it.
	Pooled float64
	// Scores are every test's score, all subjects pooled; Impostor says
	// which were impostors.
	Scores   []float64
	Impostor []bool
}

// Evaluate runs detector d on subjects with protocol p and feature set
// set: for each subject it trains a template on the enrolment repetitions,
// scores the genuine and impostor tests, and computes the equal-error rate
// (metrics.EER, impostors the positive class).
func Evaluate(subjects []Subject, p Protocol, set FeatureSet, d keystroke.Detector) (Result, error) {
	if err := p.check(subjects); err != nil {
		return Result{}, err
	}
	var res Result
	for si, s := range subjects {
		enrol := make([][]float64, p.Train)
		for i, r := range s.Repetitions[:p.Train] {
			enrol[i] = set.Of(r)
		}
		t, err := d.Train(enrol)
		if err != nil {
			return Result{}, fmt.Errorf("subject %s: %w", s.Name, err)
		}
		genuine := s.Repetitions[p.Train:]
		if p.Genuine > 0 {
			genuine = genuine[:p.Genuine]
		}
		var scores []float64
		var impostor []bool
		score := func(r Repetition, imp bool) error {
			x, err := t.Score(set.Of(r))
			scores, impostor = append(scores, x), append(impostor, imp)
			return err
		}
		for _, r := range genuine {
			if err := score(r, false); err != nil {
				return Result{}, fmt.Errorf("subject %s: %w", s.Name, err)
			}
		}
		for oi, o := range subjects {
			if oi == si {
				continue
			}
			for _, r := range o.Repetitions[p.ImpostorFrom : p.ImpostorFrom+p.Impostors] {
				if err := score(r, true); err != nil {
					return Result{}, fmt.Errorf("subject %s, impostor %s: %w", s.Name, o.Name, err)
				}
			}
		}
		eer, err := metrics.EER(scores, impostor)
		if err != nil {
			return Result{}, fmt.Errorf("subject %s: %w", s.Name, err)
		}
		res.EER = append(res.EER, eer)
		res.Scores = append(res.Scores, scores...)
		res.Impostor = append(res.Impostor, impostor...)
	}
	res.Mean, res.SD = meanSD(res.EER)
	var err error
	if res.Pooled, err = metrics.EER(res.Scores, res.Impostor); err != nil {
		return Result{}, err
	}
	return res, nil
}

// meanSD returns the mean and the sample standard deviation of v (0 for
// fewer than two values).
func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x / float64(len(v))
	}
	if len(v) < 2 {
		return mean, 0
	}
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)-1))
}

// Comparison is one detector's result against a baseline's on the same
// subjects.
type Comparison struct {
	// Ratio is the mean EER over the baseline's mean EER (+Inf if the
	// baseline's is 0 and this one's is not; 1 if both are 0).
	Ratio float64
	// Better and Worse count the subjects whose EER is lower and higher
	// than the baseline's.
	Better, Worse int
}

// Compare compares r with baseline, subject by subject. Both must come
// from the same subjects.
func Compare(r, baseline Result) Comparison {
	c := Comparison{Ratio: 1}
	switch {
	case baseline.Mean > 0:
		c.Ratio = r.Mean / baseline.Mean
	case r.Mean > 0:
		c.Ratio = math.Inf(1)
	}
	for i := range min(len(r.EER), len(baseline.EER)) {
		switch {
		case r.EER[i] < baseline.EER[i]:
			c.Better++
		case r.EER[i] > baseline.EER[i]:
			c.Worse++
		}
	}
	return c
}

// Candidate is a named detector to evaluate.
type Candidate struct {
	Name     string
	Detector keystroke.Detector
}

// Detectors returns the detectors the evaluation reports, the baseline
// first: scaled Manhattan; robust Manhattan with its default settings and
// with, in turn, its outlier filter and its cap removed (to show what each
// does); and nearest neighbour with its default settings.
func Detectors() []Candidate {
	robust := keystroke.DefaultRobustManhattan()
	noCap, noFilter := robust, robust
	noCap.Cap, noFilter.OutlierMADs = 0, 0
	return []Candidate{
		{"scaled-manhattan", keystroke.ScaledManhattan{}},
		{"robust-manhattan", robust},
		{"robust-manhattan, no cap", noCap},
		{"robust-manhattan, no filter", noFilter},
		{"nearest-neighbour", keystroke.DefaultNearestNeighbour()},
	}
}

// Grid returns the settings the validation protocol compares: robust
// Manhattan with outlier filters of 0 (none), 2, 3 and 4 MADs, mean or
// median, scale floor 0 or 5% and caps of 0 (none), 2, 3, 4 and 6 (the
// settings of all zeros being scaled Manhattan, which stands in their
// place); and nearest neighbour with k 1, 3, 5 and 8, floor 5% and caps
// of 0, 3, 4 and 6. Every detector of Detectors is among them. Each
// candidate is named by its settings (its String method).
func Grid() []Candidate {
	var grid []Candidate
	for _, k := range []float64{0, 2, 3, 4} {
		for _, med := range []bool{false, true} {
			for _, floor := range []float64{0, 0.05} {
				for _, c := range []float64{0, 2, 3, 4, 6} {
					var d keystroke.Detector = keystroke.RobustManhattan{OutlierMADs: k, Median: med, ScaleFloor: floor, Cap: c}
					if k == 0 && !med && floor == 0 && c == 0 {
						d = keystroke.ScaledManhattan{}
					}
					grid = append(grid, Candidate{fmt.Sprint(d), d})
				}
			}
		}
	}
	for _, k := range []int{1, 3, 5, 8} {
		for _, c := range []float64{0, 3, 4, 6} {
			d := keystroke.NearestNeighbour{K: k, ScaleFloor: 0.05, Cap: c}
			grid = append(grid, Candidate{d.String(), d})
		}
	}
	return grid
}

// Row is one line of an evaluation's table.
type Row struct {
	Candidate
	Features FeatureSet
	Result
}

// Run evaluates every candidate on every feature set with protocol p and
// returns the rows by feature set, then in candidate order.
func Run(subjects []Subject, p Protocol, sets []FeatureSet, candidates []Candidate) ([]Row, error) {
	var rows []Row
	for _, set := range sets {
		for _, c := range candidates {
			res, err := Evaluate(subjects, p, set, c.Detector)
			if err != nil {
				return nil, fmt.Errorf("%s on %s features: %w", c.Name, set, err)
			}
			rows = append(rows, Row{c, set, res})
		}
	}
	return rows, nil
}

// Best returns rows sorted by feature set, then by mean EER (lowest
// first, ties in their given order); rows is not modified.
func Best(rows []Row) []Row {
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b Row) int {
		if a.Features != b.Features {
			return int(a.Features) - int(b.Features)
		}
		switch {
		case a.Mean < b.Mean:
			return -1
		case a.Mean > b.Mean:
			return 1
		}
		return 0
	})
	return sorted
}
