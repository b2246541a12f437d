//! Finding where the final block of a raw deflate stream starts and where the stream
//! ends, without inflating it.
//!
//! libdeflate compresses a buffer into a complete deflate stream whose last block has
//! BFINAL set. To chain such streams into one gzip member, the parallel writer clears
//! that bit and appends an empty stored block to return to a byte boundary — which needs
//! the exact bit positions this scanner finds. It walks the block structure and decodes
//! Huffman symbols only far enough to skip them (no output, no window), so it is much
//! cheaper than inflating.

/// Bit positions in a raw deflate stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEnd {
    /// Bit offset (from the start, LSB-first) of the final block's BFINAL bit.
    pub final_block_bit: u64,
    /// Bit offset just past the final block's end-of-block code.
    pub end_bit: u64,
}

const PRIMARY_BITS: u32 = 10;
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DISTANCE_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

struct Bits<'a> {
    data: &'a [u8],
    pos: u64,
    limit: u64,
}

impl Bits<'_> {
    /// The next `n` (≤ 24) bits, zero-filled past the end.
    #[inline]
    fn peek(&self, n: u32) -> u32 {
        let byte = (self.pos >> 3) as usize;
        let mut word = [0u8; 4];
        if byte + 4 <= self.data.len() {
            word.copy_from_slice(&self.data[byte..byte + 4]);
        } else if byte < self.data.len() {
            let rest = &self.data[byte..];
            word[..rest.len()].copy_from_slice(rest);
        }
        (u32::from_le_bytes(word) >> (self.pos & 7)) & ((1 << n) - 1)
    }

    #[inline]
    fn take(&mut self, n: u32) -> Option<u32> {
        let v = self.peek(n);
        self.pos += u64::from(n);
        (self.pos <= self.limit).then_some(v)
    }
}

