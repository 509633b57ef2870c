package emailkey

import (
	"strings"
	"testing"
)

func BenchmarkOf(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii", "Ada.Lovelace@Example.com"},
		{"unicode", "Ʃtraße.ＣＡＦÉ@例子.广告"},
		{"1MiB", strings.Repeat("ＳAſ\u200b", 1<<18)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Of(bc.s)
			}
		})
	}
}
