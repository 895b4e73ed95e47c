//! The SGD batch written with AVX2 instructions (through pulp's safe wrappers).
//!
//! Rows are stored padded to [`LANES`] floats, so a target's row is one 256-bit load and the
//! head minus target difference one subtraction. Each eight squared-difference rows are
//! transposed so that the squared distances of eight targets sit in one register (a batch is two
//! such registers, evaluated side by side); `d^{2b}`, the coefficients and the clipping then run
//! on whole registers, and each target's
//! contribution (its broadcast coefficient times its difference row) is summed in the same
//! tree order as the portable lanes. Every arithmetic step is the one the portable evaluator
//! makes, in the same order and without fused multiply-add, so both give bit-identical
//! layouts (tested in the parent module).

use std::arch::x86_64::{__m256, __m256i};

use pulp::x86::V3;

use super::{Batch, Edges, Epoch, Kernel, BATCH};

/// Floats per stored row (and lanes per register).
pub(super) const LANES: usize = 8;

/// Registers per batch.
const HALVES: usize = BATCH / LANES;

/// One epoch of one vertex block, for [`V3::vectorize`] (the kernel is compiled with AVX2
/// enabled).
pub(super) struct Block<'a> {
    pub simd: V3,
    pub k: &'a Kernel,
    pub dim: usize,
    pub job: Epoch<'a>,
    pub snapshot: &'a [f32],
    pub edges: &'a Edges,
}

impl pulp::WithSimd for Block<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Block { simd, k, dim, job, snapshot, edges } = self;
        match dim {
            2 => k.block(&Registers::<2> { simd, k, dim }, job, snapshot, edges),
            5 => k.block(&Registers::<5> { simd, k, dim }, job, snapshot, edges),
            d => k.block(&Registers::<0> { simd, k, dim: d }, job, snapshot, edges),
        }
    }
}

/// The AVX2 evaluator; `D` is the dimension as a compile-time constant, or 0 for `dim`.
struct Registers<'a, const D: usize> {
    simd: V3,
    k: &'a Kernel,
    dim: usize,
}

