package typo

// Edit costs. A slip that a hand makes on a keyboard (a neighbouring key,
// two keys swapped, a doubled or dropped double letter) costs less than an
// arbitrary edit, so that between two candidates the one a finger could
// have produced wins, and a tie between two arbitrary edits stays a tie.
// An edit that makes a new name rather than a misspelt one (a letter added
// before or after the name or one no neighbouring key explains, its first
// letter dropped or changed, its last letter changed for a far key, a
// digit or hyphen added) is out of reach of any name's budget: "email" is
// not a slip on "mail", nor "ymail4" on "ymail", "gotmail" on "hotmail" or
// "fboxmail" on "foxmail".
const (
	costSlip    = 3
	costEdit    = 4
	costNewName = 16
)

// part says which part of a domain editCost compares: the label before the
// public suffix, where the name-making edits above apply, or the suffix,
// where stopping one key early ("gmail.co") is a slip.
type part bool

const (
	partLabel  part = true
	partSuffix part = false
)

// editCost is what one keyboard edit from typed to intended costs: 0 when
// they are equal, the cost of the one substitution, extra key, missed key
// or swap of two neighbouring keys that turns typed into intended, and
// costNewName when no single edit does. This is the optimal string
// alignment distance (Damerau-Levenshtein where a swap counts as one edit)
// weighted as above and cut at one edit: no budget reaches two edits (two
// slips cost more than one edit), so the general algorithm's table is not
// needed, and a lookup on every sign-up stays linear and allocation-free.
// The table version is kept in the tests to check this one against.
func editCost(typed, intended string, p part) int {
	n, m := len(typed), len(intended)
	i := 0
	for i < n && i < m && typed[i] == intended[i] {
		i++
	}
	switch n - m {
	case 0:
		if i == n {
			return 0
		}
		if typed[i+1:] == intended[i+1:] {
			return subCost(typed[i], intended[i], i+1, m, p)
		}
		if i+1 < n && typed[i] == intended[i+1] && typed[i+1] == intended[i] && typed[i+2:] == intended[i+2:] {
			return costSlip // two keys swapped
		}
	case 1:
		if typed[i+1:] == intended[i:] {
			return extraCost(typed, i, p) // a key too many
		}
	case -1:
		if typed[i:] == intended[i+1:] {
			return omitCost(intended, i, p) // a key missed
		}
	}
	return costNewName
}

// subCost is the cost of typing a for intended's j-th letter (from 1) of
// m. In a label, a changed first letter, a far key for the last one, or a
// digit or hyphen for a far letter makes another name.
func subCost(a, b byte, j, m int, p part) int {
	switch {
	case a == b:
		return 0
	case p == partLabel && j == 1:
		return costNewName
	case adjacent(a, b):
		return costSlip
	case p == partLabel && (j == m || isDigitOrHyphen(a)):
		return costNewName
	default:
		return costEdit
	}
}

// extraCost is the cost of typed[k] being a key too many: a slip when it
// doubles a neighbour or sits next to one on the keyboard ("gmaiil",
// "gmaiul"). In a label any other extra key, and any before or after the
// name or a digit or hyphen, makes a new name ("fboxmail", "ymail4");
// elsewhere it is an edit.
func extraCost(typed string, k int, p part) int {
	c := typed[k]
	if k > 0 && typed[k-1] == c || k+1 < len(typed) && typed[k+1] == c {
		return costSlip
	}
	if p == partLabel {
		if k == 0 || k == len(typed)-1 || isDigitOrHyphen(c) {
			return costNewName
		}
	}
	if k > 0 && adjacent(typed[k-1], c) || k+1 < len(typed) && adjacent(typed[k+1], c) {
		return costSlip
	}
	if p == partLabel {
		return costNewName
	}
	return costEdit
}

// omitCost is the cost of intended[k] missing from what was typed: a slip
// when it is one of a double letter ("yaho" for "yahoo") or, in a suffix,
// its last key (typing stopped early: "gmail.co"); a new name when it is a
// label's first letter ("mail" is not "gmail"); an edit otherwise.
func omitCost(intended string, k int, p part) int {
	c := intended[k]
	switch {
	case k > 0 && intended[k-1] == c || k+1 < len(intended) && intended[k+1] == c:
		return costSlip
	case p == partSuffix && k == len(intended)-1:
		return costSlip
	case p == partLabel && k == 0:
		return costNewName
	default:
		return costEdit
	}
}

func isDigitOrHyphen(c byte) bool {
	return '0' <= c && c <= '9' || c == '-'
}

// qwertyRows is the US/JIS layout of letters, digits and hyphen (the two
// agree on these keys). Each row sits a fraction of a key to the right of
// the one above, so a key touches the one below it and the one below-left.
var qwertyRows = [4]string{"1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"}

// keyAdjacent[a][b] is true when keys a and b touch: a fixed table,
// computed once.
var keyAdjacent = buildAdjacency()

func buildAdjacency() (adj [128][128]bool) {
	type pos struct{ row, col int }
	where := map[byte]pos{}
	for r, row := range qwertyRows {
		for c := 0; c < len(row); c++ {
			where[row[c]] = pos{r, c}
		}
	}
	for a, pa := range where {
		for b, pb := range where {
			dr, dc := pb.row-pa.row, pb.col-pa.col
			if dr == 0 && (dc == 1 || dc == -1) ||
				dr == 1 && (dc == 0 || dc == -1) ||
				dr == -1 && (dc == 0 || dc == 1) {
				adj[a][b] = true
			}
		}
	}
	return adj
}

func adjacent(a, b byte) bool {
	return a < 128 && b < 128 && keyAdjacent[a][b]
}
