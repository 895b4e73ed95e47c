//! The encoder's own CPU forward pass for BERT-family models (what [`super::LocalEncoder`] runs
//! when its device is the CPU; candle's `BertModel` stays in use on CUDA).
//!
//! Compared with a generic padded-tensor forward pass it:
//! - loads the weights once into plain `f32` buffers, with the query, key and value projections
//!   fused into one `3h × h` matrix;
//! - packs the tokens of a chunk of texts without padding (rows of one `tokens × h` matrix), so
//!   every linear layer is one large matrix product and no work is spent on padding; attention
//!   runs per text and per head on strided views of the fused projection;
//! - runs the products with the `gemm` crate, single-threaded inside a chunk, into buffers reused
//!   from chunk to chunk; bias, GELU, residual and layer norm are fused into one pass each;
//! - parallelises over chunks (rayon), so a chunk's result never depends on the thread count.

use candle_transformers::models::bert::{Config as BertConfig, HiddenAct};
use safetensors::{Dtype, SafeTensors};

use topic_engine::{EngineError, Result};

/// Sizes of the model, checked against each other and against every tensor.
#[derive(Debug, Clone, Copy)]
struct Dims {
    hidden: usize,
    heads: usize,
    head_dim: usize,
    intermediate: usize,
    layers: usize,
    vocab: usize,
    max_positions: usize,
    /// Position id of a text's first token: 0 for BERT, `pad_token_id + 1` for the RoBERTa
    /// family (XLM-R), whose position ids skip the padding index.
    position_offset: usize,
    eps: f32,
}

/// A layer norm's scale and shift.
struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// One transformer block. Weight matrices are stored `in × out` row-major (the transpose of the
/// checkpoint's `out × in`), which lets `gemm` use them without repacking.
struct Layer {
    /// Query, key and value projections side by side: `h × 3h`.
    qkv_w: Vec<f32>,
    qkv_b: Vec<f32>,
    /// Attention output projection `h × h`.
    o_w: Vec<f32>,
    o_b: Vec<f32>,
    ln1: Norm,
    /// Feed-forward up projection `h × i`.
    up_w: Vec<f32>,
    up_b: Vec<f32>,
    /// Feed-forward down projection `i × h`.
    down_w: Vec<f32>,
    down_b: Vec<f32>,
    ln2: Norm,
}

/// A BERT encoder with its weights in `f32` buffers, ready for packed CPU forward passes.
pub(crate) struct CpuBert {
    dims: Dims,
    /// Word embeddings `vocab × h`.
    word: Vec<f32>,
    /// Position embeddings `max_positions × h`.
    position: Vec<f32>,
    /// Row 0 of the token-type embeddings (every token has type 0), `h`.
    type0: Vec<f32>,
    emb_ln: Norm,
    layers: Vec<Layer>,
    /// The widest SIMD level of this CPU, for the element-wise passes.
    arch: pulp::Arch,
}

/// Scratch buffers of one forward pass, grown on demand and reused across chunks.
#[derive(Default)]
pub(crate) struct Workspace {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    proj: Vec<f32>,
    up: Vec<f32>,
    scores: Vec<f32>,
}

/// Scratch buffers above this many values (64 MiB) are freed after use rather than kept for the
/// next batch (a batch of long texts needs far more than a batch of short ones).
const KEEP_WORKSPACE_VALUES: usize = 16 << 20;

impl Workspace {
    fn values(&self) -> usize {
        [&self.x, &self.qkv, &self.ctx, &self.proj, &self.up, &self.scores]
            .iter()
            .map(|v| v.capacity())
            .sum()
    }
}

thread_local! {
    /// Each thread's scratch buffers, kept between batches and calls: allocating and zeroing
    /// them per batch cost a few percent (page faults) on short texts.
    static WORKSPACE: std::cell::RefCell<Workspace> = std::cell::RefCell::new(Workspace::default());
}

/// Runs `f` with this thread's [`Workspace`] (a fresh one if it is in use further up the
/// stack), and frees the buffers afterwards if they grew past [`KEEP_WORKSPACE_VALUES`].
pub(crate) fn with_workspace<R>(f: impl FnOnce(&mut Workspace) -> R) -> R {
    WORKSPACE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut ws) => {
            let r = f(&mut ws);
            if ws.values() > KEEP_WORKSPACE_VALUES {
                *ws = Workspace::default();
            }
            r
        }
        Err(_) => f(&mut Workspace::default()),
    })
}

