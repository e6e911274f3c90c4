package reports

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
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
