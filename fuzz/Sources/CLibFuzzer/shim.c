// Only the header matters: LLVMFuzzerRunDriver is defined by libFuzzer, which `-sanitize=fuzzer` links.
#include "CLibFuzzer.h"
