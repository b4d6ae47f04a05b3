// Package ot is the oblivious-transfer layer of qmpc's two-party offline phases (the
// semi2k protocol, issue 13, and the malicious spdz2k, issue 14): it turns a few public-key
// base OTs into millions of OTs and those into the correlations a two-party protocol over
// Z_2^64 or Z_2^128 (or GF(2), TinyOT) consumes, without any trusted dealer, semi-honestly
// or, on a malicious session, with the OT extension secure against an active peer.
//
// # Layers
//
//   - Base OT (baseot.go): kappa = 128 random OTs per direction, the "simplest OT" of Chou
//     and Orlandi (LATINCRYPT 2015) over the Ristretto255 group of cloudflare/circl.
//   - OT extension (softspoken.go): SoftSpoken OT (Roy, CRYPTO 2022), semi-honest variant,
//     parameter k (DefaultK = 4): the receiver sends 128/k bits per OT. k = 1 is IKNP
//     (Ishai, Kilian, Nissim, Petrank, CRYPTO 2003) with the semi-honest optimisations of
//     ALSZ (Asharov, Lindell, Schneider, Zohner, CCS 2013): base OTs on PRG seeds, random OT
//     without a sender message, correlated OT with one correction word per OT. k = 4 costs
//     about 15 % more CPU time than k = 1 and a quarter of the bytes (docs/design-notes.md).
//     For k = 4 on processors with AES-NI, the 2^k AES-CTR streams of each k-bit block of
//     the secret are generated and summed in registers by ctrsum_amd64.s (AESENC rounds;
//     with VAES, two streams per instruction, and the parties' corrections applied before
//     the stores), so the expanded streams never reach memory;
//     other k and processors take package prg's streams and a summing tree, with the same
//     values. The 128 x n bit matrix is transposed with a 64x64 block transpose (transpose.go; with
//     AVX2, four blocks at once in transpose_amd64.s); the
//     correlation-robust hash is the tweakable fixed-key-AES construction (TMMO) of Guo,
//     Katz, Wang, Yu (S&P 2020) (hash.go).
//   - Malicious extension (kos.go): the KOS consistency check on the SoftSpoken rows,
//     per session (NewSessionMalicious).
//   - Outputs: random OT (SendRandomOT/RecvRandomOT); correlated OT over Z_2^bits with
//     vector correlations (SendCOT/RecvCOT, or a width per OT: SendCOTWidths/RecvCOTWidths;
//     cot.go); the one-sided Gilboa matrix product (ProductW/ProductX) and batched vector
//     OLE (VOLEW/VOLEX) (gilboa.go); AND triples and Beaver triples over Z_2^64
//     (triples.go); the raw Delta-correlated OT M = K xor b*Delta for TinyOT's
//     authenticated bits (Delta, SendDeltaCOT/RecvDeltaCOT, and their Into variants that
//     write into a caller's reused rows; deltacot.go, used by package tinyot); correlated OT, the one-sided Gilboa product (several X matrices on the same
//     OTs) and vector OLE over Z_2^128, for spdz2k (SendCOT128/RecvCOT128,
//     ProductW128/ProductX128, VOLEW128/VOLEX128; gilboa128.go). cost.go gives the exact
//     bytes of each.
//
// # Sessions and roles
//
// A Session is one party's end of two OT extensions with one peer: in one it is the OT
// sender, in the other the OT receiver, so either party can play either role at any time.
// Both parties create their Session with NewSession (it runs the base OTs and the
// SoftSpoken setup of both directions in three rounds, about 8 KB each way) and then call
// matching operations in the same order: SendRandomOT on one side with RecvRandomOT on the
// other, SendCOT with RecvCOT, SendCOTWidths with RecvCOTWidths, ProductW (the party holding
// the plaintext matrix W, the OT receiver) with ProductX (the party holding X, the OT
// sender), VOLEW with VOLEX (and likewise the 128-bit SendCOT128/RecvCOT128,
// ProductW128/ProductX128, VOLEW128/VOLEX128, and SendDeltaCOT/RecvDeltaCOT); ANDTriples
// and BeaverTriples are symmetric (both parties call the same method). A Session is not safe for concurrent use, and the two parties' calls
// must pair up one to one (the extensions' PRG streams and hash tweaks advance with every
// call). Each operation costs one round trip or less (see each method).
//
// Randomness: NewSession draws the base-OT scalars and a 16-byte local PRG key from the
// io.Reader it is given (crypto/rand.Reader in production, a seeded reader in tests); all
// later local randomness (random choice bits, triple shares) comes from that PRG.
//
// # The one-sided matrix triple (for semi2k's linear layers)
//
// When the model owner A holds a weight matrix W [m,k] in the clear and the client's side of a
// linear layer is a shared matrix X = X0 + X1 [k,n], the product W*X needs no generic Beaver
// triple per multiply-accumulate. Offline, B draws a random R [k,n] (from a PRG seed) and
// the two run ProductW(W) / ProductX(R): A gets U, B gets V with U + V = W*R (mod 2^64).
// Online, B sends D = X1 - R (k*n words; A now knows X = X0 + D + R in masked form only), A
// computes W*(X0 + D) + U and B keeps V: shares of W*X0 + W*D + W*R = W*(X0+X1) = W*X.
// Online cost: k*n words one way, no round trip; offline cost: m*k*bits OTs, each with an
// n-word correction at width 64-j for weight bit j. (The product of W with A's own share X0
// is local.)
//
// # Threat model and parameters
//
// Two parties, computational security parameter kappa = 128 (128 base OTs, AES-128,
// Ristretto255 at about 126-bit security).
//
// NewSession/NewSessionK: semi-honest (passive) corruption of either party; no statistical
// parameter (no consistency check). This is what semi2k uses; its speed and bytes are
// unchanged by the malicious option.
//
// NewSessionMalicious: the OT extension is secure against a malicious party in either role
// (kos.go): every extension of either direction carries the consistency check of Keller,
// Orsini and Scholl (CRYPTO 2015, the corrected proof of ePrint 2015/546) on the SoftSpoken
// rows (k = 1: KOS itself; k > 1: Roy's malicious SoftSpokenOT, the same check over the
// subspace VOLE), with KOSExtra = kappa + 64 extra OTs and a Fiat-Shamir challenge
// (SHA-256 of the receiver's message) evaluated as a GHASH polynomial hash. A failed check
// is an errs.Cheating error naming the check, raised before any output of that extension.
// Statistical security: a receiver that learns m bits of the sender's secret passes with
// probability at most 2^-m, plus the hash term (N+1)/2^128 per challenge tried (q tries:
// below 2^-40 for q < 2^64, N < 2^23); we claim 40 bits. Why KOS-on-SoftSpoken and not
// the alternatives: docs/design-notes.md. Malicious security covers the extension (random
// OT, correlated OT, Delta-COT, the products' OTs): a malicious OT sender can still choose
// its correlation freely, which the COT functionality allows; the triples of triples.go and
// the Gilboa products get no sacrifice or MAC here (their malicious use needs the
// protocol above, e.g. spdz2k's MAC check).
package ot
