#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Signed images for tests/integration/imagesig.sh, made the way cosign makes them.

A test Sigstore of the test's own (per the specs, with the OpenSSL bindings of
python3-cryptography): a Fulcio root CA, a Rekor log key, a trusted_root.json
pinning both, and a cosign key pair. Commands:

  init DIR                      the keys, trust root and an OCI layout DIR/layout
                                with single-arch images tagged by name and two
                                indexes (amd64 + arm64) tagged multi1, multi2
  simple DIR REG REPO DIGEST    a classic signature: simple-signing payload, a layer
                                of the tag sha256-<hex>.sig (appended to what is there)
  batch                         the commands below, one per line of stdin
  bundle DIR REG REPO DIGEST    a cosign v3 bundle attached as an OCI 1.1 referrer
                                (subject = DIGEST); --fallback-tag also updates the
                                sha256-<hex> index, as cosign does where a registry
                                has no referrers API
Options of simple/bundle:
  --keyless SAN ISSUER  a Fulcio certificate for SAN/ISSUER (default: the cosign key)
  --expired             the certificate expired an hour before the log entry
  --no-tlog             no Rekor entry (no bundle annotation; no tlogEntries)
  --ref R               critical.identity.docker-reference (default REG/REPO)
  --payload-digest D    the digest the payload names (default DIGEST)
  --tamper              the uploaded payload differs from the one signed
  --referrer            (simple) attach as an OCI 1.1 referrer, as cosign 2's
                        --registry-referrers-mode=oci-1-1 does, not as the .sig tag
  --timestamp TSA       an RFC 3161 timestamp of the signature by TSA ("tsa", in the
                        trust root, or "tsa-untrusted"), made by openssl ts
  --predicate T         the in-toto predicateType (default cosign's sign type)
REG is "http://127.0.0.1:PORT". Prints the signature (or referrer) manifest digest.
"""
import base64
import datetime
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REKOR_HOST = "rekor.sigward.test"
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIMPLE_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"


def b64(b):
    return base64.b64encode(b).decode()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def canon(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":")).encode()


def pem_pub(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def der_pub(k):
    return k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def save_key(path, k):
    with open(path, "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def sign(k, data):
    return k.sign(data, ec.ECDSA(hashes.SHA256()))


# ---------------------------------------------------------------- init

def layer_tar(marker):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        data = marker.encode()
        ti = tarfile.TarInfo("marker")
        ti.size, ti.mtime, ti.mode = len(data), 0, 0o644
        t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def put_blob(layout, data):
    d = sha(data)
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}


def image(layout, marker, arch):
    layer = layer_tar(marker)
    ld = put_blob(layout, layer)
    cfg = canon({"architecture": arch, "os": "linux", "config": {"Cmd": ["/marker"]},
                 "rootfs": {"type": "layers", "diff_ids": [ld["digest"]]}})
    cd = put_blob(layout, cfg)
    man = canon({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                 "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **cd),
                 "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar", **ld)]})
    return dict(mediaType=OCI_MANIFEST, **put_blob(layout, man))


def make_tsa(d, name, now):
    """A timestamp authority: a root and a leaf with the critical timeStamping
    usage openssl ts needs, as NAME-root.pem, NAME.pem, NAME.key."""
    rk, lk = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    rn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name + " root")])
    ln = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    nb, na = now - datetime.timedelta(days=30), now + datetime.timedelta(days=365)
    root = (x509.CertificateBuilder().subject_name(rn).issuer_name(rn).public_key(rk.public_key())
            .serial_number(1).not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(rk, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(ln).issuer_name(rn).public_key(lk.public_key())
            .serial_number(2).not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(rk, hashes.SHA256()))
    save_key(os.path.join(d, name + ".key"), lk)
    for n, c in ((name + ".pem", leaf), (name + "-root.pem", root)):
        with open(os.path.join(d, n), "wb") as f:
            f.write(c.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(d, "tsa.cnf"), "w") as f:
        f.write("[ tsa ]\ndefault_tsa = t\n[ t ]\nserial = %s/tsaserial\nsigner_digest = sha256\n"
                "default_policy = 1.3.6.1.4.1.57264.2\ndigests = sha256\naccuracy = secs:1\n"
                "ess_cert_id_alg = sha256\n" % d)
    return [leaf, root]


def timestamp(d, name, data):
    """An RFC 3161 response over data from TSA name, made by the openssl CLI."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as t:
        with open(os.path.join(t, "data"), "wb") as f:
            f.write(data)
        subprocess.run(["openssl", "ts", "-query", "-data", os.path.join(t, "data"), "-sha256", "-cert",
                        "-out", os.path.join(t, "q")], check=True, capture_output=True)
        subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(d, "tsa.cnf"),
                        "-queryfile", os.path.join(t, "q"), "-signer", os.path.join(d, name + ".pem"),
                        "-inkey", os.path.join(d, name + ".key"), "-chain", os.path.join(d, name + "-root.pem"),
                        "-out", os.path.join(t, "r")], check=True, capture_output=True)
        with open(os.path.join(t, "r"), "rb") as f:
            return f.read()