/// Why the CPU path cannot run a model that candle's `BertModel` may still run.
#[derive(Debug)]
pub(crate) struct Unsupported(pub String);

impl CpuBert {
    /// Loads the weights named by `config` from a safetensors buffer. `Ok(Err(_))` when the model
    /// uses something this path does not implement (the caller falls back to candle); `Err` when
    /// the config or the file is inconsistent.
    pub(crate) fn load(
        config: &BertConfig,
        position_offset: usize,
        safetensors: &[u8],
        source: &str,
    ) -> Result<std::result::Result<Self, Unsupported>> {
        if !matches!(config.hidden_act, HiddenAct::Gelu) {
            return Ok(Err(Unsupported(format!(
                "hidden_act {:?} (only the exact \"gelu\")",
                config.hidden_act
            ))));
        }
        let bad = |msg: String| EngineError::Encoder(format!("{source}: {msg}"));
        let dims = Dims {
            hidden: config.hidden_size,
            heads: config.num_attention_heads,
            head_dim: 0,
            intermediate: config.intermediate_size,
            layers: config.num_hidden_layers,
            vocab: config.vocab_size,
            max_positions: config.max_position_embeddings,
            position_offset,
            eps: config.layer_norm_eps as f32,
        };
        if dims.hidden == 0 || dims.heads == 0 || dims.hidden % dims.heads != 0 {
            return Err(bad(format!(
                "hidden_size {} is not a positive multiple of num_attention_heads {}",
                dims.hidden, dims.heads
            )));
        }
        if dims.intermediate == 0 || dims.vocab == 0 || dims.max_positions < 2 + position_offset {
            return Err(bad(format!(
                "config has intermediate_size {}, vocab_size {}, max_position_embeddings {} \
                 (need ≥ 1, ≥ 1, ≥ {})",
                dims.intermediate,
                dims.vocab,
                dims.max_positions,
                2 + position_offset
            )));
        }
        if !(dims.eps.is_finite() && dims.eps >= 0.0) {
            return Err(bad(format!("layer_norm_eps {} is not a finite value ≥ 0", dims.eps)));
        }
        if config.type_vocab_size == 0 {
            return Err(bad("type_vocab_size is 0".into()));
        }
        let dims = Dims { head_dim: dims.hidden / dims.heads, ..dims };

        let st = SafeTensors::deserialize(safetensors)
            .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
        let prefix = ["", "bert.", "roberta.", "model."]
            .into_iter()
            .map(String::from)
            .chain(config.model_type.iter().map(|t| format!("{t}.")))
            .find(|p| st.tensor(&format!("{p}embeddings.word_embeddings.weight")).is_ok())
            .ok_or_else(|| bad("no embeddings.word_embeddings.weight tensor".into()))?;
        let get =
            |name: &str, shape: &[usize]| -> Result<std::result::Result<Vec<f32>, Unsupported>> {
                tensor(&st, &format!("{prefix}{name}"), shape).map_err(&bad)
            };
        macro_rules! get {
            ($name:expr, $shape:expr) => {
                match get(&$name, &$shape)? {
                    Ok(v) => v,
                    Err(u) => return Ok(Err(u)),
                }
            };
        }
        let (h, i) = (dims.hidden, dims.intermediate);
        let norm = |name: &str| -> Result<std::result::Result<Norm, Unsupported>> {
            let weight = match get(&format!("{name}.weight"), &[h])? {
                Ok(v) => v,
                Err(u) => return Ok(Err(u)),
            };
            let bias = match get(&format!("{name}.bias"), &[h])? {
                Ok(v) => v,
                Err(u) => return Ok(Err(u)),
            };
            Ok(Ok(Norm { weight, bias }))
        };
        macro_rules! norm {
            ($name:expr) => {
                match norm(&$name)? {
                    Ok(v) => v,
                    Err(u) => return Ok(Err(u)),
                }
            };
        }

        let word = get!("embeddings.word_embeddings.weight", [dims.vocab, h]);
        let position = get!("embeddings.position_embeddings.weight", [dims.max_positions, h]);
        let types = get!("embeddings.token_type_embeddings.weight", [config.type_vocab_size, h]);
        let type0 = types[..h].to_vec();
        let emb_ln = norm!("embeddings.LayerNorm");
        let mut layers = Vec::new(); // no with_capacity: sizes come from the config file
        for l in 0..dims.layers {
            let p = format!("encoder.layer.{l}.");
            let mut qkv_w = Vec::new();
            let mut qkv_b = Vec::new();
            for part in ["query", "key", "value"] {
                qkv_w.extend(get!(format!("{p}attention.self.{part}.weight"), [h, h]));
                qkv_b.extend(get!(format!("{p}attention.self.{part}.bias"), [h]));
            }
            layers.push(Layer {
                qkv_w: transpose(&qkv_w, 3 * h, h),
                qkv_b,
                o_w: transpose(&get!(format!("{p}attention.output.dense.weight"), [h, h]), h, h),
                o_b: get!(format!("{p}attention.output.dense.bias"), [h]),
                ln1: norm!(format!("{p}attention.output.LayerNorm")),
                up_w: transpose(&get!(format!("{p}intermediate.dense.weight"), [i, h]), i, h),
                up_b: get!(format!("{p}intermediate.dense.bias"), [i]),
                down_w: transpose(&get!(format!("{p}output.dense.weight"), [h, i]), h, i),
                down_b: get!(format!("{p}output.dense.bias"), [h]),
                ln2: norm!(format!("{p}output.LayerNorm")),
            });
        }
        Ok(Ok(Self { dims, word, position, type0, emb_ln, layers, arch: pulp::Arch::new() }))
    }

