package mask

import "testing"

func TestAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"taro@example.com", "t***@example.com"},
		{"Taro.Yamada+shop@example.co.jp", "T***@example.co.jp"},
		{"t@example.com", "***@example.com"}, // one letter: showing it would show all
		{"ab@example.com", "a***@example.com"},
		{"not-an-address", "***"},
		{"", ""},
		{"   ", ""},
		{" taro@example.com ", "t***@example.com"},
		{"@example.com", "***@example.com"},
		{"taro@", "t***@"},
		{"たろう@例え.jp", "た***@例え.jp"},
		{"た@例え.jp", "***@例え.jp"},
		{"josé@bücher.example", "j***@bücher.example"},
		{"émile@xn--bcher-kva.example", "é***@xn--bcher-kva.example"},
		{`"a@b"@example.com`, "***@example.com"}, // quoted local part: split at the last @
		{".x@example.com", "***@example.com"},
		{"\u202etaro@example.com", "***@example.com"}, // a bidi override is not shown
		{"\xff\xfe@example.com", "***@example.com"},   // not UTF-8
	} {
		if got := Address(tc.in); got != tc.want {
			t.Errorf("Address(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"550 5.1.1 <hanako@example.net>: user unknown", "550 5.1.1 <h***@example.net>: user unknown"},
		{"dial tcp: connection refused", "dial tcp: connection refused"},
		{"to a@x.jp and bob@example.org", "to ***@x.jp and b***@example.org"},
		{"宛先 たろう@例え.jp は存在しません", "宛先 た***@例え.jp は存在しません"},
	} {
		if got := Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTextExcept(t *testing.T) {
	keep := func(a string) bool { return a == "bob@example.org" }
	in := "to alice@example.com and bob@example.org"
	if got, want := TextExcept(in, keep), "to a***@example.com and bob@example.org"; got != want {
		t.Errorf("TextExcept(%q, keep bob) = %q, want %q", in, got, want)
	}
}
