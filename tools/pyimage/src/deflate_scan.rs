//! Finding where the final block of a raw deflate stream starts and where the stream
//! ends, without inflating it.
//!
//! libdeflate compresses a buffer into a complete deflate stream whose last block has
//! BFINAL set. To chain such streams into one gzip member, the parallel writer clears
//! that bit and appends an empty stored block to return to a byte boundary — which needs
//! the exact bit positions this scanner finds. It walks the block structure and skips
//! Huffman symbols without producing output: one table lookup per literal, two per
//! match, each giving the code's length plus the extra bits to skip (their values do not
//! matter), with a 64-bit bit buffer refilled a word at a time.

/// Bit positions in a raw deflate stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEnd {
    /// Bit offset (from the start, LSB-first) of the final block's BFINAL bit.
    pub final_block_bit: u64,
    /// Bit offset just past the final block's end-of-block code.
    pub end_bit: u64,
}

/// Bits resolved by one table lookup; longer codes (rare) are decoded bit by bit.
const TABLE_BITS: u32 = 11;
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

/// A table entry: the bits a symbol takes (code + extra bits) in the low byte, what it
/// is above. 0 means "no code of at most `TABLE_BITS` bits starts here".
const LITERAL: u16 = 1 << 8;
const MATCH: u16 = 2 << 8;
const END: u16 = 3 << 8;
const LONG: u16 = 4 << 8;
const KIND: u16 = 7 << 8;

/// An LSB-first bit reader over a byte slice with a 64-bit buffer. Past the end it reads
/// zeros; `pos` then exceeds the data's length in bits, which callers check.
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte to load into `buffer`.
    next: usize,
    buffer: u64,
    /// Valid bits in `buffer`.
    count: u32,
}

impl<'a> Bits<'a> {
    fn at(data: &'a [u8], byte: usize) -> Self {
        Bits {
            data,
            next: byte,
            buffer: 0,
            count: 0,
        }
    }

    /// Bit position of the next unread bit.
    #[inline]
    fn pos(&self) -> u64 {
        self.next as u64 * 8 - u64::from(self.count)
    }

    /// Tops the buffer up to at least 56 bits. False once reading has gone more than
    /// 8 bytes past the end (the stream is truncated).
    #[inline]
    fn refill(&mut self) -> bool {
        if let Some(word) = self.data.get(self.next..self.next + 8) {
            let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            self.buffer |= word << self.count;
            let bytes = (63 - self.count) / 8;
            self.next += bytes as usize;
            self.count += bytes * 8;
            return true;
        }
        while self.count <= 56 {
            let byte = self.data.get(self.next).copied().unwrap_or(0);
            self.buffer |= u64::from(byte) << self.count;
            self.next += 1;
            self.count += 8;
        }
        self.next <= self.data.len() + 8
    }

    #[inline]
    fn peek(&self, n: u32) -> u32 {
        (self.buffer & ((1u64 << n) - 1)) as u32
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.buffer >>= n;
        self.count -= n;
    }

    /// The next `n` (≤ 32) bits.
    fn take(&mut self, n: u32) -> Option<u32> {
        if self.count < n && !self.refill() {
            return None;
        }
        let v = self.peek(n);
        self.consume(n);
        Some(v)
    }
}

