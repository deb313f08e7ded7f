//! Distances between two sets of feature vectors (e.g. VGG16 features of stylized frames and of
//! the style set): the Fréchet distance of Gaussians fitted to them (the "FID" formula, Heusel et
//! al. 2017) and the kernel inception distance (KID, Bińkowski et al. 2018, "Demystifying MMD
//! GANs"), computed in f64.
//!
//! Sets here are small (about 20–100 vectors of 512 values): smaller than the dimension, so the
//! covariances are rank-deficient, and too small for KID's usual 100 subsets of 1000. The
//! functions take a set as a slice of vectors (`&[Vec<f32>]`, `&[&[f32]]`, …), every vector of
//! the same dimension; bad input is an error, never a panic.

use anyhow::{bail, ensure};
use nalgebra::{DMatrix, DVector};

/// The set as an n × d f64 matrix (one vector a row), checked: at least `min` vectors, all of
/// one non-zero dimension, all values finite.
fn matrix<V: AsRef<[f32]>>(set: &[V], name: &str, min: usize, why: &str) -> anyhow::Result<DMatrix<f64>> {
    ensure!(!set.is_empty(), "the {name} set is empty");
    ensure!(set.len() >= min, "the {name} set has {} vector(s); {why} needs at least {min}", set.len());
    let d = set[0].as_ref().len();
    ensure!(d > 0, "the {name} set's vectors are empty (dimension 0)");
    for (i, v) in set.iter().enumerate() {
        let v = v.as_ref();
        ensure!(v.len() == d, "the {name} set mixes dimensions: vector 0 has {d} values, vector {i} {}", v.len());
        if let Some(j) = v.iter().position(|x| !x.is_finite()) {
            bail!("the {name} set's vector {i} has a non-finite value at {j} ({})", v[j]);
        }
    }
    Ok(DMatrix::from_fn(set.len(), d, |i, j| set[i].as_ref()[j] as f64))
}

/// Both sets, checked, and of the same dimension.
fn matrices<V: AsRef<[f32]>>(a: &[V], b: &[V], min: usize, why: &str) -> anyhow::Result<(DMatrix<f64>, DMatrix<f64>)> {
    let (a, b) = (matrix(a, "first", min, why)?, matrix(b, "second", min, why)?);
    ensure!(a.ncols() == b.ncols(), "the sets' dimensions differ: {} and {}", a.ncols(), b.ncols());
    Ok((a, b))
}

/// Column means (μ) of an n × d set, and the set with them subtracted.
fn centred(x: &DMatrix<f64>) -> (DVector<f64>, DMatrix<f64>) {
    let n = x.nrows() as f64;
    let mean = DVector::from_fn(x.ncols(), |j, _| x.column(j).sum() / n);
    let mut c = x.clone();
    for (j, mut col) in c.column_iter_mut().enumerate() {
        col.add_scalar_mut(-mean[j]);
    }
    (mean, c)
}

/// A factor F of the set's covariance C = XcᵀXc / (n − 1) (unbiased, as `numpy.cov`):
/// C = FᵀF, with at most min(n, d) rows. For n ≤ d that is Xc / sqrt(n − 1) itself (exact: no
/// decomposition at all); otherwise Λ^½Vᵀ from C's eigendecomposition (eigenvalues clipped at 0).
fn covariance_factor(xc: &DMatrix<f64>) -> DMatrix<f64> {
    let (n, d) = xc.shape();
    if n <= d {
        return xc / ((n - 1) as f64).sqrt();
    }
    let c = xc.transpose() * xc / (n - 1) as f64;
    let eigen = c.symmetric_eigen();
    let mut f = eigen.eigenvectors.transpose();
    for (i, mut row) in f.row_iter_mut().enumerate() {
        row *= eigen.eigenvalues[i].max(0.0).sqrt();
    }
    f
}

