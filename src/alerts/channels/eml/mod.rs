//! E-mail as `.eml` files in a folder (`[alerts] outbox_dir`): what costwatch does when no
//! SMTP server is configured, so the demo and air-gapped hosts keep every digest.

use super::{Channel, Outgoing, email_bytes};
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Writes each digest as `<run date>-<id>.eml` (via a temporary name: no half file is seen).
pub struct Eml {
    pub dir: PathBuf,
}

impl Channel for Eml {
    fn name(&self) -> &'static str {
        "eml"
    }

    fn send(&self, outgoing: &Outgoing, _runtime: &tokio::runtime::Runtime) -> Result<String> {
        let dir = &self.dir;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating outbox folder {}", dir.display()))?;
        let route = match outgoing.route {
            "" => String::new(),
            name => format!(
                "-{}",
                name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            ),
        };
        let path = dir.join(format!("{}-{}{route}.eml", outgoing.run_date, outgoing.id));
        let tmp = path.with_extension("eml.tmp");
        std::fs::write(&tmp, email_bytes(outgoing)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(path.display().to_string())
    }
}
