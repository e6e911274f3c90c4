package s3_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform/adapters/s3"
)

var _ = Describe("artifact keys against gofakes3", func() {
	It("puts a version, reads it, carries it to another region with the sync, and deletes it from one region only", func(ctx SpecContext) {
		east, west := startRegion(), startRegion()
		e := client(ctx, east, "us-east-1", "artifacts", 2*time.Second)
		w := client(ctx, west, "us-west-1", "artifacts", 2*time.Second)
		Expect(e.PutArtifact(ctx, "elasticsearch", "1")).To(Succeed())
		_, found, err := w.GetArtifact(ctx, "elasticsearch")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeFalse(), "not synced yet")

		_, err = s3.Sync(ctx, e, w, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(e.PutArtifact(ctx, "elasticsearch", "2")).To(Succeed())
		version, found, err := w.GetArtifact(ctx, "elasticsearch")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue())
		Expect(version).To(Equal("1"), "the west holds what the last sync carried")
		_, err = s3.Sync(ctx, e, w, "")
		Expect(err).NotTo(HaveOccurred())
		version, _, err = w.GetArtifact(ctx, "elasticsearch")
		Expect(err).NotTo(HaveOccurred())
		Expect(version).To(Equal("2"), "a new version of the same size is copied")

		Expect(w.DeleteArtifact(ctx, "elasticsearch")).To(Succeed())
		_, found, err = w.GetArtifact(ctx, "elasticsearch")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeFalse())
		version, found, err = e.GetArtifact(ctx, "elasticsearch")
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeTrue())
		Expect(version).To(Equal("2"))
	})
})
