package chatemu

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// createLocal creates one space in-process and fails the benchmark or test
// on anything but 200.
func createLocal(tb testing.TB, srv *Server, i int) {
	body := `{"displayName":"Space ` + strconv.Itoa(i) + `","spaceType":"SPACE"}`
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/spaces?requestId=r"+strconv.Itoa(i), strings.NewReader(body)))
	if rec.Code != http.StatusOK {
		tb.Fatalf("create %d = %d %s", i, rec.Code, rec.Body)
	}
}

func TestManySpaces(t *testing.T) {
	t.Parallel()
	const n = 2500 // three pages of 1000, the last one partial; Benchmark100kSpaces goes further
	srv := New(WithSpaceQuota(0), WithReadQuota(0), WithSeed(1))
	for i := range n {
		createLocal(t, srv, i)
	}
	seen := make(map[string]bool, n)
	tok, pages := "", 0
	for {
		code, body := serveLocal(srv, "GET", "/v1/spaces?pageSize=1000&pageToken="+tok, "")
		var page struct {
			Spaces        []struct{ Name string }
			NextPageToken string
		}
		if code != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("list page %d = %d %s", pages, code, body)
		}
		pages++
		for _, sp := range page.Spaces {
			seen[sp.Name] = true
		}
		if tok = page.NextPageToken; tok == "" {
			break
		}
	}
	if len(seen) != n || pages != 3 {
		t.Errorf("listing %d spaces: %d distinct in %d pages, want %d in 3", n, len(seen), pages, n)
	}
	if st := srv.Stats(); st.SpacesCreated != n || st.RequestIDs != n || st.Duplicates != 0 {
		t.Errorf("stats = %d created, %d requestIds, %d duplicates; want %d, %d, 0", st.SpacesCreated, st.RequestIDs, st.Duplicates, n, n)
	}
}

// BenchmarkCreate measures one spaces.create served in-process, in a state
// that grows with b.N, and the heap each space keeps.
func BenchmarkCreate(b *testing.B) {
	srv := New(WithSpaceQuota(0), WithSeed(1))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		createLocal(b, srv, i)
		i++
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(srv)
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/float64(i), "heap-B/space")
}

// Benchmark100kSpaces pushes 100,000 spaces through the emulator, then
// lists them all, 1000 per page.
func Benchmark100kSpaces(b *testing.B) {
	const n = 100000
	for b.Loop() {
		srv := New(WithSpaceQuota(0), WithReadQuota(0), WithSeed(1))
		for i := range n {
			createLocal(b, srv, i)
		}
		tok := ""
		for {
			code, body := serveLocal(srv, "GET", "/v1/spaces?pageSize=1000&pageToken="+tok, "")
			var page struct{ NextPageToken string }
			if code != 200 || json.Unmarshal(body, &page) != nil {
				b.Fatalf("list = %d", code)
			}
			if tok = page.NextPageToken; tok == "" {
				break
			}
		}
	}
}

// BenchmarkListLastPage shows that a page deep in a long list costs no more
// than the first one.
func BenchmarkListLastPage(b *testing.B) {
	const n = 50000
	srv := New(WithSpaceQuota(0), WithReadQuota(0), WithSeed(1))
	for i := range n {
		createLocal(b, srv, i)
	}
	tok := encodeToken("spaces", n-100)
	for b.Loop() {
		if code, body := serveLocal(srv, "GET", "/v1/spaces?pageToken="+tok, ""); code != 200 {
			b.Fatalf("list = %d %s", code, body)
		}
	}
}
