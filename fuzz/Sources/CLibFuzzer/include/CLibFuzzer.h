#ifndef ROLECALL_CLIBFUZZER_H
#define ROLECALL_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt, linked by `-sanitize=fuzzer`): parses libFuzzer's flags from argv and runs
// `callback` on each input. The fuzz targets call it from their own `main`, because SwiftPM links an executable
// with `--defsym main=<module>_main`, which libFuzzer's own `main` cannot satisfy (swiftlang/swift#75800).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
