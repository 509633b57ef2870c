package auth

import "testing"

// TestMatchStepLatest: when two steps in the window share a code (one time
// in a million), the later is the match: the earlier may be spent already,
// and the store refuses a step not after the last one.
func TestMatchStepLatest(t *testing.T) {
	// Found by search: steps 59141676 and 59141677 of this secret both
	// show 212317.
	const secret, code = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "212317"
	for _, current := range []int64{59141676, 59141677} {
		step, ok, err := matchStep(secret, code, current)
		if err != nil || !ok || step != 59141677 {
			t.Fatalf("matchStep at %d = %d, %v, %v; want 59141677", current, step, ok, err)
		}
	}
	if _, ok, _ := matchStep(secret, code, 59141679); ok {
		t.Fatal("matched two steps away")
	}
}
