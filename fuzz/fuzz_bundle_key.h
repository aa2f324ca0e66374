/* The fixed Ed25519 key of the fuzz_bundle target: its seeds are signed
 * with it (make_seeds.c) and the target verifies with it and signs what it
 * writes back. The private seed is bytes 0x40..0x5f: a test value, never a
 * production key. */
#ifndef APITOKEN_FUZZ_BUNDLE_KEY_H
#define APITOKEN_FUZZ_BUNDLE_KEY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

static EVP_PKEY *fuzz_bundle_key(void)
{
	/* Made once per process and kept (still reachable, not a leak):
	 * key setup in every run would only slow the fuzzer down. */
	static EVP_PKEY *key;
	uint8_t seed[32];

	if (key)
		return key;
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x40 + i);
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
					   sizeof(seed));
	if (!key) {
		fprintf(stderr, "fuzz: cannot make the bundle test key\n");
		exit(2);
	}
	return key;
}

#endif