def init(d):
    os.makedirs(d, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    for name in ("cosign", "other", "fulcio", "rekor"):
        save_key(os.path.join(d, name + ".key"), ec.generate_private_key(ec.SECP256R1()))
    for name in ("cosign", "other"):
        with open(os.path.join(d, name + ".pub"), "wb") as f:
            f.write(pem_pub(load_key(os.path.join(d, name + ".key"))))
    fk = load_key(os.path.join(d, "fulcio.key"))
    rk = load_key(os.path.join(d, "rekor.key"))
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigward test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "test fulcio root")])
    root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(fk.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(fk.public_key()), critical=False)
            .sign(fk, hashes.SHA256()))
    with open(os.path.join(d, "fulcio.pem"), "wb") as f:
        f.write(root.public_bytes(serialization.Encoding.PEM))
    tsa_chain = make_tsa(d, "tsa", now)
    make_tsa(d, "tsa-untrusted", now)
    start = (now - datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tr = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{"baseUrl": "https://" + REKOR_HOST, "hashAlgorithm": "SHA2_256",
                   "publicKey": {"rawBytes": b64(der_pub(rk)), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                 "validFor": {"start": start}},
                   "logId": {"keyId": b64(hashlib.sha256(der_pub(rk)).digest())}}],
        "certificateAuthorities": [{"subject": {"organization": "sigward test", "commonName": "test fulcio root"},
                                    "uri": "https://fulcio.sigward.test",
                                    "certChain": {"certificates": [{"rawBytes": b64(root.public_bytes(serialization.Encoding.DER))}]},
                                    "validFor": {"start": start}}],
        "ctlogs": [],
        "timestampAuthorities": [{"subject": {"organization": "sigward test", "commonName": "test tsa"},
                                  "uri": "https://tsa.sigward.test",
                                  "certChain": {"certificates": [{"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))}
                                                                 for c in tsa_chain]},
                                  "validFor": {"start": start}}],
    }
    with open(os.path.join(d, "trusted_root.json"), "w") as f:
        json.dump(tr, f, indent=1)
    layout = os.path.join(d, "layout")
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    manifests = []
    for tag in sys.argv[3:]:
        desc = image(layout, "image " + tag, "amd64")
        desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        manifests.append(desc)
    for tag in ("multi1", "multi2"):
        plats = []
        for arch in ("amd64", "arm64"):
            p = image(layout, "image %s %s" % (tag, arch), arch)
            p["platform"] = {"os": "linux", "architecture": arch}
            plats.append(p)
        idx = canon({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": plats})
        desc = dict(mediaType=OCI_INDEX, **put_blob(layout, idx))
        desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        manifests.append(desc)
    with open(os.path.join(layout, "index.json"), "wb") as f:
        f.write(canon({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}))


# ------------------------------------------------------------ registry

def http(method, url, data=None, ctype=None, accept=None):
    req = urllib.request.Request(url, data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def push_blob(reg, repo, data):
    d = "sha256:" + sha(data)
    st, _, h = http("POST", "%s/v2/%s/blobs/uploads/" % (reg, repo), b"")
    assert st == 202, "blob upload start: HTTP %d" % st
    loc = h["Location"]
    if loc.startswith("/"):
        loc = reg + loc
    st, body, _ = http("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, data, "application/octet-stream")
    assert st == 201, "blob upload: HTTP %d %s" % (st, body[:200])
    return {"digest": d, "size": len(data)}


def push_manifest(reg, repo, ref, man, mtype):
    st, body, _ = http("PUT", "%s/v2/%s/manifests/%s" % (reg, repo, ref), man, mtype)
    assert st == 201, "manifest %s: HTTP %d %s" % (ref, st, body[:300])
    return "sha256:" + sha(man)


def get_manifest(reg, repo, ref, accept):
    st, body, _ = http("GET", "%s/v2/%s/manifests/%s" % (reg, repo, ref), accept=accept)
    return json.loads(body) if st == 200 else None


# ----------------------------------------------------------- signing

class Opts:
    def __init__(self, args):
        self.keyless = None
        self.expired = self.no_tlog = self.tamper = self.fallback = self.referrer = False
        self.ref = self.payload_digest = None
        self.predicate = SIGN_PREDICATE
        self.tsa = None
        i = 0
        while i < len(args):
            a = args[i]
            if a == "--keyless":
                self.keyless = (args[i + 1], args[i + 2])
                i += 2
            elif a == "--expired":
                self.expired = True
            elif a == "--no-tlog":
                self.no_tlog = True
            elif a == "--tamper":
                self.tamper = True
            elif a == "--fallback-tag":
                self.fallback = True
            elif a == "--referrer":
                self.referrer = True
            elif a == "--timestamp":
                self.tsa = args[i + 1]
                i += 1
            elif a in ("--ref", "--payload-digest", "--predicate"):
                setattr(self, a[2:].replace("-", "_"), args[i + 1])
                i += 1
            else:
                sys.exit("unknown option " + a)
            i += 1


def signer(d, o, t):
    """The signing key and its verifier (PEM certificate or public key)."""
    if not o.keyless:
        k = load_key(os.path.join(d, "cosign.key"))
        return k, pem_pub(k), None
    k = ec.generate_private_key(ec.SECP256R1())
    fk = load_key(os.path.join(d, "fulcio.key"))
    with open(os.path.join(d, "fulcio.pem"), "rb") as f:
        root = x509.load_pem_x509_certificate(f.read())
    nb = t - datetime.timedelta(minutes=1)
    if o.expired:
        nb = t - datetime.timedelta(hours=2)
    na = nb + datetime.timedelta(minutes=10)
    san, issuer = o.keyless
    issuer_der = b"\x0c" + bytes([len(issuer)]) + issuer.encode()  # UTF8String, short form
    cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(root.subject)
            .public_key(k.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(san)]), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(fk.public_key()), critical=False)
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), issuer.encode()),
                           critical=False)
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), issuer_der),
                           critical=False)
            .sign(fk, hashes.SHA256()))
    return k, cert.public_bytes(serialization.Encoding.PEM), cert


