// Package tlsnet carries qmpc's protocol messages between parties on separate hosts: framed
// messages over TCP with mutually authenticated TLS 1.3. Mesh implements net.Conn, so every
// protocol runs unchanged over it and over the in-memory pipes of package net.
//
// Transport: TLS 1.3 only (crypto/tls), certificates on both sides. Certificates are
// self-signed and trusted by pin: a peer is accepted only if the SHA-256 of its
// certificate's SubjectPublicKeyInfo is the pin the configuration gives for that peer id
// (Pin). TLS 1.3 proves that the peer holds the certificate's private key.
//
// Threat model: the network is controlled by an attacker who can read, drop, delay, replay
// and inject bytes; TLS gives confidentiality and integrity of each connection, and pinning
// gives authentication of both ends. A connection that fails (closed, silent for longer
// than Options.Timeout, malformed) is final: the caller (package cluster) ends the
// computation and reconnects. Denial of service by a peer is out of scope beyond bounded
// waits and sizes.
//
// Messages on a connection (each a frame; see frame.go for the header):
//   - hello (first frame each way): JSON Hello with the sender's id and the settings both
//     sides must agree on (protocol, model digest, parties...); a mismatch closes the
//     connection with a message naming the settings that differ;
//   - data / data-continued: one protocol message, split into frames of at most
//     Options.MaxFrame bytes;
//   - ping: empty, sent by an idle side every Options.PingInterval so that a silent peer is
//     detected within Options.Timeout;
//   - close: the reason the sender closes the connection.
//
// Every frame carries a sequence number per direction and connection; a gap, repeat or
// reordering is an error (TLS already prevents them; the check makes a bug or a broken
// peer fail loudly instead of corrupting a computation).
package tlsnet
