package main

import "testing"

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name        string
		floor, live uint64
		want        int
	}{
		{"before the first collection: the floor from the smallest heap", 16 * mib, 0, 300},
		{"small live heap: the next collection at the floor", 16 * mib, 4 * mib, 300},
		{"under the runtime's smallest heap: taken as 4 MiB", 16 * mib, 1 * mib, 300},
		{"half the floor live: the default", 16 * mib, 8 * mib, 100},
		{"a big job: the default", 16 * mib, 200 * mib, 100},
		{"no floor", 0, 3 * mib, 100},
		{"a floor far above: capped", 1 << 40, 4 * mib, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gcPercentFor(tt.floor, tt.live)
			if got != tt.want {
				t.Errorf("gcPercentFor(%d, %d) = %d, want %d", tt.floor, tt.live, got, tt.want)
			}
			if goal := max(tt.live, 4*mib) * uint64(100+got) / 100; got > 100 && got < 1000 && goal != tt.floor {
				t.Errorf("next collection at %d bytes, want the floor, %d", goal, tt.floor)
			}
		})
	}
}
