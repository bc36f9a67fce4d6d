package results

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Objects is the little of a bucket the remote state uses: whole objects
// read and written, a write made only while the object has the generation
// the writer read (so that no write is ever lost to a concurrent one),
// listing by prefix, and deletion. Cloud Storage is one (GCS); tests hand
// in others that fail on purpose.
//
// Only writes carry a precondition. Cloud Storage honours
// ifGenerationMatch on deletes, copies and metadata patches too, but the
// emulator the tests run against honours it on uploads only, so the
// design needs it nowhere else: the lock is released by a conditional
// overwrite that marks it released, never by a conditional delete, and
// the only objects deleted are journal records, written once under names
// no other run uses.
type Objects interface {
	// Read returns the object's contents and generation, or an error
	// wrapping ErrNotExist.
	Read(ctx context.Context, name string) ([]byte, int64, error)
	// Write stores data as the object name if its generation is ifGen, 0
	// meaning that it must not exist, and returns the new generation. If
	// not, it changes nothing and fails with an error wrapping
	// ErrPrecondition (HTTP 412).
	Write(ctx context.Context, name string, data []byte, ifGen int64) (int64, error)
	// List returns the names of the objects whose name starts with prefix,
	// in lexical order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Delete removes the object; one that does not exist is no error.
	Delete(ctx context.Context, name string) error
	// String names the bucket, as gs://BUCKET.
	String() string
}

// ErrNotExist is wrapped by Objects.Read for an object that does not exist.
var ErrNotExist = errors.New("object does not exist")

// ErrPrecondition is wrapped by Objects.Write when the object's generation
// is not the one the write was made for: someone else wrote it since.
var ErrPrecondition = errors.New("precondition failed: the object changed")

// ErrNoBucket is wrapped by the errors of OpenRemote and LoadRemote when
// the bucket does not exist.
var ErrNoBucket = errors.New("bucket does not exist")

// ErrForbidden is wrapped by the errors of OpenRemote and LoadRemote when
// the credentials may not read or write the state's objects (HTTP 403).
var ErrForbidden = errors.New("permission denied")

// RemotePath is a results location in a bucket: gs://BUCKET/OBJECT.
type RemotePath struct {
	Bucket, Object string
}

func (p RemotePath) String() string { return "gs://" + p.Bucket + "/" + p.Object }

// IsRemote says whether a --results location names a bucket.
func IsRemote(loc string) bool { return strings.HasPrefix(loc, "gs://") }

// ParseRemote reads gs://BUCKET/OBJECT. The bucket name follows Cloud
// Storage's rules (3 to 63 characters of lower-case letters, digits, '-',
// '_' and '.', beginning and ending with a letter or digit; dotted names
// up to 222); the object name must not end in '/' and may not hold '\r',
// '\n' or '#', nor '..' steps, which would read as something other than
// one object, nor be named as a state's lock or journal record is.
func ParseRemote(loc string) (RemotePath, error) {
	rest, ok := strings.CutPrefix(loc, "gs://")
	if !ok {
		return RemotePath{}, fmt.Errorf("%q is not a gs://BUCKET/OBJECT location", loc)
	}
	bucket, object, _ := strings.Cut(rest, "/")
	if !validBucket(bucket) {
		return RemotePath{}, fmt.Errorf("%q: %q is not a Cloud Storage bucket name (3 to 63 lower-case letters, digits, '-', '_' or '.', starting and ending with a letter or digit)", loc, bucket)
	}
	switch {
	case object == "" || strings.HasSuffix(object, "/"):
		return RemotePath{}, fmt.Errorf("%q names no object: give gs://%s/PATH.json", loc, bucket)
	case strings.ContainsAny(object, "\r\n#?"), len(object) > 900:
		return RemotePath{}, fmt.Errorf("%q: the object name may not hold a line break, '#' or '?', nor be over 900 bytes", loc)
	case object == "." || object == ".." || strings.HasPrefix(object, "../") || strings.Contains(object, "/../") || strings.HasSuffix(object, "/.."):
		return RemotePath{}, fmt.Errorf("%q: the object name may not hold a '..' step", loc)
	case strings.HasSuffix(object, ".lock") || strings.Contains(object, ".journal/"):
		// The names of another state's lock and journal records: a
		// results object written there would be taken for its lock, or
		// replayed as a record and make that state unreadable.
		return RemotePath{}, fmt.Errorf("%q names the lock or a journal record of a state (OBJECT.lock, OBJECT.journal/…), not a results object", loc)
	}
	return RemotePath{Bucket: bucket, Object: object}, nil
}

func validBucket(b string) bool {
	max := 63
	if strings.Contains(b, ".") {
		max = 222
	}
	if len(b) < 3 || len(b) > max {
		return false
	}
	for i, c := range b {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if (i == 0 || i == len(b)-1) && !alnum {
			return false
		}
		if !alnum && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}