impl<const D: usize> Registers<'_, D> {
    #[inline(always)]
    fn splat(&self, v: f32) -> __m256 {
        self.simd.avx._mm256_set1_ps(v)
    }

    #[inline(always)]
    fn int(&self, v: i32) -> __m256i {
        self.simd.avx._mm256_set1_epi32(v)
    }

    #[inline(always)]
    fn add(&self, a: __m256, b: __m256) -> __m256 {
        self.simd.avx._mm256_add_ps(a, b)
    }

    #[inline(always)]
    fn sub(&self, a: __m256, b: __m256) -> __m256 {
        self.simd.avx._mm256_sub_ps(a, b)
    }

    #[inline(always)]
    fn mul(&self, a: __m256, b: __m256) -> __m256 {
        self.simd.avx._mm256_mul_ps(a, b)
    }

    #[inline(always)]
    fn div(&self, a: __m256, b: __m256) -> __m256 {
        self.simd.avx._mm256_div_ps(a, b)
    }

    /// `v.clamp(lo, hi)` per lane (no NaN reaches here).
    #[inline(always)]
    fn clamp(&self, v: __m256, lo: f32, hi: f32) -> __m256 {
        let avx = self.simd.avx;
        avx._mm256_min_ps(avx._mm256_max_ps(v, self.splat(lo)), self.splat(hi))
    }

    /// The 8 × 8 transpose: register `d` of the result holds coordinate `d` of every row.
    #[inline(always)]
    fn transpose(&self, r: [__m256; LANES]) -> [__m256; LANES] {
        let avx = self.simd.avx;
        let t0 = avx._mm256_unpacklo_ps(r[0], r[1]);
        let t1 = avx._mm256_unpackhi_ps(r[0], r[1]);
        let t2 = avx._mm256_unpacklo_ps(r[2], r[3]);
        let t3 = avx._mm256_unpackhi_ps(r[2], r[3]);
        let t4 = avx._mm256_unpacklo_ps(r[4], r[5]);
        let t5 = avx._mm256_unpackhi_ps(r[4], r[5]);
        let t6 = avx._mm256_unpacklo_ps(r[6], r[7]);
        let t7 = avx._mm256_unpackhi_ps(r[6], r[7]);
        let u0 = avx._mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = avx._mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = avx._mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = avx._mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = avx._mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = avx._mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = avx._mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = avx._mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            avx._mm256_permute2f128_ps::<0x20>(u0, u4),
            avx._mm256_permute2f128_ps::<0x20>(u1, u5),
            avx._mm256_permute2f128_ps::<0x20>(u2, u6),
            avx._mm256_permute2f128_ps::<0x20>(u3, u7),
            avx._mm256_permute2f128_ps::<0x31>(u0, u4),
            avx._mm256_permute2f128_ps::<0x31>(u1, u5),
            avx._mm256_permute2f128_ps::<0x31>(u2, u6),
            avx._mm256_permute2f128_ps::<0x31>(u3, u7),
        ]
    }

    /// `x^b` per lane: the operations of [`super::fast_pow`] on a register.
    #[inline(always)]
    fn pow(&self, x: __m256, b: f32) -> __m256 {
        let (avx, avx2) = (self.simd.avx, self.simd.avx2);
        let one = self.splat(1.0);
        // log2(x)
        let bits: __m256i = avx._mm256_castps_si256(x);
        let exp = avx2._mm256_and_si256(avx2._mm256_srli_epi32::<23>(bits), self.int(0xff));
        let e = avx2._mm256_sub_epi32(exp, self.int(127));
        let m = avx._mm256_castsi256_ps(avx2._mm256_or_si256(
            avx2._mm256_and_si256(bits, self.int(0x007f_ffff)),
            self.int(0x3f80_0000),
        ));
        let big = avx._mm256_cmp_ps::<30>(m, self.splat(std::f32::consts::SQRT_2)); // _CMP_GT_OQ
        let m = avx._mm256_blendv_ps(m, self.mul(m, self.splat(0.5)), big);
        // A true mask is −1 as an integer: subtracting it adds 1.
        let e = avx2._mm256_sub_epi32(e, avx._mm256_castps_si256(big));
        let s = self.div(self.sub(m, one), self.add(m, one));
        let s2 = self.mul(s, s);
        let [c0, c1, c2] = super::LOG2_POLY;
        let poly = self.mul(s2, self.add(self.splat(c1), self.mul(s2, self.splat(c2))));
        let series = self.mul(s, self.add(self.splat(c0), poly));
        let log2 = self.add(avx._mm256_cvtepi32_ps(e), series);
        // exp2(b · log2)
        const ROUND: f32 = 12_582_912.0;
        let x = self.clamp(self.mul(self.splat(b), log2), -126.0, 126.0);
        let y = self.add(x, self.splat(ROUND));
        let f = self.sub(x, self.sub(y, self.splat(ROUND)));
        let [c1, c2, c3, c4] = super::EXP2_POLY;
        let mut p = self.mul(f, self.splat(c4));
        for c in [c3, c2, c1] {
            p = self.mul(f, self.add(self.splat(c), p));
        }
        let ri =
            avx2._mm256_sub_epi32(avx._mm256_castps_si256(y), self.int(ROUND.to_bits() as i32));
        let scale = avx._mm256_castsi256_ps(
            avx2._mm256_slli_epi32::<23>(avx2._mm256_add_epi32(ri, self.int(127))),
        );
        self.mul(scale, self.add(one, p))
    }
}

