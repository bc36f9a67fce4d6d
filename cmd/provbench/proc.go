package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"provision/internal/chatemu"
)

// emulator is a cmd/chatemu process on a free loopback port.
type emulator struct {
	url string
	cmd *exec.Cmd
}

// startEmulator starts bin/chatemu with args and waits for its URL.
func (b *bench) startEmulator(args ...string) (*emulator, error) {
	cmd := exec.Command(filepath.Join(b.bin, "chatemu"), append([]string{"--seed", "7"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the emulator: %w", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://127.0.0.1:") {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("the emulator did not start: %q %s", line, stderr.String())
	}
	return &emulator{url: strings.TrimSpace(line), cmd: cmd}, nil
}

// stop ends the emulator and waits for it.
func (e *emulator) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		e.cmd.Process.Kill()
		<-done
	}
}

// runOnce runs provision once against emu (its --endpoint comes first,
// then args), reads the emulator's counters and stops it.
func (b *bench) runOnce(emu *emulator, args ...string) (*runResult, chatemu.Stats, error) {
	defer emu.stop()
	res, err := b.provision(false, append([]string{"--endpoint", emu.url}, args...)...)
	if err != nil {
		return nil, chatemu.Stats{}, err
	}
	st, err := emu.stats()
	return res, st, err
}

// stats reads the emulator's counters.
func (e *emulator) stats() (chatemu.Stats, error) {
	var st chatemu.Stats
	resp, err := http.Get(e.url + "_emulator/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("reading emulator stats: %w", err)
	}
	return st, nil
}

// calls counts the emulator's answers to method, whatever their status.
func calls(st chatemu.Stats, method string) int {
	n := 0
	for _, c := range st.Calls[method] {
		n += c
	}
	return n
}

// writeConfig writes a config of n spaces named "PREFIX 000000" onwards,
// each with members members (none if 0).
func writeConfig(path, prefix string, n, members int) error {
	return writeConfigDescribed(path, prefix, n, members, false)
}

// writeConfigDescribed is writeConfig, each space with a description of its
// own when describe is set (a name and a description: the shape of the
// memory goals).
func writeConfigDescribed(path, prefix string, n, members int, describe bool) error {
	var buf bytes.Buffer
	buf.WriteString("defaults:\n  history: on\nspaces:\n")
	for i := range n {
		fmt.Fprintf(&buf, "  - displayName: \"%s %06d\"\n", prefix, i)
		if describe {
			fmt.Fprintf(&buf, "    description: \"Onboarding space %06d for the platform team\"\n", i)
		}
		if members > 0 {
			buf.WriteString("    members:\n")
			for j := range members {
				fmt.Fprintf(&buf, "      - m%d.%d@example.com\n", i, j)
			}
		}
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// runResult is one run of bin/provision.
type runResult struct {
	code    int
	elapsed time.Duration
	maxRSS  int64 // bytes
	summary summary
	stdout  []byte
	stderr  string
	samples []rssSample // when sampled
}

// summary is the part of provision's --json summary the benchmark reads.
type summary struct {
	Created, Existing, Failed, Interrupted int
	SpaceWrites, MemberWrites, Reads       int64
	Retries, Throttled                     int64
	MembersAdded                           int
}

type rssSample struct {
	at  time.Duration
	rss int64 // bytes
}

// provision runs bin/provision with args (plus --json), timing it from
// start to exit, and reads its peak RSS from the kernel. With sample set,
// it also reads the process's RSS every second.
func (b *bench) provision(sample bool, args ...string) (*runResult, error) {
	cmd := exec.Command(filepath.Join(b.bin, "provision"), append([]string{"--auth", "none", "--json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	res := &runResult{}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	if sample {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if rss, ok := vmRSS(cmd.Process.Pid); ok {
						res.samples = append(res.samples, rssSample{time.Since(start), rss})
					}
				}
			}
		}()
	}
	err := cmd.Wait()
	res.elapsed = time.Since(start)
	cancel()
	wg.Wait()
	res.stderr = stderr.String()
	res.stdout = stdout.Bytes()
	if cmd.ProcessState == nil {
		return nil, err
	}
	res.code = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = int64(ru.Maxrss)
		if runtime.GOOS != "darwin" {
			res.maxRSS *= 1024 // KiB everywhere else
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &res.summary); err != nil {
		return res, fmt.Errorf("provision %s: exit %d, no JSON summary: %v\n%s", strings.Join(args, " "), res.code, err, tail(res.stderr))
	}
	return res, nil
}

// vmRSS reads the resident set size of pid from /proc (Linux).
func vmRSS(pid int) (int64, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}
