//! Which kernels run on this CPU: the explicit AVX2 ones (x86-64 with AVX2/FMA, through pulp's
//! safe wrappers) or the portable ones, compiled by pulp for the best instruction set it finds.
//! Every explicit kernel computes the same bits as its portable twin (each has a test).

/// The instruction set the hot loops use.
#[derive(Clone, Copy)]
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
}