/// Fréchet distance between Gaussians fitted to sets `a` and `b` (means, unbiased
/// covariances): ‖μa − μb‖² + tr(Ca) + tr(Cb) − 2·tr(sqrt(Ca·Cb)). 0 for identical sets,
/// never negative (clipped at 0 against rounding).
///
/// tr(sqrt(Ca·Cb)) = Σ sqrt(max(λ, 0)) over the eigenvalues λ of the symmetric PSD matrix
/// sqrt(Ca)·Cb·sqrt(Ca). It is computed as the nuclear norm (sum of singular values) of
/// Fa·Fbᵀ, where C = FᵀF (F = the centred set / sqrt(n − 1) when n ≤ d): the same number —
/// those λ are the nonzero eigenvalues of (Fa·Fbᵀ)ᵀ(Fa·Fbᵀ) — without a matrix square root,
/// whose rounding in the null space of a rank-deficient covariance (sets smaller than d)
/// would add about sqrt(ε)·‖C‖ per missing dimension. The SVD is at most min(na, d) ×
/// min(nb, d).
///
/// Errors: an empty set, a set of one vector (a covariance needs 2), vectors of different
/// dimensions, non-finite values.
pub fn frechet_distance<V: AsRef<[f32]>>(a: &[V], b: &[V]) -> anyhow::Result<f64> {
    let (a, b) = matrices(a, b, 2, "a covariance")?;
    let ((mu_a, xa), (mu_b, xb)) = (centred(&a), centred(&b));
    let (fa, fb) = (covariance_factor(&xa), covariance_factor(&xb));
    let mean_term = (&mu_a - &mu_b).norm_squared();
    let (tr_a, tr_b) = (fa.norm_squared(), fb.norm_squared());
    let cross = (&fa * fb.transpose()).singular_values().sum();
    Ok((mean_term + tr_a + tr_b - 2.0 * cross).max(0.0))
}

/// KID's kernel matrix between the rows of `x` and `y`: k(x, y) = (xᵀy / d + 1)³.
fn kernel(x: &DMatrix<f64>, y: &DMatrix<f64>) -> DMatrix<f64> {
    let d = x.ncols() as f64;
    (x * y.transpose()).map(|v| (v / d + 1.0).powi(3))
}

/// Kernel inception distance between sets `a` and `b`: the unbiased estimate of the squared
/// maximum mean discrepancy (MMD²) with the polynomial kernel k(x, y) = (xᵀy/d + 1)³ (Bińkowski
/// et al. 2018), over the full sets, and its standard error. Returns `(kid, standard_error)`.
/// Like any unbiased estimate it can be slightly negative when the sets come from one
/// distribution; compare it with its standard error.
///
/// MMD²ᵤ = Σᵢ≠ⱼ k(aᵢ, aⱼ) / (m(m−1)) + Σᵢ≠ⱼ k(bᵢ, bⱼ) / (n(n−1)) − 2·Σᵢⱼ k(aᵢ, bⱼ) / (mn).
///
/// The standard error is the delete-one jackknife over both sets (two-sample jackknife, Arvesen
/// 1969): with θ₋ᵢ the estimate without vector i, the variance is
/// (m−1)/m · Σᵢ∈a (θ₋ᵢ − θ̄a)² + (n−1)/n · Σⱼ∈b (θ₋ⱼ − θ̄b)². The paper's recipe — mean and
/// spread over 100 random subsets of 1000 — needs sets far larger than the 20–100 vectors
/// evaluated here, and subsets of a small set overlap so much that their spread understates
/// the error.
///
/// Errors: an empty set, a set of fewer than 3 vectors (the estimate needs 2 per set, the
/// jackknife one more), vectors of different dimensions, non-finite values.
pub fn kid<V: AsRef<[f32]>>(a: &[V], b: &[V]) -> anyhow::Result<(f64, f64)> {
    let (a, b) = matrices(a, b, 3, "KID with a jackknife standard error")?;
    let (m, n) = (a.nrows(), b.nrows());
    let (kaa, kbb, kab) = (kernel(&a, &a), kernel(&b, &b), kernel(&a, &b));
    // Off-diagonal row sums within each set, row / column sums across.
    let within = |k: &DMatrix<f64>| -> Vec<f64> { (0..k.nrows()).map(|i| k.row(i).sum() - k[(i, i)]).collect() };
    let (ra, rb) = (within(&kaa), within(&kbb));
    let ca: Vec<f64> = (0..m).map(|i| kab.row(i).sum()).collect();
    let cb: Vec<f64> = (0..n).map(|j| kab.column(j).sum()).collect();
    let (saa, sbb, sab) = (ra.iter().sum::<f64>(), rb.iter().sum::<f64>(), ca.iter().sum::<f64>());
    let mmd2 = |saa: f64, m: usize, sbb: f64, n: usize, sab: f64| {
        let (mf, nf) = (m as f64, n as f64);
        saa / (mf * (mf - 1.0)) + sbb / (nf * (nf - 1.0)) - 2.0 * sab / (mf * nf)
    };
    let estimate = mmd2(saa, m, sbb, n, sab);
    // Deleting vector i of a removes its row and column of Kaa and its row of Kab.
    let without_a: Vec<f64> = (0..m).map(|i| mmd2(saa - 2.0 * ra[i], m - 1, sbb, n, sab - ca[i])).collect();
    let without_b: Vec<f64> = (0..n).map(|j| mmd2(saa, m, sbb - 2.0 * rb[j], n - 1, sab - cb[j])).collect();
    let spread = |thetas: &[f64]| {
        let k = thetas.len() as f64;
        let mean = thetas.iter().sum::<f64>() / k;
        (k - 1.0) / k * thetas.iter().map(|t| (t - mean).powi(2)).sum::<f64>()
    };
    Ok((estimate, (spread(&without_a) + spread(&without_b)).sqrt()))
}

