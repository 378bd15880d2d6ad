//! The ledger's Merkle tree kept as C2SP `tlog-tiles` (tile height 8), so
//! that a proof or a root reads a few stored tiles instead of every entry.
//!
//! Tile `(level, index)` holds the hashes of the complete nodes at height
//! `8 × level` numbered `256 × index` onwards, 32 bytes each, at most 256:
//! level 0 holds the leaf hashes, level 1 the roots of full level-0 tiles,
//! and so on. The rightmost tile of each level grows as entries are appended;
//! a full tile never changes again.
//!
//! Any node the RFC 6962 proofs need is a perfect subtree at some height
//! `h`: it is the root of `2^(h mod 8)` consecutive hashes of one tile at
//! level `h / 8`. A proof's subtrees lie in at most two tiles per level (the
//! one above the leaf and the right edge), so a proof reads
//! `O(log₂₅₆ n)` tiles. Pure: `db::ledger` stores and loads the tiles.

use std::collections::BTreeMap;

use super::merkle::{self, Hash};

/// Hashes a full tile holds.
pub const WIDTH: u64 = 256;
/// Levels of the tree one tile spans.
pub const HEIGHT: u32 = 8;

/// Where a tile is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TileId {
    pub level: u32,
    pub index: u64,
}

/// Tiles by where they are.
pub type Tiles = BTreeMap<TileId, Vec<Hash>>;

/// Hashes at tile level `level` in a tree of `size` leaves.
fn nodes_at(size: u64, level: u32) -> u64 {
    size.checked_shr(HEIGHT * level).unwrap_or(0)
}

/// How many hashes tile `id` holds in a tree of `size` leaves.
pub fn width_at(id: TileId, size: u64) -> u64 {
    nodes_at(size, id.level)
        .saturating_sub(id.index * WIDTH)
        .min(WIDTH)
}

/// The tiles that are not full in a tree of `size` leaves: the only ones
/// appending changes, each with the width it has.
pub fn edge(size: u64) -> Vec<(TileId, u64)> {
    (0..)
        .map(|level| (level, nodes_at(size, level)))
        .take_while(|&(_, nodes)| nodes > 0)
        .filter(|&(_, nodes)| nodes % WIDTH > 0)
        .map(|(level, nodes)| {
            (
                TileId {
                    level,
                    index: nodes / WIDTH,
                },
                nodes % WIDTH,
            )
        })
        .collect()
}

/// Appends the leaf hashes to the tree of `size` leaves whose edge tiles
/// (`edge(size)`) are given, and returns every tile that changed, whole.
/// `Err` names a given tile whose width does not fit `size`.
pub fn grow(size: u64, mut tiles: Tiles, leaves: &[Hash]) -> Result<Tiles, TileId> {
    let mut changed = Vec::new();
    for (offset, leaf) in (0u64..).zip(leaves) {
        let (mut n, mut level, mut hash) = (size + offset, 0, *leaf);
        loop {
            let id = TileId {
                level,
                index: n / WIDTH,
            };
            let tile = tiles.entry(id).or_default();
            if tile.len() as u64 != n % WIDTH {
                return Err(id);
            }
            tile.push(hash);
            changed.push(id);
            if (tile.len() as u64) < WIDTH {
                break;
            }
            hash = merkle::root(tile);
            n /= WIDTH;
            level += 1;
        }
    }
    Ok(tiles
        .into_iter()
        .filter(|(id, _)| changed.contains(id))
        .collect())
}

/// A perfect subtree: `2^height` leaves from `index × 2^height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    height: u32,
    index: u64,
}

impl Node {
    /// The tile holding the hashes this node is the root of, and where.
    fn place(self) -> (TileId, usize, usize) {
        let level = self.height / HEIGHT;
        let spread = self.height % HEIGHT;
        let first = self.index << spread;
        let offset = (first % WIDTH) as usize;
        (
            TileId {
                level,
                index: first / WIDTH,
            },
            offset,
            offset + (1usize << spread),
        )
    }
}