impl<const D: usize> Batch for Registers<'_, D> {
    #[inline(always)]
    fn stride(&self) -> usize {
        LANES
    }

    #[inline(always)]
    fn apply(
        &self,
        cur: &mut [f32],
        snapshot: &[f32],
        targets: &[usize; BATCH],
        used: usize,
        attract: u16,
        alpha: f32,
    ) {
        let (avx, avx2) = (self.simd.avx, self.simd.avx2);
        let zero = avx._mm256_setzero_ps();
        let dim = if D == 0 { self.dim } else { D };
        let (a, b) = (self.k.a, self.k.b);
        let two_gamma_b = 2.0 * self.k.gamma * b;
        // Rows as whole registers (one bounds check per target); `stride` is LANES.
        let rows: &[[f32; LANES]] = pulp::bytemuck::cast_slice(snapshot);
        let head = load(cur);
        let mut diff = [zero; BATCH];
        let mut sq = [zero; BATCH];
        for t in 0..BATCH {
            diff[t] = self.sub(head, pulp::cast(rows[targets[t]]));
            sq[t] = self.mul(diff[t], diff[t]);
        }
        // The batch is two registers of eight lanes (`HALVES`), evaluated side by side: their
        // chains (the power above all) are independent, so the CPU overlaps them.
        let lane: __m256i = pulp::cast([0i32, 1, 2, 3, 4, 5, 6, 7]);
        let bit: __m256i = pulp::cast([1i32, 2, 4, 8, 16, 32, 64, 128]);
        let mut d2 = [zero; HALVES];
        for (h, d2) in d2.iter_mut().enumerate() {
            let mut block = [zero; LANES];
            block.copy_from_slice(&sq[h * LANES..(h + 1) * LANES]);
            let cols = self.transpose(block);
            // Coordinates in order, as the portable loop adds them (the padding is never added).
            let mut s = cols[0];
            for col in &cols[1..dim] {
                s = self.add(s, *col);
            }
            *d2 = s;
        }
        let mut pb = [zero; HALVES];
        for h in 0..HALVES {
            pb[h] = self.pow(d2[h], b);
        }
        let mut coefs = [0f32; BATCH];
        let mut scales = [0f32; BATCH];
        for h in 0..HALVES {
            let apb1 = self.add(self.mul(self.splat(a), pb[h]), self.splat(1.0));
            // Lanes holding an attraction (bit t of `attract`).
            let bits = self.int(i32::from(attract >> (h * LANES)));
            let att = avx._mm256_castsi256_ps(
                avx2._mm256_cmpeq_epi32(avx2._mm256_and_si256(bits, bit), bit),
            );
            // One division for both kinds: attraction −2ab·d^{2b} / (d²·(1 + a·d^{2b})),
            // repulsion 2γb / ((0.001 + d²)(1 + a·d^{2b})).
            let num = avx._mm256_blendv_ps(
                self.splat(two_gamma_b),
                self.mul(self.splat(super::neg_two_ab(a, b)), pb[h]),
                att,
            );
            let den = self
                .mul(avx._mm256_blendv_ps(self.add(self.splat(0.001), d2[h]), d2[h], att), apb1);
            let positive = avx._mm256_cmp_ps::<30>(d2[h], zero); // _CMP_GT_OQ
            let left = used as i32 - (h * LANES) as i32;
            let in_use = avx._mm256_castsi256_ps(avx2._mm256_cmpgt_epi32(self.int(left), lane));
            let coef = avx._mm256_and_ps(avx._mm256_and_ps(self.div(num, den), positive), in_use);
            let scale = avx._mm256_blendv_ps(self.splat(1.0), self.splat(2.0), att);
            let (c, s): ([f32; LANES], [f32; LANES]) = (pulp::cast(coef), pulp::cast(scale));
            coefs[h * LANES..(h + 1) * LANES].copy_from_slice(&c);
            scales[h * LANES..(h + 1) * LANES].copy_from_slice(&s);
        }
        // Each lane's coefficient and scale broadcast from memory (a load, not a shuffle).
        let mut contrib = [zero; BATCH];
        for t in 0..BATCH {
            let c = self.clamp(self.mul(self.splat(coefs[t]), diff[t]), -4.0, 4.0);
            contrib[t] = self.mul(c, self.splat(scales[t]));
        }
        // The portable lanes' pairwise tree: lane t + half onto lane t, halving.
        let mut half = BATCH / 2;
        while half > 0 {
            for t in 0..half {
                contrib[t] = self.add(contrib[t], contrib[t + half]);
            }
            half /= 2;
        }
        store(cur, self.add(head, self.mul(contrib[0], self.splat(alpha))));
    }
}

/// A stored row as a register.
#[inline(always)]
fn load(row: &[f32]) -> __m256 {
    let mut a = [0f32; LANES];
    a.copy_from_slice(&row[..LANES]);
    pulp::cast(a)
}

/// Writes a register back to a stored row.
#[inline(always)]
fn store(row: &mut [f32], v: __m256) {
    let out: [f32; LANES] = pulp::cast(v);
    row[..LANES].copy_from_slice(&out);
}
