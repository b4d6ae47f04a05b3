package ot

// Traffic of each operation, for cost estimates before running (qmpc.estimate). The
// numbers are exact payload bytes (the tests compare them with the connection counters);
// k is the SoftSpoken parameter of the sessions (DefaultK unless NewSessionK was used).

// SetupBytes is what each party sends in NewSessionK: A, 128 points B_i, 128 GGM level-sum
// pairs and k (three messages).
const SetupBytes = elemSize + Kappa*elemSize + 32*Kappa + 1

// ExtensionBytes is the size of the OT receiver's message for n OTs with chosen (random =
// false) or random choices.
func ExtensionBytes(n, k int, random bool) int64 {
	if n == 0 {
		return 0
	}
	return int64(msgLen(k, n, random))
}

// MaliciousExtensionBytes is ExtensionBytes on a malicious session (NewSessionMalicious):
// the extension of n + KOSExtra rows (n rounded up to a multiple of 64) and the 32-byte
// check. The other *Bytes functions give semi-honest sessions' traffic; on a malicious
// session each extension (one per call or batch) sends
// MaliciousExtensionBytes - ExtensionBytes more, and nothing else changes.
func MaliciousExtensionBytes(n, k int, random bool) int64 {
	if n == 0 {
		return 0
	}
	return int64(msgLen(k, kosRows(n), random) + kosCheckBytes)
}

// corrBytes is the size of the packed corrections of a correlated-OT layout.
func corrBytes(L cotLayout) int64 {
	_, sizes := L.chunks()
	var t int64
	for _, s := range sizes {
		t += int64(s)
	}
	return t
}

// COTBytes returns the bytes sent by the receiver (its extension message) and by the sender
// (the corrections) in SendCOT/RecvCOT of n OTs of l words at width bits.
func COTBytes(n, l, bits, k int) (receiver, sender int64) {
	if n == 0 {
		return 0, 0
	}
	return ExtensionBytes(n, k, false), corrBytes(cotLayout{n: n, l: l, width: func(int) int { return bits }})
}

// ProductBytes returns the bytes sent by the W side (ProductW, the OT receiver) and by the X
// side (ProductX) for W [m,k] of bits-bit entries times X [k,n]; kk is the SoftSpoken
// parameter.
func ProductBytes(m, k, n, bits, kk int) (wSide, xSide int64) {
	return defaultBatching.productBytes(m, k, n, bits, kk)
}

func (bt batching) productBytes(m, k, n, bits, kk int) (wSide, xSide int64) {
	if m*k*bits == 0 || n == 0 {
		return 0, 0
	}
	rows := bt.items(k * bits)
	for i0 := 0; i0 < m; i0 += rows {
		mb := min(m, i0+rows) - i0
		wSide += ExtensionBytes(mb*k*bits, kk, false)
		xSide += corrBytes(productLayout(mb, k, n, bits))
	}
	return wSide, xSide
}

// ANDTriplesBytes is what each party sends for n AND triples.
func ANDTriplesBytes(n, k int) int64 { return defaultBatching.andBytes(n, k) }

func (bt batching) andBytes(n, k int) int64 {
	var t int64
	for off := 0; off < n; off += bt.and {
		t += ExtensionBytes(min(bt.and, n-off), k, true)
	}
	return t
}

// BeaverTriplesBytes is what each party sends for n Beaver triples over Z_2^64.
func BeaverTriplesBytes(n, k int) int64 { return defaultBatching.beaverBytes(n, k) }

func (bt batching) beaverBytes(n, k int) int64 {
	var t int64
	for off := 0; off < n; off += bt.beaver {
		b := min(bt.beaver, n-off)
		t += ExtensionBytes(64*b, k, false) + corrBytes(beaverLayout(b))
	}
	return t
}

// VOLEBytes returns the bytes sent by the W side (VOLEW) and the X side (VOLEX) for n
// scalars of bits bits times vectors of l words.
func VOLEBytes(n, l, bits, k int) (wSide, xSide int64) {
	return defaultBatching.voleBytes(n, l, bits, k)
}

func (bt batching) voleBytes(n, l, bits, k int) (wSide, xSide int64) {
	nb := bt.items(bits)
	for r0 := 0; r0 < n; r0 += nb {
		w, x := bt.productBytes(min(n, r0+nb)-r0, 1, l, bits, k)
		wSide, xSide = wSide+w, xSide+x
	}
	return wSide, xSide
}

// COTWidthsBytes is COTBytes for per-OT widths.
func COTWidthsBytes(l int, widths []uint8, k int) (receiver, sender int64) {
	if len(widths) == 0 {
		return 0, 0
	}
	return ExtensionBytes(len(widths), k, false),
		corrBytes(cotLayout{n: len(widths), l: l, width: func(o int) int { return int(widths[o]) }})
}

// COT128Bytes returns the bytes sent by the receiver and by the sender in
// SendCOT128/RecvCOT128 of n OTs of l elements at width w (semi-honest session; on a
// malicious one the receiver's part is MaliciousExtensionBytes).
func COT128Bytes(n, l, w, k int) (receiver, sender int64) {
	if n == 0 {
		return 0, 0
	}
	return ExtensionBytes(n, k, false), corrBytes(cotLayout{n: n, l: l, width: func(int) int { return w }})
}

// Product128Bytes returns the bytes sent by the W side (ProductW128, the OT receiver) and
// the X side (ProductX128) for W [m,k] of bits-bit entries times nx matrices [k,n] over
// Z_2^128; kk is the SoftSpoken parameter, malicious whether the session is malicious.
func Product128Bytes(m, k, n, bits, nx, kk int, malicious bool) (wSide, xSide int64) {
	return defaultBatching.product128Bytes(m, k, n, bits, nx, kk, malicious)
}

func (bt batching) product128Bytes(m, k, n, bits, nx, kk int, malicious bool) (wSide, xSide int64) {
	if m*k*bits == 0 || n == 0 {
		return 0, 0
	}
	rows := bt.items(k * bits)
	for i0 := 0; i0 < m; i0 += rows {
		mb := min(m, i0+rows) - i0
		if malicious {
			wSide += MaliciousExtensionBytes(mb*k*bits, kk, false)
		} else {
			wSide += ExtensionBytes(mb*k*bits, kk, false)
		}
		xSide += corrBytes(product128Layout(mb, k, n, bits, nx))
	}
	return wSide, xSide
}

// VOLE128Bytes returns the bytes sent by the W side (VOLEW128) and the X side (VOLEX128) for
// n scalars used at nbits bits times vectors of l elements over Z_2^128.
func VOLE128Bytes(n, l, nbits, k int, malicious bool) (wSide, xSide int64) {
	return defaultBatching.vole128Bytes(n, l, nbits, k, malicious)
}

func (bt batching) vole128Bytes(n, l, nbits, k int, malicious bool) (wSide, xSide int64) {
	nb := bt.items(nbits)
	for r0 := 0; r0 < n; r0 += nb {
		N := (min(n, r0+nb) - r0) * nbits
		if malicious {
			wSide += MaliciousExtensionBytes(N, k, false)
		} else {
			wSide += ExtensionBytes(N, k, false)
		}
		xSide += corrBytes(vole128Layout(min(n, r0+nb)-r0, l, nbits))
	}
	return wSide, xSide
}
