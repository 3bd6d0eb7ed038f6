//! Typed configuration, loaded once at start-up and passed down: defaults, then an optional
//! TOML file, then `SHIELD_*` environment variables, then command-line flags. Bad values stop
//! the program at once with a message naming the setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// How logs are written: JSON lines for machines, or compact text for a person at a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Debug)]
pub struct Config {
    /// May hold a password, so it is secret; never logged.
    pub database_url: Option<SecretString>,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub log_format: LogFormat,
    /// Field-encryption keys: `SHIELD_KEYS` (inline) or a key file (`keys_file`,
    /// `SHIELD_KEYS_FILE`). Never the database.
    pub keys: KeySource,
    /// Outgoing mail: `SHIELD_SMTP_URL` (`smtp://host:25`, `smtp+starttls://user:pass@host:587`
    /// or `smtps://user:pass@host:465`; may hold a password, so secret) and `SHIELD_MAIL_FROM`.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    /// The address people open, for links in emails (`SHIELD_PUBLIC_URL`).
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` the per-address limits believe
    /// (`SHIELD_TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges; none by default).
    pub trusted_proxies: shield_web::auth::rate::TrustedProxies,
    /// How long a request for additional security may wait for its assessment and for its
    /// decision, and for each when linked to a P1 report, in whole hours:
    /// `SHIELD_SECURITY_ASSESS_HOURS` (72), `SHIELD_SECURITY_DECIDE_HOURS` (48),
    /// `SHIELD_SECURITY_URGENT_HOURS` (4).
    pub security_windows: shield_domain::security::Windows,
}

/// Where the field-encryption keys come from. There is no default key: `serve` refuses to
/// start without one, and `shield keys generate FILE` makes a key file.
#[derive(Debug, Clone)]
pub enum KeySource {
    None,
    Inline(SecretString),
    File(PathBuf),
}

impl KeySource {
    pub fn load(&self) -> anyhow::Result<Option<shield_crypto::KeyRing>> {
        match self {
            Self::None => Ok(None),
            Self::Inline(value) => shield_crypto::KeyRing::from_env_value(value.expose_secret())
                .map(Some)
                .context("SHIELD_KEYS is not valid"),
            Self::File(path) => shield_crypto::KeyRing::from_key_file(path)
                .map(Some)
                .with_context(|| format!("cannot load the key file {}", path.display())),
        }
    }

    /// The keys, or a clear error saying how to provide them.
    pub fn require(&self) -> anyhow::Result<shield_crypto::KeyRing> {
        self.load()?.ok_or_else(|| {
            anyhow::anyhow!(
                "no field-encryption keys: set SHIELD_KEYS_FILE (or keys_file in the config file) to a key \
                 file made with `shield keys generate FILE`, or SHIELD_KEYS"
            )
        })
    }
}

/// The TOML file's shape. Unknown keys are an error, so a typo cannot silently do nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<SecretString>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    log_format: Option<LogFormat>,
    keys_file: Option<PathBuf>,
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
}

impl Config {
    pub fn load(overrides: Overrides) -> anyhow::Result<Self> {
        Self::load_from(overrides, |key| std::env::var(key).ok())
    }

