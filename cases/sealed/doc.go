// Package sealed seals and opens the tokens that tie a "not me" report to
// the account mail it is about, without a database: the token in the link
// and in the minted Message-ID carries the account, the kind of mail and
// hashes of its recipient and Message-ID, and only the desk's keys open it.
//
// It holds the Sealer (Seal, SealDeterministic, Open) and its rotating
// keys, the Claims a token carries, the keyed hashes of a recipient and a
// Message-ID, a cheap syntax check for scanning text (LooksLikeToken), and
// the values derived from the newest key: a submission's status token and
// a client's stored key. The wire format is described at the top of
// token.go; FuzzOpen and FuzzSealOpen hold Open to it.
//
// It imports nothing of this module and keeps no state beyond its keys.
package sealed
