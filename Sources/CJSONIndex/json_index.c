#include "rolecall_json_index.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline int is_special(uint8_t byte) { return byte == '"' || byte == '\\' || byte < 0x20 || byte >= 0x80; }

void rolecall_json_specials_portable(const uint8_t *data, size_t length, uint64_t *masks) {
    for (size_t block = 0; block * 64 < length; block++) {
        uint64_t mask = 0;
        size_t end = length - block * 64 < 64 ? length - block * 64 : 64;
        for (size_t i = 0; i < end; i++) {
            if (is_special(data[block * 64 + i])) mask |= (uint64_t)1 << i;
        }
        masks[block] = mask;
    }
}

#if defined(__x86_64__)

/// 64 bytes with SSE2 (every x86-64 CPU has it).
static inline uint64_t block_sse2(const uint8_t *p) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
    uint64_t mask = 0;
    for (int part = 0; part < 4; part++) {
        __m128i bytes = _mm_loadu_si128((const __m128i *)(p + 16 * part));
        // A lane is 0xFF where the byte is `"`, `\` or at most 0x1F; OR-ing the bytes in sets the top bit of
        // every non-ASCII byte too, and movemask collects the top bits.
        __m128i flags = _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash));
        flags = _mm_or_si128(flags, _mm_cmpeq_epi8(_mm_max_epu8(bytes, control), control));
        mask |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_or_si128(flags, bytes)) << (16 * part);
    }
    return mask;
}

/// 64 bytes with AVX2.
__attribute__((target("avx2"))) static inline uint64_t block_avx2(const uint8_t *p) {
    const __m256i quote = _mm256_set1_epi8('"'), backslash = _mm256_set1_epi8('\\'),
                  control = _mm256_set1_epi8(0x1F);
    uint64_t mask = 0;
    for (int part = 0; part < 2; part++) {
        __m256i bytes = _mm256_loadu_si256((const __m256i *)(p + 32 * part));
        __m256i flags = _mm256_or_si256(_mm256_cmpeq_epi8(bytes, quote), _mm256_cmpeq_epi8(bytes, backslash));
        flags = _mm256_or_si256(flags, _mm256_cmpeq_epi8(_mm256_max_epu8(bytes, control), control));
        mask |= (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_or_si256(flags, bytes)) << (32 * part);
    }
    return mask;
}

/// The last, partial block: copied into 64 bytes of spaces (not special), so no load reads past the input.
static inline uint64_t tail_mask(const uint8_t *p, size_t count, uint64_t (*block)(const uint8_t *)) {
    uint8_t padded[64];
    memset(padded, ' ', sizeof padded);
    memcpy(padded, p, count);
    return block(padded);
}

__attribute__((target("avx2"))) static void specials_avx2(const uint8_t *data, size_t length, uint64_t *masks) {
    size_t full = length / 64;
    for (size_t block = 0; block < full; block++) masks[block] = block_avx2(data + 64 * block);
    if (length % 64) masks[full] = tail_mask(data + 64 * full, length % 64, block_avx2);
}

static void specials_sse2(const uint8_t *data, size_t length, uint64_t *masks) {
    size_t full = length / 64;
    for (size_t block = 0; block < full; block++) masks[block] = block_sse2(data + 64 * block);
    if (length % 64) masks[full] = tail_mask(data + 64 * full, length % 64, block_sse2);
}

/// 64 bytes with AVX-512BW: the comparisons give the mask directly.
__attribute__((target("avx512bw"))) static inline uint64_t block_avx512(__m512i bytes) {
    const __m512i quote = _mm512_set1_epi8('"'), backslash = _mm512_set1_epi8('\\'), control = _mm512_set1_epi8(0x1F);
    return _mm512_cmpeq_epi8_mask(bytes, quote) | _mm512_cmpeq_epi8_mask(bytes, backslash) |
           _mm512_cmple_epu8_mask(bytes, control) | _mm512_movepi8_mask(bytes);
}

/// Full blocks with plain loads; the last, partial one with the bytes past the input masked off (loaded as zeros,
/// which would count as control characters, so their bits are masked off again).
__attribute__((target("avx512bw"))) static void specials_avx512(const uint8_t *data, size_t length, uint64_t *masks) {
    size_t full = length / 64;
    for (size_t block = 0; block < full; block++) masks[block] = block_avx512(_mm512_loadu_si512(data + 64 * block));
    if (length % 64) {
        __mmask64 valid = ((__mmask64)1 << (length % 64)) - 1;
        masks[full] = block_avx512(_mm512_maskz_loadu_epi8(valid, data + 64 * full)) & valid;
    }
}

int rolecall_json_specials_by(int path, const uint8_t *data, size_t length, uint64_t *masks) {
    switch (path) {
    case 0:
        rolecall_json_specials_portable(data, length, masks);
        return 1;
    case 1:
        specials_sse2(data, length, masks);
        return 1;
    case 2:
        if (!__builtin_cpu_supports("avx2")) return 0;
        specials_avx2(data, length, masks);
        return 1;
    case 3:
        if (!__builtin_cpu_supports("avx512bw")) return 0;
        specials_avx512(data, length, masks);
        return 1;
    default:
        return 0;
    }
}

