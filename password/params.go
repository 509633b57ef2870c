package password

import "fmt"

// Params are the argon2id cost parameters and output sizes.
type Params struct {
	Memory  uint32 // memory cost in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // degree of parallelism (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams is the OWASP minimum for argon2id: 19 MiB of memory, two
// passes, one lane, a 16-byte salt and a 32-byte key. On our hardware one hash
// takes about 47 ms and 19 MiB.
var DefaultParams = Params{
	Memory:  19 * 1024,
	Time:    2,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// Bounds on parameters, enforced both in New and on every stored hash that is
// parsed, so that a tampered database row cannot make one sign-in allocate
// gigabytes or run for minutes. MaxMemory covers OWASP's largest argon2id
// option (46 MiB) and RFC 9106's memory-constrained one (64 MiB); raising
// the defaults beyond these bounds means raising the bounds first.
//
// The memory floor is the one argon2 itself sets: 8 KiB per lane.
const (
	MaxMemory  = 64 * 1024 // KiB
	MaxTime    = 16
	MaxThreads = 16
	MinSaltLen = 8 // RFC 9106's minimum
	MaxSaltLen = 64
	MinKeyLen  = 16
	MaxKeyLen  = 64
)

// validate reports the first parameter outside the bounds above.
func (p Params) validate() error {
	switch {
	case p.Threads < 1 || p.Threads > MaxThreads:
		return fmt.Errorf("threads %d outside [1, %d]", p.Threads, MaxThreads)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > MaxMemory:
		return fmt.Errorf("memory %d KiB outside [8*threads, %d]", p.Memory, MaxMemory)
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("time %d outside [1, %d]", p.Time, MaxTime)
	case p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen:
		return fmt.Errorf("salt length %d outside [%d, %d]", p.SaltLen, MinSaltLen, MaxSaltLen)
	case p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen:
		return fmt.Errorf("key length %d outside [%d, %d]", p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	return nil
}
