//! The loss terms, one function each, with their sources. All images are NCHW RGB in
//! `[-1, 1]`; every loss returns a one-element tensor (a mean, so it does not grow with batch
//! or image size).
//!
//! Perceptual terms (content, style) are computed on features from
//! [`crate::model::features::FeatureNet`]: VGG16 (content relu4_3, style relu1_2…relu4_3) when
//! `TrainConfig.perceptual` names a weight file, VGG19 up to `conv4_4` when `TrainConfig.vgg19`
//! does, else the documented fallback (content on 4× average-pooled images, style on Gram
//! matrices of fixed seeded random-conv features) — see that module.

use burn::tensor::Tensor;

/// LSGAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks"), as used by
/// AnimeGAN/AnimeGANv2: the discriminator's loss on inputs it should call **real**:
/// `mean((D(x) − 1)²)`.
pub fn lsgan_real(logits: Tensor<4>) -> Tensor<1> {
    logits.sub_scalar(1.0).square().mean()
}

/// LSGAN: the discriminator's loss on inputs it should call **fake**: `mean(D(x)²)`.
pub fn lsgan_fake(logits: Tensor<4>) -> Tensor<1> {
    logits.square().mean()
}

/// LSGAN generator loss: `mean((D(G(x)) − 1)²)` (Mao et al. 2017; AnimeGANv2 `generator_loss`).
pub fn lsgan_generator(fake_logits: Tensor<4>) -> Tensor<1> {
    lsgan_real(fake_logits)
}

/// Mean absolute error.
pub fn l1(a: Tensor<4>, b: Tensor<4>) -> Tensor<1> {
    (a - b).abs().mean()
}

/// Huber loss (δ = 1, TensorFlow's `tf.losses.huber_loss` as used by AnimeGANv2's colour loss):
/// `0.5·d²` for `|d| ≤ 1`, `|d| − 0.5` beyond.
pub fn huber(a: Tensor<4>, b: Tensor<4>) -> Tensor<1> {
    let d = (a - b).abs();
    let quad = d.clone().clamp_max(1.0);
    let lin = d - quad.clone();
    (quad.square().mul_scalar(0.5) + lin).mean()
}

/// Content loss (Gatys et al. 2016; AnimeGAN `con_loss`): L1 between feature maps of the
/// generated image and of the photo it came from.
pub fn content(fake_features: Tensor<4>, photo_features: Tensor<4>) -> Tensor<1> {
    l1(fake_features, photo_features)
}

/// Gram matrix `F·Fᵀ / (c·h·w)` per image: `[n, c, h, w] → [n, c, c]` (Gatys et al. 2016).
pub fn gram(features: Tensor<4>) -> Tensor<3> {
    let [n, c, h, w] = features.dims();
    let f = features.reshape([n, c, h * w]);
    f.clone().matmul(f.swap_dims(1, 2)).div_scalar((c * h * w) as f64)
}

/// Style loss (AnimeGAN `style_loss`, after Gatys et al. 2016): L1 between Gram matrices of the
/// generated image's features and of the **grayscale** style image's features (grayscale so the
/// generator learns the style's texture, not its palette), averaged over the feature layers
/// (one layer for VGG19 and the fallback, four for VGG16). `fake_features[i]` pairs with
/// `gray_style_features[i]`.
pub fn style(fake_features: Vec<Tensor<4>>, gray_style_features: Vec<Tensor<4>>) -> Tensor<1> {
    assert!(
        !fake_features.is_empty() && fake_features.len() == gray_style_features.len(),
        "style loss: {} generated vs {} style feature layers",
        fake_features.len(),
        gray_style_features.len()
    );
    let layers = fake_features.len();
    let sum = fake_features
        .into_iter()
        .zip(gray_style_features)
        .map(|(f, s)| (gram(f) - gram(s)).abs().mean())
        .reduce(|a, b| a + b)
        .expect("at least one layer");
    if layers == 1 { sum } else { sum.div_scalar(layers as f64) }
}

/// ITU-R BT.601 luma of `[-1, 1]` RGB, replicated to 3 channels (AnimeGAN feeds the
/// grayscale style frames as 3-channel images).
pub fn grayscale(x: Tensor<4>) -> Tensor<4> {
    let [n, _, h, w] = x.dims();
    let r = x.clone().narrow(1, 0, 1);
    let g = x.clone().narrow(1, 1, 1);
    let b = x.narrow(1, 2, 1);
    let y = r.mul_scalar(0.299) + g.mul_scalar(0.587) + b.mul_scalar(0.114);
    y.expand([n, 3, h, w])
}