    /// Output dimension.
    pub(crate) fn dim(&self) -> usize {
        self.dims.hidden
    }

    /// Mean-pooled, L2-normalised embeddings of `seqs` (token ids, special tokens included),
    /// written row by row into `out` (`seqs.len() × dim`). All texts go through one packed
    /// forward pass; an empty sequence gives a zero row.
    pub(crate) fn encode_packed(
        &self,
        seqs: &[&[u32]],
        ws: &mut Workspace,
        out: &mut [f32],
    ) -> Result<()> {
        // Compiled once per SIMD level and picked at run time: the element-wise loops below
        // vectorise to AVX2 (AVX-512 with the `avx512` feature) where the CPU has it. Same
        // results on every level (no reassociation, no FMA contraction).
        self.arch.dispatch(Forward { model: self, seqs, ws, out })
    }

    #[inline(always)]
    fn encode_packed_inner(
        &self,
        seqs: &[&[u32]],
        ws: &mut Workspace,
        out: &mut [f32],
    ) -> Result<()> {
        let d = self.dims;
        let h = d.hidden;
        if out.len() != seqs.len() * h {
            return Err(EngineError::Encoder(format!(
                "output buffer holds {} values, need {}",
                out.len(),
                seqs.len() * h
            )));
        }
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        if let Some(s) = seqs.iter().find(|s| s.len() + d.position_offset > d.max_positions) {
            return Err(EngineError::Encoder(format!(
                "{} tokens exceed the model's {} positions",
                s.len(),
                d.max_positions - d.position_offset
            )));
        }
        if total == 0 {
            out.fill(0.0);
            return Ok(());
        }
        resize(&mut ws.x, total * h);
        resize(&mut ws.qkv, total * 3 * h);
        resize(&mut ws.ctx, total * h);
        resize(&mut ws.proj, total * h);
        resize(&mut ws.up, total * d.intermediate);

        // Embeddings: word + position + type 0, then layer norm.
        let mut row = 0;
        for seq in seqs {
            for (p, &id) in seq.iter().enumerate() {
                let id = id as usize;
                if id >= d.vocab {
                    return Err(EngineError::Encoder(format!(
                        "token id {id} is outside the model's vocabulary of {}",
                        d.vocab
                    )));
                }
                let dst = &mut ws.x[row * h..(row + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let p = p + d.position_offset;
                let pe = &self.position[p * h..(p + 1) * h];
                for (((o, &a), &b), &c) in dst.iter_mut().zip(w).zip(pe).zip(&self.type0) {
                    *o = a + b + c;
                }
                layer_norm(dst, &self.emb_ln, d.eps);
                row += 1;
            }
        }

        let scale = 1.0 / (d.head_dim as f32).sqrt();
        for layer in &self.layers {
            // Fused Q/K/V projection, then bias.
            matmul_w(&mut ws.qkv, &ws.x, &layer.qkv_w, total, 3 * h, h)?;
            add_bias_rows(&mut ws.qkv, &layer.qkv_b);

            // Attention per text and head on strided views of qkv (row stride 3h).
            let mut start = 0;
            for seq in seqs {
                let len = seq.len();
                if len == 0 {
                    continue;
                }
                resize(&mut ws.scores, len * len);
                for head in 0..d.heads {
                    let q_off = start * 3 * h + head * d.head_dim;
                    let k_off = q_off + h;
                    let v_off = q_off + 2 * h;
                    // scores = scale · Q Kᵀ   (len × len)
                    matmul(
                        Mat { data: &mut ws.scores[..], rows: len, cols: len, rs: len },
                        View { data: &ws.qkv[q_off..], rs: 3 * h, cs: 1 },
                        View { data: &ws.qkv[k_off..], rs: 1, cs: 3 * h },
                        d.head_dim,
                        scale,
                    )?;
                    for r in ws.scores[..len * len].chunks_exact_mut(len) {
                        softmax(r);
                    }
                    // ctx_head = P V   (len × head_dim, rows of stride h)
                    let c_off = start * h + head * d.head_dim;
                    matmul(
                        Mat { data: &mut ws.ctx[c_off..], rows: len, cols: d.head_dim, rs: h },
                        View { data: &ws.scores[..len * len], rs: len, cs: 1 },
                        View { data: &ws.qkv[v_off..], rs: 3 * h, cs: 1 },
                        len,
                        1.0,
                    )?;
                }
                start += len;
            }

            // Output projection + bias + residual, layer norm.
            matmul_w(&mut ws.proj, &ws.ctx, &layer.o_w, total, h, h)?;
            for (x, y) in ws.x[..total * h].chunks_exact_mut(h).zip(ws.proj.chunks_exact(h)) {
                residual_layer_norm(x, y, &layer.o_b, &layer.ln1, d.eps);
            }
            // Feed-forward: up + bias + GELU, down + bias + residual, layer norm.
            matmul_w(&mut ws.up, &ws.x, &layer.up_w, total, d.intermediate, h)?;
            for r in ws.up[..total * d.intermediate].chunks_exact_mut(d.intermediate) {
                bias_gelu(r, &layer.up_b);
            }
            matmul_w(&mut ws.proj, &ws.up, &layer.down_w, total, h, d.intermediate)?;
            for (x, y) in ws.x[..total * h].chunks_exact_mut(h).zip(ws.proj.chunks_exact(h)) {
                residual_layer_norm(x, y, &layer.down_b, &layer.ln2, d.eps);
            }
        }

        // Mean pooling per text, L2 normalisation.
        let mut start = 0;
        for (seq, o) in seqs.iter().zip(out.chunks_exact_mut(h)) {
            o.fill(0.0);
            let len = seq.len();
            for r in ws.x[start * h..(start + len) * h].chunks_exact(h) {
                for (a, &b) in o.iter_mut().zip(r) {
                    *a += b;
                }
            }
            let inv = 1.0 / (len as f32).max(1e-9);
            o.iter_mut().for_each(|a| *a *= inv);
            let norm = sum16(o, |a| a * a).sqrt().max(1e-12);
            o.iter_mut().for_each(|a| *a /= norm);
            start += len;
        }
        Ok(())
    }
}

/// [`CpuBert::encode_packed`]'s arguments, for [`pulp::Arch::dispatch`] (a struct with an
/// always-inlined `with_simd`, so the whole pass is compiled inside the target-feature function;
/// a closure there is not reliably inlined).
struct Forward<'a, 'b> {
    model: &'a CpuBert,
    seqs: &'a [&'b [u32]],
    ws: &'a mut Workspace,
    out: &'a mut [f32],
}

impl pulp::WithSimd for Forward<'_, '_> {
    type Output = Result<()>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Result<()> {
        self.model.encode_packed_inner(self.seqs, self.ws, self.out)
    }
}

/// Reads tensor `name` as `f32`, checking its shape. `Ok(Err(_))` for a dtype we do not convert.
fn tensor(
    st: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
) -> std::result::Result<std::result::Result<Vec<f32>, Unsupported>, String> {
    let t = st.tensor(name).map_err(|_| format!("tensor {name} is missing"))?;
    if t.shape() != shape {
        return Err(format!("tensor {name} has shape {:?}, expected {shape:?}", t.shape()));
    }
    let bytes = t.data();
    let n: usize = shape.iter().product();
    let v: Vec<f32> = match t.dtype() {
        Dtype::F32 if bytes.len() == 4 * n => {
            bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        }
        Dtype::BF16 if bytes.len() == 2 * n => bytes
            .chunks_exact(2)
            .map(|b| f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16))
            .collect(),
        Dtype::F16 if bytes.len() == 2 * n => {
            bytes.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect()
        }
        Dtype::F32 | Dtype::BF16 | Dtype::F16 => {
            return Err(format!("tensor {name}: {} bytes do not match its shape", bytes.len()))
        }
        other => return Ok(Err(Unsupported(format!("tensor {name} has dtype {other:?}")))),
    };
    if let Some(bad) = v.iter().position(|x| !x.is_finite()) {
        return Err(format!("tensor {name} holds a non-finite value at {bad}"));
    }
    Ok(Ok(v))
}

