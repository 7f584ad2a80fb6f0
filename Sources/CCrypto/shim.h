#ifndef BERTH_CCRYPTO_SHIM_H
#define BERTH_CCRYPTO_SHIM_H
// The system's libcrypto (OpenSSL 3) for SHA-256: as fast as swift-crypto here at no
// build cost (MEASURED.md). Only the EVP digest calls are used.
#include <openssl/evp.h>
#endif
