package pipeline

import "testing"

func TestByteSizeRoundTrip(t *testing.T) {
	for _, b := range []ByteSize{0, 1, 1023, 1024, 1500000, 2000000, 3 << 20, 5 << 30, 1<<30 + 1} {
		got, err := ParseByteSize(b.String())
		if err != nil || got != b {
			t.Errorf("%d prints as %q, which reads back as %d (%v)", b, b.String(), got, err)
		}
	}
}
