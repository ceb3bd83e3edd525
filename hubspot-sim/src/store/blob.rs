//! Compact per-record property storage: one heap allocation per record holding
//! `(interned key, UTF-8 value)` pairs, so a million contacts take a few hundred megabytes
//! instead of a `BTreeMap<String, String>` each.

/// Interned property-name id within one object type of one portal.
pub type PropKey = u16;

/// Encoded as repeated `[key: u16 LE][len: LEB128][bytes]`, sorted by key, no duplicates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PropertyBlob(Box<[u8]>);

impl PropertyBlob {
    /// Builds a blob from pairs; later duplicates win, empty values are dropped.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (PropKey, &'a str)>) -> Self {
        let mut sorted: Vec<(PropKey, &str)> = pairs.into_iter().collect();
        sorted.sort_by_key(|(key, _)| *key);
        let mut deduped: Vec<(PropKey, &str)> = Vec::with_capacity(sorted.len());
        for (key, value) in sorted {
            match deduped.last_mut() {
                Some(last) if last.0 == key => last.1 = value,
                _ => deduped.push((key, value)),
            }
        }
        let mut bytes = Vec::with_capacity(deduped.iter().map(|(_, v)| v.len() + 4).sum());
        for (key, value) in deduped.into_iter().filter(|(_, v)| !v.is_empty()) {
            bytes.extend_from_slice(&key.to_le_bytes());
            let mut len = value.len();
            loop {
                let byte = (len & 0x7f) as u8;
                len >>= 7;
                if len == 0 {
                    bytes.push(byte);
                    break;
                }
                bytes.push(byte | 0x80);
            }
            bytes.extend_from_slice(value.as_bytes());
        }
        Self(bytes.into_boxed_slice())
    }

    /// All `(key, value)` pairs in key order.
    pub fn iter(&self) -> BlobIter<'_> {
        BlobIter { rest: &self.0 }
    }

    pub fn get(&self, key: PropKey) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// A new blob with `changes` applied; an empty value clears the property.
    pub fn with_changes(&self, changes: &[(PropKey, &str)]) -> Self {
        let merged = self.iter().chain(changes.iter().copied());
        Self::from_pairs(merged)
    }

    /// Heap bytes used (for memory reports).
    pub fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

/// Iterator over an encoded blob.
pub struct BlobIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for BlobIter<'a> {
    type Item = (PropKey, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 3 {
            return None;
        }
        let key = u16::from_le_bytes([self.rest[0], self.rest[1]]);
        let mut len = 0usize;
        let mut shift = 0;
        let mut at = 2;
        loop {
            let byte = *self.rest.get(at)?;
            len |= usize::from(byte & 0x7f) << shift;
            at += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        let value = self.rest.get(at..at + len)?;
        self.rest = &self.rest[at + len..];
        // Only `from_pairs` writes blobs, always from `&str`, so this cannot fail.
        Some((key, std::str::from_utf8(value).unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_sorted_and_deduplicated() {
        let long = "x".repeat(300);
        let blob = PropertyBlob::from_pairs([
            (5, "five"),
            (1, "one"),
            (5, "FIVE"),
            (2, ""),
            (9, long.as_str()),
        ]);
        let pairs: Vec<(PropKey, &str)> = blob.iter().collect();
        assert_eq!(pairs, vec![(1, "one"), (5, "FIVE"), (9, long.as_str())]);
        assert_eq!(blob.get(9), Some(long.as_str()));
        assert_eq!(blob.get(2), None);
    }

    #[test]
    fn changes_overwrite_and_clear() {
        let blob = PropertyBlob::from_pairs([(1, "a"), (2, "b")]);
        let changed = blob.with_changes(&[(2, ""), (3, "ü")]);
        assert_eq!(changed.iter().collect::<Vec<_>>(), vec![(1, "a"), (3, "ü")]);
    }
}
