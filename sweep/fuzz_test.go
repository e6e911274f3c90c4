package sweep_test

import (
	"bytes"
	"testing"

	"github.com/chaosdrill/chaosdrill/sweep"
)

// FuzzDecode feeds sweep merge's parser (sweep.json, and a shard's) any
// bytes: it must never panic or hang, and whatever it accepts must be a
// sweep it writes back the same way and merges into itself.
func FuzzDecode(f *testing.F) {
	vary := &sweep.Vary{Name: "workload.a.write_concern", Values: []string{"majority", "multiRegion"}}
	seeds := syntheticSeeds(6, 3, 1)
	var b bytes.Buffer
	add := func(r *sweep.Result) {
		b.Reset()
		if err := r.Encode(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(b.Bytes()))
	}
	add(sweep.Aggregate(about(6, 3, nil, nil), [][]sweep.Seed{seeds}, nil))
	shard := &sweep.Shard{Index: 2, Count: 2}
	add(sweep.Aggregate(about(6, 3, shard, vary), [][]sweep.Seed{shardOf(seeds, 6, shard), shardOf(syntheticSeeds(6, 3, 2), 6, shard)}, nil))
	add(sweep.Aggregate(about(6, 3, nil, nil), [][]sweep.Seed{seeds[:1]}, &sweep.Partial{Reason: "interrupted"}))
	f.Add([]byte(`{"schema":"chaosdrill.sweep/v2"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := sweep.Decode(data)
		if err != nil {
			return
		}
		var once, twice bytes.Buffer
		if err := r.Encode(&once); err != nil {
			t.Fatalf("an accepted sweep does not encode: %v", err)
		}
		again, err := sweep.Decode(once.Bytes())
		if err != nil {
			t.Fatalf("an accepted sweep, written back, is refused: %v", err)
		}
		if err := again.Encode(&twice); err != nil || !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("an accepted sweep does not write back the same: %v", err)
		}
		if r.Shard == nil && r.Partial == nil {
			merged, err := sweep.Merge([]string{"x"}, []*sweep.Result{r})
			if err != nil {
				t.Fatalf("a whole sweep does not merge into itself: %v", err)
			}
			twice.Reset()
			if err := merged.Encode(&twice); err != nil || !bytes.Equal(once.Bytes(), twice.Bytes()) {
				t.Fatalf("a whole sweep merged is not itself: %v", err)
			}
		}
	})
}
