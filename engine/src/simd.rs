//! Which kernels run on this CPU: the explicit AVX2 ones (x86-64 with AVX2/FMA, through pulp's
//! safe wrappers) or the portable ones, compiled by pulp for the best instruction set it finds.
//! Every explicit kernel computes the same bits as its portable twin (each has a test).

/// The instruction set the hot loops use.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Isa {
    /// The portable loops, dispatched by pulp.
    Portable(pulp::Arch),
    /// The explicit AVX2 kernels.
    #[cfg(target_arch = "x86_64")]
    Avx2(pulp::x86::V3),
}

impl Isa {
    /// AVX2 where the CPU has it, else the portable loops.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = pulp::x86::V3::try_new() {
            return Isa::Avx2(simd);
        }
        Isa::Portable(pulp::Arch::new())
    }

    /// `a·b` over sixteen lanes summed in a fixed order: AVX2 registers where the CPU has them,
    /// else the portable lanes compiled for the best instruction set pulp finds; both give the
    /// same bits. Used by NN-descent, transform and merge.
    #[inline]
    pub(crate) fn dot(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2(simd) => pulp::Simd::vectorize(simd, DotAvx2(simd, a, b)),
            Isa::Portable(arch) => arch.dispatch(Dot(a, b)),
        }
    }
}

/// [`dot_lanes`] on AVX2 registers: the sixteen lanes are two registers, multiplied and added (no
/// fused multiply-add) exactly as the portable loop does, so the bits are the same. (LLVM
/// compiles the portable loop only two lanes wide.)
#[cfg(target_arch = "x86_64")]
struct DotAvx2<'a>(pulp::x86::V3, &'a [f32], &'a [f32]);

#[cfg(target_arch = "x86_64")]
impl pulp::WithSimd for DotAvx2<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> f32 {
        use std::arch::x86_64::__m256;
        let DotAvx2(simd, a, b) = self;
        let avx = simd.avx;
        let len = a.len().min(b.len());
        let mut lo = avx._mm256_setzero_ps();
        let mut hi = avx._mm256_setzero_ps();
        let reg = |v: &[f32]| -> __m256 { pulp::cast(<[f32; 8]>::try_from(v).unwrap_or([0.0; 8])) };
        for (pa, pb) in a[..len].chunks_exact(16).zip(b[..len].chunks_exact(16)) {
            let (a0, b0) = (reg(&pa[..8]), reg(&pb[..8]));
            let (a1, b1) = (reg(&pa[8..]), reg(&pb[8..]));
            lo = avx._mm256_add_ps(lo, avx._mm256_mul_ps(a0, b0));
            hi = avx._mm256_add_ps(hi, avx._mm256_mul_ps(a1, b1));
        }
        let half: [f32; 8] = pulp::cast(avx._mm256_add_ps(lo, hi));
        let mut dot: f32 = half.iter().sum();
        for t in (len / 16) * 16..len {
            dot += a[t] * b[t];
        }
        dot
    }
}

/// [`dot_lanes`] for [`pulp::Arch::dispatch`].
struct Dot<'a>(&'a [f32], &'a [f32]);

impl pulp::WithSimd for Dot<'_> {
    type Output = f32;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> f32 {
        dot_lanes(self.0, self.1)
    }
}

/// Dot product with sixteen independent accumulators (two AVX registers), so the compiler
/// vectorises it; the lanes are summed in a fixed order.
#[inline(always)]
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    const L: usize = 16;
    let mut acc = [0f32; L];
    let chunks = a.len().min(b.len()) / L;
    for (ca, cb) in a.chunks_exact(L).zip(b.chunks_exact(L)) {
        // Fixed-size arrays (the conversion cannot fail on exact chunks): sixteen independent
        // lanes. LLVM vectorises this only 2-wide, hence `DotAvx2` on x86-64.
        let (ca, cb): ([f32; L], [f32; L]) =
            (ca.try_into().unwrap_or([0.0; L]), cb.try_into().unwrap_or([0.0; L]));
        for l in 0..L {
            acc[l] += ca[l] * cb[l];
        }
    }
    let mut half = [0f32; L / 2];
    for (t, h) in half.iter_mut().enumerate() {
        *h = acc[t] + acc[t + L / 2];
    }
    let mut dot: f32 = half.iter().sum();
    for t in chunks * L..a.len() {
        dot += a[t] * b[t];
    }
    dot
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn every_dot_gives_the_same_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for len in [0, 1, 7, 15, 16, 17, 31, 32, 100, 384, 769] {
            let a: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let b: Vec<f32> = (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect();
            let scalar = pulp::Arch::Scalar.dispatch(Dot(&a, &b));
            assert_eq!(scalar.to_bits(), pulp::Arch::new().dispatch(Dot(&a, &b)).to_bits());
            #[cfg(target_arch = "x86_64")]
            if let Some(simd) = pulp::x86::V3::try_new() {
                let avx2 = pulp::Simd::vectorize(simd, DotAvx2(simd, &a, &b));
                assert_eq!(scalar.to_bits(), avx2.to_bits(), "length {len}");
            }
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((scalar as f64 - exact).abs() < 1e-4, "length {len}");
        }
    }
}