/// `[-1, 1]` RGB → YUV (BT.601, on `[0, 1]` RGB as AnimeGANv2's `rgb2yuv`): returns (Y, U, V),
/// each `[n, 1, h, w]`.
pub fn rgb_to_yuv(x: Tensor<4>) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
    let x = x.add_scalar(1.0).mul_scalar(0.5);
    let r = x.clone().narrow(1, 0, 1);
    let g = x.clone().narrow(1, 1, 1);
    let b = x.narrow(1, 2, 1);
    let y = r.clone().mul_scalar(0.299) + g.clone().mul_scalar(0.587) + b.clone().mul_scalar(0.114);
    let u = r.clone().mul_scalar(-0.14714119) + g.clone().mul_scalar(-0.28886916) + b.clone().mul_scalar(0.43601035);
    let v = r.mul_scalar(0.61497538) + g.mul_scalar(-0.51496512) + b.mul_scalar(-0.10001026);
    (y, u, v)
}

/// Colour loss (AnimeGANv2 `color_loss`): L1 on Y + Huber on U and V, generated vs photo, in YUV.
/// Keeps the photo's colours while the style terms change texture.
pub fn color(fake: Tensor<4>, photo: Tensor<4>) -> Tensor<1> {
    let (fy, fu, fv) = rgb_to_yuv(fake);
    let (py, pu, pv) = rgb_to_yuv(photo);
    l1(fy, py) + huber(fu, pu) + huber(fv, pv)
}

/// Gradient difference loss (Mathieu, Couprie & LeCun 2016, "Deep multi-scale video prediction
/// beyond mean square error"): L1 between the horizontal and vertical neighbour differences of
/// `a` and of `b`. Plain L1 to a target lets a small network settle on a blurred border (the
/// mean of the border's possible positions); this term charges the missing step itself, so
/// borders the target draws stay steep.
pub fn gradient_difference(a: Tensor<4>, b: Tensor<4>) -> Tensor<1> {
    let [_, _, h, w] = a.dims();
    let dy = |x: Tensor<4>| x.clone().narrow(2, 1, h - 1) - x.narrow(2, 0, h - 1);
    let dx = |x: Tensor<4>| x.clone().narrow(3, 1, w - 1) - x.narrow(3, 0, w - 1);
    l1(dy(a.clone()), dy(b.clone())) + l1(dx(a), dx(b))
}

/// Total variation (Rudin, Osher & Fatemi 1992; AnimeGANv2 `total_variation_loss`): mean squared
/// difference of vertical plus horizontal neighbours. Suppresses high-frequency noise.
pub fn total_variation(x: Tensor<4>) -> Tensor<1> {
    let [_, _, h, w] = x.dims();
    let dh = x.clone().narrow(2, 1, h - 1) - x.clone().narrow(2, 0, h - 1);
    let dw = x.clone().narrow(3, 1, w - 1) - x.narrow(3, 0, w - 1);
    dh.square().mean() + dw.square().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn image(values: Vec<f32>, h: usize, w: usize) -> Tensor<4> {
        Tensor::from_data(TensorData::new(values, [1, 1, h, w]), &burn::tensor::Device::flex())
    }

    fn value(t: Tensor<1>) -> f32 {
        t.into_data().try_to_vec::<f32>().unwrap()[0]
    }

    /// A step and a ramp between the same two levels have nearly the same L1 to each other, but
    /// the gradient difference charges the ramp for the step it lost; an offset costs nothing.
    #[test]
    fn gradient_difference_charges_a_blurred_step_not_an_offset() {
        let step: Vec<f32> = (0..8).map(|x| if x < 4 { -1.0 } else { 1.0 }).collect();
        let ramp: Vec<f32> = (0..8).map(|x| ((x as f32 - 3.5) / 2.0).clamp(-1.0, 1.0)).collect();
        let rows = |row: &Vec<f32>| row.iter().copied().cycle().take(8 * 4).collect::<Vec<f32>>();
        let (step, ramp) = (image(rows(&step), 4, 8), image(rows(&ramp), 4, 8));
        assert!(value(gradient_difference(step.clone(), step.clone())) < 1e-6);
        assert!(value(gradient_difference(step.clone(), step.clone().add_scalar(0.3))) < 1e-6);
        let blurred = value(gradient_difference(ramp.clone(), step.clone()));
        // Step: one difference of 2 in 7; ramp: 0.5, 0.5, 0.5, 0.5 → |Δ| = 0.5·3 + 1.5 = 3 over 7
        // horizontal differences, and no vertical ones.
        assert!((blurred - 3.0 / 7.0).abs() < 1e-5, "{blurred}");
        assert!(blurred > value(l1(ramp, step)), "the step matters more than the levels");
    }
}
