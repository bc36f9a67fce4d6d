package results

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// unavailable503 answers 503 as Cloud Storage does when it sheds load.
func unavailable503(r *http.Request) *http.Response {
	body := `{"error":{"code":503,"message":"We encountered an internal error. Please try again."}}`
	return &http.Response{StatusCode: 503, Status: "503 Service Unavailable", Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}
}

// A 503 to an upload is retried, as Cloud Storage asks of its clients,
// whether it came before the write was carried out or after (the answer
// lost): a write with a generation precondition may be sent again, and
// the one that finds its own data there already succeeds.
func TestGCSWriteRetriedAfter503(t *testing.T) {
	t.Parallel()
	for _, after := range []bool{false, true} {
		srv, _ := fakeGCS(t, "b")
		var uploads atomic.Int64
		obj := GCS(gcsClient(t, srv, func(next http.RoundTripper) http.RoundTripper {
			return roundTripper(func(r *http.Request) (*http.Response, error) {
				if strings.Contains(r.URL.Path, "/upload/") && uploads.Add(1) == 1 {
					if after {
						resp, err := next.RoundTrip(r)
						if err != nil {
							return nil, err
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					} else if r.Body != nil {
						io.Copy(io.Discard, r.Body)
						r.Body.Close()
					}
					return unavailable503(r), nil
				}
				return next.RoundTrip(r)
			})
		}), "b")
		ctx := context.Background()
		gen, err := writeOwn(ctx, obj, "x", []byte("1\n"), 0)
		if err != nil {
			t.Fatalf("answer lost %v: write after one 503: %v", after, err)
		}
		data, g, err := obj.Read(ctx, "x")
		if err != nil || string(data) != "1\n" || g != gen {
			t.Fatalf("answer lost %v: read back %q gen %d (%v), want the write's, gen %d", after, data, g, err, gen)
		}
		if _, err := obj.Write(ctx, "x", []byte("2\n"), gen+1); !errors.Is(err, ErrPrecondition) {
			t.Fatalf("a write over another generation: %v, want ErrPrecondition", err)
		}
	}
}
