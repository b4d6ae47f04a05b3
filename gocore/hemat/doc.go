// Package hemat computes two-party products of additively shared matrices over Z_2^128
// with homomorphic encryption: the cross terms of a matrix triple C = (A0 + A1)(B0 + B1)
// for SPDZ2k's offline phase (k = s = 64), the building block that replaces the OT-based
// Π_Triple for linear layers (issue 14). spdz2k's default offline phase uses it for the
// linear layers' triples (mpc/spdz2k/hesource.go).
//
// # Scheme
//
// BFV-style RLWE encryption (Brakerski 2012; Fan, Vercauteren 2012) with plaintext
// modulus T = 2^128 in coefficient encoding: no SIMD slots, so a power-of-two T is fine.
// Ring R_Q = Z_Q[Z]/(Z^N + 1), N = 2^14, Q the product of three NTT primes just below
// 2^50 and six just below 2^48 (log2 Q = 437.99 <= 438, the HomomorphicEncryption.org
// standard's bound for 128-bit classical security at N = 2^14 with a ternary secret and
// sigma = 3.2; no key switching, so there is no special modulus P and QP = Q). Secret s
// ternary (probability 1/3 each of -1 and 1), errors a discrete Gaussian of sigma 3.2
// truncated to [-19, 19]. Lattigo v5's ring package (Tune Insight / EPFL, Apache-2.0)
// supplies the RNS arithmetic, NTTs, samplers, primes and the modulus switching
// (DivRoundByLastModulus); this package adds the encoding for T = 2^128, the layouts,
// the proofs, flooding and the wire format.
//
// Encoding: a plaintext polynomial m with coefficients in [0, 2^128) is encrypted under
// the public key (b, a) = (-a s + e, a) as c0 = b u + e0 + round(Q m / T), c1 = a u + e1
// (u ternary, e0, e1 errors). Rounding Q m / T instead of the textbook floor(Q/T) m is
// what makes N = 2^14 possible: for a plaintext-ciphertext product m w (w centered, |w|
// <= 2^127) the textbook encoding leaves an error (Q mod T) floor(m w / T), up to 2^128 *
// K * 2^126 for K accumulated terms (measured: 2^262 at the worst-case inputs with that
// encoding), while round(Q m / T) w = (Q/T)(m w mod T) + Q k + eps w with |eps| <= 1/2
// leaves only eps w (the idea of the modified BFV encryption in Kim, Polyakov, Zucca,
// ASIACRYPT 2021). For the proofs the encoding is written linearly: round(Q m / T) = T^-1
// delta mod Q with delta = T round(Q m / T) - Q m, an integer in [-T/2, T/2] (zk.go).
//
// # Protocol (one direction; the triple runs both)
//
// Party i holds its share X_i of the encrypted factor (A_i, or B_i for a transposed
// plan), party j its share W_j of the other. Setup: each party sends a public key (b =
// -a s + e, a from a 16-byte seed) with its proof (below): 15.8 MB once per session;
// the receiver verifies it (UnmarshalPublicKey). Then, per linear layer (plan):
//
//  1. i -> j, the upload: per polynomial X_u of the layout a public-key encryption under
//     i's own key, (c0, c1) = (b u + e0 + round(Q X_u / T), a u + e1) in NTT form,
//     bit-packed (48-50 bits per residue): 1.79 MB per polynomial; and per group of at
//     most 32 polynomials a proof that they are well-formed (zk.go; 5.6 MB for one
//     ciphertext, 6.0 MB for 8, 6.3 MB for 32). j verifies the proofs (ReadUpload) and refuses
//     the upload with an errs.Cheating error otherwise.
//  2. j computes, per response polynomial, sum_u (c0_u, c1_u) W_w (plaintext W_w with
//     centered coefficients, NTT products), adds an encryption of zero under i's public
//     key (b u, a u + e1; u ternary; c0's own error is the flooding), adds to each
//     wanted coefficient of c0 a flooding term uniform in [-2^305, 2^305) and subtracts
//     round(Q R / T) + rho round(Q / 2T) for a uniform mask R in Z_2^128 and a uniform
//     bit rho (the mask R' = 2R + rho is uniform modulo 2T: the proofs only pin the
//     plaintext modulo 2T, zk.go), switches the modulus down to Q' (the first three
//     primes, log2 Q' = 150) and sends c1 (N coefficients) and only the wanted
//     coefficients of c0 (unwanted ones are never decrypted).
//  3. i decrypts the wanted coefficients: floor(T (c0 + c1 s mod Q') / Q' + 3/4) =
//     ceil((2 (f(X_i, W_j) - R) - rho) / 2) = f(X_i, W_j) - R mod 2^128. Party j's share
//     is R.
//
// With both directions, party 0 holds f(A0, B0) + [f(A0, B1) - R1] + R0 and party 1 the
// rest, which sum to f(A, B). SPDZ2k's sacrificed triple (a second triple sharing one
// factor) reuses the upload: one upload and two responses per party.
//
// # Proofs of plaintext knowledge (zk.go)
//
// Relation (TopGear's statement, Baum, Cozzo, Smart, SAC 2019, for BFV public-key
// encryption): for each upload ciphertext, (c0, c1) = (b u + e0 + T^-1 sum_j 2^(32 j)
// delta_j, a u + e1) with ||u|| <= 1, ||e0||, ||e1|| <= 19 and four 32-bit limbs
// |delta_j| <= 2^32 of delta (so every witness and mask coefficient fits an int64);
// for the public key, b = -a s + e with ||s|| <= 1, ||e|| <= 19 (norms are the largest
// coefficient). Both are linear over R_Q, which round(Q m / T) is not: T^-1 delta is
// round(Q m / T) for delta = T round(Q m / T) - Q m, and ANY integer delta' encodes
// (Q/T) m' + delta'/T mod Q with m' = -Q^-1 delta' mod T, so a bounded delta' is a
// plaintext with noise delta'/T.
//
// Protocol: the amortized Sigma protocol of TopGear (HighGear of Keller, Orsini, Scholl,
// EUROCRYPT 2018, with the monomial challenges of Benhamouda, Camenisch, Krenn,
// Lyubashevsky, Neven, ASIACRYPT 2014) over the U <= 32 ciphertexts of a group: the
// prover draws V masks y_i, each component uniform in [-A_c, A_c], A_c = 2^kappa U B_c,
// computes d_i = F(y_i) (F the relation's linear map), the challenge W (V x U) from h =
// SHA-256(statement, d_1..d_V) (Fiat-Shamir; the statement digest binds the encryptor's
// key, the plan, the group and the ciphertexts), and z_i = y_i + sum_k W_ik x_k; it
// restarts with fresh masks unless every |z| <= Bz_c = A_c - U B_c (rejection sampling,
// Lyubashevsky, ASIACRYPT 2009). The proof is (h, z): the verifier checks the bounds,
// recomputes d_i = F(z_i) - sum_k W_ik c_k and compares its hash with h. Uploads: V = 9,
// challenges from C = {0} u {+-Z^j : j < N} (2N + 1 = 32,769 values), kappa = 23;
// public keys: V = 128, challenges in {0, 1}, kappa = 25.
//
//   - Soundness. Uploads: V log2(2N + 1) = 135 >= 128 + 2, TopGear's condition for
//     soundness error 2^-128; keys: 128 binary challenges, 2^-128. Fiat-Shamir in the
//     random-oracle model: a cheating prover making 2^t hash queries succeeds with
//     probability about 2^(t-128) (hence V = 9, not the 3 an interactive 40-bit proof
//     would need). Extraction (special soundness per row): two accepting z, z' whose
//     challenges differ in entry W_ik give (W_ik - W'_ik) c_k = F(z_i - z'_i); for
//     monomials 2 / (W_ik - W'_ik) has coefficients in {0, +-1} (Benhamouda et al.), so
//     2 c_k = F(x'_k) with ||x'_k|| <= N 2 Bz: the slack is 2N 2^kappa U = 2^43 for U =
//     32, and the factor 2 on c_k. Keys: challenges differ by +-1, so b = F(x') exactly
//     with ||x'|| <= 2 Bz (slack 2^26).
//   - Proven bounds (provenBounds, Params.Bound): P_u < 2^43, P_e < 19 2^43, |delta'| <
//     2^171; P_s < 2^26, P_epk < 19 2^26 (2N Bz and 2 Bz at U = 32).
//   - The factor 2 and T = 2^128. 2 c = F(x') does not make c a ciphertext modulo T:
//     c0 + c1 s' = (Q/2T)(m' + T j) + nu'/2 (j in {0, 1} per coefficient, nu' the
//     noise of 2c), a BFV encryption with plaintext modulus 2T. A "half" ciphertext
//     (Q+1)/2 Enc(odd) does pass a proof with monomial challenges, so this is not only
//     a proof artifact. hemat therefore decrypts in plaintext space 2T: the responder's
//     mask R' = 2R + rho is uniform modulo 2T, the decryptor sees f - R' mod 2T, uniform
//     whatever m' is, and recovers f - R as ceil(D / 2) (decode). The noise must stay
//     below Q/4T instead of Q/2T.
//   - Zero knowledge (honest-verifier, statistical, then Fiat-Shamir): conditioned on
//     acceptance each z is uniform in [-Bz_c, Bz_c] whatever the witness (rejection
//     sampling with uniform masks is exact), and the restarts reveal nothing (the
//     acceptance probability, about 0.88, does not depend on the witness either). h
//     reveals d only through a hash; d is a function of z and the statement anyway.
//   - Costs (BENCHMARKS.md): per group of U ciphertexts 32 B + 9 N (w_u + 2 w_e + 4 w_delta)
//     bits, w the bits of 2 Bz: 5.6 MB for U = 1, 6.0 MB for U = 8 (0.75 MB per
//     ciphertext), 6.3 MB for 32 (0.2 MB per ciphertext); the key's 14.9 MB once per
//     session.
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
// At the PROVEN bounds, for any upload and key that passed their proofs: an upload
// ciphertext decrypts, under the key's extracted secret s', to (Q/2T) M + nu (M the plaintext modulo 2T) with |nu|
// <= (N P_epk P_u + P_e + N P_e P_s + P_delta / T) / 2 < 2^88 (Bound.Upload). The
// product's noise over at most MaxAccum = 2^20 accumulated plaintext coefficients of at
// most 2^127 is below 2^20 2^127 2^88 < 2^235 (ProductBits; plans above MaxAccum are
// refused), the re-randomization under the extracted key adds N P_epk + N 19 P_s + 1 <
// 2^46 (the 1: the mask's rounding), and the flooding 2^305 = 2^(235 + 56 + 14) shifts
// by a statistical distance of at most N 2^235 / 2^305 = 2^-56 per response polynomial
// (StatBits). A union over the response polynomials made under one public key (one key
// pair = one session of the offline phase) gives 2^-40 (KeyStatBits) for up to 2^16 of
// them (MaxResponses), and Respond enforces that: it counts the response polynomials
// under each parsed public key and refuses, with an errs.Config error, the response
// that would exceed 2^16 (a new session with new keys starts again). One MobileNetV1
// 0.25_128 inference makes 570 under each key (0.5_160: 1,350), so a key pair serves 114
// (48) inferences. Total < 2^305.01 < Q/(4T) = 2^307.99. The modulus switching to Q'
// (six steps) scales it to < 2^17 and adds at most (1 + ||s||_1)/2 per step, divided by
// the later primes: < N + 1 in all for an honest key, < 2^18 < Q'/(4T) = 2^20.
// Decryption is then exact. TestNoiseWorstCase measures, with honest keys and the
// worst-case inputs (all coefficients 2^128 - 1 and 2^127) and 1024 x 1023 accumulated
// coefficients, 2^147 without flooding, 2^305 with flooding at Q and 2^17 at Q';
// TestNoiseProvenBound, with a key and an upload at the proven bounds (every coefficient
// of s, e_pk, u, e0, e1 at its largest), 2^234 without flooding (bound 2^235) and an
// exact decryption at Q with it.
//
// # Threat model now: malicious encryptor and multiplier, for privacy
//
// Against a semi-honest peer: the upload is RLWE ciphertexts (IND-CPA) and proofs
// (zero knowledge); the response is, to the decryptor, an encryption of f(X_i, W_j) - R'
// mod 2T with fresh uniform R', a c1 re-randomized by a public-key encryption of zero,
// and noise within 2^-56 per response polynomial (2^-40 over the at most 2^16 under one
// key) of a distribution independent of W_j.
//
// Against a malicious encryptor: its public key and every upload must pass their
// proofs (UnmarshalPublicKey and ReadUpload return errs.Cheating otherwise), and the
// parameters are derived at the proven bounds, so the argument above holds for any
// accepted key and upload: with s' the key's extracted secret, the response's c1 is
// pseudorandom (RLWE, fresh u), c0 + c1 s' is (Q/2T) times a uniform value modulo 2T plus
// noise within 2^-56 of the flooding. TestProofAttack shows what the proofs stop: a
// ciphertext with an extra 2^179 in c0 lets the decryptor read 87.5 % of the signs of
// W's coefficients from the decrypted noise when the proof is skipped; ReadUpload
// refuses it. What a malicious encryptor can still do: choose any plaintext modulo 2T
// (the factor 2 of the slack), so the shares it gets sum to f(X, W) plus an error that
// depends on W (ceil((delta W - rho) / 2) for an odd plaintext part delta): SPDZ2k's
// sacrifice catches a wrong triple. Whether it aborts could depend on W if W were known
// in part; where W is uniform from the encryptor's view (spdz2k's triples, whose W is the
// honest party's fresh random share), the error is nonzero mod 2^64 except with
// probability 2^-63 wherever delta reaches a wanted coefficient, so the abort is fixed by
// the encryptor's own choice of delta up to 2^-62 and reveals nothing about W
// (spdz2k/hesource.go). The session ends at the abort.
//
// A malicious multiplier can add any error to C (or use another W); SPDZ2k's sacrifice
// and MAC check catch a wrong C once A, B, C are authenticated (COPEe) from the shares
// the parties hold, as in the OT source. It learns nothing from the upload (IND-CPA and
// zero-knowledge proofs).
//
// # Missing
//
// Proofs amortized over more than one plan (a proof over a
// session's uploads would cost 0.2 MB per ciphertext instead of 5.6 MB for a
// one-ciphertext plan); an interactive variant of the proof (V = 3 rows for 40-bit
// statistical soundness instead of Fiat-Shamir's 9, a third of the proof bytes, one
// more round trip); a depthwise layout that wastes less (stride 2 computes the dropped
// positions; a polyphase split, counted on paper, did not pay: its phases cost as much
// packing room as they save).
package hemat
