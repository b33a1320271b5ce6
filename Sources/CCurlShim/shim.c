#include "rolecall_curl.h"

CURLcode rolecall_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode rolecall_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode rolecall_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode rolecall_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode rolecall_curl_setopt_write_function(CURL *handle, CURLoption option, rolecall_curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode rolecall_curl_setopt_debug_function(CURL *handle, rolecall_curl_debug_callback value) {
    return curl_easy_setopt(handle, CURLOPT_DEBUGFUNCTION, value);
}

CURLcode rolecall_curl_setopt_postfields(CURL *handle, const char *data, long length) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, length);
    if (code != CURLE_OK) return code;
    // COPYPOSTFIELDS copies the body, so the Swift buffer need not outlive this call.
    return curl_easy_setopt(handle, CURLOPT_COPYPOSTFIELDS, data);
}

CURLcode rolecall_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