def log_entry(d, body, t):
    """A Rekor v1 entry for body at index 1 of a tree of 2: SET, proof, checkpoint."""
    rk = load_key(os.path.join(d, "rekor.key"))
    log_id = hashlib.sha256(der_pub(rk)).digest()
    it, idx = int(t.timestamp()), 1
    body_b64 = b64(body)
    set_ = sign(rk, canon({"body": body_b64, "integratedTime": it, "logID": log_id.hex(), "logIndex": idx}))
    leaf0 = hashlib.sha256(b"\x00" + b"another entry").digest()
    leaf1 = hashlib.sha256(b"\x00" + body).digest()
    root = hashlib.sha256(b"\x01" + leaf0 + leaf1).digest()
    note = "%s - 1\n2\n%s\n" % (REKOR_HOST, b64(root))
    sig = sign(rk, note.encode())
    checkpoint = note + "\n\u2014 %s %s\n" % (REKOR_HOST, b64(log_id[:4] + sig))
    return {"logIndex": str(idx), "logId": {"keyId": b64(log_id)}, "integratedTime": str(it),
            "inclusionPromise": {"signedEntryTimestamp": b64(set_)},
            "inclusionProof": {"logIndex": str(idx), "rootHash": b64(root), "treeSize": "2",
                               "hashes": [b64(leaf0)], "checkpoint": {"envelope": checkpoint}},
            "canonicalizedBody": body_b64}


def simple(d, reg, repo, digest, o):
    t = datetime.datetime.now(datetime.timezone.utc)
    host = reg.split("://", 1)[1]
    payload = canon({"critical": {"identity": {"docker-reference": o.ref or "%s/%s" % (host, repo)},
                                  "image": {"docker-manifest-digest": o.payload_digest or digest},
                                  "type": "cosign container image signature"}, "optional": None})
    k, verifier, cert = signer(d, o, t)
    sig = sign(k, payload)
    ann = {"dev.cosignproject.cosign/signature": b64(sig)}
    if cert is not None:
        ann["dev.sigstore.cosign/certificate"] = verifier.decode()
        with open(os.path.join(d, "fulcio.pem")) as f:
            ann["dev.sigstore.cosign/chain"] = f.read()
    if not o.no_tlog:
        body = canon({"apiVersion": "0.0.1", "kind": "hashedrekord",
                      "spec": {"data": {"hash": {"algorithm": "sha256", "value": sha(payload)}},
                               "signature": {"content": b64(sig), "publicKey": {"content": b64(verifier)}}}})
        e = log_entry(d, body, t)
        ann["dev.sigstore.cosign/bundle"] = json.dumps(
            {"SignedEntryTimestamp": e["inclusionPromise"]["signedEntryTimestamp"],
             "Payload": {"body": e["canonicalizedBody"], "integratedTime": int(e["integratedTime"]),
                         "logIndex": int(e["logIndex"]), "logID": base64.b64decode(e["logId"]["keyId"]).hex()}})
    if o.tsa:
        # cosign stamps the raw signature bytes
        ann["dev.sigstore.cosign/timestamp"] = json.dumps({"SignedRFC3161Timestamp": b64(timestamp(d, o.tsa, sig))})
    if o.tamper:
        payload = payload.replace(b'"optional":null', b'"optional":{"x":1}')
    layer = dict(mediaType=SIMPLE_TYPE, annotations=ann, **push_blob(reg, repo, payload))
    if o.referrer:
        # cosign 2 --registry-referrers-mode=oci-1-1
        return push_referrer(reg, repo, digest, "application/vnd.dev.cosign.artifact.sig.v1+json", [layer], {})
    tag = "sha256-%s.sig" % digest[7:]
    cur = get_manifest(reg, repo, tag, OCI_MANIFEST)
    if cur is None:
        cfg = push_blob(reg, repo, b"{}")
        cur = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
               "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **cfg), "layers": []}
    cur["layers"].append(layer)
    return push_manifest(reg, repo, tag, canon(cur), OCI_MANIFEST)


