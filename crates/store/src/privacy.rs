//! Personal fields at rest: AES-256-GCM encryption and keyed lookup hashes.
//!
//! One 32-byte master key, kept outside the database (a key file in the data folder with
//! owner-only permissions, or given by the operator), derives two keys: one encrypts
//! fields, one makes HMAC-SHA256 lookup hashes so an exact value (an ID number, a phone)
//! can be found without decrypting every row. Each ciphertext is bound to its field and
//! row, so a value copied to another row or column does not decrypt.

use crate::system::random_bytes;
use crate::{Result, StoreError};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::path::Path;
use uuid::Uuid;

/// Format byte at the start of every ciphertext (lets keys or algorithms change later).
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// The keys for personal fields. Cheap to clone; never printed.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
    audit_key: [u8; 32],
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault(…)")
    }
}

fn derive(master: &[u8; 32], purpose: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(master).expect("any key length");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

impl Vault {
    pub fn from_master(master: &[u8; 32]) -> Vault {
        let enc = derive(master, b"fangkong personal fields: encryption v1");
        Vault {
            cipher: Aes256Gcm::new(&enc.into()),
            mac_key: derive(master, b"fangkong personal fields: lookup v1"),
            audit_key: derive(master, b"fangkong audit chain v1"),
        }
    }

    /// Parses a master key written as 64 hexadecimal digits.
    pub fn from_hex(hex: &str) -> Result<Vault> {
        let hex = hex.trim();
        let bad = || {
            StoreError::Setup("the personal-data key must be 64 hexadecimal digits (32 bytes); make one with `openssl rand -hex 32`".into())
        };
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut key = [0u8; 32];
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| bad())?;
            key[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
        }
        Ok(Vault::from_master(&key))
    }

    /// Reads the key file at `path`, creating it (owner read/write only) with a new random
    /// key when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Vault> {
        match std::fs::read_to_string(path) {
            Ok(text) => Vault::from_hex(&text).map_err(|_| {
                StoreError::Setup(format!(
                    "the key file {} is not 64 hexadecimal digits; restore it from your backup",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key: [u8; 32] = random_bytes();
                let text: String = key.iter().map(|b| format!("{b:02x}")).collect();
                write_private(path, &text).map_err(|e| {
                    StoreError::Setup(format!(
                        "cannot create the key file {}: {e}",
                        path.display()
                    ))
                })?;
                Ok(Vault::from_master(&key))
            }
            Err(e) => Err(StoreError::Setup(format!(
                "cannot read the key file {}: {e}",
                path.display()
            ))),
        }
    }

    /// Encrypts `plain` for `field` of the row `row`.
    pub fn seal(&self, field: &str, row: Uuid, plain: &str) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = random_bytes();
        let aad = aad(field, row);
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM encrypts any message under 64 GiB");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`Vault::seal`] made for the same field and row.
    pub fn open(&self, field: &str, row: Uuid, sealed: &[u8]) -> Result<String> {
        let bad = || StoreError::Decode(format!("{field} of {row} does not decrypt"));
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(bad());
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| bad())?;
        let plain = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: &aad(field, row),
                },
            )
            .map_err(|_| bad())?;
        String::from_utf8(plain).map_err(|_| bad())
    }

    /// The one-time code the setup page asks for: printed by the server at start while no
    /// account exists, so only whoever runs the server can claim it. The same for every
    /// process sharing the key; it reveals nothing about the key.
    pub fn setup_code(&self) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789X";
        self.lookup("setup code v1", "fangkong")
            .iter()
            .take(10)
            .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
            .collect()
    }

    /// The key of the audit chain's HMAC (give it to [`crate::Store::set_audit_key`]).
    pub fn audit_key(&self) -> [u8; 32] {
        self.audit_key
    }

    /// The lookup hash of a normalised value of `field` (same value, same hash).
    pub fn lookup(&self, field: &str, value: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.mac_key).expect("any key length");
        mac.update(field.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

fn aad(field: &str, row: Uuid) -> Vec<u8> {
    format!("fangkong/v1/{field}/{row}").into_bytes()
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_master(&[7u8; 32])
    }

    #[test]
    fn sealed_values_open_only_for_their_field_and_row() {
        let v = vault();
        let row = Uuid::from_u128(1);
        let sealed = v.seal("people.phone", row, "13800138000");
        assert!(!sealed.windows(11).any(|w| w == b"13800138000"));
        assert_eq!(v.open("people.phone", row, &sealed).unwrap(), "13800138000");
        assert!(v.open("people.name", row, &sealed).is_err());
        assert!(v.open("people.phone", Uuid::from_u128(2), &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(v.open("people.phone", row, &tampered).is_err());
        assert!(v.open("people.phone", row, &[1, 2]).is_err());
        // Same value, fresh nonce: ciphertexts differ.
        assert_ne!(sealed, v.seal("people.phone", row, "13800138000"));
    }

    #[test]
    fn the_setup_code_is_short_stable_and_keyed() {
        let code = vault().setup_code();
        assert_eq!(code.len(), 10);
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        assert_eq!(code, vault().setup_code());
        assert_ne!(code, Vault::from_master(&[8u8; 32]).setup_code());
    }

    #[test]
    fn lookups_are_stable_and_keyed() {
        let v = vault();
        assert_eq!(
            v.lookup("phone", "13800138000"),
            v.lookup("phone", "13800138000")
        );
        assert_ne!(
            v.lookup("phone", "13800138000"),
            v.lookup("id", "13800138000")
        );
        assert_ne!(
            v.lookup("phone", "13800138000"),
            Vault::from_master(&[8u8; 32]).lookup("phone", "13800138000")
        );
    }

    #[test]
    fn key_files_are_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("fangkong.key");
        let a = Vault::load_or_create(&path).unwrap();
        let b = Vault::load_or_create(&path).unwrap();
        let row = Uuid::from_u128(3);
        assert_eq!(b.open("f", row, &a.seal("f", row, "张三")).unwrap(), "张三");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(
            Vault::load_or_create(&path),
            Err(StoreError::Setup(_))
        ));
        assert!(Vault::from_hex(&"ab".repeat(32)).is_ok());
        assert!(Vault::from_hex(&"zz".repeat(32)).is_err());
    }
}
