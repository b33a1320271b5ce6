#ifndef ROLECALL_CPCRE2_SHIM_H
#define ROLECALL_CPCRE2_SHIM_H
// PCRE2 needs its code-unit width chosen before the header is read; Rolecall matches UTF-8 text.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif
