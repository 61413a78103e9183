/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cleanup: _cleanup_ helpers for the library types sigward owns besides memory
 * and descriptors (those are in util.h; yajl's are in json.h): directory
 * streams, OpenSSL objects and curl handles. Each frees what its variable holds
 * when it goes out of scope, and does nothing for NULL, so an early return
 * cannot leak and TAKE_PTR hands the object on.
 */
#ifndef SW_CLEANUP_H
#define SW_CLEANUP_H

#include <dirent.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "util.h"

static inline void sw_closedirp(DIR **d) { if (*d) closedir(*d); }
#define _cleanup_closedir_ _cleanup_(sw_closedirp)

/* The OpenSSL frees accept NULL. */
static inline void sw_evp_pkey_freep(EVP_PKEY **p) { EVP_PKEY_free(*p); }
static inline void sw_evp_md_ctx_freep(EVP_MD_CTX **p) { EVP_MD_CTX_free(*p); }
static inline void sw_evp_pkey_ctx_freep(EVP_PKEY_CTX **p) { EVP_PKEY_CTX_free(*p); }
static inline void sw_bio_freep(BIO **p) { BIO_free_all(*p); }
static inline void sw_x509_freep(X509 **p) { X509_free(*p); }
#define _cleanup_evp_pkey_ _cleanup_(sw_evp_pkey_freep)
#define _cleanup_evp_md_ctx_ _cleanup_(sw_evp_md_ctx_freep)
#define _cleanup_evp_pkey_ctx_ _cleanup_(sw_evp_pkey_ctx_freep)
#define _cleanup_bio_ _cleanup_(sw_bio_freep)
#define _cleanup_x509_ _cleanup_(sw_x509_freep)

static inline void sw_curl_easy_cleanupp(CURL **c) { if (*c) curl_easy_cleanup(*c); }
static inline void sw_curl_slist_freep(struct curl_slist **l) { curl_slist_free_all(*l); }
#define _cleanup_curl_ _cleanup_(sw_curl_easy_cleanupp)
#define _cleanup_curl_slist_ _cleanup_(sw_curl_slist_freep)

#endif
