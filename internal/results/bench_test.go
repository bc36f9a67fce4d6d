package results

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// BenchmarkRecord measures sequential Records, each waiting for its own
// write (and fsync, when durable).
func BenchmarkRecord(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "r.json"), bc.opts...)
			i := 0
			for b.Loop() {
				id := fmt.Sprintf("space-%d", i)
				record(b, s, Event{Space: id, Entry: created(id)})
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkRecordParallel measures concurrent Records, which share writes
// and fsyncs (group commit).
func BenchmarkRecordParallel(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "r.json"), bc.opts...)
			var n atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprintf("space-%d", n.Add(1))
					if err := s.Record(Event{Space: id, Entry: created(id)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

var benchCases = []struct {
	name string
	opts []Option
}{
	{"durable", nil},
	{"nosync", []Option{WithoutSync()}},
}
