// Package mask hides email addresses the way the console shows them by
// default ("t***@example.com"): one address (Address), or every address
// in free text such as an SMTP error (Text, TextExcept). Knowing which
// fields of a case hold addresses, and which ones a person revealed, is
// the business of cases.
//
// It imports nothing of this module and touches no database.
package mask
