// Package ident makes the desk's identifiers and secrets: case references
// people read out and type (Crockford's base 32, normalised on the way
// in), random tokens for sessions, status pages, invitations and claims,
// API key parts, and the stored hash of a high-entropy secret.
//
// It imports nothing of this module and touches no database.
package ident
