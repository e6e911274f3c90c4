package s3

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the sync's copy order", func() {
	It("copies a snapshot repository's root blobs after the data they refer to", func() {
		objects := map[string]objectInfo{
			"es/index-7":                   {},
			"es/index.latest":              {},
			"es/indices/abc/0/__blob":      {},
			"es/snap-xyz.dat":              {},
			"artifacts/run-1":              {},
			"es/indices/abc/index-uuid-ok": {},
		}
		order := copyOrder(objects)
		Expect(order[len(order)-3:]).To(ConsistOf("es/index-7", "es/index.latest", "es/indices/abc/index-uuid-ok"))
		Expect(order[0]).To(Equal("artifacts/run-1"))
	})
})
