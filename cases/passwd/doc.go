// Package passwd hashes and checks staff passwords (argon2id in the PHC
// string format, with a bound on how many hashes run at once) and
// generates passwords without look-alike characters. It is named passwd,
// not password, so that callers keep their password variables.
//
// It imports nothing of this module and touches no database.
package passwd
