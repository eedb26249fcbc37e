package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		line    string // read from testdata when it names a file there
		want    procStat
		wantErr bool
	}{
		{name: "go binary", line: "stat-go.txt", want: procStat{ppid: 4200, ticks: 1234 + 567}},
		{name: "command with spaces and parentheses", line: "stat-odd-comm.txt", want: procStat{ppid: 76, ticks: 15 + 5}},
		{name: "empty", line: "", wantErr: true},
		{name: "no command", line: "1 S 0 0", wantErr: true},
		{name: "too short", line: "1 (a) S 0 1 1 0 -1 0 0 0 0 0 5", wantErr: true},
		{name: "utime not a number", line: "1 (a) S 0 1 1 0 -1 0 0 0 0 0 x 5 0 0", wantErr: true},
		{name: "negative stime", line: "1 (a) S 0 1 1 0 -1 0 0 0 0 0 5 -5 0 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.line
			if strings.HasSuffix(line, ".txt") {
				b, err := os.ReadFile(filepath.Join("testdata", line))
				if err != nil {
					t.Fatal(err)
				}
				line = string(b)
			}
			got, err := parseProcStat(line)
			if tt.wantErr {
				if !errors.Is(err, errProcStat) {
					t.Fatalf("parseProcStat = %+v, %v; want errProcStat", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseProcStat = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseRSS(t *testing.T) {
	status, err := os.ReadFile(filepath.Join("testdata", "status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{name: "haproxy", status: string(status), want: 21504},
		{name: "zombie without VmRSS", status: "Name:\tx\nState:\tZ (zombie)\n", want: 0},
		{name: "other unit", status: "VmRSS:\t 12 MB\n", wantErr: true},
		{name: "not a number", status: "VmRSS:\t x kB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRSS(tt.status)
			if tt.wantErr != (err != nil) || got != tt.want {
				t.Fatalf("parseRSS = %d, %v; want %d (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestWatchSelf measures this test's own process, which does work.
func TestWatchSelf(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := watch(ctx, os.Getpid())
	s := 0
	for i := range 200_000_000 {
		s += i % 7
	}
	cancel()
	u := done()
	if u.PeakRSSKB <= 0 {
		t.Errorf("peak RSS %d kB", u.PeakRSSKB)
	}
	if u.CPUMS <= 0 || s == 0 {
		t.Errorf("CPU %v ms", u.CPUMS)
	}
}

func FuzzParseProcStat(f *testing.F) {
	for _, name := range []string{"stat-go.txt", "stat-odd-comm.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("1 (a) S 0 1 1 0 -1 0 0 0 0 0 5 5 0 0")
	f.Fuzz(func(t *testing.T, line string) {
		st, err := parseProcStat(line)
		if err != nil {
			if !errors.Is(err, errProcStat) {
				t.Fatalf("error %v does not wrap errProcStat", err)
			}
			return
		}
		if st.ticks < 0 {
			t.Fatalf("negative ticks %d", st.ticks)
		}
	})
}

func FuzzParseRSS(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "status.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Fuzz(func(t *testing.T, status string) {
		n, err := parseRSS(status)
		if err == nil && n < 0 {
			t.Fatalf("negative RSS %d", n)
		}
		if err != nil && !errors.Is(err, errProcStat) {
			t.Fatalf("error %v does not wrap errProcStat", err)
		}
	})
}
