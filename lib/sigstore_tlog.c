/* SPDX-License-Identifier: Apache-2.0 */
/* sigstore: Rekor entries: SET, Merkle audit path, signed checkpoint (sigstore.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "sigstore.h"
#include "util.h"

void sw_ss_leaf_hash(const void *data, size_t len, unsigned char out[32])
{
	unsigned char z = 0x00;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(c, &z, 1) != 1 ||
	    EVP_DigestUpdate(c, data, len) != 1 || EVP_DigestFinal_ex(c, out, NULL) != 1)
		memset(out, 0, 32); /* matches no root */
	EVP_MD_CTX_free(c);
}

static void node_hash(const unsigned char l[32], const unsigned char r[32], unsigned char out[32])
{
	unsigned char buf[65];
	buf[0] = 0x01;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	SHA256(buf, sizeof buf, out);
}

int sw_ss_merkle_root(uint64_t index, uint64_t size, const unsigned char leaf_hash[32],
		      const sw_ss_bytes *path, size_t npath, unsigned char root[32], sw_error *err)
{
	if (index >= size)
		return sw_err(err, SW_EVERIFY, "inclusion proof: index %llu not below tree size %llu",
			      (unsigned long long)index, (unsigned long long)size);
	uint64_t fn = index, sn = size - 1;
	unsigned char r[32];
	memcpy(r, leaf_hash, 32);
	for (size_t i = 0; i < npath; i++) {
		if (path[i].n != 32)
			return sw_err(err, SW_EINVAL, "inclusion proof: hashes[%zu] is not 32 bytes", i);
		if (sn == 0)
			return sw_err(err, SW_EVERIFY, "inclusion proof: %zu hashes, more than the tree has levels", npath);
		if ((fn & 1) || fn == sn) {
			node_hash(path[i].p, r, r);
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			node_hash(r, path[i].p, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return sw_err(err, SW_EVERIFY, "inclusion proof: %zu hashes, fewer than the tree has levels", npath);
	memcpy(root, r, 32);
	return 0;
}

void sw_ss_checkpoint_free(sw_ss_checkpoint *cp)
{
	for (size_t i = 0; i < cp->nsigs; i++)
		sw_ss_bytes_free(&cp->sigs[i].sig);
	cp->nsigs = 0;
}

/* The next line of [*p, end): its length, *p past its '\n'; -1 when no '\n'. */
static ssize_t next_line(const char **p, const char *end, const char **line)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return -1;
	*line = *p;
	ssize_t n = nl - *p;
	*p = nl + 1;
	return n;
}

static int checkpoint_parse(const char *text, size_t len, sw_ss_checkpoint *cp, sw_error *err)
{
	memset(cp, 0, sizeof *cp);
	const char *end = text + len, *p = text, *l;
	/* C2SP signed note: the text, a blank line, then signature lines. */
	const char *sep = NULL;
	for (const char *q = text; q + 1 < end; q++)
		if (q[0] == '\n' && q[1] == '\n') {
			sep = q;
			break;
		}
	if (!sep)
		return sw_err(err, SW_EINVAL, "checkpoint: no blank line before the signatures");
	cp->signed_len = (size_t)(sep - text) + 1;
	const char *body_end = text + cp->signed_len;
	ssize_t n = next_line(&p, body_end, &l);
	if (n <= 0 || (size_t)n >= sizeof cp->origin)
		return sw_err(err, SW_EINVAL, "checkpoint: origin line missing or empty");
	memcpy(cp->origin, l, (size_t)n);
	cp->origin[n] = '\0';
	n = next_line(&p, body_end, &l);
	if (n <= 0 || sw_parse_u64(l, (size_t)n, &cp->size) < 0)
		return sw_err(err, SW_EINVAL, "checkpoint: tree size line missing or not a decimal");
	n = next_line(&p, body_end, &l);
	sw_ss_bytes root = { 0 };
	if (n <= 0 || sw_ss_b64dec(l, (size_t)n, &root) < 0 || root.n != 32) {
		sw_ss_bytes_free(&root);
		return sw_err(err, SW_EINVAL, "checkpoint: root hash line missing or not a base64 SHA-256");
	}
	memcpy(cp->root, root.p, 32);
	sw_ss_bytes_free(&root);
	/* Further body lines are extensions (e.g. "Timestamp: ..."): signed, not read. */
	p = sep + 2;
	static const char dash[] = "\xe2\x80\x94 "; /* U+2014 and a space */
	while (p < end) {
		n = next_line(&p, end, &l);
		if (n < 0)
			return sw_err(err, SW_EINVAL, "checkpoint: signature line without its newline");
		if ((size_t)n < sizeof dash - 1 || memcmp(l, dash, sizeof dash - 1) != 0)
			return sw_err(err, SW_EINVAL, "checkpoint: signature line does not start with an em dash");
		const char *name = l + sizeof dash - 1, *le = l + n;
		const char *sp = memchr(name, ' ', (size_t)(le - name));
		if (!sp || sp == name || (size_t)(sp - name) >= sizeof cp->sigs[0].name)
			return sw_err(err, SW_EINVAL, "checkpoint: signature line without a name");
		if (cp->nsigs == SW_SS_MAX_NOTE_SIGS)
			return sw_err(err, SW_ETOOBIG, "checkpoint: over %d signatures", SW_SS_MAX_NOTE_SIGS);
		sw_ss_note_sig *s = &cp->sigs[cp->nsigs];
		sw_ss_bytes raw = { 0 };
		if (sw_ss_b64dec(sp + 1, (size_t)(le - sp - 1), &raw) < 0 || raw.n < 5) {
			sw_ss_bytes_free(&raw);
			sw_ss_checkpoint_free(cp);
			return sw_err(err, SW_EINVAL, "checkpoint: signature line: invalid base64 or too short");
		}
		memcpy(s->name, name, (size_t)(sp - name));
		s->name[sp - name] = '\0';
		memcpy(s->hint, raw.p, 4);
		s->sig.n = raw.n - 4;
		s->sig.p = malloc(s->sig.n);
		if (!s->sig.p) {
			sw_ss_bytes_free(&raw);
			sw_ss_checkpoint_free(cp);
			return sw_err(err, ENOMEM, "out of memory");
		}
		memcpy(s->sig.p, raw.p + 4, s->sig.n);
		sw_ss_bytes_free(&raw);
		cp->nsigs++;
	}
	if (cp->nsigs == 0)
		return sw_err(err, SW_EINVAL, "checkpoint: no signature");
	return 0;
}

int sw_ss_checkpoint_parse(const char *text, size_t len, sw_ss_checkpoint *cp, sw_error *err)
{
	/* A bad line after good signatures: free what was kept. */
	int r = checkpoint_parse(text, len, cp, err);
	if (r < 0)
		sw_ss_checkpoint_free(cp);
	return r;
}

int sw_ss_checkpoint_verify(const char *text, const sw_ss_checkpoint *cp, const sw_ss_log *log,
			    sw_error *err)
{
	/* Witness cosignatures (other names, unknown keys) are ignored: the log's
	 * own signature is the one that must be there, named after its host and
	 * with its key hint (the first 4 bytes of its log id). */
	bool named = false;
	for (size_t i = 0; i < cp->nsigs; i++) {
		const sw_ss_note_sig *s = &cp->sigs[i];
		if (strcmp(s->name, log->host) != 0)
			continue;
		named = true;
		if (log->log_id_len < 4 || memcmp(s->hint, log->log_id, 4) != 0)
			continue;
		if (sw_ss_verify_msg(log->key, text, cp->signed_len, &s->sig) == 0)
			return 0;
	}
	if (!named)
		return sw_err(err, SW_EVERIFY, "checkpoint: no signature by %s", log->host);
	return sw_err(err, SW_EVERIFY, "checkpoint: no signature of %s verifies under its key from the trust root", log->host);
}

/* The SET signs the canonical JSON {body, integratedTime, logID, logIndex}. */
static int verify_set(const sw_ss_entry *e, const sw_ss_log *log, sw_error *err)
{
	char hex[2 * 32 + 1];
	sw_hex(e->log_id.p, e->log_id.n > 32 ? 32 : e->log_id.n, hex);
	size_t n = strlen(e->body_b64) + 256;
	char *doc = malloc(n);
	if (!doc)
		return sw_err(err, ENOMEM, "out of memory");
	int len = snprintf(doc, n, "{\"body\":\"%s\",\"integratedTime\":%lld,\"logID\":\"%s\",\"logIndex\":%lld}",
			   e->body_b64, (long long)e->integrated_time, hex, (long long)e->log_index);
	int r = sw_ss_verify_msg(log->key, doc, (size_t)len, &e->set);
	free(doc);
	if (r < 0)
		return sw_err(err, SW_EVERIFY, "inclusionPromise: the signed entry timestamp does not verify under the key of %s", log->base_url);
	return 0;
}

int sw_ss_entry_verify_log(const sw_ss_entry *e, const sw_ss_log *log, bool *set_ok, sw_error *err)
{
	*set_ok = false;
	if (e->set.n) {
		if (verify_set(e, log, err) < 0)
			return -1;
		*set_ok = true;
	}
	if (!e->has_proof)
		return 0;
	unsigned char leaf[32], root[32];
	sw_ss_leaf_hash(e->body.p, e->body.n, leaf);
	if (sw_ss_merkle_root((uint64_t)e->proof_index, (uint64_t)e->tree_size, leaf, e->hashes, e->nhashes, root, err) < 0)
		return -1;
	if (e->root.n != 32 || memcmp(root, e->root.p, 32) != 0)
		return sw_err(err, SW_EVERIFY, "inclusion proof: the audit path does not lead to rootHash");
	sw_ss_checkpoint cp;
	if (sw_ss_checkpoint_parse(e->checkpoint, strlen(e->checkpoint), &cp, err) < 0)
		return -1;
	int r = 0;
	if (cp.size != (uint64_t)e->tree_size || memcmp(cp.root, root, 32) != 0)
		r = sw_err(err, SW_EVERIFY, "checkpoint: tree size or root hash differs from the inclusion proof");
	else
		r = sw_ss_checkpoint_verify(e->checkpoint, &cp, log, err);
	sw_ss_checkpoint_free(&cp);
	return r;
}
