package reports

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// uvarint and varint must read exactly what binary.Uvarint and
// binary.Varint read, whatever the bytes around the value.
func TestVarintDecodersAgreeWithEncodingBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 127, 128, 255, 256, 1<<14 - 1, 1 << 14, 1<<56 - 1, 1 << 56, 1<<63 - 1, math.MaxUint64}
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		for _, tail := range [][]byte{nil, {0}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}} {
			buf := append(binary.AppendUvarint(nil, v), tail...)
			got, n := uvarint(buf)
			want, wantN := binary.Uvarint(buf)
			if got != want || n != wantN {
				t.Fatalf("uvarint(% x) = %d, %d; binary.Uvarint: %d, %d", buf, got, n, want, wantN)
			}
			signed := int64(v)
			buf = append(binary.AppendVarint(nil, signed), tail...)
			gotSigned, n := varint(buf)
			wantSigned, wantN := binary.Varint(buf)
			if gotSigned != wantSigned || n != wantN {
				t.Fatalf("varint(% x) = %d, %d; binary.Varint: %d, %d", buf, gotSigned, n, wantSigned, wantN)
			}
		}
	}
}

// latencyCounts must count each latency where hdrhistogram's RecordValue
// does, so that the report's percentiles stay what the histogram gives.
func TestLatencyCountsAgreeWithHdrHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	values := []int64{0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1 << 20, latencyHighestMicros - 1, latencyHighestMicros}
	for range 100000 {
		values = append(values, rng.Int64N(latencyHighestMicros+1)>>rng.IntN(32))
	}
	want := hdrhistogram.New(latencyLowestMicros, latencyHighestMicros, latencySignificant)
	got := newLatencyCounts()
	for _, v := range values {
		if err := want.RecordValue(v); err != nil {
			t.Fatalf("record %d: %v", v, err)
		}
		got.record(v)
	}
	if !slices.Equal(got, want.Export().Counts) {
		t.Fatal("counts differ from the histogram's")
	}
	h := got.histogram()
	for _, q := range []float64{0, 50, 90, 99, 99.9, 100} {
		if h.ValueAtQuantile(q) != want.ValueAtQuantile(q) {
			t.Errorf("p%v: %d, the histogram's %d", q, h.ValueAtQuantile(q), want.ValueAtQuantile(q))
		}
	}
}
