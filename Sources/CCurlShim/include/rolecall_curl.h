#ifndef ROLECALL_CURL_H
#define ROLECALL_CURL_H

// Typed wrappers for libcurl's variadic functions, which Swift cannot call directly.
#include <curl/curl.h>

typedef size_t (*rolecall_curl_write_callback)(char *data, size_t size, size_t count, void *context);
typedef int (*rolecall_curl_debug_callback)(CURL *handle, curl_infotype type, char *data, size_t size, void *context);

CURLcode rolecall_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode rolecall_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode rolecall_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode rolecall_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode rolecall_curl_setopt_write_function(CURL *handle, CURLoption option, rolecall_curl_write_callback value);
CURLcode rolecall_curl_setopt_debug_function(CURL *handle, rolecall_curl_debug_callback value);
CURLcode rolecall_curl_setopt_postfields(CURL *handle, const char *data, long length);
CURLcode rolecall_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
