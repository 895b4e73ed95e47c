//! A fixed-length buffer whose first element sits on a cache-line boundary.
//!
//! Heap blocks are only 16-byte aligned, so rows of 32 bytes (or any multiple of 64) stored from
//! an arbitrary start straddle one more cache line than they need; the hot loops that gather
//! such rows at random (the UMAP SGD, NN-descent) read them from here instead.

/// Cache line size assumed for alignment.
const LINE: usize = 64;

/// `len` values of `T`, the first on a [`LINE`]-byte boundary.
pub(crate) struct Aligned<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Copy + Default> Aligned<T> {
    /// `len` default values.
    pub(crate) fn new(len: usize) -> Self {
        let size = std::mem::size_of::<T>().max(1);
        let slack = LINE.div_ceil(size);
        let buf = vec![T::default(); len + slack];
        let misalign = buf.as_ptr() as usize % LINE;
        // A type whose size does not divide the line cannot always be aligned: start at 0.
        let start = if misalign % size == 0 { ((LINE - misalign) % LINE) / size } else { 0 };
        Aligned { buf, start, len }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

impl<T: Copy + Default> Clone for Aligned<T> {
    /// A copy in its own, again aligned, block.
    fn clone(&self) -> Self {
        let mut copy = Aligned::new(self.len);
        copy.as_mut_slice().copy_from_slice(self.as_slice());
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_line_and_clones_stay_aligned() {
        for len in [0, 1, 7, 1000] {
            let mut a = Aligned::<f32>::new(len);
            assert_eq!(a.as_slice().len(), len);
            assert_eq!(a.as_slice().as_ptr() as usize % LINE, 0);
            a.as_mut_slice().iter_mut().enumerate().for_each(|(i, v)| *v = i as f32);
            let b = a.clone();
            assert_eq!(b.as_slice(), a.as_slice());
            assert_eq!(b.as_slice().as_ptr() as usize % LINE, 0);
            let s = Aligned::<i16>::new(len);
            assert_eq!(s.as_slice().as_ptr() as usize % LINE, 0);
        }
    }
}
