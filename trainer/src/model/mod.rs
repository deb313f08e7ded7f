//! The networks: the generator (architecture in [`spec`]) and the PatchGAN discriminator.

pub mod discriminator;
pub mod features;
pub mod generator;
pub mod lpips;
pub mod spec;
pub mod vgg;
