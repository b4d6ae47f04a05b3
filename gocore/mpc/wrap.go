package mpc

// Wrapper is implemented by protocol wrappers (a recorder, a checker, a counter, a test's
// fault injector) that embed another protocol and override some of its methods. Unwrap
// returns the wrapped protocol, so that the optional extensions the wrapper does not
// override (HighA2B, PublicMasker, GatherMulSummer, Verifier, Preprocessor, ...) are
// still found (Ext) instead of being silently lost.
type Wrapper interface {
	Unwrap() Protocol
}

// Ext returns p's implementation of the optional extension T: p itself if it implements
// T, else the first protocol down p's Unwrap chain that does. A wrapper that must see
// the calls of an extension implements it itself.
func Ext[T any](p Protocol) (T, bool) {
	for p != nil {
		if t, ok := p.(T); ok {
			return t, true
		}
		w, ok := p.(Wrapper)
		if !ok {
			break
		}
		p = w.Unwrap()
	}
	var zero T
	return zero, false
}
