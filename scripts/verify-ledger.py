#!/usr/bin/env python3
"""Re-verifies Gorod's resolution ledger independently of Gorod's own code,
with the Python standard library only.

What it checks, as docs/ledger.md defines it:
  * an export (JSON lines from /api/v1/ledger/export): every entry's number,
    link to the previous entry, and SHA-256 over its canonical text;
  * a checkpoint (from /api/v1/ledger/checkpoints/latest): its Ed25519
    signature under the public key you trust, and that the export's first
    `size` entries end in its head hash and make its RFC 6962 Merkle root;
  * inclusion proofs (from /api/v1/ledger/inclusion?report=N): that each
    entry is in the signed tree;
  * a consistency proof (from /api/v1/ledger/consistency?from=M&to=N):
    that the older signed tree is a prefix of the newer one.

Either fetch everything from a running instance:
    scripts/verify-ledger.py --url http://127.0.0.1:8080 [--report 42]
or check files saved earlier:
    scripts/verify-ledger.py --public-key HEX [--export FILE]
        [--checkpoint FILE] [--inclusion FILE] [--consistency FILE]

With --url the public key is the one the instance publishes unless
--public-key names the one you trust. Exits 0 when everything holds, 1
naming the first thing that does not, 2 on bad usage or unreadable input.
"""

import argparse
import hashlib
import json
import sys
import urllib.request

GENESIS = "0" * 64

# --- Ed25519 verification (RFC 8032 section 6, the reference algorithm) ---

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    d = 2 * a[2] * b[2] % P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f, g * h, f * g, e * h)


def _mul(s, point):
    result = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            result = _add(result, point)
        point = _add(point, point)
        s >>= 1
    return result


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


def _decompress(data):
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


# --- The ledger's hashes ---


class Broken(Exception):
    pass


def canonical(entry):
    photos = ",".join(entry["photo_digests"]) or "-"
    # An entry recording its photos' checks is version 2, with the checks
    # just before prev_hash.
    evidence = entry.get("evidence")
    version = 2 if evidence is not None else 1
    checks = f"evidence={evidence}\n" if evidence is not None else ""
    return (
        f"gorod-ledger-v{version}\n"
        f"seq={entry['seq']}\n"
        f"report_id={entry['report_id']}\n"
        f"report_number={entry['report_number']}\n"
        f"kind={entry['kind']}\n"
        f"actor={entry['actor']}\n"
        f"recorded_at={entry['recorded_at']}\n"
        f"answer_digest={entry['answer_digest'] or '-'}\n"
        f"photo_digests={photos}\n"
        f"{checks}"
        f"prev_hash={entry['prev_hash']}\n"
    )


def entry_hash(entry):
    return hashlib.sha256(canonical(entry).encode("utf-8")).hexdigest()


def leaf_hash(entry_hash_hex):
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """The root of a growing RFC 6962 tree from its perfect subtrees."""

    def __init__(self):
        self.subtrees = []  # (size, hash), largest first

    def push(self, leaf):
        size, node = 1, leaf
        while self.subtrees and self.subtrees[-1][0] == size:
            left = self.subtrees.pop()[1]
            size, node = size * 2, node_hash(left, node)
        self.subtrees.append((size, node))

    def root(self):
        if not self.subtrees:
            return hashlib.sha256(b"").digest()
        root = self.subtrees[-1][1]
        for _, left in reversed(self.subtrees[:-1]):
            root = node_hash(left, root)
        return root


KINDS = {"resolved", "confirmed", "refuted", "auto_confirmed", "reopened", "closed"}


def verify_chain(entries, checkpoint=None):
    """Checks the chain and, at the checkpoint's size, its head and root."""
    prev = GENESIS
    tree = Tree()
    if checkpoint and checkpoint["size"] == 0:
        check_against(checkpoint, 0, prev, tree)
    for position, entry in enumerate(entries, start=1):
        if entry["seq"] != position:
            raise Broken(f"entry {position}: expected sequence number {position}, found {entry['seq']}")
        if entry["prev_hash"] != prev:
            raise Broken(f"entry {position}: its previous hash is not the previous entry's hash")
        if entry["kind"] not in KINDS:
            raise Broken(f"entry {position}: '{entry['kind']}' is not a ledger kind")
        if entry_hash(entry) != entry["hash"]:
            raise Broken(f"entry {position}: its hash does not match its contents")
        prev = entry["hash"]
        tree.push(leaf_hash(prev))
        if checkpoint and checkpoint["size"] == position:
            check_against(checkpoint, position, prev, tree)
    if checkpoint and checkpoint["size"] > len(entries):
        raise Broken(
            f"entry {len(entries) + 1}: missing; the export has {len(entries)} entries "
            f"but the checkpoint covers {checkpoint['size']}"
        )
    return len(entries)


def check_against(checkpoint, size, head, tree):
    if checkpoint["head_hash"] != head or checkpoint["root_hash"] != tree.root().hex():
        raise Broken(f"entry {max(size, 1)}: the entries up to {size} are not the ones the checkpoint covers")


def checkpoint_message(checkpoint):
    return (
        "gorod-checkpoint-v1\n"
        f"size={checkpoint['size']}\n"
        f"head_hash={checkpoint['head_hash']}\n"
        f"root_hash={checkpoint['root_hash']}\n"
        f"signed_at={checkpoint['signed_at']}\n"
    ).encode("utf-8")


