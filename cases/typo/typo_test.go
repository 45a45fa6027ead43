package typo

import (
	"errors"
	"sync"
	"testing"
)

func TestSuggest(t *testing.T) {
	s := mustNew(t)
	tests := []struct {
		in   string
		want string // "" for no suggestion
	}{
		// The slips the guard exists for.
		{"gmial.com", "gmail.com"},
		{"docomo.ne.jo", "docomo.ne.jp"},
		{"gmail.con", "gmail.com"},
		{"yahoo.co.jo", "yahoo.co.jp"},
		{"hotmial.com", "hotmail.com"},
		{"gmail.co", "gmail.com"},
		{"au.con", "au.com"},
		{"yahoo.cojp", "yahoo.co.jp"},
		{"GMIAL.COM.", "gmail.com"},
		// Known domains are never corrected.
		{"gmail.com", ""},
		{"ymail.com", ""},
		{"mail.com", ""},
		{"i.softbank.jp", ""},
		{"email.com", ""},
		// Real names under valid suffixes that are not a slip on a known one.
		{"example.co.jp", ""},
		{"mail.randomsmallcompany.com", ""},
		{"gmx.fr", ""},   // short name, other country: gmx's own
		{"yahoo.ch", ""}, // same name, another country's code
		{"live.co", ""},  // four letters: too short to be sure
		{"gotmail.com", ""},
		{"emil.com", ""}, // next to email.com, which is known-only
		// A tie: co.uk and co.il are one slip away each.
		{"yahoo.co.ik", ""},
		// Not a domain.
		{"", ""},
		{"gmial", ""},
		{"gmial..com", ""},
		{"gm ial.com", ""},
	}
	for _, tt := range tests {
		sg, ok := s.Suggest(tt.in)
		if got := sg.Domain; got != tt.want || ok != (tt.want != "") {
			t.Errorf("Suggest(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
		if ok && (sg.Source != SourceList || sg.Address != "") {
			t.Errorf("Suggest(%q) = %+v; want source list and no address", tt.in, sg)
		}
	}
}

func TestSuggestAddress(t *testing.T) {
	s := mustNew(t)
	sg, ok := s.Suggest("  Taro.Yamada+news@gmial.com ")
	if !ok || sg.Address != "Taro.Yamada+news@gmail.com" || sg.Domain != "gmail.com" {
		t.Fatalf("Suggest(address) = %+v, %v; want Taro.Yamada+news@gmail.com", sg, ok)
	}
	// The domain is what follows the last '@'.
	sg, ok = s.Suggest(`"a@b"@docomo.ne.jo`)
	if !ok || sg.Address != `"a@b"@docomo.ne.jp` {
		t.Fatalf("Suggest(quoted local part) = %+v, %v; want \"a@b\"@docomo.ne.jp", sg, ok)
	}
	for _, in := range []string{"taro@", "taro@gmail.com", "@", "taro@localhost"} {
		if sg, ok := s.Suggest(in); ok {
			t.Errorf("Suggest(%q) = %+v; want none", in, sg)
		}
	}
}

func TestLearn(t *testing.T) {
	s := mustNew(t)
	if _, ok := s.Suggest("hanako@exmaple-corp.co.jp"); ok {
		t.Fatal("Suggest(unknown company domain) before Learn made a suggestion")
	}
	if err := s.Learn([]Pair{{Typo: "Exmaple-Corp.co.jp", Intended: "example-corp.co.jp"}}); err != nil {
		t.Fatalf("Learn() = %v", err)
	}
	sg, ok := s.Suggest("hanako@exmaple-corp.co.jp")
	if !ok || sg.Address != "hanako@example-corp.co.jp" || sg.Source != SourceLearned {
		t.Fatalf("Suggest(learned typo) = %+v, %v; want hanako@example-corp.co.jp from learned", sg, ok)
	}
	// A learned pair wins over the list for its typo domain.
	if err := s.Learn([]Pair{{Typo: "gmial.com", Intended: "gmail.co.jp"}}); err != nil {
		t.Fatalf("Learn() = %v", err)
	}
	if sg, _ := s.Suggest("gmial.com"); sg.Domain != "gmail.co.jp" || sg.Source != SourceLearned {
		t.Errorf("Suggest(gmial.com) after Learn = %+v; want gmail.co.jp from learned", sg)
	}

	bad := []struct {
		name  string
		pairs []Pair
		isErr error
	}{
		{"a known domain as the typo", []Pair{{"docomo.ne.jp", "docomo.co.jp"}}, ErrKnownDomain},
		{"the same domain", []Pair{{"a-corp.jp", "A-Corp.jp"}}, nil},
		{"not a domain", []Pair{{"a corp", "a-corp.jp"}}, nil},
	}
	for _, b := range bad {
		// A valid pair beside the bad one is not added either.
		pairs := append([]Pair{{"ezwbe.ne.jp", "ezweb.ne.jp"}}, b.pairs...)
		err := s.Learn(pairs)
		if err == nil || b.isErr != nil && !errors.Is(err, b.isErr) {
			t.Errorf("Learn(%s) = %v; want an error (%v)", b.name, err, b.isErr)
		}
		if sg, ok := s.Suggest("ezwbe.ne.jp"); ok && sg.Source == SourceLearned {
			t.Errorf("Learn(%s) failed but added its valid pair", b.name)
		}
	}
	if _, ok := s.Suggest("docomo.ne.jp"); ok {
		t.Error("Suggest(docomo.ne.jp) suggested after a refused Learn")
	}
}

// TestLearnWhileSuggesting runs lookups while pairs are learned; -race
// checks the two are safe together, and every pair is visible once Learn
// has returned.
func TestLearnWhileSuggesting(t *testing.T) {
	s := mustNew(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					s.Suggest("taro@gmial.com")
					s.Suggest("taro@typo-0.example.jp")
				}
			}
		})
	}
	for i := range 200 {
		typo := "typo-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".example.jp"
		if err := s.Learn([]Pair{{typo, "intended.example.jp"}}); err != nil {
			t.Fatalf("Learn(%s) = %v", typo, err)
		}
		if sg, ok := s.Suggest(typo); !ok || sg.Domain != "intended.example.jp" {
			t.Fatalf("Suggest(%s) right after Learn = %+v, %v; want intended.example.jp", typo, sg, ok)
		}
	}
	close(stop)
	wg.Wait()
}

