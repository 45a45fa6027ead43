package store

// Versions lists the migrations' versions in order, for the external tests.
func Versions() []int {
	v := make([]int, len(migrations))
	for i, m := range migrations {
		v[i] = m.version
	}
	return v
}
