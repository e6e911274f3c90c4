package scenarios

import (
	"fmt"
	"strings"
)

// suggestion completes an "unknown X" message: "; did you mean "Y"?" when a
// candidate is a likely typo of word, else the list of valid choices named
// by what ("fields", "kinds").
func suggestion(word string, candidates []string, what string) string {
	if best := closest(word, candidates); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	if len(candidates) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s: %s)", what, strings.Join(candidates, ", "))
}

// closest returns the candidate nearest to word by edit distance, if it is
// near enough to be a typo, else "".
func closest(word string, candidates []string) string {
	best, bestDistance := "", len(word)
	limit := max(2, len(word)/4)
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDistance && d <= limit {
			best, bestDistance = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			substitution := previous[j-1]
			if a[i-1] != b[j-1] {
				substitution++
			}
			current[j] = min(previous[j]+1, current[j-1]+1, substitution)
		}
		previous, current = current, previous
	}
	return previous[len(b)]
}
