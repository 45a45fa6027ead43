package typo

import (
	"math/rand/v2"
	"testing"
)

// osaTable is the textbook optimal string alignment distance, weighted by
// the same costs as editCost: the oracle editCost is checked against.
func osaTable(typed, intended string, p part) int {
	n, m := len(typed), len(intended)
	d := make([][]int, n+1)
	for i := range d {
		d[i] = make([]int, m+1)
	}
	for j := 1; j <= m; j++ {
		d[0][j] = d[0][j-1] + omitCost(intended, j-1, p)
	}
	for i := 1; i <= n; i++ {
		d[i][0] = d[i-1][0] + extraCost(typed, i-1, p)
		for j := 1; j <= m; j++ {
			best := d[i-1][j] + extraCost(typed, i-1, p)
			best = min(best, d[i][j-1]+omitCost(intended, j-1, p))
			best = min(best, d[i-1][j-1]+subCost(typed[i-1], intended[j-1], j, m, p))
			if i > 1 && j > 1 && typed[i-1] == intended[j-2] && typed[i-2] == intended[j-1] && typed[i-1] != typed[i-2] {
				best = min(best, d[i-2][j-2]+costSlip)
			}
			d[i][j] = best
		}
	}
	return d[n][m]
}

// TestEditCostIsOneEditOfOSA checks editCost against the table on random
// strings over a few keys (so that runs, swaps and neighbours are common):
// within one edit they agree, beyond it both are out of every budget.
func TestEditCostIsOneEditOfOSA(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const keys = "aoilm.-9"
	word := func() string {
		b := make([]byte, 1+r.IntN(7))
		for i := range b {
			b[i] = keys[r.IntN(len(keys))]
		}
		return string(b)
	}
	mutate := func(s string) string {
		b := []byte(s)
		switch k := r.IntN(len(b) + 1); r.IntN(4) {
		case 0:
			b = append(b[:k], append([]byte{keys[r.IntN(len(keys))]}, b[k:]...)...)
		case 1:
			if k < len(b) {
				b = append(b[:k], b[k+1:]...)
			}
		case 2:
			if k < len(b) {
				b[k] = keys[r.IntN(len(keys))]
			}
		case 3:
			if k+1 < len(b) {
				b[k], b[k+1] = b[k+1], b[k]
			}
		}
		return string(b)
	}
	checked := 0
	for range 50000 {
		intended := word()
		typed := mutate(intended)
		if r.IntN(4) == 0 {
			typed = mutate(typed)
		}
		for _, p := range []part{partLabel, partSuffix} {
			want := osaTable(typed, intended, p)
			got := editCost(typed, intended, p)
			if want <= costEdit && got != want || want > costEdit && got <= costEdit {
				t.Fatalf("editCost(%q, %q, %v) = %d, the table says %d", typed, intended, p, got, want)
			}
			checked++
		}
	}
	t.Logf("%d pairs agree", checked)
}

func TestEditCost(t *testing.T) {
	tests := []struct {
		typed, intended string
		p               part
		want            int
	}{
		{"gmail", "gmail", partLabel, 0},
		{"gmial", "gmail", partLabel, costSlip},   // swapped
		{"gmaik", "gmail", partLabel, costSlip},   // k is next to l
		{"gmaiil", "gmail", partLabel, costSlip},  // doubled
		{"yaho", "yahoo", partLabel, costSlip},    // one of a double dropped
		{"gmal", "gmail", partLabel, costEdit},    // a key missed
		{"gnail", "gmail", partLabel, costSlip},   // n is next to m
		{"gmeil", "gmail", partLabel, costEdit},   // a far key
		{"mail", "gmail", partLabel, costNewName}, // first letter dropped
		{"email", "mail", partLabel, costNewName}, // a letter before the name
		{"ymail4", "ymail", partLabel, costNewName},
		{"gotmail", "hotmail", partLabel, costNewName}, // first letter changed
		{"fboxmail", "foxmail", partLabel, costNewName},
		{"co", "com", partSuffix, costSlip}, // stopped one key early
		{"con", "com", partSuffix, costSlip},
		{"cm", "com", partSuffix, costEdit},
		{"ne.jo", "ne.jp", partSuffix, costSlip},
		{"gmial", "gmail.com", partLabel, costNewName}, // more than one edit
	}
	for _, tt := range tests {
		if got := editCost(tt.typed, tt.intended, tt.p); got != tt.want {
			t.Errorf("editCost(%q, %q, %v) = %d, want %d", tt.typed, tt.intended, tt.p, got, tt.want)
		}
	}
}
