//! CRC-32 (the gzip polynomial) of a concatenation from the CRCs of its parts, so blocks
//! compressed in parallel can be checksummed in parallel too.

/// The reflected CRC-32 polynomial.
const POLY: u32 = 0xedb8_8320;

/// `a * b mod p(x)` over GF(2), in the reflected bit order of CRC-32.
const fn mult_mod_p(a: u32, mut b: u32) -> u32 {
    let mut m = 1u32 << 31;
    let mut p = 0u32;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// `X2N[k] = x^(2^k) mod p(x)`.
const X2N: [u32; 32] = {
    let mut table = [0u32; 32];
    let mut p = 1u32 << 30; // x^1
    let mut k = 0;
    while k < 32 {
        table[k] = p;
        p = mult_mod_p(p, p);
        k += 1;
    }
    table
};

/// `x^(n * 2^k) mod p(x)`.
fn x_pow_mod_p(mut n: u64, mut k: usize) -> u32 {
    let mut p = 1u32 << 31; // x^0
    while n != 0 {
        if n & 1 != 0 {
            p = mult_mod_p(X2N[k & 31], p);
        }
        n >>= 1;
        k += 1;
    }
    p
}

/// The CRC-32 of `A ‖ B` given `crc_a = crc32(A)`, `crc_b = crc32(B)` and `len_b = |B|`.
pub fn crc32_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    // Appending len_b bytes multiplies A's remainder by x^(8 len_b).
    mult_mod_p(x_pow_mod_p(len_b, 3), crc_a) ^ crc_b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_matches_direct_crc() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for split in [0, 1, 7, 512, 65_536, 131_071, 199_999, 200_000] {
            let (a, b) = data.split_at(split);
            let combined =
                crc32_combine(libdeflater::crc32(a), libdeflater::crc32(b), b.len() as u64);
            assert_eq!(combined, libdeflater::crc32(&data), "split at {split}");
        }
    }

    #[test]
    fn combine_is_associative_over_many_blocks() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut crc = 0;
        for chunk in data.chunks(4099) {
            crc = crc32_combine(crc, libdeflater::crc32(chunk), chunk.len() as u64);
        }
        assert_eq!(crc, libdeflater::crc32(&data));
    }

    #[test]
    fn empty_parts() {
        assert_eq!(crc32_combine(0, 0, 0), 0);
        let c = libdeflater::crc32(b"hello");
        assert_eq!(crc32_combine(c, 0, 0), c);
        assert_eq!(crc32_combine(0, c, 5), c);
    }
}