void rolecall_json_specials(const uint8_t *data, size_t length, uint64_t *masks) {
    if (__builtin_cpu_supports("avx512bw")) {
        specials_avx512(data, length, masks);
    } else if (__builtin_cpu_supports("avx2")) {
        specials_avx2(data, length, masks);
    } else {
        specials_sse2(data, length, masks);
    }
}

#else

void rolecall_json_specials(const uint8_t *data, size_t length, uint64_t *masks) {
    rolecall_json_specials_portable(data, length, masks);
}

int rolecall_json_specials_by(int path, const uint8_t *data, size_t length, uint64_t *masks) {
    if (path != 0) return 0;
    rolecall_json_specials_portable(data, length, masks);
    return 1;
}

#endif

/// The first special byte at or after `index`, or `count` when there is none before the end.
static inline __attribute__((always_inline)) long next_special(const uint64_t *specials, long count, long index) {
    if (index >= count) return count;
    long word = index >> 6;
    uint64_t bits = specials[word] & (~(uint64_t)0 << (index & 63));
    while (bits == 0) {
        word++;
        if (word << 6 >= count) return count;
        bits = specials[word];
    }
    long found = (word << 6) | __builtin_ctzll(bits);
    return found < count ? found : count;
}

static inline int is_hex(uint8_t byte) {
    return (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'f') || (byte >= 'A' && byte <= 'F');
}

/// The length of the well-formed UTF-8 sequence at `index` (lead byte 0x80 or more), or 0.
static long utf8_length(const uint8_t *base, long count, long index) {
    uint8_t lead = base[index];
    long length;
    uint32_t minimum;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2, minimum = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3, minimum = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4, minimum = 0x10000;
    } else {
        return 0;
    }
    if (index + length > count) return 0;
    uint32_t scalar = lead & (0xFF >> (length + 1));
    for (long offset = 1; offset < length; offset++) {
        uint8_t continuation = base[index + offset];
        if ((continuation & 0xC0) != 0x80) return 0;
        scalar = scalar << 6 | (continuation & 0x3F);
    }
    if (scalar < minimum || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar <= 0xDFFF)) return 0;
    return length;
}

