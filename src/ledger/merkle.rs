//! The Merkle tree over the ledger, hashed as RFC 6962 §2.1 says (SHA-256,
//! `0x00` before a leaf, `0x01` before two children), with its audit
//! (inclusion) and consistency proofs, and their verification as RFC 9162
//! §2.1.3.2 and §2.1.4.2 give them. A leaf's data is an entry's 32-byte
//! hash. Pure.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of an empty tree: the hash of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH over leaves given by their leaf hashes.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the audit path of leaf `index` (RFC 6962 §2.1.1); `None`
/// when the index is outside the tree.
pub fn inclusion_proof(leaves: &[Hash], index: usize) -> Option<Vec<Hash>> {
    (index < leaves.len()).then(|| path(leaves, index))
}

fn path(leaves: &[Hash], m: usize) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut proof = path(&leaves[..k], m);
        proof.push(root(&leaves[k..]));
        proof
    } else {
        let mut proof = path(&leaves[k..], m - k);
        proof.push(root(&leaves[..k]));
        proof
    }
}

/// PROOF(m, D[n]): the consistency proof between the first `old_size`
/// leaves and all of them (RFC 6962 §2.1.2); `None` unless
/// `0 < old_size <= leaves.len()`.
pub fn consistency_proof(leaves: &[Hash], old_size: usize) -> Option<Vec<Hash>> {
    (old_size > 0 && old_size <= leaves.len()).then(|| subproof(old_size, leaves, true))
}

fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if complete {
            Vec::new()
        } else {
            vec![root(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut proof = subproof(m, &leaves[..k], complete);
        proof.push(root(&leaves[k..]));
        proof
    } else {
        let mut proof = subproof(m - k, &leaves[k..], false);
        proof.push(root(&leaves[..k]));
        proof
    }
}

/// Right-shifts both indexes until `f`'s lowest bit is set or `f` is 0.
fn shift_to_set_bit(f: &mut u64, s: &mut u64) {
    while *f & 1 == 0 && *f != 0 {
        *f >>= 1;
        *s >>= 1;
    }
}

/// Whether `proof` shows the leaf with hash `leaf` at `index` in a tree of
/// `size` leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            shift_to_set_bit(&mut f_n, &mut s_n);
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// Whether `proof` shows that the tree of `old_size` leaves with root
/// `old_root` is a prefix of the tree of `new_size` leaves with root
/// `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if proof.is_empty() {
        return false;
    }
    // With a complete old tree, its root starts the walk.
    let path: Vec<Hash> = if old_size.is_power_of_two() {
        std::iter::once(*old_root)
            .chain(proof.iter().copied())
            .collect()
    } else {
        proof.to_vec()
    };
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            shift_to_set_bit(&mut f_n, &mut s_n);
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    f_r == *old_root && s_r == *new_root && s_n == 0
}

/// The root of a growing tree without keeping its leaves: the roots of the
/// perfect subtrees the leaves so far make, largest first (at most one per
/// bit of the size). The root at any size is their fold from the right,
/// which is MTH because RFC 6962 splits at the largest power of two.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    subtrees: Vec<(u64, Hash)>,
    size: u64,
}