/// L2 penalty of [`LinearProbe::fit`] on standardised features: features outnumber the
/// training vectors' effective count, so the probe must be kept from memorising them.
const PROBE_L2: f64 = 0.05;
/// Newton steps of [`LinearProbe::fit`] (regularised logistic regression converges in a few).
const PROBE_STEPS: usize = 25;

/// A linear photo-vs-drawing probe (logistic regression) on feature vectors: fit on training
/// photos (class 0) and training drawings (class 1), it scores a new vector with the
/// probability that it is a drawing. Features are standardised by the training vectors' mean
/// and spread; the two classes weigh the same however many vectors each has; L2-regularised
/// ([`PROBE_L2`]); fitted by Newton's method, so the fit is deterministic.
#[derive(Debug, Clone)]
pub struct LinearProbe {
    mean: DVector<f64>,
    inv_scale: DVector<f64>,
    weights: DVector<f64>,
    bias: f64,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl LinearProbe {
    /// Errors: either set with fewer than 2 vectors, mixed dimensions, non-finite values.
    pub fn fit<V: AsRef<[f32]>>(photos: &[V], drawings: &[V]) -> anyhow::Result<LinearProbe> {
        let (a, b) = matrices(photos, drawings, 2, "a photo-vs-drawing probe")?;
        let d = a.ncols();
        let x =
            DMatrix::from_fn(
                a.nrows() + b.nrows(),
                d,
                |i, j| if i < a.nrows() { a[(i, j)] } else { b[(i - a.nrows(), j)] },
            );
        let n = x.nrows();
        let (mean, xc) = centred(&x);
        let inv_scale = DVector::from_fn(d, |j, _| {
            let sd = (xc.column(j).norm_squared() / n as f64).sqrt();
            if sd > 1e-12 { 1.0 / sd } else { 0.0 }
        });
        let mut z = xc;
        for (j, mut col) in z.column_iter_mut().enumerate() {
            col *= inv_scale[j];
        }
        // Append a column of ones for the bias (not penalised).
        let z = z.insert_column(d, 1.0);
        let label = |i: usize| if i < a.nrows() { 0.0 } else { 1.0 };
        let weight = |i: usize| if i < a.nrows() { 0.5 / a.nrows() as f64 } else { 0.5 / b.nrows() as f64 };
        let mut theta = DVector::<f64>::zeros(d + 1);
        let mut penalty = DMatrix::<f64>::identity(d + 1, d + 1) * PROBE_L2;
        penalty[(d, d)] = 0.0;
        for _ in 0..PROBE_STEPS {
            let p = &z * &theta;
            let mut gradient = &penalty * &theta;
            let mut weighted = z.clone();
            for i in 0..n {
                let pi = sigmoid(p[i]);
                gradient += z.row(i).transpose() * (weight(i) * (pi - label(i)));
                weighted.row_mut(i).scale_mut(weight(i) * pi * (1.0 - pi));
            }
            // A tiny ridge on the bias keeps the Hessian invertible when the classes separate.
            let hessian = z.transpose() * weighted + &penalty + DMatrix::<f64>::identity(d + 1, d + 1) * 1e-9;
            let step = hessian
                .cholesky()
                .ok_or_else(|| anyhow::anyhow!("the photo-vs-drawing probe's Hessian is not positive definite"))?
                .solve(&gradient);
            theta -= &step;
            if step.amax() < 1e-10 {
                break;
            }
        }
        Ok(LinearProbe { mean, inv_scale, weights: theta.rows(0, d).into_owned(), bias: theta[d] })
    }

    /// Probability (0–1) that `v` is a drawing; `v` must have the training vectors' dimension.
    pub fn probability(&self, v: &[f32]) -> anyhow::Result<f64> {
        ensure!(
            v.len() == self.weights.len(),
            "the probe was fit on {} values per vector, given {}",
            self.weights.len(),
            v.len()
        );
        let z: f64 = (0..v.len()).map(|j| (v[j] as f64 - self.mean[j]) * self.inv_scale[j] * self.weights[j]).sum();
        Ok(sigmoid(z + self.bias))
    }

    /// Mean [`probability`](Self::probability) over a set.
    pub fn mean_probability<V: AsRef<[f32]>>(&self, set: &[V]) -> anyhow::Result<f64> {
        ensure!(!set.is_empty(), "no vectors to score with the probe");
        let mut sum = 0.0;
        for v in set {
            sum += self.probability(v.as_ref())?;
        }
        Ok(sum / set.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// `n` vectors of dimension `d`: standard normal values (Box–Muller) scaled by `scale[j]`
    /// (cycled) plus `shift`.
    fn gaussian(seed: u64, n: usize, d: usize, shift: f32, scale: &[f32]) -> Vec<Vec<f32>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut normal = move || {
            let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        };
        (0..n).map(|_| (0..d).map(|j| shift + scale[j % scale.len()] * normal()).collect()).collect()
    }

    /// The definition, literally: Σ sqrt(max(λ, 0)) of eigenvalues of sqrt(Ca)·Cb·sqrt(Ca).
    fn frechet_by_definition(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
        let (a, b) = matrices(a, b, 2, "").unwrap();
        let ((mu_a, xa), (mu_b, xb)) = (centred(&a), centred(&b));
        let ca = xa.transpose() * &xa / (a.nrows() - 1) as f64;
        let cb = xb.transpose() * &xb / (b.nrows() - 1) as f64;
        let eigen = ca.clone().symmetric_eigen();
        let root = &eigen.eigenvectors
            * DMatrix::from_diagonal(&eigen.eigenvalues.map(|l| l.max(0.0).sqrt()))
            * eigen.eigenvectors.transpose();
        let m = &root * &cb * &root;
        let m = (&m + m.transpose()) / 2.0;
        let cross: f64 = m.symmetric_eigen().eigenvalues.iter().map(|l| l.max(0.0).sqrt()).sum();
        (&mu_a - &mu_b).norm_squared() + ca.trace() + cb.trace() - 2.0 * cross
    }

    fn trace_of_covariance(set: &[Vec<f32>]) -> f64 {
        let x = matrix(set, "", 2, "").unwrap();
        centred(&x).1.norm_squared() / (x.nrows() - 1) as f64
    }

    #[test]
    fn frechet_of_a_set_with_itself_is_zero() {
        // Fewer vectors than dimensions (the evaluation's case) and more.
        for (n, d) in [(50, 512), (20, 512), (300, 16)] {
            let a = gaussian(n as u64, n, d, 0.3, &[1.0, 2.0, 0.5]);
            let fd = frechet_distance(&a, &a).unwrap();
            assert!(fd.abs() < 1e-6 * 2.0 * trace_of_covariance(&a), "{n}×{d}: {fd}");
        }
    }

    #[test]
    fn frechet_of_two_1d_sets_by_hand() {
        // a = {0, 2}: μ 1, variance 2. b = {3, 7, 5}: μ 5, variance 4.
        // FD = (1 − 5)² + (√2 − √4)² = 16 + 6 − 4√2.
        let (a, b) = (vec![vec![0.0f32], vec![2.0]], vec![vec![3.0f32], vec![7.0], vec![5.0]]);
        let expected = 22.0 - 4.0 * 2f64.sqrt();
        assert!((frechet_distance(&a, &b).unwrap() - expected).abs() < 1e-12);
        assert!((frechet_by_definition(&a, &b) - expected).abs() < 1e-12);
    }

    #[test]
    fn frechet_matches_its_definition() {
        // Full rank (n > d) and rank-deficient (n < d), different covariances.
        for (na, nb, d) in [(60, 40, 8), (12, 30, 24)] {
            let a = gaussian(1, na, d, 0.0, &[1.0, 0.3, 2.0]);
            let b = gaussian(2, nb, d, 0.5, &[0.7, 1.5]);
            let (fd, def) = (frechet_distance(&a, &b).unwrap(), frechet_by_definition(&a, &b));
            assert!((fd - def).abs() < 1e-6 * def, "{na}, {nb}, {d}: {fd} vs {def}");
        }
    }

    #[test]
    fn frechet_of_shifted_gaussians_is_the_squared_shift() {
        // Same covariance (I), means 0 and 2 in each of 8 dimensions: ‖Δμ‖² = 32.
        let (a, b) = (gaussian(3, 2000, 8, 0.0, &[1.0]), gaussian(4, 2000, 8, 2.0, &[1.0]));
        let fd = frechet_distance(&a, &b).unwrap();
        assert!((fd - 32.0).abs() < 1.0, "{fd}");
    }

    #[test]
    fn frechet_is_symmetric_and_finite_when_rank_deficient() {
        let a = gaussian(5, 20, 512, 0.0, &[1.0, 3.0]);
        let b = gaussian(6, 35, 512, 0.2, &[0.5]);
        let (ab, ba) = (frechet_distance(&a, &b).unwrap(), frechet_distance(&b, &a).unwrap());
        assert!(ab.is_finite() && ab > 0.0, "{ab}");
        assert!((ab - ba).abs() < 1e-9 * ab, "{ab} vs {ba}");
        // Two vectors each: rank 1.
        let fd = frechet_distance(&a[..2], &b[..2]).unwrap();
        assert!(fd.is_finite() && fd >= 0.0, "{fd}");
    }

    #[test]
    fn kid_of_a_small_1d_example_by_hand() {
        // d 1, k(x, y) = (xy + 1)³; a = {0, 1, 2}, b = {0, 0, 1}.
        // Within a: k(0,1) 1, k(0,2) 1, k(1,2) 27 → 2·29 / 6; within b: 3 pairs of 1 → 1;
        // across: 3 + 10 + 29 = 42 → 2·42 / 9. MMD² = 29/3 + 1 − 28/3 = 4/3.
        // Jackknife: without a₀, a₁, a₂: 15, −26/3, −7/3; without b₀, b₁, b₂: −7/3, −7/3, 26/3
        // (both means 4/3): variance = 2/3 · 2702/9 + 2/3 · 726/9 = 6856/27.
        let a: Vec<Vec<f32>> = [0.0, 1.0, 2.0].iter().map(|v| vec![*v]).collect();
        let b: Vec<Vec<f32>> = [0.0, 0.0, 1.0].iter().map(|v| vec![*v]).collect();
        let (k, se) = kid(&a, &b).unwrap();
        assert!((k - 4.0 / 3.0).abs() < 1e-12, "{k}");
        assert!((se - (6856.0f64 / 27.0).sqrt()).abs() < 1e-9, "{se}");
    }

    #[test]
    fn kid_separates_distributions() {
        let d = 64;
        let a = gaussian(7, 100, d, 0.0, &[1.0]);
        let same = gaussian(8, 80, d, 0.0, &[1.0]);
        let other = gaussian(9, 80, d, 0.5, &[1.0]);
        let (k, se) = kid(&a, &same).unwrap();
        assert!(se > 0.0 && k.abs() < 3.0 * se, "same distribution: {k} ± {se}");
        let (k, se) = kid(&a, &other).unwrap();
        assert!(k > 0.0 && k > 5.0 * se, "shifted: {k} ± {se}");
    }

    #[test]
    fn bad_sets_are_errors() {
        let a = gaussian(10, 5, 4, 0.0, &[1.0]);
        let empty: Vec<Vec<f32>> = Vec::new();
        assert!(frechet_distance(&empty, &a).is_err());
        assert!(frechet_distance(&a, &empty).is_err());
        assert!(kid(&empty, &a).is_err());
        assert!(frechet_distance(&a[..1], &a).is_err());
        assert!(kid(&a[..1], &a).is_err());
        assert!(kid(&a, &a[..2]).is_err());
        let wider = gaussian(11, 5, 5, 0.0, &[1.0]);
        assert!(frechet_distance(&a, &wider).is_err());
        assert!(kid(&a, &wider).is_err());
        let mut ragged = a.clone();
        ragged[3].push(1.0);
        assert!(frechet_distance(&ragged, &a).is_err());
        let mut nan = a.clone();
        nan[2][1] = f32::NAN;
        assert!(kid(&a, &nan).is_err());
        let zero_d = vec![Vec::<f32>::new(); 3];
        assert!(frechet_distance(&zero_d, &zero_d).is_err());
        let msg = format!("{:#}", frechet_distance(&a, &wider).unwrap_err());
        assert!(msg.contains("4") && msg.contains("5"), "{msg}");
    }

    #[test]
    fn probe_tells_the_classes_apart_on_new_vectors() {
        // Two Gaussians in 64-d differing by 0.5σ in every direction: easy for a linear probe.
        let photos = gaussian(1, 60, 64, 0.0, &[1.0]);
        let drawings = gaussian(2, 30, 64, 0.5, &[1.0]);
        let probe = LinearProbe::fit(&photos, &drawings).unwrap();
        let (new_photos, new_drawings) = (gaussian(3, 40, 64, 0.0, &[1.0]), gaussian(4, 40, 64, 0.5, &[1.0]));
        let (pp, pd) = (probe.mean_probability(&new_photos).unwrap(), probe.mean_probability(&new_drawings).unwrap());
        assert!(pp < 0.2 && pd > 0.8, "held-out photos {pp}, drawings {pd}");
        for v in new_photos.iter().chain(&new_drawings) {
            let p = probe.probability(v).unwrap();
            assert!((0.0..=1.0).contains(&p));
        }
    }

    #[test]
    fn probe_of_one_distribution_is_undecided() {
        let probe = LinearProbe::fit(&gaussian(5, 80, 16, 0.0, &[1.0]), &gaussian(6, 80, 16, 0.0, &[1.0])).unwrap();
        let p = probe.mean_probability(&gaussian(7, 200, 16, 0.0, &[1.0])).unwrap();
        assert!((p - 0.5).abs() < 0.1, "{p}");
    }

    #[test]
    fn probe_errors_name_the_problem() {
        let one = vec![vec![1.0f32, 2.0]];
        let two = vec![vec![1.0f32, 2.0], vec![0.0, 1.0]];
        assert!(LinearProbe::fit(&one, &two).unwrap_err().to_string().contains("at least 2"));
        let probe = LinearProbe::fit(&two, &[vec![5.0f32, 5.0], vec![6.0, 4.0]]).unwrap();
        assert!(probe.probability(&[1.0, 2.0, 3.0]).unwrap_err().to_string().contains("fit on 2 values"));
        assert!(probe.mean_probability::<Vec<f32>>(&[]).is_err());
    }
}
