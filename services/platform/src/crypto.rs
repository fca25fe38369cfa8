//! Personal data at rest: values are sealed with AES-256-GCM under a configured key whose
//! id is stored beside them (for rotation), and found again by exact match through a keyed
//! hash (a blind index), so the database never holds a phone number or national ID in
//! clear and never needs to.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Keys that seal personal data at rest.
#[derive(clap::Args, Clone, Debug)]
pub struct PersonalDataArgs {
    /// AES-256-GCM key, 32 bytes in base64. The default is for local use only.
    #[arg(
        long = "data-key",
        env = "LINLI_DATA_KEY",
        default_value = crate::crypto::LOCAL_DATA_KEY,
        hide_default_value = true
    )]
    pub data_key: String,

    /// Identifier stored beside every sealed value, so keys can be rotated.
    #[arg(
        long = "data-key-id",
        env = "LINLI_DATA_KEY_ID",
        default_value = "local-1"
    )]
    pub data_key_id: String,

    /// HMAC-SHA256 key for blind indexes (exact lookups), 32 bytes in base64.
    #[arg(
        long = "blind-index-key",
        env = "LINLI_BLIND_INDEX_KEY",
        default_value = crate::crypto::LOCAL_INDEX_KEY,
        hide_default_value = true
    )]
    pub blind_index_key: String,
}

/// Local-only keys, used when none are configured; `serve` warns when they are in use.
pub const LOCAL_DATA_KEY: &str = "bGlubGktbG9jYWwtZGF0YS1rZXktMzItYnl0ZXMhISE=";
pub const LOCAL_INDEX_KEY: &str = "bGlubGktbG9jYWwtaW5kZXgta2V5LTMyLWJ5dGVzISE=";

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("{0} must be 32 bytes in base64")]
    BadKey(&'static str),
    #[error("sealed with key `{0}`, which is not configured")]
    UnknownKey(String),
    #[error("a sealed value failed authentication")]
    Tampered,
}

/// A value sealed for storage: the key id and `nonce || ciphertext`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

/// Seals, opens and indexes personal data with the configured keys.
#[derive(Clone)]
pub struct Vault {
    key_id: String,
    cipher: Aes256Gcm,
    index_key: Vec<u8>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Vault {
    pub fn new(args: &PersonalDataArgs) -> Result<Self, CryptoError> {
        let key = decode_key(&args.data_key, "LINLI_DATA_KEY")?;
        let index_key = decode_key(&args.blind_index_key, "LINLI_BLIND_INDEX_KEY")?;
        Ok(Vault {
            key_id: args.data_key_id.clone(),
            cipher: Aes256Gcm::new_from_slice(&key)
                .map_err(|_| CryptoError::BadKey("LINLI_DATA_KEY"))?,
            index_key,
        })
    }

    /// Whether the built-in local keys are in use (fine on a laptop, never in a district).
    pub fn uses_local_keys(args: &PersonalDataArgs) -> bool {
        args.data_key == LOCAL_DATA_KEY || args.blind_index_key == LOCAL_INDEX_KEY
    }

    pub fn seal(&self, plaintext: &str) -> Sealed {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("AES-GCM encryption of an in-memory value cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Sealed {
            key_id: self.key_id.clone(),
            bytes,
        }
    }

    pub fn open(&self, sealed: &Sealed) -> Result<String, CryptoError> {
        if sealed.key_id != self.key_id {
            return Err(CryptoError::UnknownKey(sealed.key_id.clone()));
        }
        if sealed.bytes.len() < NONCE_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        let plaintext = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Tampered)
    }

    /// A keyed hash of `value` within `purpose` ("phone", "national_id"), for exact lookup
    /// and duplicate detection without storing the value.
    pub fn blind_index(&self, purpose: &str, value: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .expect("HMAC accepts keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

fn decode_key(text: &str, name: &'static str) -> Result<Vec<u8>, CryptoError> {
    let key = STANDARD
        .decode(text.trim())
        .map_err(|_| CryptoError::BadKey(name))?;
    if key.len() == 32 {
        Ok(key)
    } else {
        Err(CryptoError::BadKey(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::new(&PersonalDataArgs {
            data_key: LOCAL_DATA_KEY.into(),
            data_key_id: "k1".into(),
            blind_index_key: LOCAL_INDEX_KEY.into(),
        })
        .expect("local keys are valid")
    }

    #[test]
    fn sealed_value_opens_to_itself_and_hides_the_plaintext() {
        let sealed = vault().seal("13812345678");
        assert!(!sealed.bytes.windows(11).any(|w| w == b"13812345678"));
        assert_eq!(vault().open(&sealed).expect("opens"), "13812345678");
    }

    #[test]
    fn tampered_value_is_refused() {
        let mut sealed = vault().seal("13812345678");
        let last = sealed.bytes.len() - 1;
        sealed.bytes[last] ^= 1;
        assert!(matches!(vault().open(&sealed), Err(CryptoError::Tampered)));
    }

    #[test]
    fn blind_index_is_stable_and_separates_purposes() {
        let v = vault();
        assert_eq!(v.blind_index("phone", "138"), v.blind_index("phone", "138"));
        assert_ne!(
            v.blind_index("phone", "138"),
            v.blind_index("national_id", "138")
        );
    }

    #[test]
    fn short_key_is_refused() {
        let args = PersonalDataArgs {
            data_key: STANDARD.encode([1u8; 16]),
            data_key_id: "k".into(),
            blind_index_key: LOCAL_INDEX_KEY.into(),
        };
        assert!(matches!(
            Vault::new(&args),
            Err(CryptoError::BadKey("LINLI_DATA_KEY"))
        ));
    }
}