impl Accumulator {
    /// Adds a leaf, given by its leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = (1u64, leaf);
        while let Some(&(size, left)) = self.subtrees.last() {
            if size != node.0 {
                break;
            }
            self.subtrees.pop();
            node = (size * 2, node_hash(&left, &node.1));
        }
        self.subtrees.push(node);
        self.size += 1;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// MTH of the leaves pushed so far.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(_, last)) = subtrees.next() else {
            return empty_root();
        };
        subtrees.fold(last, |right, (_, left)| node_hash(left, &right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Hash {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    /// The certificate-transparency test leaves (RFC 6962's reference
    /// implementation's test vectors).
    fn leaves() -> Vec<Hash> {
        let data: [&[u8]; 8] = [
            b"",
            b"\x00",
            b"\x10",
            b"\x20\x21",
            b"\x30\x31",
            b"\x40\x41\x42\x43",
            b"\x50\x51\x52\x53\x54\x55\x56\x57",
            b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
        ];
        data.iter().map(|d| leaf_hash(d)).collect()
    }

    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    #[test]
    fn the_accumulator_gives_the_root_at_every_size() {
        let mut leaves: Vec<Hash> = leaves();
        leaves.extend((0u8..40).map(|i| leaf_hash(&[i, 7])));
        let mut tree = Accumulator::default();
        assert_eq!(tree.root(), empty_root());
        for (i, leaf) in leaves.iter().enumerate() {
            tree.push(*leaf);
            assert_eq!(tree.size(), i as u64 + 1);
            assert_eq!(tree.root(), root(&leaves[..=i]), "size {}", i + 1);
        }
    }

    #[test]
    fn roots_match_the_rfc_6962_test_vectors() {
        assert_eq!(
            empty_root(),
            hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        let leaves = leaves();
        for (size, expected) in (1..=8).zip(ROOTS) {
            assert_eq!(root(&leaves[..size]), hex(expected), "size {size}");
        }
    }

    #[test]
    fn audit_paths_match_the_test_vectors_and_verify() {
        let leaves = leaves();
        let vectors: [(usize, usize, &[&str]); 4] = [
            (
                0,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                &[
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                3,
                &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                &[
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (index, size, expected) in vectors {
            let tree = &leaves[..size];
            let proof = inclusion_proof(tree, index).unwrap();
            let expected: Vec<Hash> = expected.iter().map(|h| hex(h)).collect();
            assert_eq!(proof, expected, "PATH({index}, D[{size}])");
            let top = root(tree);
            assert!(verify_inclusion(
                index as u64,
                size as u64,
                &leaves[index],
                &proof,
                &top
            ));
            // Another leaf, another index or another root do not verify.
            let other = (index + 1) % size;
            assert!(!verify_inclusion(
                index as u64,
                size as u64,
                &leaves[other],
                &proof,
                &top
            ));
            assert!(!verify_inclusion(
                other as u64,
                size as u64,
                &leaves[index],
                &proof,
                &top
            ));
            assert!(!verify_inclusion(
                index as u64,
                size as u64,
                &leaves[index],
                &proof,
                &leaves[0]
            ));
        }
        assert_eq!(inclusion_proof(&leaves[..3], 3), None);
    }

    #[test]
    fn consistency_proofs_match_the_test_vectors_and_verify() {
        let leaves = leaves();
        let vectors: [(usize, usize, &[&str]); 4] = [
            (1, 1, &[]),
            (
                1,
                8,
                &[
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                &[
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                &[
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
        ];
        for (old, new, expected) in vectors {
            let proof = consistency_proof(&leaves[..new], old).unwrap();
            let expected: Vec<Hash> = expected.iter().map(|h| hex(h)).collect();
            assert_eq!(proof, expected, "PROOF({old}, D[{new}])");
            let (old_root, new_root) = (root(&leaves[..old]), root(&leaves[..new]));
            assert!(verify_consistency(
                old as u64, new as u64, &old_root, &new_root, &proof
            ));
            if old < new {
                assert!(!verify_consistency(
                    old as u64, new as u64, &new_root, &new_root, &proof
                ));
            }
        }
    }

    #[test]
    fn every_proof_of_every_small_tree_verifies() {
        let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for size in 1..=leaves.len() {
            let tree = &leaves[..size];
            let top = root(tree);
            for index in 0..size {
                let proof = inclusion_proof(tree, index).unwrap();
                assert!(verify_inclusion(
                    index as u64,
                    size as u64,
                    &tree[index],
                    &proof,
                    &top
                ));
            }
            for old in 1..=size {
                let proof = consistency_proof(tree, old).unwrap();
                let old_root = root(&tree[..old]);
                assert!(
                    verify_consistency(old as u64, size as u64, &old_root, &top, &proof),
                    "{old} → {size}"
                );
                let mut bent = proof.clone();
                if let Some(first) = bent.first_mut() {
                    first[0] ^= 1;
                    assert!(!verify_consistency(
                        old as u64,
                        size as u64,
                        &old_root,
                        &top,
                        &bent
                    ));
                }
            }
        }
    }
}
