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

void rolecall_json_specials(const uint8_t *data, size_t length, uint64_t *masks) {
    if (__builtin_cpu_supports("avx2")) {
        specials_avx2(data, length, masks);
    } else {
        specials_sse2(data, length, masks);
    }
}

#else

void rolecall_json_specials(const uint8_t *data, size_t length, uint64_t *masks) {
    rolecall_json_specials_portable(data, length, masks);
}

#endif