func TestNewWithDomainsRejects(t *testing.T) {
	for _, tt := range []struct {
		name             string
		domains, knownOn []string
	}{
		{"upper case", []string{"Gmail.com"}, nil},
		{"twice", []string{"gmail.com", "gmail.com"}, nil},
		{"a bare suffix", []string{"co.jp"}, nil},
		{"not ICANN", []string{"example.invalidtld"}, nil},
		{"known-only twice", nil, []string{"email.com", "email.com"}},
		{"known-only and suggested", []string{"email.com"}, []string{"email.com"}},
	} {
		if _, err := NewWithDomains(tt.domains, tt.knownOn); err == nil {
			t.Errorf("NewWithDomains(%s) = nil error; want one", tt.name)
		}
	}
}

// FuzzSuggest feeds Suggest what a sign-up form may send: it never
// panics, suggests only a known domain other than the typed one, and never
// suggests for a known domain or for its own suggestion.
func FuzzSuggest(f *testing.F) {
	for _, seed := range []string{"taro@gmial.com", "docomo.ne.jo", "yahoo.cojp", "a@b@c", "@", ".", "..com", "x.co.jp.", "\xff@\x00.com", "i.softbank.jo", "gmail.com"} {
		f.Add(seed)
	}
	s := mustNew(f)
	f.Fuzz(func(t *testing.T, in string) {
		sg, ok := s.Suggest(in)
		_, domain, _ := splitAddress(in)
		typed, valid := normalise(domain)
		if valid && s.Known(typed) && ok {
			t.Fatalf("Suggest(%q) = %+v for a known domain", in, sg)
		}
		if !ok {
			return
		}
		if !s.Known(sg.Domain) || sg.Domain == typed {
			t.Fatalf("Suggest(%q) = %+v: not a known domain, or the one typed", in, sg)
		}
		if again, ok := s.Suggest(sg.Domain); ok {
			t.Fatalf("Suggest(%q) = %+v, and Suggest(%q) = %+v: a suggestion was corrected", in, sg, sg.Domain, again)
		}
	})
}
