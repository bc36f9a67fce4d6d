package results

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

// fakeGCS starts a Cloud Storage emulator on a loopback port, with one
// bucket, and returns the Objects of that bucket through the official
// client over HTTP.
func fakeGCS(t *testing.T, bucket string) (*fakestorage.Server, Objects) {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: 0, NoListener: false})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	return srv, GCS(gcsClient(t, srv, nil), bucket)
}

// gcsClient is a client of srv; rt, when set, stands in front of it.
func gcsClient(t *testing.T, srv *fakestorage.Server, rt func(http.RoundTripper) http.RoundTripper) *storage.Client {
	t.Helper()
	var tr http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if rt != nil {
		tr = rt(tr)
	}
	c, err := storage.NewClient(context.Background(), option.WithEndpoint(srv.URL()+"/storage/v1/"),
		option.WithHTTPClient(&http.Client{Transport: tr}), storage.WithJSONReads())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTripper is a function as an http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// faulty wraps Objects and fails the calls fail picks.
type faulty struct {
	Objects
	mu     sync.Mutex
	fail   func(op, name string) error
	writes atomic.Int64
}

func (f *faulty) set(fail func(op, name string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *faulty) pick(op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail == nil {
		return nil
	}
	return f.fail(op, name)
}

func (f *faulty) Write(ctx context.Context, name string, data []byte, gen int64) (int64, error) {
	f.writes.Add(1)
	if err := f.pick("write", name); err != nil {
		return 0, err
	}
	return f.Objects.Write(ctx, name, data, gen)
}

func (f *faulty) Read(ctx context.Context, name string) ([]byte, int64, error) {
	if err := f.pick("read", name); err != nil {
		return nil, 0, err
	}
	return f.Objects.Read(ctx, name)
}

func (f *faulty) Delete(ctx context.Context, name string) error {
	if err := f.pick("delete", name); err != nil {
		return err
	}
	return f.Objects.Delete(ctx, name)
}

func isLock(name string) bool    { return strings.HasSuffix(name, ".lock") }
func isJournal(name string) bool { return strings.Contains(name, ".journal/") }