struct Huffman {
    counts: [i32; 16],
    symbols: Vec<u16>,
    /// Indexed by the next `PRIMARY_BITS` bits: `symbol << 4 | length`, or 0 for codes
    /// longer than `PRIMARY_BITS` (decoded the slow way).
    table: Vec<u32>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Option<Huffman> {
        let mut counts = [0i32; 16];
        for &l in lengths {
            counts[usize::from(l)] += 1;
        }
        counts[0] = 0;
        let mut left = 1i32;
        for &count in &counts[1..] {
            left = (left << 1) - count;
            if left < 0 {
                return None; // over-subscribed
            }
        }
        let mut offsets = [0usize; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + counts[len] as usize;
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbols[offsets[usize::from(l)]] = sym as u16;
                offsets[usize::from(l)] += 1;
            }
        }
        let mut next_code = [0u32; 16];
        let mut code = 0u32;
        for len in 1..16 {
            code = (code + counts[len - 1] as u32) << 1;
            next_code[len] = code;
        }
        let size = 1usize << PRIMARY_BITS;
        let mut table = vec![0u32; size];
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = u32::from(l);
            let code = next_code[l as usize];
            next_code[l as usize] += 1;
            if l <= PRIMARY_BITS {
                let reversed = (code.reverse_bits() >> (32 - l)) as usize;
                let mut i = reversed;
                while i < size {
                    table[i] = (sym as u32) << 4 | l;
                    i += 1 << l;
                }
            }
        }
        Some(Huffman {
            counts,
            symbols,
            table,
        })
    }

    #[inline]
    fn decode(&self, bits: &mut Bits<'_>) -> Option<u16> {
        let entry = self.table[bits.peek(PRIMARY_BITS) as usize];
        if entry != 0 {
            bits.take(entry & 15)?;
            return Some((entry >> 4) as u16);
        }
        // Canonical decoding one bit at a time (long or invalid codes only).
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.take(1)? as i32;
            let count = self.counts[len];
            if code - count < first {
                return self.symbols.get((index + code - first) as usize).copied();
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

fn fixed_tables() -> (Huffman, Huffman) {
    let mut lengths = [0u8; 288];
    lengths[..144].fill(8);
    lengths[144..256].fill(9);
    lengths[256..280].fill(7);
    lengths[280..].fill(8);
    let lit = Huffman::new(&lengths).expect("fixed literal code");
    let dist = Huffman::new(&[5u8; 30]).expect("fixed distance code");
    (lit, dist)
}

fn dynamic_tables(bits: &mut Bits<'_>) -> Option<(Huffman, Huffman)> {
    let hlit = bits.take(5)? as usize + 257;
    let hdist = bits.take(5)? as usize + 1;
    let hclen = bits.take(4)? as usize + 4;
    if hlit > 286 || hdist > 30 {
        return None;
    }
    let mut code_lengths = [0u8; 19];
    for &i in &CODE_LENGTH_ORDER[..hclen] {
        code_lengths[i] = bits.take(3)? as u8;
    }
    let code_code = Huffman::new(&code_lengths)?;
    let mut lengths = vec![0u8; hlit + hdist];
    let mut i = 0;
    while i < lengths.len() {
        let sym = code_code.decode(bits)?;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (*lengths.get(i.checked_sub(1)?)?, 3 + bits.take(2)? as usize),
            17 => (0, 3 + bits.take(3)? as usize),
            18 => (0, 11 + bits.take(7)? as usize),
            _ => return None,
        };
        if i + repeat > lengths.len() {
            return None;
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return None; // no end-of-block code
    }
    Some((
        Huffman::new(&lengths[..hlit])?,
        Huffman::new(&lengths[hlit..])?,
    ))
}

/// Scans a raw deflate stream. Returns `None` if it is malformed or truncated.
pub fn scan(data: &[u8]) -> Option<StreamEnd> {
    let mut bits = Bits {
        data,
        pos: 0,
        limit: data.len() as u64 * 8,
    };
    let mut fixed = None;
    loop {
        let header = bits.pos;
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => {
                bits.pos = bits.pos.div_ceil(8) * 8;
                let len = bits.take(16)?;
                let nlen = bits.take(16)?;
                if len != !nlen & 0xffff {
                    return None;
                }
                bits.pos += u64::from(len) * 8;
                if bits.pos > bits.limit {
                    return None;
                }
            }
            kind @ (1 | 2) => {
                let dynamic;
                let (lit, dist) = if kind == 1 {
                    let tables = fixed.get_or_insert_with(fixed_tables);
                    (&tables.0, &tables.1)
                } else {
                    dynamic = dynamic_tables(&mut bits)?;
                    (&dynamic.0, &dynamic.1)
                };
                loop {
                    let sym = lit.decode(&mut bits)?;
                    if sym < 256 {
                        continue;
                    }
                    if sym == 256 {
                        break;
                    }
                    let extra = *LENGTH_EXTRA.get(usize::from(sym - 257))?;
                    bits.take(u32::from(extra))?;
                    let d = dist.decode(&mut bits)?;
                    let extra = *DISTANCE_EXTRA.get(usize::from(d))?;
                    bits.take(u32::from(extra))?;
                }
            }
            _ => return None,
        }
        if last {
            return Some(StreamEnd {
                final_block_bit: header,
                end_bit: bits.pos,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libdeflater::{CompressionLvl, Compressor};

    fn deflate(data: &[u8], level: i32) -> Vec<u8> {
        let mut c = Compressor::new(CompressionLvl::new(level).unwrap());
        let mut out = vec![0; c.deflate_compress_bound(data.len())];
        let n = c.deflate_compress(data, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn sample(len: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        let mut out = Vec::new();
        while out.len() < len {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match s % 5 {
                0 => out.extend_from_slice(&s.to_le_bytes()),
                1 => out.extend(std::iter::repeat_n(
                    (s >> 8) as u8,
                    (s >> 16) as usize % 300,
                )),
                _ => out.extend_from_slice(b"the quick brown fox jumps over the lazy dog "),
            }
        }
        out.truncate(len);
        out
    }

    #[test]
    fn finds_the_end_of_libdeflate_streams() {
        for (i, len) in [0usize, 1, 100, 5000, 70_000, 400_000, 1 << 20]
            .into_iter()
            .enumerate()
        {
            for level in [0, 1, 6, 9, 12] {
                let data = sample(len, i as u64 + 3);
                let stream = deflate(&data, level);
                let end = scan(&stream).unwrap_or_else(|| panic!("len {len} level {level}"));
                assert_eq!(
                    end.end_bit.div_ceil(8),
                    stream.len() as u64,
                    "len {len} level {level}"
                );
                assert_eq!(
                    stream[(end.final_block_bit / 8) as usize] >> (end.final_block_bit % 8) & 1,
                    1
                );
            }
        }
    }

    #[test]
    fn random_bytes_do_not_panic() {
        let mut s = 99u64;
        for _ in 0..2000 {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            let len = (s >> 40) as usize % 300;
            let data: Vec<u8> = (0..len).map(|i| (s >> (i % 57)) as u8 ^ i as u8).collect();
            let _ = scan(&data);
        }
    }

    #[test]
    fn truncated_streams_are_refused() {
        let stream = deflate(&sample(100_000, 5), 6);
        assert!(scan(&stream[..stream.len() / 2]).is_none());
        assert!(scan(&[]).is_none());
    }
}
