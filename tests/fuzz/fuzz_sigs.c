/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The allowlist signature file (manifest.sig): base64 lines, each checked
 * against every trusted key (sw_list_count_signers), with a fixed manifest and
 * two fixed keys (Ed25519 and ECDSA P-256; the seed corpus holds real
 * signatures by them, so the fuzzer starts from valid files). A key counts once
 * however many lines it signed, so the count can never exceed the key count.
 */
#include "fuzz_util.h"

#include "allowlist.h"
#include "keys.h"

static const char manifest[] =
	"sigward-allowlist 1\nscope prod\nserial 7\nissued 2026-01-01T00:00:00Z\nexpires 2026-02-01T00:00:00Z\n"
	"entries 0\nbins 1\nbin 0 0 0 0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";

static const char ed25519_pub[] = "-----BEGIN PUBLIC KEY-----\n"
				  "MCowBQYDK2VwAyEA8HrHL4JJnP1kfTjb0AmcfuINU8Q+29Q7wGd6cLTcRYk=\n"
				  "-----END PUBLIC KEY-----\n";
static const char p256_pub[] = "-----BEGIN PUBLIC KEY-----\n"
			       "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvK8WtVYs4NITRjuiC4VyoOLX+9Wu\n"
			       "sQi1OzMHSusRa9HaURVVNFEzAyDqCfZlbu3iEE5d5For+pekwdMHHqNblA==\n"
			       "-----END PUBLIC KEY-----\n";

static char dir[PATH_MAX];
static sw_keyring kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char keys[PATH_MAX];
	snprintf(keys, sizeof keys, "%s/keys", fz_tmp());
	snprintf(dir, sizeof dir, "%s/list", fz_tmp());
	fz_mkdir(keys);
	fz_mkdir(dir);
	fz_write(keys, "ed25519.pub", ed25519_pub, sizeof ed25519_pub - 1);
	fz_write(keys, "p256.pub", p256_pub, sizeof p256_pub - 1);
	fz_write(dir, SW_MANIFEST_NAME, manifest, sizeof manifest - 1);
	fz_write(dir, SW_ENTRIES_NAME, "", 0);
	sw_error e = { 0 };
	if (sw_keyring_load(keys, &kr, &e) < 0 || kr.n != 2) {
		fprintf(stderr, "fuzz harness: keys: %s\n", e.msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Each line on its own through the decoder, as read_sigs does. */
	for (size_t o = 0; o < size;) {
		const uint8_t *nl = memchr(data + o, '\n', size - o);
		size_t l = nl ? (size_t)(nl - (data + o)) : size - o;
		unsigned char *out = NULL;
		size_t ol = 0;
		if (sw_base64_decode((const char *)data + o, l, &out, &ol) == 0) {
			if (ol > l)
				abort();
			free(out);
		}
		o += l + 1;
	}

	fz_write(dir, SW_SIGS_NAME, data, size);
	sw_error e = { 0 };
	sw_list l;
	if (sw_list_open_dir(dir, &l, &e) < 0) {
		fprintf(stderr, "fuzz harness: %s\n", e.msg);
		abort();
	}
	int n = sw_list_count_signers(&l, &kr, &e);
	fz_debug("signers", n, n < 0 ? e.msg : "");
	if (n > (int)kr.n || (n >= 0 && (size_t)n != l.n_signers))
		abort();
	if (n < 0 && (!e.msg[0] || strchr(e.msg, '\n')))
		abort();
	sw_list_close(&l);
	return 0;
}
