// Package offline evaluates keystroke detectors on recorded typing, with
// the protocol of Killourhy and Maxion (DSN 2009): per subject, train on
// the first repetitions, test on the subject's remaining ones as genuine
// and on the first repetitions of every other subject as impostors, and
// average the equal-error rates over subjects. It reads the 56-subject
// mobile data set of the password ".tie5Roanl" (one CSV file per subject,
// no header, 71 columns); `shopguard eval keystroke` runs it.
package offline

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/shopguard/shopguard/internal/authn/keystroke"
)

// Layout of a row of the mobile data set.
const (
	// Keys is the number of keys of ".tie5Roanl" as typed on the touch
	// screen: . t i e Shift 5 Shift Caps r o a n l Enter.
	Keys = 14
	// Columns is the number of values of a row.
	Columns = 71
	// TimingColumns is how many leading columns are timings: 14 hold, 13
	// down-down and 13 up-down times, in milliseconds.
	TimingColumns = 3*Keys - 2
)

// ColumnNames returns the names of the mobile data set's 71 columns, from
// its README: hold, down-down and up-down times, pressure and finger area
// per key, and the averages of hold, pressure and area.
func ColumnNames() []string {
	keys := []string{".", "t", "i", "e", "Shift", "5", "Shift.1", "Caps", "r", "o", "a", "n", "l", "Enter"}
	pairs := []string{"..t", "t.i", "i.e", "e.Shift", "Shift.5", "5.Shift", "Shift.Caps", "Caps.r", "r.o", "o.a", "a.n", "n.l", "l.Enter"}
	var names []string
	for _, k := range keys {
		names = append(names, "Hold "+k)
	}
	for _, kind := range []string{"DD ", "UD "} {
		for _, p := range pairs {
			names = append(names, kind+p)
		}
	}
	for _, kind := range []string{"Pressure ", "Size "} {
		for _, k := range keys {
			names = append(names, kind+k)
		}
	}
	return append(names, "AvH", "AvP", "AvA")
}

// ddTolerance is how far a down-down time may be from hold + up-down, in
// milliseconds, before the row is rejected as inconsistent.
const ddTolerance = 0.5

// ErrData is returned (wrapped, with the file and line) for a file or row
// that is not of the data set's format.
var ErrData = errors.New("keystroke data")

// Repetition is one typing of the password.
type Repetition struct {
	// Timing is the Killourhy–Maxion timing vector (hold and up-down
	// times; down-down follows), what a web page can measure.
	Timing keystroke.Vector
	// All is the row's 71 values in column order; its first
	// TimingColumns equal Timing.Features().
	All []float64
}

// Subject is one typist's repetitions, in the order they were typed.
type Subject struct {
	// Name is the file name without ".csv" (the data set numbers its
	// subjects 1..56).
	Name        string
	Repetitions []Repetition
}

// Parse reads one subject's CSV file: no header, one repetition per line
// of Columns numbers, the down-down times equal to hold + up-down. name is
// the file's name, for errors, which wrap ErrData and say the line and
// column. A file without rows is an error.
func Parse(r io.Reader, name string) ([]Repetition, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var reps []Repetition
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%w: %s:%d: %w", ErrData, name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%w: %s: %w", ErrData, name, err)
		}
		line, _ := cr.FieldPos(0)
		rep, err := parseRow(rec)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%d: %w", ErrData, name, line, err)
		}
		reps = append(reps, rep)
	}
	if len(reps) == 0 {
		return nil, fmt.Errorf("%w: %s: no rows", ErrData, name)
	}
	return reps, nil
}

// parseRow parses one record of Columns values.
func parseRow(rec []string) (Repetition, error) {
	if len(rec) != Columns {
		return Repetition{}, fmt.Errorf("%d columns, want %d", len(rec), Columns)
	}
	all := make([]float64, Columns)
	for j, s := range rec {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Repetition{}, fmt.Errorf("column %d (%s): %q is not a finite number", j+1, ColumnNames()[j], s)
		}
		all[j] = v
	}
	hold, dd, ud := all[:Keys], all[Keys:2*Keys-1], all[2*Keys-1:TimingColumns]
	for i, v := range hold {
		if v < 0 {
			return Repetition{}, fmt.Errorf("column %d (%s): hold time %g is negative", i+1, ColumnNames()[i], v)
		}
	}
	for i := range dd {
		if math.Abs(dd[i]-(hold[i]+ud[i])) > ddTolerance {
			names := ColumnNames()
			return Repetition{}, fmt.Errorf("column %d (%s) is %g, not %s + %s = %g", Keys+i+1, names[Keys+i],
				dd[i], names[i], names[2*Keys-1+i], hold[i]+ud[i])
		}
	}
	v, err := keystroke.NewVector(hold, ud)
	if err != nil {
		return Repetition{}, err
	}
	return Repetition{Timing: v, All: all}, nil
}

// LoadDir reads every *.csv file of dir as one subject, ordered by number
// when the names are numbers (1.csv, 2.csv, ..., 10.csv) and by name
// otherwise. It fails if dir cannot be read, holds no CSV file or a file
// does not parse.
func LoadDir(dir string) ([]Subject, error) {
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrData, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: %s: no .csv files", ErrData, dir)
	}
	subjects := make([]Subject, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrData, err)
		}
		reps, err := Parse(f, filepath.Base(p))
		f.Close()
		if err != nil {
			return nil, err
		}
		subjects = append(subjects, Subject{Name: strings.TrimSuffix(filepath.Base(p), ".csv"), Repetitions: reps})
	}
	slices.SortFunc(subjects, func(a, b Subject) int {
		na, errA := strconv.Atoi(a.Name)
		nb, errB := strconv.Atoi(b.Name)
		if errA == nil && errB == nil && na != nb {
			if na < nb {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return subjects, nil
}
