package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

var _ = Describe("the images: block", func() {
	const head = "name: x\ntopology: ion\nduration: 1m\nworkloads:\n  - {service: mongo, rate: 1}\n"

	It("gives the live platform an image per service kind", func() {
		sc, err := scenarios.Parse("x.yaml", []byte(head+"images:\n  mongo: registry.example:5000/mirror/mongo:8.0\n  s3: mirror.example/localstack:4.14.0\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Images).To(Equal(map[string]string{"mongo": "registry.example:5000/mirror/mongo:8.0", "s3": "mirror.example/localstack:4.14.0"}))
	})

	It("refuses an unknown kind with its line and a suggestion, and an empty reference", func() {
		_, err := scenarios.Parse("x.yaml", []byte(head+"images:\n  mongodb: mongo:8.0\n  s3: \"\"\n"))
		Expect(err).To(MatchError(And(
			ContainSubstring(`x.yaml:7:3: images.mongodb: no service kind "mongodb"; did you mean "mongo"?`),
			ContainSubstring("x.yaml:8:3: images.s3: want an image reference"))))
	})
})
