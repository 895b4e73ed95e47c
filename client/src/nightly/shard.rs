//! `--shard i/n`: several nightly workers split the tenants without overlap. Worker `i` of `n`
//! takes the tenants whose stable hash (FNV-1a, 64 bit, of the tenant id's bytes) is `i` modulo
//! `n`. The hash is fixed (not Rust's randomised `HashMap` hasher), so every worker, on any
//! machine and any build, agrees on who owns which tenant: the `n` shards partition the tenants.

use std::fmt;
use std::str::FromStr;

/// One worker's share of the tenants: index `index` of `count` shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

/// A `--shard` value that is not `i/n` with `0 <= i < n`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard {value:?}: {why} (expected i/n with 0 <= i < n, e.g. 0/2 and 1/2)")]
pub struct ShardError {
    value: String,
    why: &'static str,
}

impl Shard {
    /// Shard `index` of `count`.
    pub fn new(index: u64, count: u64) -> Result<Self, ShardError> {
        let value = format!("{index}/{count}");
        if count == 0 {
            return Err(ShardError { value, why: "n must be at least 1" });
        }
        if index >= count {
            return Err(ShardError { value, why: "i must be less than n" });
        }
        Ok(Shard { index, count })
    }

    /// This shard's index.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of shards.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether `tenant` belongs to this shard.
    pub fn contains(&self, tenant: &str) -> bool {
        fnv1a(tenant.as_bytes()) % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why| ShardError { value: s.to_string(), why };
        let (i, n) = s.trim().split_once('/').ok_or_else(|| bad("no '/'"))?;
        let i = i.trim().parse().map_err(|_| bad("i is not a non-negative integer"))?;
        let n = n.trim().parse().map_err(|_| bad("n is not a non-negative integer"))?;
        Shard::new(i, n).map_err(|e| ShardError { value: s.to_string(), why: e.why })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// FNV-1a, 64 bit.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        assert_eq!("1/3".parse::<Shard>().unwrap(), Shard::new(1, 3).unwrap());
        assert_eq!("0/1".parse::<Shard>().unwrap().to_string(), "0/1");
        for bad in ["", "1", "3/3", "4/3", "0/0", "-1/2", "a/2", "1/b", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stable_hash() {
        // Known FNV-1a 64 values: the split must never change between builds.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn shards_partition_tenants() {
        let tenants: Vec<String> = (0..30).map(|i| format!("tenant-{i}")).collect();
        let shards: Vec<Shard> = (0..3).map(|i| Shard::new(i, 3).unwrap()).collect();
        for t in &tenants {
            assert_eq!(shards.iter().filter(|s| s.contains(t)).count(), 1, "{t}");
        }
        // Every shard gets some of them.
        for s in &shards {
            assert!(tenants.iter().any(|t| s.contains(t)), "{s}");
        }
    }
}