def verify_checkpoint(checkpoint, public_key):
    if checkpoint["public_key"] != public_key:
        raise Broken(f"checkpoint of {checkpoint['size']}: signed by {checkpoint['public_key']}, not by the trusted key")
    if not ed25519_verify(
        bytes.fromhex(public_key), checkpoint_message(checkpoint), bytes.fromhex(checkpoint["signature"])
    ):
        raise Broken(f"checkpoint of {checkpoint['size']}: its signature does not verify")


def shift(f, s):
    while f & 1 == 0 and f != 0:
        f, s = f >> 1, s >> 1
    return f, s


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    f, s, r = index, size - 1, leaf
    for p in path:
        if s == 0:
            return False
        if f & 1 == 1 or f == s:
            r = node_hash(p, r)
            f, s = shift(f, s)
        else:
            r = node_hash(r, p)
        f, s = f >> 1, s >> 1
    return s == 0 and r == root


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162 section 2.1.4.2."""
    if old_size == 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    if old_size & (old_size - 1) == 0:
        proof = [old_root] + proof
    f, s = old_size - 1, new_size - 1
    while f & 1 == 1:
        f, s = f >> 1, s >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if s == 0:
            return False
        if f & 1 == 1 or f == s:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            f, s = shift(f, s)
        else:
            sr = node_hash(sr, c)
        f, s = f >> 1, s >> 1
    return fr == old_root and sr == new_root and s == 0


def check_inclusion(inclusion, public_key):
    checkpoint = inclusion["checkpoint"]
    verify_checkpoint(checkpoint, public_key)
    root = bytes.fromhex(checkpoint["root_hash"])
    for proof in inclusion["proofs"]:
        entry = proof["entry"]
        if entry_hash(entry) != entry["hash"]:
            raise Broken(f"entry {entry['seq']}: its hash does not match its contents")
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        if not verify_inclusion(proof["leaf_index"], checkpoint["size"], leaf_hash(entry["hash"]), path, root):
            raise Broken(f"entry {entry['seq']}: the inclusion proof does not lead to the signed root")
    return checkpoint, len(inclusion["proofs"])


def check_consistency(consistency, public_key):
    old, new = consistency["from"], consistency["to"]
    verify_checkpoint(old, public_key)
    verify_checkpoint(new, public_key)
    proof = [bytes.fromhex(h) for h in consistency["proof"]]
    if not verify_consistency(
        old["size"], new["size"], bytes.fromhex(old["root_hash"]), bytes.fromhex(new["root_hash"]), proof
    ):
        raise Broken(f"checkpoint of {old['size']}: it is not a prefix of the checkpoint of {new['size']}")


# --- Input ---


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read().decode("utf-8")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def entries_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running instance, e.g. http://127.0.0.1:8080")
    parser.add_argument("--report", type=int, help="with --url: also prove this report's entries")
    parser.add_argument("--public-key", help="the Ed25519 public key you trust, hex")
    parser.add_argument("--export", help="a saved export (JSON lines)")
    parser.add_argument("--checkpoint", help="a saved checkpoint (JSON)")
    parser.add_argument("--inclusion", help="a saved inclusion answer (JSON)")
    parser.add_argument("--consistency", help="a saved consistency answer (JSON)")
    args = parser.parse_args(argv)
    try:
        if args.url:
            base = args.url.rstrip("/") + "/api/v1/ledger"
            public_key = args.public_key or json.loads(fetch(base + "/key"))["public_key"]
            export = fetch(base + "/export")
            checkpoint = json.loads(fetch(base + "/checkpoints/latest"))
            inclusion = json.loads(fetch(f"{base}/inclusion?report={args.report}")) if args.report else None
            consistency = None
        else:
            if not args.public_key:
                parser.error("--public-key is required without --url")
            public_key = args.public_key
            export = read(args.export) if args.export else None
            checkpoint = json.loads(read(args.checkpoint)) if args.checkpoint else None
            inclusion = json.loads(read(args.inclusion)) if args.inclusion else None
            consistency = json.loads(read(args.consistency)) if args.consistency else None
    except (OSError, ValueError, KeyError) as e:
        print(f"verify-ledger: cannot read the input: {e}", file=sys.stderr)
        return 2
    public_key = public_key.strip().lower()
    said = []
    try:
        if checkpoint is not None:
            verify_checkpoint(checkpoint, public_key)
            said.append(f"checkpoint of {checkpoint['size']} entries signed at {checkpoint['signed_at']}: signature valid")
        if export is not None:
            count = verify_chain(entries_of(export), checkpoint)
            said.append(f"chain of {count} entries intact" + (", matching the checkpoint" if checkpoint else ""))
        if inclusion is not None:
            signed, proved = check_inclusion(inclusion, public_key)
            said.append(f"{proved} entries proved in the signed tree of {signed['size']}")
        if consistency is not None:
            check_consistency(consistency, public_key)
            said.append(
                f"checkpoint of {consistency['from']['size']} is a prefix of the one of {consistency['to']['size']}"
            )
    except Broken as broken:
        print(f"verify-ledger: BROKEN: {broken}", file=sys.stderr)
        return 1
    except (KeyError, TypeError, ValueError) as e:
        print(f"verify-ledger: BROKEN: the input is malformed: {e}", file=sys.stderr)
        return 1
    if not said:
        parser.error("nothing to verify: give --url or some of --export, --checkpoint, --inclusion, --consistency")
    for line in said:
        print(line)
    print("ledger verified")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