/// The rest of `skip_string` from the special byte at `index`: escapes, non-ASCII characters, errors.
static __attribute__((noinline)) long skip_string_slowly(const uint8_t *base, long count, const uint64_t *specials,
                                                         long index) {
    for (;;) {
        if (index >= count) return -1;
        uint8_t byte = base[index];
        if (byte == '"') return index + 1;
        if (byte == '\\') {
            if (index + 1 >= count) return -1;
            switch (base[index + 1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                index += 2;
                break;
            case 'u':
                if (index + 6 > count || !is_hex(base[index + 2]) || !is_hex(base[index + 3]) ||
                    !is_hex(base[index + 4]) || !is_hex(base[index + 5]))
                    return -1;
                index += 6;
                break;
            default:
                return -1;
            }
        } else if (byte < 0x20) {
            return -1;
        } else {
            long length = utf8_length(base, count, index);
            if (length == 0) return -1;
            index += length;
        }
        index = next_special(specials, count, index);
    }
}

static inline int is_digit_at(const uint8_t *base, long count, long index) {
    return index < count && base[index] >= '0' && base[index] <= '9';
}

/// The offset after the number at `index` (RFC 8259 grammar, any magnitude), or -1.
static long skip_number(const uint8_t *base, long count, long index) {
    if (base[index] == '-') index++;
    if (!is_digit_at(base, count, index)) return -1;
    if (base[index] == '0') {
        index++;
    } else {
        while (is_digit_at(base, count, index)) index++;
    }
    if (index < count && base[index] == '.') {
        index++;
        if (!is_digit_at(base, count, index)) return -1;
        while (is_digit_at(base, count, index)) index++;
    }
    if (index < count && (base[index] == 'e' || base[index] == 'E')) {
        index++;
        if (index < count && (base[index] == '+' || base[index] == '-')) index++;
        if (!is_digit_at(base, count, index)) return -1;
        while (is_digit_at(base, count, index)) index++;
    }
    return index;
}

static inline long skip_whitespace(const uint8_t *base, long count, long index) {
    while (index < count) {
        uint8_t byte = base[index];
        if (byte > 0x20 || !(byte == ' ' || byte == '\n' || byte == '\r' || byte == '\t')) break;
        index++;
    }
    return index;
}

static inline int literal_at(const uint8_t *base, long count, long index, const char *literal, long length) {
    return index + length <= count && memcmp(base + index, literal, (size_t)length) == 0;
}

/// The special bytes from a reading position on, one word in a register: the walk below takes a string's quotes
/// off it one at a time, so finding where a string ends costs no load and no shift; the next word is loaded
/// only when this one runs out.
typedef struct {
    const uint64_t *specials;
    long words;
    /// The word `bits` came from.
    long word;
    /// The special bytes of `word` not yet passed.
    uint64_t bits;
} special_cursor;

/// Places the cursor at `index`: the specials before it are passed.
static inline void cursor_seek(special_cursor *cursor, long index) {
    cursor->word = index >> 6;
    cursor->bits = cursor->word < cursor->words ? cursor->specials[cursor->word] & (~(uint64_t)0 << (index & 63)) : 0;
}

/// The next special byte not yet passed, or `count` when there is none.
static inline __attribute__((always_inline)) long cursor_peek(special_cursor *cursor, long count) {
    while (cursor->bits == 0) {
        if (++cursor->word >= cursor->words) {
            cursor->word = cursor->words;
            return count;
        }
        cursor->bits = cursor->specials[cursor->word];
    }
    return (cursor->word << 6) | __builtin_ctzll(cursor->bits);
}

/// Passes the special byte ``cursor_peek`` returned.
static inline __attribute__((always_inline)) void cursor_pop(special_cursor *cursor) {
    cursor->bits &= cursor->bits - 1;
}

/// The offset after the string whose opening quote is at `index`, or -1, moving the cursor past it. A string
/// without escapes or non-ASCII characters is two bits taken off the cursor.
static inline __attribute__((always_inline)) long cursor_skip_string(const uint8_t *base, long count,
                                                                     special_cursor *cursor, long index) {
    // The opening quote is the next special byte, unless the walk passed a special byte without taking it off
    // (only bytes that make the value invalid are special outside strings, but the cursor does not rely on it).
    if (cursor_peek(cursor, count) != index) cursor_seek(cursor, index);
    cursor_pop(cursor);
    long end = cursor_peek(cursor, count);
    if (end < count && base[end] == '"') {
        cursor_pop(cursor);
        return end + 1;
    }
    long after = skip_string_slowly(base, count, cursor->specials, end);
    if (after >= 0) cursor_seek(cursor, after);
    return after;
}

/// `rolecall_json_skip` on a cursor placed at `position`, which it moves past the value.
static inline __attribute__((always_inline)) long walk_value(const uint8_t *base, long count, long position,
                                                             special_cursor *cursor, long levels) {
    // The open containers, innermost last: 1 for an object, 0 for a list.
    uint8_t stack[1024];
    long level = 0;
    if (levels > (long)sizeof stack) levels = (long)sizeof stack;
    long p = position;
    for (;;) {
        // A value starts at p, after whitespace.
        p = skip_whitespace(base, count, p);
        if (p >= count) return -1;
        uint8_t byte = base[p];
        switch (byte) {
        case '"':
            p = cursor_skip_string(base, count, cursor, p);
            if (p < 0) return -1;
            break;
        case '{':
        case '[': {
            if (level >= levels) return -1;
            int object = byte == '{';
            p = skip_whitespace(base, count, p + 1);
            if (p >= count) return -1;
            if (base[p] == (object ? '}' : ']')) {
                p++;
                break;
            }
            stack[level++] = (uint8_t)object;
            if (object) {
                if (base[p] != '"') return -1;
                p = cursor_skip_string(base, count, cursor, p);
                if (p < 0) return -1;
                p = skip_whitespace(base, count, p);
                if (p >= count || base[p] != ':') return -1;
                p++;
            }
            continue;
        }
        case 't':
            if (!literal_at(base, count, p, "true", 4)) return -1;
            p += 4;
            break;
        case 'f':
            if (!literal_at(base, count, p, "false", 5)) return -1;
            p += 5;
            break;
        case 'n':
            if (!literal_at(base, count, p, "null", 4)) return -1;
            p += 4;
            break;
        default:
            if (byte != '-' && (byte < '0' || byte > '9')) return -1;
            p = skip_number(base, count, p);
            if (p < 0) return -1;
            break;
        }
        // A value ended: close containers until a `,` continues one.
        for (;;) {
            if (level == 0) return p;
            p = skip_whitespace(base, count, p);
            if (p >= count) return -1;
            int object = stack[level - 1];
            if (base[p] == ',') {
                p++;
                if (object) {
                    p = skip_whitespace(base, count, p);
                    if (p >= count || base[p] != '"') return -1;
                    p = cursor_skip_string(base, count, cursor, p);
                    if (p < 0) return -1;
                    p = skip_whitespace(base, count, p);
                    if (p >= count || base[p] != ':') return -1;
                    p++;
                }
                break;
            }
            if (base[p] != (object ? '}' : ']')) return -1;
            p++;
            level--;
        }
    }
}

long rolecall_json_skip(const uint8_t *base, long count, long position, const uint64_t *specials, long levels) {
    special_cursor cursor = {specials, (count + 63) >> 6, 0, 0};
    cursor_seek(&cursor, position);
    return walk_value(base, count, position, &cursor, levels);
}

