package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"provision/internal/chatemu"
)

// storageCalls counts the calls a run makes to Cloud Storage, by kind,
// and times the writes.
type storageCalls struct {
	mu                           sync.Mutex
	writes, reads, lists, delete int
	writeTimes                   []time.Duration
}

func (c *storageCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(r)
	d := time.Since(start)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case strings.Contains(r.URL.Path, "/upload/"):
		c.writes++
		c.writeTimes = append(c.writeTimes, d)
	case r.Method == http.MethodDelete:
		c.delete++
	case strings.HasSuffix(r.URL.Path, "/o"):
		c.lists++
	default:
		c.reads++
	}
	return resp, err
}

// BenchmarkGCSState runs provision over 100 spaces of 3 members each, with
// its state in the Cloud Storage emulator, and reports the state's calls
// per space and the latency of its writes (the emulator is on this
// machine: the latency is the client's and the emulator's, not Google's).
func BenchmarkGCSState(b *testing.B) {
	const n = 100
	for b.Loop() {
		b.StopTimer()
		emu := chatemu.New(chatemu.WithSpaceQuota(0), chatemu.WithMemberQuota(0), chatemu.WithReadQuota(0))
		chatSrv := httptest.NewServer(emu)
		srv, _ := gcsEmulator(b)
		calls := &storageCalls{}
		client, err := storage.NewClient(context.Background(), option.WithEndpoint(srv.URL()+"/storage/v1/"),
			option.WithHTTPClient(&http.Client{Transport: calls}), storage.WithJSONReads())
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		cfg := writeConfig(b, dir, n, func(i int) ([]string, []string) { return teamMembers(i, 3) })
		var stdout, stderr bytes.Buffer
		e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, backoff: fastBackoff,
			throttle: quickThrottle, tick: time.Hour, gcs: client}
		b.StartTimer()
		start := time.Now()
		code := e.run(context.Background(), []string{"--auth", "none", "--endpoint", chatSrv.URL, "--rate", "0", "--member-rate", "0",
			"--results", gsResults, cfg})
		elapsed := time.Since(start)
		b.StopTimer()
		if code != 0 {
			b.Fatalf("exit %d\n%s", code, stderr.String())
		}
		calls.mu.Lock()
		slices.Sort(calls.writeTimes)
		var sum time.Duration
		for _, d := range calls.writeTimes {
			sum += d
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(float64(calls.writes)/n, "writes/space")
		b.ReportMetric(float64(calls.reads)/n, "reads/space")
		b.ReportMetric(float64(calls.delete)/n, "deletes/space")
		b.ReportMetric(float64(calls.lists), "lists")
		b.ReportMetric(ms(sum/time.Duration(len(calls.writeTimes))), "write-ms-mean")
		b.ReportMetric(ms(calls.writeTimes[len(calls.writeTimes)/2]), "write-ms-p50")
		b.ReportMetric(ms(calls.writeTimes[len(calls.writeTimes)*99/100]), "write-ms-p99")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "spaces/s")
		calls.mu.Unlock()
		client.Close()
		chatSrv.Close()
		srv.Stop()
		b.StartTimer()
	}
}