def bundle(d, reg, repo, digest, o):
    t = datetime.datetime.now(datetime.timezone.utc)
    host = reg.split("://", 1)[1]
    stmt = canon({"_type": "https://in-toto.io/Statement/v1",
                  "subject": [{"name": "%s/%s" % (host, repo), "digest": {"sha256": (o.payload_digest or digest)[7:]}}],
                  "predicateType": o.predicate, "predicate": {}})
    ptype = "application/vnd.in-toto+json"
    k, verifier, cert = signer(d, o, t)
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(stmt), stmt)
    sig = sign(k, pae)
    env = {"payload": b64(stmt), "payloadType": ptype, "signatures": [{"sig": b64(sig), "keyid": ""}]}
    vm = {"certificate": {"rawBytes": b64(cert.public_bytes(serialization.Encoding.DER))}} if cert else \
        {"publicKey": {"hint": b64(hashlib.sha256(der_pub(k)).digest())}}
    vm["tlogEntries"] = []
    if not o.no_tlog:
        body = canon({"apiVersion": "0.0.1", "kind": "dsse",
                      "spec": {"envelopeHash": {"algorithm": "sha256", "value": sha(canon(env))},
                               "payloadHash": {"algorithm": "sha256", "value": sha(stmt)},
                               "signatures": [{"signature": b64(sig), "verifier": b64(verifier)}]}})
        e = log_entry(d, body, t)
        e["kindVersion"] = {"kind": "dsse", "version": "0.0.1"}
        vm["tlogEntries"] = [e]
    if o.tamper:
        env["payload"] = b64(stmt.replace(b'"predicate":{}', b'"predicate":{"x":1}'))
    doc = canon({"mediaType": BUNDLE_TYPE, "verificationMaterial": vm, "dsseEnvelope": env})
    lay = dict(mediaType=BUNDLE_TYPE, **push_blob(reg, repo, doc))
    return push_referrer(reg, repo, digest, BUNDLE_TYPE, [lay], {"dev.sigstore.bundle.predicateType": o.predicate},
                         o.fallback)


def push_referrer(reg, repo, digest, atype, layers, annotations, fallback=False):
    """An OCI 1.1 artifact manifest whose subject is digest, pushed by digest;
    with fallback, listed in the sha256-<hex> tag's index too."""
    cfg = push_blob(reg, repo, b"{}")
    st, body, _ = http("GET", "%s/v2/%s/manifests/%s" % (reg, repo, digest),
                       accept=OCI_INDEX + ", " + OCI_MANIFEST)
    assert st == 200, "subject %s: HTTP %d" % (digest, st)
    subj_type = json.loads(body).get("mediaType", OCI_MANIFEST)
    man = canon({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": atype,
                 "config": dict(mediaType=EMPTY, **cfg), "layers": layers,
                 "subject": {"mediaType": subj_type, "digest": digest, "size": len(body)},
                 "annotations": annotations})
    md = "sha256:" + sha(man)
    push_manifest(reg, repo, md, man, OCI_MANIFEST)
    if fallback:
        tag = "sha256-" + digest[7:]
        idx = get_manifest(reg, repo, tag, OCI_INDEX) or {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
        idx["manifests"].append({"mediaType": OCI_MANIFEST, "digest": md, "size": len(man),
                                 "artifactType": atype})
        push_manifest(reg, repo, tag, canon(idx), OCI_INDEX)
    return md


def run(argv):
    cmd = argv[0]
    if cmd == "init":
        init(argv[1])
        return
    d, reg, repo, digest = argv[1:5]
    o = Opts(argv[5:])
    print(simple(d, reg, repo, digest, o) if cmd == "simple" else bundle(d, reg, repo, digest, o))


def main():
    if sys.argv[1] == "batch":
        # One command line per input line (shell words): one interpreter start
        # for all the signatures of a test.
        import shlex
        for line in sys.stdin:
            if line.strip():
                run(shlex.split(line))
        return
    run(sys.argv[1:])


if __name__ == "__main__":
    main()
