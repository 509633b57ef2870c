package password

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// maxPHCLen bounds the stored string before any parsing. The longest valid
// string, with every field at its maximum, is well under this.
const maxPHCLen = 256

var b64 = base64.RawStdEncoding.Strict()

// encodePHC formats a hash the way the reference implementation does:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>, unpadded standard base64.
func encodePHC(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parsePHC parses a stored hash strictly: argon2id, version 19, exactly the
// parameters m, t and p in that order, parameters within bounds, and the
// string must be the canonical encoding of what was parsed (no leading zeros,
// no padding, no stray line breaks). The returned Params carry the salt and
// key lengths found. Every failure wraps ErrMalformed; the messages never
// include the stored string.
func parsePHC(phc string) (p Params, salt, key []byte, err error) {
	if len(phc) > maxPHCLen {
		return Params{}, nil, nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxPHCLen)
	}
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" {
		return Params{}, nil, nil, fmt.Errorf("%w: want 5 '$'-separated fields", ErrMalformed)
	}
	if parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformed)
	}
	if parts[2] != "v=19" {
		return Params{}, nil, nil, fmt.Errorf("%w: version is not 19", ErrMalformed)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return Params{}, nil, nil, fmt.Errorf("%w: want parameters m, t, p", ErrMalformed)
	}
	m, err1 := parseParam(kv[0], "m=", 32)
	t, err2 := parseParam(kv[1], "t=", 32)
	par, err3 := parseParam(kv[2], "p=", 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: bad parameters", ErrMalformed)
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: salt is not base64", ErrMalformed)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: key is not base64", ErrMalformed)
	}
	p = Params{
		Memory:  uint32(m),
		Time:    uint32(t),
		Threads: uint8(par),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if encodePHC(p, salt, key) != phc {
		return Params{}, nil, nil, fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return p, salt, key, nil
}

// parseParam parses "<prefix><decimal>" into an unsigned integer of bitSize bits.
func parseParam(s, prefix string, bitSize int) (uint64, error) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, fmt.Errorf("want %q", prefix)
	}
	return strconv.ParseUint(digits, 10, bitSize)
}
