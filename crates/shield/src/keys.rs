//! `shield keys generate FILE` and `shield keys rotate`: the field-encryption key file and
//! re-encryption of every sealed column under a new key version.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use shield_crypto::{Aad, KeyRing};

use crate::config::{Config, KeySource};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new key file (mode 0600) with one fresh 256-bit key.
    Generate { file: PathBuf },
    /// Add a new key version to the configured key file, make it current, and re-encrypt
    /// every sealed value with it. Old versions stay in the file until retired.
    Rotate,
}

pub async fn run(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate { file } => {
            if file.exists() {
                bail!(
                    "{} already exists: refusing to overwrite a key file",
                    file.display()
                );
            }
            KeyRing::generate().write_key_file(&file)?;
            println!(
                "wrote {} (key version 1); keep a copy in escrow, off this machine",
                file.display()
            );
        }
        KeysCommand::Rotate => {
            let KeySource::File(path) = &config.keys else {
                bail!("rotation rewrites the key file: set SHIELD_KEYS_FILE (or keys_file) to it");
            };
            let mut keys = config.keys.require()?;
            let version = keys.add_new_version();
            // The new key is saved before anything is sealed with it, so a crash part-way
            // leaves every value readable.
            keys.write_key_file(path)?;
            let store = crate::cli::open(config).await?;
            let resealed = reseal_all(store.as_ref(), &keys).await?;
            println!("key version {version} is current; re-encrypted {resealed} values");
        }
    }
    Ok(())
}

/// Re-encrypts every sealed value not under the current key version.
pub async fn reseal_all(store: &dyn shield_store::Store, keys: &KeyRing) -> anyhow::Result<u64> {
    let mut count = 0;
    for blob in store.sealed_blobs().await? {
        if !shield_crypto::needs_rotation(keys, &blob.value) {
            continue;
        }
        let aad = Aad::new(blob.table, blob.column, &blob.row_id);
        let fresh = shield_crypto::reseal(keys, aad, &blob.value).with_context(|| {
            format!(
                "cannot re-encrypt {}.{} row {}",
                blob.table, blob.column, blob.row_id
            )
        })?;
        store.replace_sealed_blob(&blob, &fresh).await?;
        count += 1;
    }
    Ok(count)
}
