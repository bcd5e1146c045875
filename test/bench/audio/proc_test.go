package audiobench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux ABI Go supports (getconf CLK_TCK), and not readable
// without cgo.
const clockTick = 10 * time.Millisecond

// cpuTime is utime+stime of pid so far: all its threads, living and ended.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // f[0] is field 3 (state); utime is field 14, stime 15
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * clockTick, nil
}

// statusKB reads a "Key:   N kB" line of /proc/PID/status (VmHWM, VmRSS).
func statusKB(pid int, key string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, key)
}

// cpuMeter measures the CPU time of a few processes over a window.
type cpuMeter struct {
	pids  []int
	start []time.Duration
	at    time.Time
}

// startCPU reads the processes' CPU time now; a pid of 0 is skipped
// (reported as 0).
func startCPU(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids, start: make([]time.Duration, len(pids)), at: time.Now()}
	for i, p := range pids {
		if p != 0 {
			m.start[i], _ = cpuTime(p)
		}
	}
	return m
}

// stop returns each process's CPU time since start, and the wall time.
func (m *cpuMeter) stop() ([]time.Duration, time.Duration) {
	out := make([]time.Duration, len(m.pids))
	for i, p := range m.pids {
		if p == 0 {
			continue
		}
		if t, err := cpuTime(p); err == nil {
			out[i] = t - m.start[i]
		}
	}
	return out, time.Since(m.at)
}

// findPulse returns the pid of the pulseaudio daemon serving server
// ("unix:DIR/native"): the one started with -F DIR/minimal.pa. 0 if none.
func findPulse(server string) int {
	dir := filepath.Dir(strings.TrimPrefix(server, "unix:"))
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "pulseaudio" {
			continue
		}
		for _, a := range args[1:] {
			if strings.HasPrefix(a, dir+string(filepath.Separator)) {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
				return pid
			}
		}
	}
	return 0
}

// quantile is the q-quantile of ds (nearest rank), 0 for none.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// loadAvg is the first figure of /proc/loadavg, to show how busy the
// machine was while measuring.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// threadCPU lists pid's threads by CPU time so far, busiest first, at most
// n of them, as "name 1.23s": where a process's CPU goes.
func threadCPU(pid, n int) string {
	type th struct {
		name string
		cpu  time.Duration
	}
	var ths []th
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/[0-9]*", pid))
	for _, dir := range tasks {
		tid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		name := ""
		if i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')'); i >= 0 && j > i {
			name = string(b[i+1 : j])
		}
		cpu, err := taskCPU(pid, tid)
		if err != nil {
			continue
		}
		ths = append(ths, th{name, cpu})
	}
	sort.Slice(ths, func(i, j int) bool { return ths[i].cpu > ths[j].cpu })
	var parts []string
	for i, t := range ths {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.2fs", t.name, t.cpu.Seconds()))
	}
	return fmt.Sprintf("%d threads; busiest: %s", len(ths), strings.Join(parts, ", "))
}

// taskCPU is utime+stime of one thread.
func taskCPU(pid, tid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("task %d/%d stat: short", pid, tid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick, nil
}
