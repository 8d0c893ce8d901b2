//! `costwatch init`: write a commented configuration to start from.

use crate::config::template;
use crate::error::Error;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the config.
    #[arg(long, default_value = "costwatch.toml")]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn execute(args: &InitArgs) -> Result<i32> {
    if args.path.exists() && !args.force {
        return Err(Error::config(format!(
            "{} exists; pass --force to overwrite it",
            args.path.display()
        ))
        .into());
    }
    std::fs::write(&args.path, template())?;
    println!(
        "wrote {}: edit the sources and alert recipients, then `costwatch run --config {}`",
        args.path.display(),
        args.path.display()
    );
    Ok(crate::error::EXIT_OK)
}
