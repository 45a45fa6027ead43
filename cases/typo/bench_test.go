package typo

import "testing"

// BenchmarkSuggest is one sign-up's lookup, over a mix of typos, known
// domains and real unknown domains.
func BenchmarkSuggest(b *testing.B) {
	s := mustNew(b)
	inputs := []string{
		"taro@gmial.com", "hanako@docomo.ne.jo", "a@gmail.com", "b@example.co.jp",
		"c@hotmial.com", "d@polbox.com", "e@yahoo.co.jo", "f@mail.randomcompany.com",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Suggest(inputs[i%len(inputs)])
	}
}
