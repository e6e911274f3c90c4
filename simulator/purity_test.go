package simulator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The simulator's determinism rests on three rules that the compiler does
// not enforce; this spec reads the package's non-test sources and enforces
// them: no wall clock, no global random source, no goroutines.
var _ = Describe("simulator sources", func() {
	It("never read the wall clock, use a global random source or start a goroutine", func() {
		files, err := filepath.Glob("*.go")
		Expect(err).NotTo(HaveOccurred())
		var violations []string
		fset := token.NewFileSet()
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			Expect(err).NotTo(HaveOccurred())
			imports := map[string]string{} // local name -> path
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				local := filepath.Base(path)
				if path == "math/rand/v2" {
					local = "rand"
				}
				if imp.Name != nil {
					local = imp.Name.Name
				}
				imports[local] = path
				if path == "math/rand" || path == "crypto/rand" {
					violations = append(violations, fset.Position(imp.Pos()).String()+": imports "+path)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					violations = append(violations, fset.Position(n.Pos()).String()+": go statement")
				case *ast.SelectorExpr:
					pkg, ok := n.X.(*ast.Ident)
					if !ok {
						return true
					}
					switch imports[pkg.Name] {
					case "time":
						switch n.Sel.Name {
						case "Now", "Since", "Until", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker":
							violations = append(violations, fset.Position(n.Pos()).String()+": time."+n.Sel.Name)
						}
					case "math/rand/v2":
						// Only building seeded sources is allowed; the
						// top-level functions draw from the global source.
						switch n.Sel.Name {
						case "New", "NewPCG", "Rand", "PCG", "Source":
						default:
							violations = append(violations, fset.Position(n.Pos()).String()+": rand."+n.Sel.Name)
						}
					}
				}
				return true
			})
		}
		Expect(violations).To(BeEmpty())
	})
})