/// A canonical Huffman code: a lookup table for codes of up to `TABLE_BITS` bits (entries
/// as above, made by `entry` from the symbol) and the counts and sorted symbols for the
/// rest.
struct Code {
    table: Box<[u16; 1 << TABLE_BITS]>,
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Code {
    /// Builds the code for `lengths` (0 = unused symbol). `None` if over-subscribed.
    fn new(lengths: &[u8], entry: impl Fn(usize, u32) -> u16) -> Option<Code> {
        let mut counts = [0u16; 16];
        for &l in lengths {
            counts[usize::from(l)] += 1;
        }
        counts[0] = 0;
        let mut left = 1i32;
        for &count in &counts[1..] {
            left = (left << 1) - i32::from(count);
            if left < 0 {
                return None;
            }
        }
        let mut offsets = [0usize; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + usize::from(counts[len]);
        }
        let mut symbols = vec![0u16; lengths.len()];
        let mut next_code = [0u32; 16];
        let mut code = 0u32;
        for len in 1..16 {
            code = (code + u32::from(counts[len - 1])) << 1;
            next_code[len] = code;
        }
        let size = 1usize << TABLE_BITS;
        let mut table = Box::new([0u16; 1 << TABLE_BITS]);
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            symbols[offsets[usize::from(l)]] = sym as u16;
            offsets[usize::from(l)] += 1;
            let l = u32::from(l);
            let code = next_code[l as usize];
            next_code[l as usize] += 1;
            let (first, value) = if l <= TABLE_BITS {
                ((code.reverse_bits() >> (32 - l)) as usize, entry(sym, l))
            } else {
                // Mark the table slot of the code's first TABLE_BITS bits.
                let prefix = code >> (l - TABLE_BITS);
                ((prefix.reverse_bits() >> (32 - TABLE_BITS)) as usize, LONG)
            };
            let step = 1usize << l.min(TABLE_BITS);
            let mut i = first;
            while i < size {
                table[i] = value;
                i += step;
            }
        }
        Some(Code {
            table,
            counts,
            symbols,
        })
    }

