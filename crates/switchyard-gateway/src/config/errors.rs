//! Configuration problems, each with the path of the field at fault.

use std::fmt;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// One problem in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where, e.g. `config.targets[1].retry.attempts` or `routes.fast.strategy.mode`.
    pub path: String,
    pub message: String,
    /// The problem is a missing credential (a 401 rather than a 400 when it reaches a client).
    pub credentials: bool,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// `v` read as the section (or sub-section) at `section` into `T`; a mismatch is one error
/// whose path names the field (`cache.max_bytes`, or `cache` itself).
pub fn read_section<T: DeserializeOwned>(v: &Value, section: &str) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        ConfigError {
            path: if path == "." {
                section.to_owned()
            } else {
                format!("{section}.{path}")
            },
            message: e.into_inner().to_string(),
            credentials: false,
        }
    })
}

/// Every problem found in one pass, so a user fixes them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn push(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.to_owned(),
            message: message.into(),
            credentials: false,
        });
    }

    /// [`read_section`], with its error recorded here.
    pub fn read<T: DeserializeOwned>(&mut self, v: &Value, section: &str) -> Option<T> {
        read_section(v, section).map_err(|e| self.0.push(e)).ok()
    }

    /// Records a missing credential.
    pub fn push_credentials(&mut self, path: &str, message: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.to_owned(),
            message: message.into(),
            credentials: true,
        });
    }

    /// Every problem is a missing credential.
    pub fn only_credentials(&self) -> bool {
        !self.0.is_empty() && self.0.iter().all(|e| e.credentials)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The first problem's path, for the OpenAI error's `param`.
    pub fn first_path(&self) -> Option<&str> {
        self.0.first().map(|e| e.path.as_str())
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
