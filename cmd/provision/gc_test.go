package main

import "testing"

func TestGCPercent(t *testing.T) {
	tests := []struct {
		live uint64
		want int
	}{
		{0, 100},
		{10 << 20, 100},
		{heapHeadroom, 100},
		{64 << 20, 25},
		{128 << 20, 12},
		{160 << 20, 10},
		{1 << 30, 10},
	}
	for _, tt := range tests {
		if got := gcPercent(tt.live); got != tt.want {
			t.Errorf("gcPercent(%d) = %d, want %d", tt.live, got, tt.want)
		}
	}
}
