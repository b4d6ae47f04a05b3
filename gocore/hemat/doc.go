// Package hemat computes two-party products of additively shared matrices over Z_2^128
// with homomorphic encryption: the cross terms of a matrix triple C = (A0 + A1)(B0 + B1)
// for SPDZ2k's offline phase (k = s = 64), the building block that replaces the OT-based
// Π_Triple for linear layers (issue 14). It is not wired into spdz2k yet (see "Missing").
//
// # Scheme
//
// BFV-style RLWE encryption (Brakerski 2012; Fan, Vercauteren 2012) with plaintext
// modulus T = 2^128 in coefficient encoding: no SIMD slots, so a power-of-two T is fine.
// Ring R_Q = Z_Q[Z]/(Z^N + 1), N = 2^14, Q the product of eight 49-bit NTT primes (log2 Q
// = 392 <= 438, the HomomorphicEncryption.org standard's bound for 128-bit classical
// security at N = 2^14 with a ternary secret and sigma = 3.2; no key switching, so there
// is no special modulus P and QP = Q). Secret s ternary (probability 1/3 each of -1 and
// 1), errors a discrete Gaussian of sigma 3.2 truncated to [-19, 19]. Lattigo v5's ring
// package (Tune Insight / EPFL, Apache-2.0) supplies the RNS arithmetic, NTTs, samplers,
// primes and the modulus switching (DivRoundByLastModulus); this package adds the
// encoding for T = 2^128, the layouts, flooding and the wire format.
//
// Encoding: a plaintext polynomial m with coefficients in [0, 2^128) is encrypted as c0 =
// -a s + e + round(Q m / T), c1 = a. Rounding Q m / T instead of the textbook floor(Q/T) m
// is what makes N = 2^14 possible: for a plaintext-ciphertext product m w (w centered,
// |w| <= 2^127) the textbook encoding leaves an error (Q mod T) floor(m w / T), up to
// 2^128 * K * 2^126 for K accumulated terms (measured: 2^262 at the worst-case inputs of
// TestNoiseWorstCase with that encoding), while round(Q m / T) w = (Q/T)(m w mod T) + Q k
// + eps w with |eps| <= 1/2 leaves only eps w (the idea of the modified BFV encryption in
// Kim, Polyakov, Zucca, ASIACRYPT 2021). The encoding is computed in RNS: round(Q m / T)
// = floor(Q/T) m + round((Q mod T) m / T), the second term from a 128 x 128-bit product.
//
// # Protocol (one direction; the triple runs both)
//
// Party i holds its share X_i of the encrypted factor (A_i, or B_i for a transposed
// plan), party j its share W_j of the other. Setup: each party sends a public key (b =
// -a' s + e, a' from a 16-byte seed). Then, per linear layer (plan):
//
//  1. i -> j, the upload: per polynomial X_u of the layout, a fresh seed for c1 = a and
//     c0 = -a s + e + round(Q X_u / T) in NTT form, bit-packed (49 bits per residue):
//     16 B + 803 KB per polynomial.
//  2. j computes, per response polynomial, sum_u (c0_u, c1_u) W_w (plaintext W_w with
//     centered coefficients, NTT products), adds an encryption of zero under i's public
//     key (b u, a' u + e1; u ternary; c0's own error is the flooding), adds to each
//     wanted coefficient of c0 a flooding term uniform in [-2^222, 2^222) and subtracts
//     round(Q R / T) for a uniform
//     mask R in Z_2^128, switches the modulus down to Q' (the first three primes, of
//     log2 Q' = 147) and sends c1 (N coefficients) and only the wanted coefficients of
//     c0 (unwanted ones are never decrypted).
//  3. i decrypts the wanted coefficients: round(T (c0 + c1 s mod Q') / Q') = f(X_i, W_j) -
//     R mod 2^128. Party j's share is R.
//
// With both directions, party 0 holds f(A0, B0) + [f(A0, B1) - R1] + R0 and party 1 the
// rest, which sum to f(A, B). SPDZ2k's sacrificed triple (a second triple sharing one
// factor) reuses the upload: one upload and two responses per party.
//
// Layouts (Huang, Lu, Hong, Ding, "Cheetah: Lean and Fast Secure Two-Party Deep Neural
// Network Inference", USENIX Security 2022, coefficient encoding of matrix products and
// convolutions): a matrix product [m,k]x[k,n] in blocks mw x kw x nw with mw kw nw + kw <=
// N + 1 (MatMulPlan; BestMatMul picks the blocks and the orientation with the fewest bytes
// per party), a depthwise convolution with one channel's padded image per product and cw
// channels per polynomial on a diagonal (DepthwisePlan), and a scalar times a vector
// (ScalarPlan: SPDZ-style MACs alpha_i x_j from an encrypted key share). No product
// reaches degree N, so no coefficient wraps.
//
// # Noise bound (Params.Bound, checked by NewParams and tested)
//
// Per wanted coefficient, as integers: the product's noise sum (e + eps) W is below (19 +
// 1/2) 2^127 MaxAccum + 1 < 2^152 for at most MaxAccum = 2^20 plaintext coefficients
// accumulated into one response polynomial (plans above it are refused); the
// re-randomization adds at most 2 N 19 + 19; the flooding 2^222 = 2^(152 + 56 + 14), so the
// product's noise shifts the flooded distribution by a statistical distance of at most N
// 2^152 / 2^222 = 2^-56 per response polynomial (StatBits). A union over the response
// polynomials made under one public key (one key pair = one session of the offline
// phase) gives 2^-40 (KeyStatBits) for up to 2^16 of them (MaxResponses), and Respond
// enforces that: it counts the response polynomials under each parsed public key and
// refuses, with an errs.Config error, the response that would exceed 2^16 (a new session
// with new keys starts again). One MobileNetV1 0.25_128 inference makes 570 under each
// key (0.5_160: 1,350), so a key pair serves 114 (48) inferences.
// Total < 2^222.01 < Q/(2T), about 2^263. The modulus switching to Q' (five steps)
// scales it to < 2^222.01 Q'/Q < 2^-22 and adds at most (1 + ||s||_1)/2 per step, divided
// by the later primes: < N + 1 in all, < 2^15 < Q'/(2T), about 2^18. Decryption is then
// exact. TestNoiseWorstCase measures, at the worst-case inputs (all coefficients 2^128 - 1
// and 2^127) and 1024 x 1023 accumulated coefficients, 2^139 without flooding (bound
// 2^152), 2^222 with flooding at Q (bound 2^223) and 2^7 at Q' (bound 2^15).
//
// # Threat model now: semi-honest products
//
// Against a semi-honest peer: the upload is RLWE ciphertexts (IND-CPA, with c1 from a
// seed, in the random-oracle / PRG sense); the response is, to the decryptor, an
// encryption of f(X_i, W_j) - R with fresh uniform R, a c1 re-randomized by a public-key
// encryption of zero, and noise within 2^-56 per response polynomial (2^-40 over the at
// most 2^16 under one key) of a distribution independent of W_j.
//
// Against a malicious peer it is NOT secure yet:
//   - A malicious encryptor can send an ill-formed ciphertext (a large error, or c0 not of
//     the claimed form) so that the product's noise exceeds the flooding and the
//     decrypted noise reveals W_j. This needs a zero-knowledge proof of plaintext
//     knowledge with bounded noise for every upload: TopGear (Baum, Cozzo, Smart, SAC
//     2019) or, for Z_2^k, Overdrive2k (Orsini, Smart, Vercauteren, CT-RSA 2020); or the
//     matrix-triple approach of Chen, Kim, Razenshteyn, Rotaru, Song, Wagh (ASIACRYPT
//     2020), which proves the encryptions once and derives matrix triples from them.
//   - A malicious multiplier can add any error to C (or use another W); SPDZ2k's
//     sacrifice and MAC check catch a wrong C once A, B, C are authenticated (COPEe) from
//     the shares the parties hold, as in the OT source.
//
// # Missing
//
// The zero-knowledge proofs above; the wiring as a spdz2k Source (a Triple for matMul and
// gatherMul: spdz2k's gatherMul carries index maps, not the convolution's geometry, so the
// source must get the Depthwise shape from the engine; it must parse the peer's public
// key once per session, since the response count lives on the parsed key, and start a
// new session with new key pairs when Respond refuses); a depthwise layout that wastes
// less (stride 2 computes the dropped positions; a polyphase split, counted on paper,
// did not pay: its phases cost as much packing room as they save).
package hemat
