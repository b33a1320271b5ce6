#ifndef ROLECALL_JSON_INDEX_H
#define ROLECALL_JSON_INDEX_H

#include <stddef.h>
#include <stdint.h>

/// Marks, one bit per input byte, the bytes a JSON string scanner must stop at: `"`, `\`, a control
/// character (below 0x20) and a byte of a non-ASCII character (0x80 and up). Bit `i % 64` of `masks[i / 64]`
/// is byte `i`; `masks` must hold `(length + 63) / 64` words, and bits past `length` are zero.
///
/// The event reader finds the end of a string with one bit scan instead of a byte loop. Uses AVX-512BW or AVX2
/// when the CPU has it, SSE2 on other x86-64 CPUs, and a byte loop elsewhere; every path gives the same bits.
void rolecall_json_specials(const uint8_t *data, size_t length, uint64_t *masks);

/// The byte-loop path, always available (for tests that compare the paths).
void rolecall_json_specials_portable(const uint8_t *data, size_t length, uint64_t *masks);

/// One path by number, for tests that compare them: 0 the byte loop, 1 SSE2, 2 AVX2, 3 AVX-512BW (x86-64 only).
/// Returns 0, writing nothing, when this CPU or build does not have the path.
int rolecall_json_specials_by(int path, const uint8_t *data, size_t length, uint64_t *masks);

/// Skips the JSON value that starts at `position` (after any whitespace) and returns the offset just past it,
/// or -1 when the bytes from `position` up to `count` do not hold a valid value: bad syntax, invalid UTF-8, a
/// control character or a bad escape in a string, or containers nested more than `levels` deep. `specials` is
/// the bitmap of `rolecall_json_specials` for the buffer from `base`.
///
/// The event reader's fast path for the values no rule reads; on -1 the reader walks the value again itself,
/// to report where and why it is invalid. Checks exactly what that walk checks, and no more.
long rolecall_json_skip(const uint8_t *base, long count, long position, const uint64_t *specials, long levels);

#endif