/// IEEE half to single precision.
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let man = (h & 0x3ff) as f32;
    match exp {
        0 => sign * man * (2.0f32).powi(-24),
        31 if man == 0.0 => sign * f32::INFINITY,
        31 => f32::NAN,
        e => sign * (1.0 + man / 1024.0) * (2.0f32).powi(e - 15),
    }
}

/// The transpose of a `rows × cols` row-major matrix.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0f32; rows * cols];
    for (r, row) in m.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            t[c * rows + r] = v;
        }
    }
    t
}

fn resize(v: &mut Vec<f32>, n: usize) {
    if v.len() < n {
        v.resize(n, 0.0);
    }
}

/// A row-major destination: `rows × cols`, row stride `rs`, column stride 1.
struct Mat<'a> {
    data: &'a mut [f32],
    rows: usize,
    cols: usize,
    rs: usize,
}

/// A strided read-only operand: element `(r, c)` at `r·rs + c·cs`.
struct View<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

/// Whether a `rows × cols` matrix with strides `rs`, `cs` fits in `len` values.
fn fits(len: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    rows == 0 || cols == 0 || (rows - 1) * rs + (cols - 1) * cs < len
}

/// `dst[..m·n] = x (m × k) · w` for a weight `w` stored `k × n` row-major.
fn matmul_w(dst: &mut [f32], x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Result<()> {
    matmul(
        Mat { data: dst, rows: m, cols: n, rs: n },
        View { data: x, rs: k, cs: 1 },
        View { data: w, rs: n, cs: 1 },
        k,
        1.0,
    )
}

/// `dst = scale · lhs (rows × k) · rhs (k × cols)`, single-threaded (the caller parallelises).
/// Every operand's extent is checked against its slice before the product runs.
#[allow(unsafe_code)]
fn matmul(dst: Mat<'_>, lhs: View<'_>, rhs: View<'_>, k: usize, scale: f32) -> Result<()> {
    let (m, n) = (dst.rows, dst.cols);
    if !(fits(dst.data.len(), m, n, dst.rs, 1)
        && fits(lhs.data.len(), m, k, lhs.rs, lhs.cs)
        && fits(rhs.data.len(), k, n, rhs.rs, rhs.cs))
    {
        return Err(EngineError::Encoder(format!(
            "internal error: a {m}×{k}·{k}×{n} product does not fit its buffers"
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        for r in dst.data.chunks_mut(dst.rs).take(m) {
            r[..n].fill(0.0);
        }
        return Ok(());
    }
    // SAFETY: `fits` checked above that every element the product reads (lhs: m×k, rhs: k×n)
    // or writes (dst: m×n) with the given strides lies inside its slice; `dst` is a unique
    // borrow, so it cannot alias `lhs` or `rhs`; strides fit in isize since they index slices.
    // With `read_dst = false` gemm never reads dst's prior contents.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.data.as_mut_ptr(),
            1,
            dst.rs as isize,
            false,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            0.0,
            scale,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    Ok(())
}

#[inline(always)]
fn add_bias_rows(m: &mut [f32], bias: &[f32]) {
    for r in m.chunks_exact_mut(bias.len()) {
        for (a, &b) in r.iter_mut().zip(bias) {
            *a += b;
        }
    }
}

/// `x = LayerNorm(x + y + bias)`.
#[inline(always)]
fn residual_layer_norm(x: &mut [f32], y: &[f32], bias: &[f32], ln: &Norm, eps: f32) {
    for ((a, &b), &c) in x.iter_mut().zip(y).zip(bias) {
        *a += b + c;
    }
    layer_norm(x, ln, eps);
}

/// In-place layer norm of one row (two passes; sums in 16 lanes, so they vectorise and do not
/// depend on the SIMD level).
#[inline(always)]
fn layer_norm(x: &mut [f32], ln: &Norm, eps: f32) {
    let n = x.len() as f32;
    let mean = sum16(x, |v| v) / n;
    let var = sum16(x, |v| (v - mean) * (v - mean)) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, &w), &b) in x.iter_mut().zip(&ln.weight).zip(&ln.bias) {
        *v = (*v - mean) * inv * w + b;
    }
}

/// `Σ f(x)` with 16 independent accumulators, then the tail.
#[inline(always)]
fn sum16(x: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; 16];
    let chunks = x.chunks_exact(16);
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn softmax(r: &mut [f32]) {
    let max = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in r.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    r.iter_mut().for_each(|v| *v *= inv);
}

/// `r = gelu(r + bias)` with BERT's exact (erf) GELU.
#[inline(always)]
fn bias_gelu(r: &mut [f32], bias: &[f32]) {
    for (v, &b) in r.iter_mut().zip(bias) {
        let x = *v + b;
        *v = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// erf for `f32`: a rational approximation on [-4, 4] (erf is ±1 in `f32` beyond), accurate to
/// a few ulp; branch-free so the GELU loop vectorises. Coefficients from Eigen's
/// `generic_fast_erf_float`.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_6e-3;
    p = x2 * p + -1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_5e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329e-3;
    q = x2 * q + -1.426_474e-2;
    p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_reference_values() {
        // erf at a few points (from the closed form / tables), and symmetry.
        let cases = [
            (0.0f32, 0.0f32),
            (0.1, 0.112_462_92),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (1.5, 0.966_105_16),
            (2.0, 0.995_322_3),
            (3.0, 0.999_977_9),
            (5.0, 1.0),
        ];
        for (x, want) in cases {
            assert!((erf(x) - want).abs() < 2e-7, "erf({x}) = {} want {want}", erf(x));
            assert!((erf(-x) + want).abs() < 2e-7);
        }
    }

    #[test]
    fn f16_conversion() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2.0f32.powi(-24));
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    }

    #[test]
    fn strided_matmul_matches_naive() {
        // lhs 3×4 · w 4×2 (both row-major) → 3×2.
        let lhs: Vec<f32> = (0..12).map(|v| v as f32 * 0.5 - 2.0).collect();
        let w: Vec<f32> = (0..8).map(|v| (v as f32 - 3.0) * 0.25).collect();
        let mut dst = vec![0.0f32; 6];
        matmul_w(&mut dst, &lhs, &w, 3, 2, 4).unwrap_or_else(|e| panic!("{e}"));
        for r in 0..3 {
            for c in 0..2 {
                let want: f32 = (0..4).map(|k| lhs[r * 4 + k] * w[k * 2 + c]).sum();
                assert!((dst[r * 2 + c] - want).abs() < 1e-5);
            }
        }
        // Out-of-bounds extents are an error, not a panic or a read past the end.
        assert!(matmul_w(&mut dst, &lhs, &w, 4, 2, 4).is_err());
    }
}