    /// Decodes one symbol the slow way: one bit at a time (codes longer than the table).
    fn decode_slow(&self, bits: &mut Bits<'_>) -> Option<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.take(1)? as i32;
            let count = i32::from(self.counts[len]);
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

/// Table entry of literal/length symbol `sym` with a code of `len` bits.
fn literal_entry(sym: usize, len: u32) -> u16 {
    match sym {
        0..=255 => LITERAL | len as u16,
        256 => END | len as u16,
        257..=285 => MATCH | (len + u32::from(LENGTH_EXTRA[sym - 257])) as u16,
        _ => 0, // 286, 287: never valid
    }
}

/// Table entry of distance symbol `sym` with a code of `len` bits.
fn distance_entry(sym: usize, len: u32) -> u16 {
    match DISTANCE_EXTRA.get(sym) {
        Some(&extra) => MATCH | (len + u32::from(extra)) as u16,
        None => 0, // 30, 31: never valid
    }
}

/// Resolves a `LONG` entry: decodes the symbol bit by bit and returns its entry.
fn slow_entry(code: &Code, bits: &mut Bits<'_>, entry: impl Fn(usize, u32) -> u16) -> Option<u16> {
    let sym = code.decode_slow(bits)?;
    // The code bits are consumed: only the extra bits remain to skip.
    let full = entry(usize::from(sym), 0);
    if full == 0 {
        return None;
    }
    Some(full)
}

fn fixed_codes() -> (Code, Code) {
    let mut lengths = [0u8; 288];
    lengths[..144].fill(8);
    lengths[144..256].fill(9);
    lengths[256..280].fill(7);
    lengths[280..].fill(8);
    let literals = Code::new(&lengths, literal_entry).expect("fixed literal code");
    let distances = Code::new(&[5u8; 30], distance_entry).expect("fixed distance code");
    (literals, distances)
}

fn dynamic_codes(bits: &mut Bits<'_>) -> Option<(Code, Code)> {
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
    let code_code = Code::new(&code_lengths, |_, _| LONG)?;
    let mut lengths = [0u8; 286 + 30];
    let total = hlit + hdist;
    let mut i = 0;
    while i < total {
        let sym = code_code.decode_slow(bits)?;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => (lengths[i.checked_sub(1)?], 3 + bits.take(2)? as usize),
            17 => (0, 3 + bits.take(3)? as usize),
            18 => (0, 11 + bits.take(7)? as usize),
            _ => return None,
        };
        if i + repeat > total {
            return None;
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return None; // no end-of-block code
    }
    Some((
        Code::new(&lengths[..hlit], literal_entry)?,
        Code::new(&lengths[hlit..total], distance_entry)?,
    ))
}

/// Skips the symbols of one Huffman-coded block up to and including its end-of-block
/// code. `None` if the data is invalid or runs out.
///
/// While at least 8 bytes are left, a fast loop keeps the bit buffer in registers and
/// tops it up to 56 or more bits without branches, which leaves room for three
/// table-resolved literals (11 bits each) or one match (11 + 5 + 11 + 13 bits) before the
/// next top-up; codes longer than the table and the stream's last bytes take the careful
/// loop.
fn skip_huffman_block(bits: &mut Bits<'_>, literals: &Code, distances: &Code) -> Option<()> {
    const MASK: u64 = (1 << TABLE_BITS) - 1;
    let (lit, dist) = (&*literals.table, &*distances.table);
    let data = bits.data;
    let (mut buffer, mut count, mut next) = (bits.buffer, bits.count, bits.next);
    while let Some(word) = data.get(next..next + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        buffer |= word << count;
        next += ((63 - count) / 8) as usize;
        count |= 56;
        let mut entry = lit[(buffer & MASK) as usize];
        if entry & KIND == LITERAL {
            buffer >>= entry & 0xff;
            count -= u32::from(entry & 0xff);
            entry = lit[(buffer & MASK) as usize];
            if entry & KIND == LITERAL {
                buffer >>= entry & 0xff;
                count -= u32::from(entry & 0xff);
                entry = lit[(buffer & MASK) as usize];
                if entry & KIND == LITERAL {
                    buffer >>= entry & 0xff;
                    count -= u32::from(entry & 0xff);
                    continue;
                }
            }
        }
        if count < 40 {
            continue; // top up first: a match may need 40 bits
        }
        match entry & KIND {
            MATCH => {
                buffer >>= entry & 0xff;
                count -= u32::from(entry & 0xff);
                let entry = dist[(buffer & MASK) as usize];
                if entry & KIND == MATCH {
                    buffer >>= entry & 0xff;
                    count -= u32::from(entry & 0xff);
                    continue;
                }
                if entry & KIND != LONG {
                    return None;
                }
                (bits.buffer, bits.count, bits.next) = (buffer, count, next);
                let entry = slow_entry(distances, bits, distance_entry)?;
                if entry & KIND != MATCH {
                    return None;
                }
                bits.consume(u32::from(entry & 0xff));
            }
            END => {
                buffer >>= entry & 0xff;
                count -= u32::from(entry & 0xff);
                (bits.buffer, bits.count, bits.next) = (buffer, count, next);
                return Some(());
            }
            // A code longer than the table, or none: the careful loop sorts it out.
            _ => {
                (bits.buffer, bits.count, bits.next) = (buffer, count, next);
                if skip_one_symbol(bits, literals, distances)? {
                    return Some(());
                }
            }
        }
        (buffer, count, next) = (bits.buffer, bits.count, bits.next);
    }
    (bits.buffer, bits.count, bits.next) = (buffer, count, next);
    while !skip_one_symbol(bits, literals, distances)? {}
    Some(())
}

/// Skips one symbol (a literal, a match with its distance, or the end of the block: then
/// true) reading bit by bit where needed. `None` if the data is invalid or runs out.
fn skip_one_symbol(bits: &mut Bits<'_>, literals: &Code, distances: &Code) -> Option<bool> {
    const MASK: u64 = (1 << TABLE_BITS) - 1;
    // A match takes at most 15 + 5 + 15 + 13 = 48 bits.
    if bits.count < 48 && !bits.refill() {
        return None;
    }
    let mut entry = literals.table[(bits.buffer & MASK) as usize];
    if entry & KIND == LONG {
        entry = slow_entry(literals, bits, literal_entry)?;
    }
    match entry & KIND {
        LITERAL => {
            bits.consume(u32::from(entry & 0xff));
            return Some(false);
        }
        END => {
            bits.consume(u32::from(entry & 0xff));
            return Some(true);
        }
        MATCH => bits.consume(u32::from(entry & 0xff)),
        _ => return None,
    }
    let mut entry = distances.table[(bits.buffer & MASK) as usize];
    if entry & KIND == LONG {
        entry = slow_entry(distances, bits, distance_entry)?;
    }
    if entry & KIND != MATCH {
        return None;
    }
    bits.consume(u32::from(entry & 0xff));
    Some(false)
}

/// Scans a raw deflate stream. Returns `None` if it is malformed or truncated.
pub fn scan(data: &[u8]) -> Option<StreamEnd> {
    let limit = data.len() as u64 * 8;
    let mut bits = Bits::at(data, 0);
    let mut fixed = None;
    loop {
        let header = bits.pos();
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => {
                let byte = bits.pos().div_ceil(8) as usize;
                let len_bytes = data.get(byte..byte + 4)?;
                let len = u16::from_le_bytes([len_bytes[0], len_bytes[1]]);
                let nlen = u16::from_le_bytes([len_bytes[2], len_bytes[3]]);
                if len != !nlen {
                    return None;
                }
                bits = Bits::at(data, byte + 4 + usize::from(len));
            }
            1 => {
                let (literals, distances) = fixed.get_or_insert_with(fixed_codes);
                skip_huffman_block(&mut bits, literals, distances)?;
            }
            2 => {
                let (literals, distances) = dynamic_codes(&mut bits)?;
                skip_huffman_block(&mut bits, &literals, &distances)?;
            }
            _ => return None,
        }
        if bits.pos() > limit {
            return None;
        }
        if last {
            return Some(StreamEnd {
                final_block_bit: header,
                end_bit: bits.pos(),
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

    /// Clearing the bit `scan` found and appending an empty stored block and an empty
    /// final block must still inflate to `data`: proof that the bit was BFINAL.
    fn check_chainable(stream: &[u8], data: &[u8]) {
        use std::io::Read;
        let end = scan(stream).expect("scan");
        assert_eq!(end.end_bit.div_ceil(8), stream.len() as u64);
        let mut chained = stream.to_vec();
        let bit = end.final_block_bit;
        chained[(bit / 8) as usize] &= !(1 << (bit % 8));
        let used = end.end_bit - (stream.len() as u64 - 1) * 8;
        let last = chained.len() - 1;
        chained[last] &= ((1u16 << used) - 1) as u8;
        if used > 5 {
            chained.push(0); // the stored block's 3 header bits do not fit in this byte
        }
        chained.extend_from_slice(&[0, 0, 0xff, 0xff, 3, 0]);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&chained[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn long_codes_fixed_blocks_and_stored_blocks() {
        // Byte k about 2^-k of the time: Huffman codes up to 15 bits, longer than the
        // lookup table.
        let mut s = 7u64;
        let mut skewed = Vec::new();
        for _ in 0..300_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            skewed.push((s | 1 << 40).trailing_zeros() as u8 * 3);
        }
        // Random bytes: libdeflate stores them; short inputs get fixed codes.
        let random: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mixed = [&skewed[..50_000], &random[..], &sample(80_000, 9)].concat();
        for data in [&skewed[..], &random[..], &mixed[..], b"abc", b""] {
            for level in [1, 6, 12] {
                check_chainable(&deflate(data, level), data);
            }
        }
    }

    #[test]
    fn every_prefix_of_a_stream_is_refused_or_consistent() {
        let data = sample(20_000, 4);
        let stream = deflate(&data, 6);
        for cut in 0..stream.len() {
            if let Some(end) = scan(&stream[..cut]) {
                assert!(end.end_bit <= cut as u64 * 8);
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