/// The perfect subtrees the MTH of leaves `lo..hi` is made of, largest
/// first (`lo` is aligned as every RFC 6962 subtree is).
fn pieces(lo: u64, hi: u64) -> Vec<Node> {
    let mut out = Vec::new();
    let mut at = lo;
    while at < hi {
        let height = 63 - (hi - at).leading_zeros();
        out.push(Node {
            height,
            index: at >> height,
        });
        at += 1 << height;
    }
    out
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The leaf ranges whose MTHs make PATH(m, D[lo..hi]) (RFC 6962 §2.1.1).
fn path_ranges(lo: u64, hi: u64, m: u64, out: &mut Vec<(u64, u64)>) {
    if hi - lo <= 1 {
        return;
    }
    let k = split(hi - lo);
    if m < lo + k {
        path_ranges(lo, lo + k, m, out);
        out.push((lo + k, hi));
    } else {
        path_ranges(lo + k, hi, m, out);
        out.push((lo, lo + k));
    }
}

/// The leaf ranges whose MTHs make SUBPROOF(m, D[lo..hi], complete)
/// (RFC 6962 §2.1.2).
fn subproof_ranges(m: u64, lo: u64, hi: u64, complete: bool, out: &mut Vec<(u64, u64)>) {
    if lo + m == hi {
        if !complete {
            out.push((lo, hi));
        }
        return;
    }
    let k = split(hi - lo);
    if m <= k {
        subproof_ranges(m, lo, lo + k, complete, out);
        out.push((lo + k, hi));
    } else {
        subproof_ranges(m - k, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

/// What a proof is made of: the leaf ranges whose roots it lists, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    ranges: Vec<(u64, u64)>,
}

impl Plan {
    /// The audit path of leaf `index` in the tree of `size` leaves; `None`
    /// outside it.
    pub fn inclusion(index: u64, size: u64) -> Option<Plan> {
        (index < size).then(|| {
            let mut ranges = Vec::new();
            path_ranges(0, size, index, &mut ranges);
            Plan { ranges }
        })
    }

    /// The consistency proof from `old_size` leaves to `new_size`; `None`
    /// unless `0 < old_size <= new_size`.
    pub fn consistency(old_size: u64, new_size: u64) -> Option<Plan> {
        (old_size > 0 && old_size <= new_size).then(|| {
            let mut ranges = Vec::new();
            subproof_ranges(old_size, 0, new_size, true, &mut ranges);
            Plan { ranges }
        })
    }

    /// The root of the tree of `size` leaves, as a one-hash "proof".
    pub fn root(size: u64) -> Plan {
        Plan {
            ranges: vec![(0, size)],
        }
    }

    /// The tiles the proof reads.
    pub fn tiles(&self) -> Vec<TileId> {
        let mut ids: Vec<TileId> = self
            .ranges
            .iter()
            .flat_map(|&(lo, hi)| pieces(lo, hi))
            .map(|node| node.place().0)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The proof's hashes from the tiles it reads; `Err` names a tile that
    /// is missing or too narrow.
    pub fn hashes(&self, tiles: &Tiles) -> Result<Vec<Hash>, TileId> {
        self.ranges
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    return Ok(merkle::empty_root());
                }
                let roots = pieces(lo, hi)
                    .into_iter()
                    .map(|node| {
                        let (id, from, to) = node.place();
                        tiles
                            .get(&id)
                            .and_then(|hashes| hashes.get(from..to))
                            .map(merkle::root)
                            .ok_or(id)
                    })
                    .collect::<Result<Vec<Hash>, TileId>>()?;
                let mut right = roots.iter().rev();
                let last = *right.next().ok_or(TileId { level: 0, index: 0 })?;
                Ok(right.fold(last, |acc, left| merkle::node_hash(left, &acc)))
            })
            .collect()
    }
}

/// The C2SP path of a tile below the log's prefix: `tile/<L>/<N>` with `N`
/// in groups of three digits (`x001/x234/067`), and `.p/<W>` when partial.
pub fn path(id: TileId, width: u64) -> String {
    format!(
        "tile/{}/{}{}",
        id.level,
        index_path(id.index),
        partial(width)
    )
}

/// The C2SP path of an entry bundle.
pub fn entries_path(index: u64, width: u64) -> String {
    format!("tile/entries/{}{}", index_path(index), partial(width))
}

fn partial(width: u64) -> String {
    if width == WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

fn index_path(mut n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    while n >= 1000 {
        n /= 1000;
        parts.push(format!("x{:03}", n % 1000));
    }
    parts.reverse();
    parts.join("/")
}

/// What a C2SP tile path asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Hashes of tile `id`, the first `width` of them.
    Hashes { id: TileId, width: u64 },
    /// Entries of bundle `index`, the first `width` of them.
    Entries { index: u64, width: u64 },
}

/// Reads a path below `tile/` (`0/x001/234.p/7`, `entries/000`); `None`
/// when it is not a tile path.
pub fn parse_path(path: &str) -> Option<Asked> {
    let (body, width) = match path.split_once(".p/") {
        Some((body, w)) => {
            let w: u64 = digits(w)?;
            (body, (1..WIDTH).contains(&w).then_some(w)?)
        }
        None => (path, WIDTH),
    };
    let (first, rest) = body.split_once('/')?;
    let mut index: u64 = 0;
    let parts: Vec<&str> = rest.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let group = if last {
            part.strip_prefix('x').is_none().then_some(*part)?
        } else {
            part.strip_prefix('x')?
        };
        if group.len() != 3 {
            return None;
        }
        index = index.checked_mul(1000)?.checked_add(digits(group)?)?;
    }
    // No leading zero groups: one path per tile.
    if parts.len() > 1 && parts[0] == "x000" {
        return None;
    }
    if first == "entries" {
        return Some(Asked::Entries { index, width });
    }
    let level: u32 = digits(first).filter(|l: &u32| *l < 8)?;
    if first.len() > 1 && first.starts_with('0') {
        return None;
    }
    Some(Asked::Hashes {
        id: TileId { level, index },
        width,
    })
}

fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// An entry bundle: each leaf's data (an entry's 32-byte hash) after its
/// length as two big-endian bytes.
pub fn bundle(leaf_data: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(leaf_data.len() * 34);
    for data in leaf_data {
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect()
    }

    /// Tiles grown in uneven batches, as appends make them.
    fn grown(leaves: &[Hash]) -> Tiles {
        let mut all = Tiles::new();
        let mut size = 0u64;
        for batch in leaves.chunks(37) {
            let edge_tiles: Tiles = edge(size)
                .into_iter()
                .map(|(id, _)| (id, all[&id].clone()))
                .collect();
            all.extend(grow(size, edge_tiles, batch).unwrap());
            size += batch.len() as u64;
        }
        all
    }

    #[test]
    fn proofs_from_tiles_are_the_proofs_from_all_leaves() {
        let all = leaves(70_000);
        let tiles = grown(&all);
        for size in [1u64, 2, 3, 255, 256, 257, 65_535, 65_536, 65_537, 70_000] {
            let part = &all[..size as usize];
            assert_eq!(
                Plan::root(size).hashes(&tiles).unwrap(),
                vec![merkle::root(part)],
                "root at {size}"
            );
            for index in [0, 1, size / 2, size.saturating_sub(2), size - 1] {
                if index >= size {
                    continue;
                }
                let plan = Plan::inclusion(index, size).unwrap();
                assert_eq!(
                    plan.hashes(&tiles).unwrap(),
                    merkle::inclusion_proof(part, index as usize).unwrap(),
                    "inclusion of {index} at {size}"
                );
                assert!(plan.tiles().len() <= 2 * 3, "{:?}", plan.tiles());
            }
            for old in [1, size / 3, size - 1, size] {
                if old == 0 {
                    continue;
                }
                let plan = Plan::consistency(old, size).unwrap();
                assert_eq!(
                    plan.hashes(&tiles).unwrap(),
                    merkle::consistency_proof(part, old as usize).unwrap(),
                    "consistency {old} to {size}"
                );
            }
        }
        assert_eq!(Plan::inclusion(5, 5), None);
        assert_eq!(Plan::consistency(0, 5), None);
    }

    #[test]
    fn full_tiles_hold_256_hashes_and_the_edge_the_rest() {
        let tiles = grown(&leaves(70_000));
        // 70,000 leaves: 273 full level-0 tiles and one of 112; one full
        // level-1 tile and one of 17; one level-2 hash.
        assert_eq!(
            tiles[&TileId {
                level: 0,
                index: 273
            }]
                .len(),
            112
        );
        assert_eq!(tiles[&TileId { level: 1, index: 1 }].len(), 17);
        assert_eq!(tiles[&TileId { level: 2, index: 0 }].len(), 1);
        assert_eq!(
            edge(70_000),
            vec![
                (
                    TileId {
                        level: 0,
                        index: 273
                    },
                    112
                ),
                (TileId { level: 1, index: 1 }, 17),
                (TileId { level: 2, index: 0 }, 1)
            ]
        );
        assert!(grow(5, Tiles::new(), &leaves(1)).is_err());
    }

    #[test]
    fn tile_paths_are_c2sp_paths() {
        let id = |level, index| TileId { level, index };
        assert_eq!(path(id(0, 1_234_067), 256), "tile/0/x001/x234/067");
        assert_eq!(path(id(1, 5), 17), "tile/1/005.p/17");
        assert_eq!(entries_path(0, 3), "tile/entries/000.p/3");
        for (text, asked) in [
            (
                "0/x001/x234/067",
                Asked::Hashes {
                    id: id(0, 1_234_067),
                    width: 256,
                },
            ),
            (
                "1/005.p/17",
                Asked::Hashes {
                    id: id(1, 5),
                    width: 17,
                },
            ),
            (
                "entries/x001/000.p/255",
                Asked::Entries {
                    index: 1000,
                    width: 255,
                },
            ),
        ] {
            assert_eq!(parse_path(text), Some(asked), "{text}");
        }
        for bad in [
            "0/5",
            "0/x000/005",
            "0/005.p/256",
            "0/005.p/0",
            "9/005",
            "00/005",
            "0/1234",
            "entries",
            "0/x01/005",
            "0/005/",
        ] {
            assert_eq!(parse_path(bad), None, "{bad}");
        }
    }
}
