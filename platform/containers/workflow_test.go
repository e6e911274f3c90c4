package containers

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"
)

// The nightly workflow is what runs the live suite for users; it cannot run
// here, so what it must do is read from the file.
var _ = Describe("the live workflow", func() {
	var workflow struct {
		Env  map[string]string `yaml:"env"`
		Jobs map[string]struct {
			Steps []struct {
				Name string `yaml:"name"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	BeforeEach(func() {
		text, err := os.ReadFile(filepath.Join("..", "..", ".github", "workflows", "live.yml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(yaml.Unmarshal(text, &workflow)).To(Succeed())
	})

	runs := func() []string {
		var out []string
		for _, job := range workflow.Jobs {
			for _, step := range job.Steps {
				out = append(out, step.Run)
			}
		}
		return out
	}

	It("runs the built live suite as root, since the network faults and link latencies need it", func() {
		Expect(runs()).To(ContainElement(And(
			ContainSubstring("go test -c -o live.test ./platform/containers"))))
		Expect(runs()).To(ContainElement(And(
			ContainSubstring("sudo -E ../../live.test"),
			ContainSubstring("-ginkgo.label-filter=live"))))
		Expect(runs()).To(ContainElement(ContainSubstring("sudo -E ./chaosdrill doctor")), "the runner is checked before the suite")
	})

	It("pulls and names the platform's default images, as the README does", func() {
		Expect(workflow.Env).To(HaveKeyWithValue("MONGO_IMAGE", DefaultMongoImage))
		Expect(workflow.Env).To(HaveKeyWithValue("ELASTIC_IMAGE", DefaultElasticImage))
		Expect(workflow.Env).To(HaveKeyWithValue("LOCALSTACK_IMAGE", DefaultLocalStackImage))
		Expect(strings.Join(runs(), "\n")).To(ContainSubstring(ImagesVariable + "=mongo=$MONGO_IMAGE,elasticsearch=$ELASTIC_IMAGE,s3=$LOCALSTACK_IMAGE"))
		readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
		Expect(err).NotTo(HaveOccurred())
		for _, image := range DefaultImages().List() {
			Expect(string(readme)).To(ContainSubstring("`"+image+"`"), "the README names %s", image)
		}
	})

	It("states the memory the containers need and picks the small profile on a smaller runner", func() {
		Expect(strings.Join(runs(), "\n")).To(ContainSubstring(MemoryProfileVariable + "=small"))
	})
})
