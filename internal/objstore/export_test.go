package objstore

import (
	"context"
	"io"
)

// Put is put, for the tests: name below the prefix u, size bytes from r.
func Put(s *Store, ctx context.Context, u, name string, r io.Reader, size int64) error {
	l, err := Parse(u)
	if err != nil {
		return err
	}
	return s.put(ctx, l, name, r, size, nil)
}