    /// Loads with an explicit environment, so tests can vary it without touching the process.
    pub fn load_from(
        overrides: Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let file_path = overrides
            .config_file
            .clone()
            .or_else(|| env("SHIELD_CONFIG").map(PathBuf::from));
        let file = match &file_path {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let database_url = overrides
            .database_url
            .or_else(|| env("SHIELD_DATABASE_URL"))
            .filter(|s| !s.trim().is_empty())
            .map(SecretString::from)
            .or(file.database_url);
        if let Some(url) = &database_url {
            check_database_url(url.expose_secret())?;
        }
        let listen_text = overrides
            .listen
            .or_else(|| env("SHIELD_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = listen_text
            .parse()
            .with_context(|| format!("listen address {listen_text:?} is not an IP address and port such as 127.0.0.1:8080"))?;
        let data_dir = env("SHIELD_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let log_format = match env("SHIELD_LOG_FORMAT") {
            Some(v) => match v.as_str() {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                other => bail!("SHIELD_LOG_FORMAT {other:?} must be json or text"),
            },
            None => file.log_format.unwrap_or(LogFormat::Text),
        };
        let keys = if let Some(inline) = env("SHIELD_KEYS").filter(|s| !s.trim().is_empty()) {
            KeySource::Inline(SecretString::from(inline))
        } else if let Some(path) = env("SHIELD_KEYS_FILE")
            .map(PathBuf::from)
            .or(file.keys_file)
        {
            KeySource::File(path)
        } else {
            KeySource::None
        };
        let smtp_url = env("SHIELD_SMTP_URL")
            .filter(|s| !s.trim().is_empty())
            .map(SecretString::from);
        let mail_from = env("SHIELD_MAIL_FROM")
            .unwrap_or_else(|| "Candidate Shield <no-reply@localhost.localdomain>".into());
        let public_url = env("SHIELD_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && !(url.starts_with("https://")
                || url.starts_with("http://localhost")
                || url.starts_with("http://127.0.0.1"))
        {
            bail!(
                "SHIELD_PUBLIC_URL must be an https:// address (or http://localhost for trying it out)"
            );
        }
        let trusted_proxies = shield_web::auth::rate::TrustedProxies::parse(
            &env("SHIELD_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|e| anyhow::anyhow!("SHIELD_TRUSTED_PROXIES: {e}"))?;
        let defaults = shield_domain::security::Windows::default();
        let hours = |key: &str, default_ms: i64| -> anyhow::Result<i64> {
            match env(key).filter(|v| !v.trim().is_empty()) {
                None => Ok(default_ms),
                Some(v) => match v.trim().parse::<i64>() {
                    Ok(h) if (1..=24 * 60).contains(&h) => Ok(h * 3_600_000),
                    _ => bail!("{key} {v:?} must be a whole number of hours from 1 to 1440"),
                },
            }
        };
        let security_windows = shield_domain::security::Windows {
            assessment_ms: hours("SHIELD_SECURITY_ASSESS_HOURS", defaults.assessment_ms)?,
            decision_ms: hours("SHIELD_SECURITY_DECIDE_HOURS", defaults.decision_ms)?,
            urgent_ms: hours("SHIELD_SECURITY_URGENT_HOURS", defaults.urgent_ms)?,
        };
        Ok(Self {
            security_windows,
            trusted_proxies,
            database_url,
            listen,
            data_dir,
            log_format,
            keys,
            smtp_url,
            mail_from,
            public_url,
        })
    }

    /// The database URL, or the default SQLite file in the data directory.
    pub fn database_url_or_default(&self) -> anyhow::Result<SecretString> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                self.data_dir.display()
            )
        })?;
        Ok(SecretString::from(sqlite_url(
            &self.data_dir.join("shield.db"),
        )))
    }
}

pub fn sqlite_url(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("sqlite://{}", absolute.display())
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {} is not valid", path.display()))
}

fn check_database_url(url: &str) -> anyhow::Result<()> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(())
    } else {
        // Say which scheme was wrong without echoing a URL that may hold a password.
        let scheme = url.split(':').next().unwrap_or_default();
        bail!(
            "database URL scheme {scheme:?} is not supported: use sqlite:///path/file.db or postgres://…"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn security_request_windows_are_configurable() {
        let c = Config::load_from(Overrides::default(), env(&[])).unwrap();
        assert_eq!(
            c.security_windows,
            shield_domain::security::Windows::default()
        );
        let c = Config::load_from(
            Overrides::default(),
            env(&[
                ("SHIELD_SECURITY_ASSESS_HOURS", "24"),
                ("SHIELD_SECURITY_URGENT_HOURS", "2"),
            ]),
        )
        .unwrap();
        assert_eq!(c.security_windows.assessment_ms, 24 * 3_600_000);
        assert_eq!(c.security_windows.urgent_ms, 2 * 3_600_000);
        assert_eq!(c.security_windows.decision_ms, 48 * 3_600_000);
        let bad = Config::load_from(
            Overrides::default(),
            env(&[("SHIELD_SECURITY_DECIDE_HOURS", "soon")]),
        );
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("SHIELD_SECURITY_DECIDE_HOURS")
        );
    }

    #[test]
    fn defaults() {
        let c = Config::load_from(Overrides::default(), env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.is_none());
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.trusted_proxies.is_empty());
    }

    #[test]
    fn trusted_proxies_are_read_and_checked() {
        let c = Config::load_from(
            Overrides::default(),
            env(&[("SHIELD_TRUSTED_PROXIES", "10.0.0.0/8, ::1")]),
        )
        .unwrap();
        assert!(c.trusted_proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.trusted_proxies.contains("192.0.2.1".parse().unwrap()));
        assert!(
            Config::load_from(
                Overrides::default(),
                env(&[("SHIELD_TRUSTED_PROXIES", "10.0.0.0/99")])
            )
            .is_err()
        );
    }

    #[test]
    fn flags_beat_environment() {
        let c = Config::load_from(
            Overrides {
                database_url: Some("sqlite:///tmp/a.db".into()),
                ..Default::default()
            },
            env(&[("SHIELD_DATABASE_URL", "postgres://x/y")]),
        )
        .unwrap();
        assert_eq!(
            c.database_url.unwrap().expose_secret(),
            "sqlite:///tmp/a.db"
        );
    }

    #[test]
    fn bad_values_fail_fast() {
        assert!(
            Config::load_from(Overrides::default(), env(&[("SHIELD_LISTEN", "localhost")]))
                .is_err()
        );
        let err = Config::load_from(
            Overrides::default(),
            env(&[("SHIELD_DATABASE_URL", "mysql://u:hunter2@h/d")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("mysql") && !err.contains("hunter2"), "{err}");
        assert!(
            Config::load_from(Overrides::default(), env(&[("SHIELD_LOG_FORMAT", "xml")])).is_err()
        );
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shield.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nlissten = \"oops\"\n").unwrap();
        let err = Config::load_from(
            Overrides {
                config_file: Some(path.clone()),
                ..Default::default()
            },
            env(&[]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("lissten"));
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\n").unwrap();
        let c = Config::load_from(
            Overrides {
                config_file: Some(path),
                ..Default::default()
            },
            env(&[]),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
    }
}
