package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// procStat is what /proc/PID/stat says of one process.
type procStat struct {
	ppid  int
	ticks int64 // utime + stime, in clock ticks
}

// errProcStat means a /proc/PID/stat line could not be read.
var errProcStat = errors.New("malformed /proc stat line")

// parseProcStat reads a /proc/PID/stat line: "pid (comm) state ppid …",
// utime and stime being the 14th and 15th fields. comm may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func parseProcStat(line string) (procStat, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("%w: no command", errProcStat)
	}
	f := strings.Fields(line[i+1:])
	// f[0] is the state (field 3), so field k is f[k-3].
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("%w: %d fields after the command", errProcStat, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	ut, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || ut < 0 || st < 0 || ut > 1<<52 || st > 1<<52 {
		return procStat{}, fmt.Errorf("%w: ppid, utime or stime is not a count", errProcStat)
	}
	return procStat{ppid: ppid, ticks: ut + st}, nil
}

// parseRSS reads VmRSS from /proc/PID/status, in kB (0 when absent, as for
// a zombie).
func parseRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: VmRSS %q", errProcStat, strings.TrimSpace(rest))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%w: VmRSS %q", errProcStat, f[0])
		}
		return n, nil
	}
	return 0, nil
}

// clockTicks is USER_HZ, the unit of utime and stime (100 on Linux).
const clockTicks = 100

// procTree is a process and its children (nginx's workers), whose CPU and
// memory are added up.
type procTree struct {
	pids []int
}

// newProcTree finds pid's direct children.
func newProcTree(pid int) procTree {
	t := procTree{pids: []int{pid}}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		st, err := parseProcStat(string(b))
		if err == nil && st.ppid == pid {
			if child, err := strconv.Atoi(filepath.Base(filepath.Dir(d))); err == nil {
				t.pids = append(t.pids, child)
			}
		}
	}
	return t
}

// cpu returns the CPU time the tree used so far.
func (t procTree) cpu() time.Duration {
	var ticks int64
	for _, p := range t.pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p)); err == nil {
			if st, err := parseProcStat(string(b)); err == nil {
				ticks += st.ticks
			}
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// rss returns the tree's resident memory in kB.
func (t procTree) rss() int64 {
	var kb int64
	for _, p := range t.pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil {
			if n, err := parseRSS(string(b)); err == nil {
				kb += n
			}
		}
	}
	return kb
}

// usage is a process tree's CPU time and peak memory over a run.
type usage struct {
	CPUMS     float64 `json:"cpu_ms"`
	PeakRSSKB int64   `json:"peak_rss_kb"`
}

// watch measures the tree of pid until ctx ends (pid 0: nothing): CPU time
// from start to end, resident memory sampled every 250 ms.
func watch(ctx context.Context, pid int) func() usage {
	if pid <= 0 {
		return func() usage { return usage{} }
	}
	t := newProcTree(pid)
	cpu0 := t.cpu()
	var mu sync.Mutex
	peak := t.rss()
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				n := t.rss()
				mu.Lock()
				peak = max(peak, n)
				mu.Unlock()
			}
		}
	}()
	return func() usage {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return usage{CPUMS: float64(t.cpu()-cpu0) / float64(time.Millisecond), PeakRSSKB: max(peak, t.rss())}
	}
}
