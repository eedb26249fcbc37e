package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Percentiles are exact: every sample is kept and sorted (a 30 s run at
// 15,000 req/s is 450,000 samples, a few MB).
type Percentiles struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

// percentiles summarises samples in nanoseconds as milliseconds (or, with
// unit 1e3, microsamples as milliseconds). It sorts samples in place.
func percentiles(samples []int64, perMilli float64) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	slices.Sort(samples)
	var sum float64
	for _, s := range samples {
		sum += float64(s)
	}
	q := func(p float64) float64 {
		// nearest-rank: the smallest sample with at least p of all samples at or below it.
		i := int(float64(len(samples))*p+0.999999999) - 1
		i = max(0, min(len(samples)-1, i))
		return float64(samples[i]) / perMilli
	}
	round := func(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
	return Percentiles{
		Count: int64(len(samples)),
		Mean:  round(sum / float64(len(samples)) / perMilli),
		P50:   round(q(0.50)), P90: round(q(0.90)), P99: round(q(0.99)), P999: round(q(0.999)),
		Max: round(float64(samples[len(samples)-1]) / perMilli),
	}
}

// actionOf extracts "action" and "latency_us" from a decision body without
// a full JSON decode (the generator shares the CPU with the server). It
// relies on the decision's top-level "action" preceding "reasons" (whose
// entries may carry an "action" of their own), as the API writes them.
func actionOf(body []byte) (action string, latencyUS int64, replayed bool) {
	if i := bytes.Index(body, []byte(`"action":"`)); i >= 0 {
		rest := body[i+len(`"action":"`):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 && j < 32 {
			action = string(rest[:j])
		}
	}
	if i := bytes.Index(body, []byte(`"latency_us":`)); i >= 0 {
		rest := body[i+len(`"latency_us":`):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		latencyUS, _ = strconv.ParseInt(string(rest[:j]), 10, 64)
	}
	replayed = bytes.Contains(body, []byte(`"replayed":true`))
	return action, latencyUS, replayed
}

// cpuSample is a reading of CPU time: this process, the server process
// (if known) and the whole machine, in seconds.
type cpuSample struct {
	at          time.Time
	self        float64
	server      float64
	serverOK    bool
	machineBusy float64
	machineAll  float64
	machineOK   bool
}

// clockTick is USER_HZ, 100 on every mainstream Linux build.
const clockTick = 100.0

func readCPU(serverPID int) cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = tv(ru.Utime) + tv(ru.Stime)
	}
	if serverPID > 0 {
		s.server, s.serverOK = procCPU(serverPID)
	}
	s.machineBusy, s.machineAll, s.machineOK = machineCPU()
	return s
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// procCPU reads utime+stime of pid from /proc/PID/stat.
func procCPU(pid int) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (ut + st) / clockTick, true
}

// machineCPU reads the aggregate line of /proc/stat: busy and total seconds.
func machineCPU() (busy, total float64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, 0, false
		}
		if i >= 7 { // steal is not ours to count; guest time is already in user
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy / clockTick, total / clockTick, true
}

// CPUShare is the CPU used during the measured phase, in cores (1.0 = one
// core busy for the whole phase).
type CPUShare struct {
	Seconds        float64  `json:"seconds"`
	GeneratorCores float64  `json:"generator_cores"`
	ServerCores    *float64 `json:"server_cores,omitempty"`
	MachineCores   *float64 `json:"machine_busy_cores,omitempty"`
	// OtherCores is machine busy minus generator minus server: other work
	// on the machine competing for the same cores.
	OtherCores *float64 `json:"other_cores,omitempty"`
	NumCPU     int      `json:"num_cpu"`
}

func cpuShare(a, b cpuSample, numCPU int) CPUShare {
	wall := b.at.Sub(a.at).Seconds()
	r := func(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }
	c := CPUShare{Seconds: r(wall), GeneratorCores: r((b.self - a.self) / wall), NumCPU: numCPU}
	if a.serverOK && b.serverOK {
		v := r((b.server - a.server) / wall)
		c.ServerCores = &v
	}
	if a.machineOK && b.machineOK && b.machineAll > a.machineAll {
		// /proc/stat totals are summed over CPUs: scale to cores.
		busy := (b.machineBusy - a.machineBusy) / (b.machineAll - a.machineAll) * float64(numCPU)
		v := r(busy)
		c.MachineCores = &v
		if c.ServerCores != nil {
			o := r(max(0, busy-c.GeneratorCores-*c.ServerCores))
			c.OtherCores = &o
		}
	}
	return c
}
