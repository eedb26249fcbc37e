package offline

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// row returns a valid 71-column row of the mobile data set's layout: holds
// 80, 81, ..., up-downs 200, 201, ..., down-downs their sums, 0.25 for the
// other columns.
func row() []string {
	vals := make([]string, Columns)
	for i := range Keys {
		vals[i] = strconv.Itoa(80 + i)
	}
	for i := range Keys - 1 {
		vals[Keys+i] = strconv.Itoa(80 + i + 200 + i)
		vals[2*Keys-1+i] = strconv.Itoa(200 + i)
	}
	for j := TimingColumns; j < Columns; j++ {
		vals[j] = "0.25"
	}
	return vals
}

func TestParseSmall(t *testing.T) {
	f, err := os.Open("testdata/small/10.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reps, err := Parse(f, "10.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 12 {
		t.Fatalf("%d repetitions, want 12", len(reps))
	}
	for i, r := range reps {
		if len(r.All) != Columns || r.Timing.Keys() != Keys {
			t.Fatalf("repetition %d: %d values, %d keys", i, len(r.All), r.Timing.Keys())
		}
		if !slices.Equal(r.Timing.Features(), r.All[:TimingColumns]) {
			t.Errorf("repetition %d: timing features %v differ from the timing columns %v", i, r.Timing.Features(), r.All[:TimingColumns])
		}
	}
	if got := len(ColumnNames()); got != Columns {
		t.Errorf("%d column names, want %d", got, Columns)
	}
}

func TestParseRejects(t *testing.T) {
	good := strings.Join(row(), ",")
	if _, err := Parse(strings.NewReader(good+"\n"), "ok.csv"); err != nil {
		t.Fatalf("good row: %v", err)
	}
	set := func(col int, v string) string {
		r := row()
		r[col] = v
		return strings.Join(r, ",")
	}
	tests := []struct {
		name, data, want string
	}{
		{"empty file", "", "x.csv: no rows"},
		{"too few columns", good + "\n" + strings.Join(row()[:70], ",") + "\n", "x.csv:2: 70 columns, want 71"},
		{"too many columns", good + ",1\n", "x.csv:1: 72 columns, want 71"},
		{"header", strings.Join(ColumnNames(), ",") + "\n" + good, `x.csv:1: column 1 (Hold .): "Hold ." is not a finite number`},
		{"not a number", good + "\n\n" + set(40, "abc"), `x.csv:3: column 41 (Pressure .): "abc" is not a finite number`},
		{"NaN", set(3, "NaN"), `column 4 (Hold e): "NaN" is not a finite number`},
		{"infinity", set(70, "Inf"), `column 71 (AvA): "Inf" is not a finite number`},
		{"empty value", set(20, ""), `column 21 (DD Shift.Caps): "" is not a finite number`},
		{"negative hold", good + "\n" + set(0, "-1"), "x.csv:2: column 1 (Hold .): hold time -1 is negative"},
		{"down-down not hold + up-down", set(Keys, "1"), "x.csv:1: column 15 (DD ..t) is 1, not Hold . + UD ..t = 280"},
		{"bad quote", `1,"2` + "\n", "x.csv:1"},
	}
	for _, tc := range tests {
		_, err := Parse(strings.NewReader(tc.data), "x.csv")
		if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrData and %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParse: no input makes Parse panic; what it accepts is well formed.
func FuzzParse(f *testing.F) {
	f.Add(strings.Join(row(), ",") + "\n")
	f.Add(strings.Join(row(), ",") + "\r\n" + strings.Join(row(), ",") + "\r\n")
	f.Add("1,2,3\n")
	f.Add(`"1","2"` + "\n")
	if data, err := os.ReadFile("testdata/small/1.csv"); err == nil {
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, data string) {
		reps, err := Parse(strings.NewReader(data), "fuzz.csv")
		if err != nil {
			if !errors.Is(err, ErrData) && !strings.Contains(err.Error(), "fuzz.csv") {
				t.Fatalf("error %v wraps neither ErrData nor names the file", err)
			}
			return
		}
		if len(reps) == 0 {
			t.Fatal("no repetitions and no error")
		}
		for _, r := range reps {
			if len(r.All) != Columns || r.Timing.Keys() != Keys {
				t.Fatalf("%d values, %d keys", len(r.All), r.Timing.Keys())
			}
			for i, v := range r.Timing.Features() {
				if d := v - r.All[i]; d > ddTolerance || d < -ddTolerance {
					t.Fatalf("timing feature %d is %g, column %g", i, v, r.All[i])
				}
			}
		}
	})
}

func TestLoadDir(t *testing.T) {
	subjects, err := LoadDir("testdata/small")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range subjects {
		names = append(names, s.Name)
	}
	if want := []string{"1", "2", "10"}; !slices.Equal(names, want) {
		t.Errorf("subjects %v, want %v (by number)", names, want)
	}
	empty := t.TempDir()
	if _, err := LoadDir(empty); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "no .csv files") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := LoadDir(filepath.Join(empty, "missing")); !errors.Is(err, ErrData) {
		t.Errorf("missing directory: %v, want ErrData", err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "7.csv"), []byte("1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(bad); !errors.Is(err, ErrData) || !strings.Contains(err.Error(), "7.csv:1: 2 columns") {
		t.Errorf("malformed file: %v", err)
	}
}
