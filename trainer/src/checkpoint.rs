//! Checkpoints: G, D, both Adam states, the config and the step in one folder, written
//! atomically and read back bit-identically (burnpack files for the modules).

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use burn::module::Module;
use burn::store::{ApplyError, BurnpackStore, ModuleSnapshot};
use serde::{Deserialize, Serialize};

use crate::config::{Backend, TrainConfig};
use crate::train::{Trainer, adam};

const CHECKPOINT_VERSION: u32 = 1;
const META_FILE: &str = "checkpoint.json";
const G_FILE: &str = "generator.bpk";
const D_FILE: &str = "discriminator.bpk";
const OPT_G_FILE: &str = "optimizer_generator.bpk";
const OPT_D_FILE: &str = "optimizer_discriminator.bpk";

#[derive(Serialize, Deserialize)]
struct CheckpointMeta {
    version: u32,
    step: u64,
    config: TrainConfig,
}

impl Trainer {
    /// Saves G, D, both Adam states, the config and `step` into `dir`, atomically: everything is
    /// written into a temporary directory beside `dir`, which is then renamed into place (an
    /// older checkpoint at `dir` is moved aside first and deleted after). A kill at any point
    /// leaves either the old or the new checkpoint complete ([`Trainer::load_checkpoint`] also
    /// looks at the moved-aside copy if `dir` itself is missing).
    pub fn save_checkpoint(&self, dir: &Path, step: u64) -> anyhow::Result<()> {
        let (parent, name) = split_dir(dir)?;
        std::fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        let old = aside_path(dir)?;
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
        }
        std::fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let write = || -> anyhow::Result<()> {
            save_module(&self.generator, &tmp.join(G_FILE))?;
            save_module(&self.discriminator, &tmp.join(D_FILE))?;
            self.opt_g.save(tmp.join(OPT_G_FILE)).map_err(|e| anyhow!("generator optimiser: {e:?}"))?;
            self.opt_d.save(tmp.join(OPT_D_FILE)).map_err(|e| anyhow!("discriminator optimiser: {e:?}"))?;
            let meta = CheckpointMeta { version: CHECKPOINT_VERSION, step, config: self.config.clone() };
            std::fs::write(tmp.join(META_FILE), serde_json::to_vec_pretty(&meta)?)?;
            for f in [G_FILE, D_FILE, OPT_G_FILE, OPT_D_FILE, META_FILE] {
                std::fs::File::open(tmp.join(f))?.sync_all()?;
            }
            Ok(())
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e.context(format!("cannot write checkpoint {}", dir.display())));
        }
        if dir.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
            }
            std::fs::rename(dir, &old).with_context(|| format!("cannot move {} aside", dir.display()))?;
        }
        std::fs::rename(&tmp, dir).with_context(|| format!("cannot move {} to {}", tmp.display(), dir.display()))?;
        if old.exists() {
            let _ = std::fs::remove_dir_all(&old);
        }
        if let Ok(d) = std::fs::File::open(&parent) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Restores a run saved by [`Trainer::save_checkpoint`] on the CPU; returns it and its step.
    pub fn load_checkpoint(dir: &Path) -> anyhow::Result<(Trainer, u64)> {
        Self::load_checkpoint_on(dir, Backend::Flex)
    }

    /// Restores a run saved by [`Trainer::save_checkpoint`] onto `backend`.
    pub fn load_checkpoint_on(dir: &Path, backend: Backend) -> anyhow::Result<(Trainer, u64)> {
        let mut dir = dir.to_path_buf();
        if !dir.is_dir() {
            let old = aside_path(&dir)?;
            if old.join(META_FILE).is_file() {
                dir = old; // killed between the two renames of save_checkpoint
            } else {
                bail!("checkpoint {} does not exist", dir.display());
            }
        }
        let shown = dir.display();
        let meta_path = dir.join(META_FILE);
        let meta_bytes = std::fs::read(&meta_path)
            .with_context(|| format!("checkpoint {shown} is incomplete: cannot read {META_FILE}"))?;
        let meta: CheckpointMeta = serde_json::from_slice(&meta_bytes)
            .map_err(|e| anyhow!("checkpoint {shown} is corrupt: {META_FILE}: {e}"))?;
        if meta.version != CHECKPOINT_VERSION {
            bail!("checkpoint {shown} has format version {}, this trainer reads {CHECKPOINT_VERSION}", meta.version);
        }
        let mut t = Trainer::new(TrainConfig { backend, ..meta.config.clone() })
            .with_context(|| format!("checkpoint {shown}: cannot rebuild its run"))?;
        for f in [G_FILE, D_FILE, OPT_G_FILE, OPT_D_FILE] {
            if !dir.join(f).is_file() {
                bail!("checkpoint {shown} is incomplete: {f} is missing");
            }
        }
        load_module(&mut t.generator, &dir.join(G_FILE)).map_err(|e| match e {
            LoadError::Shape(detail) => anyhow!(
                "checkpoint {shown} holds a generator of another architecture than its config {:?} ({detail})",
                meta.config.generator
            ),
            LoadError::Other(detail) => anyhow!("checkpoint {shown} is corrupt: {G_FILE}: {detail}"),
        })?;
        load_module(&mut t.discriminator, &dir.join(D_FILE)).map_err(|e| match e {
            LoadError::Shape(detail) => {
                anyhow!("checkpoint {shown} holds a discriminator of another architecture ({detail})")
            }
            LoadError::Other(detail) => anyhow!("checkpoint {shown} is corrupt: {D_FILE}: {detail}"),
        })?;
        t.opt_g = std::mem::replace(&mut t.opt_g, adam())
            .load(dir.join(OPT_G_FILE))
            .map_err(|e| anyhow!("checkpoint {shown} is corrupt: {OPT_G_FILE}: {e:?}"))?;
        t.opt_d = std::mem::replace(&mut t.opt_d, adam())
            .load(dir.join(OPT_D_FILE))
            .map_err(|e| anyhow!("checkpoint {shown} is corrupt: {OPT_D_FILE}: {e:?}"))?;
        Ok((t, meta.step))
    }
}

fn split_dir(dir: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("checkpoint path {} has no usable final component", dir.display()))?
        .to_string();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

fn aside_path(dir: &Path) -> anyhow::Result<PathBuf> {
    let (parent, name) = split_dir(dir)?;
    Ok(parent.join(format!(".{name}.old")))
}

fn save_module<M: Module>(m: &M, path: &Path) -> anyhow::Result<()> {
    let mut store = BurnpackStore::from_file(path).overwrite(true).auto_extension(false);
    m.save_into(&mut store).map_err(|e| anyhow!("cannot write {}: {e}", path.display()))
}

enum LoadError {
    Shape(String),
    Other(String),
}

fn load_module<M: Module>(m: &mut M, path: &Path) -> Result<(), LoadError> {
    let mut store = BurnpackStore::from_file(path).auto_extension(false).validate(false);
    let result = m.load_from(&mut store).map_err(|e| LoadError::Other(e.to_string()))?;
    if let Some(e) = result.errors.first() {
        return Err(match e {
            ApplyError::ShapeMismatch { path, expected, found } => {
                LoadError::Shape(format!("{path}: expected shape {expected:?}, found {found:?}"))
            }
            other => LoadError::Other(format!("{other:?}")),
        });
    }
    if !result.missing.is_empty() || !result.unused.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|m| m.0.as_str()).take(3).collect();
        let unused: Vec<&str> = result.unused.iter().map(|s| s.as_str()).take(3).collect();
        return Err(LoadError::Shape(format!("missing tensors {missing:?}, unexpected tensors {unused:?}")));
    }
    Ok(())
}
